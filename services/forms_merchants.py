"""Forms of the merchant and agreement pages: the lists' filters, a merchant, an agreement
with its items (an inline formset), and the checks on a licence number and a scanned
agreement."""

import datetime
import unicodedata
from decimal import Decimal
from html import escape
from pathlib import Path

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.forms.models import BaseInlineFormSet, inlineformset_factory
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from stdnum.cn import uscc
from stdnum.exceptions import ValidationError as StdnumError

from network.models import Area, AreaLevel
from residents.pages import AreaField, ListFilterForm, no_future, style_widgets
from residents.typed_input import MAX_ID, YuanField, typed_text, whole_number
from services.models import (
    Agreement,
    AgreementItem,
    AgreementStatus,
    Merchant,
    ServiceCategory,
)

# Agreements are signed for a few years at most; a date typed outside these years is a typo
# (and 9999-12-31 would leave no "day after" for a renewal).
EARLIEST_DAY = datetime.date(1990, 1, 1)
LATEST_DAY = datetime.date(2099, 12, 31)
MAX_ITEMS = 50
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
# What a scanned agreement may be, told by its first bytes (not by its name).
DOCUMENT_KINDS = {
    "pdf": (b"%PDF-", "application/pdf"),
    "jpg": (b"\xff\xd8\xff", "image/jpeg"),
    "png": (b"\x89PNG\r\n\x1a\n", "image/png"),
}
DOCUMENT_SUFFIXES = {".pdf": "pdf", ".jpg": "jpg", ".jpeg": "jpg", ".png": "png"}

STATUS_FILTERS = [
    ("in_force", gettext_lazy("in force")),
    ("expiring", gettext_lazy("in force, ending soon")),
    ("not_yet", gettext_lazy("not yet in force")),
    ("expired", gettext_lazy("expired")),
    ("draft", gettext_lazy("draft")),
    ("terminated", gettext_lazy("terminated")),
]
# Where a status may move on the edit page: draft → signed → terminated.
NEXT_STATUSES = {
    AgreementStatus.DRAFT: {AgreementStatus.DRAFT, AgreementStatus.SIGNED},
    AgreementStatus.SIGNED: {AgreementStatus.SIGNED, AgreementStatus.TERMINATED},
    AgreementStatus.TERMINATED: {AgreementStatus.TERMINATED},
}


def _all(label=None):
    return [("", label or gettext_lazy("All"))]


# ---------------------------------------------------------------- licence numbers


def normalise_licence(raw) -> str:
    """A unified social credit code as typed (full-width, lower case, spaces or hyphens)
    in its 18-character form; "" for nothing typed. Raises ValidationError when it is not
    a valid code (GB 32100-2015: length, characters, region, check character)."""
    text = unicodedata.normalize("NFKC", str(raw or ""))
    text = "".join(ch for ch in text if not ch.isspace() and ch not in "-‐‑–—_")
    if not text:
        return ""
    try:
        return uscc.validate(text.upper())
    except StdnumError as exc:
        raise ValidationError(
            _(
                "%(value)s is not a valid unified social credit code: 18 characters, the last "
                "one a check character (see the business licence)."
            )
            % {"value": text[:30]}
        ) from exc


def licence_taken_by(licence: str, *, exclude_pk=None) -> Merchant | None:
    """The merchant (anywhere) that already has this licence number."""
    if not licence:
        return None
    others = Merchant.objects.filter(licence_number=licence)
    if exclude_pk:
        others = others.exclude(pk=exclude_pk)
    return others.first()


# ---------------------------------------------------------------- areas


def signing_areas(user):
    """Areas where ``user`` may manage merchants and sign agreements: the active
    sub-districts and communities they may change."""
    return (
        Area.objects.changeable_by(user)
        .filter(level__in=[AreaLevel.SUBDISTRICT, AreaLevel.COMMUNITY], is_active=True)
        .order_by("path")
    )


def area_in_line(area: Area, other: Area) -> bool:
    """``area`` is ``other``, inside it or above it."""
    return area.path.startswith(other.path) or other.path.startswith(area.path)


class AreasField(forms.ModelMultipleChoiceField):
    """Ticked areas; an id no area can have (a huge number) is refused as a choice that
    does not exist, not handed to the database."""

    widget = forms.CheckboxSelectMultiple

    def label_from_instance(self, obj):
        return AreaField.label_from_instance(self, obj)

    def clean(self, value):
        if isinstance(value, list | tuple):
            for raw in value:
                pk = whole_number(raw)
                if pk is not None and not 0 < pk <= MAX_ID:
                    raise ValidationError(
                        self.error_messages["invalid_choice"],
                        code="invalid_choice",
                        params={"value": raw},
                    )
        return super().clean(value)


# ---------------------------------------------------------------- list filters


class QuickSelect(forms.Select):
    """A list filter's select, its options joined in Python with html.escape: Django's
    per-option widget templates cost more than the list's SQL (300 merchants to choose
    from, docs/performance.md). The same HTML but for whitespace."""

    def render(self, name, value, attrs=None, renderer=None):
        chosen = self.format_value(value)
        current = chosen[0] if chosen else None
        options = []
        for option_value, label in self.choices:
            key = "" if option_value is None else str(option_value)
            selected = " selected" if key == current else ""
            if selected:
                current = None  # one option selected, as Django's select
            options.append(f'<option value="{escape(key)}"{selected}>{escape(str(label))}</option>')
        attributes = "".join(
            f" {escape(key)}" if item is True else f' {escape(key)}="{escape(str(item))}"'
            for key, item in self.build_attrs(self.attrs, attrs).items()
            if item is not None and item is not False
        )
        # every value above is escaped
        return mark_safe(f'<select name="{escape(name)}"{attributes}>{"".join(options)}</select>')


def read_choices(field, queryset, *, objects=None) -> list:
    """Give a model choice field of a filter its options as a plain list, read once (or
    from ``objects``, the queryset already read): iterating the field would open a
    server-side cursor on PostgreSQL (three round trips) on every page view. Returns the
    objects read."""
    objects = list(queryset) if objects is None else objects
    field.queryset = queryset
    field.choices = [("", field.empty_label)] + [
        (obj.pk, field.label_from_instance(obj)) for obj in objects
    ]
    return objects


def filter_areas(user):
    """The areas a list's area filter offers: those the user sees, but the district."""
    return Area.objects.visible_to(user).exclude(level=AreaLevel.DISTRICT).order_by("path")


class MerchantFilterForm(ListFilterForm):
    q = forms.CharField(label=gettext_lazy("Name or address"), required=False, max_length=50)
    area = AreaField(
        label=gettext_lazy("Managing area"),
        queryset=Area.objects.none(),
        required=False,
        empty_label=gettext_lazy("All"),
        widget=QuickSelect,
    )
    category = forms.ChoiceField(
        label=gettext_lazy("Category"),
        required=False,
        choices=_all() + ServiceCategory.choices,
        widget=QuickSelect,
    )
    serves = AreaField(
        label=gettext_lazy("Area served"),
        queryset=Area.objects.none(),
        required=False,
        empty_label=gettext_lazy("All"),
        widget=QuickSelect,
    )
    archived = forms.BooleanField(label=gettext_lazy("Archived only"), required=False)

    def __init__(self, data=None, *, user, **kwargs):
        super().__init__(data, **kwargs)
        areas = filter_areas(user)
        read = read_choices(self.fields["area"], areas)
        read_choices(self.fields["serves"], areas, objects=read)
        style_widgets(self.fields)

    def clean_q(self):
        return typed_text(self.cleaned_data.get("q"), 50)


def filter_merchant_choices(user):
    """The merchants a list's merchant filter offers, with only what an option shows (its
    name: ``Merchant.__str__``)."""
    return Merchant.objects.visible_to(user).only("pk", "name").order_by("name", "id")


class AgreementFilterForm(ListFilterForm):
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        choices=_all() + STATUS_FILTERS,
        widget=QuickSelect,
    )
    area = AreaField(
        label=gettext_lazy("Signing area"),
        queryset=Area.objects.none(),
        required=False,
        empty_label=gettext_lazy("All"),
        widget=QuickSelect,
    )
    category = forms.ChoiceField(
        label=gettext_lazy("Service category"),
        required=False,
        choices=_all() + ServiceCategory.choices,
        widget=QuickSelect,
    )
    merchant = forms.ModelChoiceField(
        label=gettext_lazy("Merchant"),
        queryset=Merchant.objects.none(),
        required=False,
        empty_label=gettext_lazy("All"),
        widget=QuickSelect,
    )
    archived = forms.BooleanField(label=gettext_lazy("Archived only"), required=False)

    def __init__(self, data=None, *, user, **kwargs):
        super().__init__(data, **kwargs)
        read_choices(self.fields["area"], filter_areas(user))
        read_choices(self.fields["merchant"], filter_merchant_choices(user))
        style_widgets(self.fields)


# ---------------------------------------------------------------- a merchant


class MerchantForm(forms.ModelForm):
    """A merchant: its managing area and the areas it serves are limited to the areas the
    user may change (areas served outside them, set by someone else, are kept)."""

    submission_key = forms.UUIDField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Merchant
        fields = [
            "name",
            "category",
            "area",
            "address",
            "contact_person",
            "phone",
            "licence_number",
            "serves",
            "note",
        ]
        field_classes = {"area": AreaField, "serves": AreasField}
        widgets = {"note": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        areas = signing_areas(user)
        if self.instance.pk:  # keep its area even if that area has since been closed
            areas = Area.objects.filter(
                Q(pk__in=areas.values("pk")) | Q(pk=self.instance.area_id)
            ).order_by("path")
            del self.fields["submission_key"]
        self.fields["area"].queryset = areas
        self.fields["serves"].queryset = signing_areas(user)
        self.fields["serves"].required = False
        self.fields["serves"].help_text = _(
            "The communities (or whole street offices) whose card holders it serves."
        )
        self.fields["licence_number"].max_length = 40  # typed with spaces or hyphens
        self.fields["licence_number"].widget.attrs["maxlength"] = 40
        self.fields["licence_number"].widget.attrs["autocapitalize"] = "characters"
        self.fields["phone"].widget.attrs["inputmode"] = "tel"
        style_widgets(self.fields)

    def clean_name(self):
        return typed_text(self.cleaned_data.get("name"), 100)

    def clean_address(self):
        return typed_text(self.cleaned_data.get("address"), 200)

    def clean_licence_number(self):
        licence = normalise_licence(self.cleaned_data.get("licence_number"))
        other = licence_taken_by(licence, exclude_pk=self.instance.pk)
        if other is not None:
            visible = Merchant.objects.visible_to(self.user).filter(pk=other.pk).exists()
            if visible:
                raise ValidationError(
                    _("%(name)s already has this licence number.") % {"name": other.name}
                )
            raise ValidationError(_("A merchant with this licence number exists."))
        return licence

    def validate_unique(self):
        # The licence's uniqueness is checked (and named on its field) in
        # clean_licence_number; the model's conditional constraint would say it again.
        exclude = self._get_validation_exclusions() | {"licence_number"}
        try:
            self.instance.validate_unique(exclude=exclude)
        except ValidationError as exc:
            self._update_errors(exc)

    def _post_clean(self):
        super()._post_clean()
        _drop_repeated_errors(self)

    def save(self, commit=True):
        merchant = super().save(commit=False)
        keep_submission_key(self, merchant)
        if commit:
            merchant.save()
            self.save_serves(merchant)
        return merchant

    def save_serves(self, merchant):
        chosen = set(self.cleaned_data.get("serves") or [])
        if self.instance.pk:
            own = set(signing_areas(self.user).values_list("pk", flat=True))
            kept = {a for a in merchant.serves.all() if a.pk not in own}
            chosen |= kept
        merchant.serves.set(chosen)


def keep_submission_key(form, record) -> None:
    """A new record keeps the key its create form carried, so a second POST of that form
    finds it instead of making another."""
    key = form.cleaned_data.get("submission_key")
    if record.pk is None and key:
        record.submission_key = key


def _drop_repeated_errors(form):
    """The model's clean() and its constraint can say the same thing twice (once on the
    field, once for the whole form): keep it on the field."""
    from django.forms.forms import NON_FIELD_ERRORS

    if NON_FIELD_ERRORS not in form._errors:
        return
    on_fields = {m for name, errs in form._errors.items() if name != NON_FIELD_ERRORS for m in errs}
    kept = [m for m in form._errors[NON_FIELD_ERRORS] if m not in on_fields]
    if kept:
        form._errors[NON_FIELD_ERRORS] = form.error_class(kept, error_class="nonfield")
    else:
        del form._errors[NON_FIELD_ERRORS]


# ---------------------------------------------------------------- an agreement


def document_kind(head: bytes) -> str | None:
    """ "pdf", "jpg" or "png" from a file's first bytes; None for anything else."""
    for kind, (magic, _type) in DOCUMENT_KINDS.items():
        if head.startswith(magic):
            return kind
    return None


def checked_document(upload):
    """The uploaded scan if it is a PDF, JPEG or PNG (by its content and its name) of at
    most 10 MB, renamed to the kind its content is; else a ValidationError."""
    name = Path(upload.name or "").name
    if upload.size > MAX_DOCUMENT_BYTES:
        raise ValidationError(
            _("%(name)s is larger than 10 MB; scan it at a lower resolution.") % {"name": name}
        )
    named = DOCUMENT_SUFFIXES.get(Path(name).suffix.lower())
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    kind = document_kind(head)
    if named is None or kind is None:
        raise ValidationError(
            _("%(name)s is not a PDF, JPEG or PNG file; only those can be kept.") % {"name": name}
        )
    if named != kind:
        raise ValidationError(
            _(
                "%(name)s is named as one kind of file but holds another; save it again as PDF, "
                "JPEG or PNG."
            )
            % {"name": name}
        )
    upload.name = f"agreement.{kind}"
    return upload


def document_content_type(name: str) -> str:
    suffix = Path(name or "").suffix.lower()
    kind = DOCUMENT_SUFFIXES.get(suffix)
    return DOCUMENT_KINDS[kind][1] if kind else "application/octet-stream"


def _sane_day(day, field_label):
    if day and not (EARLIEST_DAY <= day <= LATEST_DAY):
        raise ValidationError(
            _("%(field)s must be between %(start)s and %(end)s: check the year.")
            % {"field": field_label, "start": EARLIEST_DAY.year, "end": LATEST_DAY.year}
        )
    return day


class MerchantChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} · {obj.area.name}"


DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class AgreementForm(forms.ModelForm):
    """An agreement. The signing area is one the user may change, and the merchant's area,
    inside it or above it. Its status moves draft → signed (with the signing date) →
    terminated (with the date it ended); the model's own checks show on the fields."""

    submission_key = forms.UUIDField(widget=forms.HiddenInput, required=False)
    remove_document = forms.BooleanField(
        label=gettext_lazy("Remove the scan kept now"), required=False
    )

    class Meta:
        model = Agreement
        fields = [
            "merchant",
            "area",
            "number",
            "status",
            "signed_on",
            "valid_from",
            "valid_to",
            "terminated_on",
            "document",
            "note",
        ]
        field_classes = {"area": AreaField, "merchant": MerchantChoiceField}
        widgets = {
            "signed_on": DATE_WIDGET,
            "valid_from": DATE_WIDGET,
            "valid_to": DATE_WIDGET,
            "terminated_on": DATE_WIDGET,
            "note": forms.Textarea(attrs={"rows": 3}),
            # Not ClearableFileInput: it links the file's /media/ address.
            "document": forms.FileInput(attrs={"accept": "application/pdf,image/jpeg,image/png"}),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        instance = self.instance
        self.was_status = instance.status if instance.pk else None
        areas = signing_areas(user)
        merchants = Merchant.objects.visible_to(user).current().select_related("area")
        if instance.pk:
            areas = Area.objects.filter(Q(pk__in=areas.values("pk")) | Q(pk=instance.area_id))
            merchants = Merchant.objects.filter(pk=instance.merchant_id).select_related("area")
            self.fields["merchant"].disabled = True
            del self.fields["submission_key"]
            if not instance.document:
                del self.fields["remove_document"]
            allowed = NEXT_STATUSES.get(instance.status, set(AgreementStatus.values))
            self.fields["status"].choices = [
                (v, label) for v, label in AgreementStatus.choices if v in allowed
            ]
        else:
            del self.fields["remove_document"]
            self.fields["status"].choices = [
                (v, label)
                for v, label in AgreementStatus.choices
                if v != AgreementStatus.TERMINATED
            ]
        self.fields["area"].queryset = areas.order_by("path")
        self.fields["merchant"].queryset = merchants.order_by("name", "id")
        self.fields["area"].help_text = _(
            "The street office or community that signs: the merchant's own managing area, "
            "one inside it or one above it."
        )
        self.fields["document"].help_text = _("PDF, JPEG or PNG, at most 10 MB.")
        self.fields["signed_on"].help_text = _("Required once the agreement is signed.")
        self.fields["terminated_on"].help_text = _("Required when the agreement is terminated.")
        style_widgets(self.fields)

    def clean_number(self):
        return typed_text(self.cleaned_data.get("number"), 50)

    def clean_signed_on(self):
        day = _sane_day(self.cleaned_data.get("signed_on"), _("The signing date"))
        no_future(day, _("An agreement cannot be signed on a day that has not come yet."))
        return day

    def clean_valid_from(self):
        return _sane_day(self.cleaned_data.get("valid_from"), _("The start"))

    def clean_valid_to(self):
        return _sane_day(self.cleaned_data.get("valid_to"), _("The end"))

    def clean_terminated_on(self):
        day = _sane_day(self.cleaned_data.get("terminated_on"), _("The end of the agreement"))
        no_future(day, _("Record the termination on the day it takes effect, not before."))
        return day

    def clean_document(self):
        document = self.cleaned_data.get("document")
        if document and hasattr(document, "content_type"):  # a new upload
            return checked_document(document)
        return document

    def clean(self):
        data = super().clean()
        merchant, area = data.get("merchant"), data.get("area")
        if merchant and area and not area_in_line(area, merchant.area):
            self.add_error(
                "area",
                _(
                    "%(merchant)s is managed by %(managing)s: the signing area must be "
                    "%(managing)s, an area inside it or one above it."
                )
                % {"merchant": merchant.name, "managing": merchant.area.name},
            )
        status = data.get("status")
        if self.was_status and status and status not in NEXT_STATUSES[self.was_status]:
            self.add_error("status", _("An agreement moves from draft to signed to terminated."))
        signed_on, terminated_on = data.get("signed_on"), data.get("terminated_on")
        if signed_on and terminated_on and terminated_on < signed_on:
            self.add_error("terminated_on", _("It cannot end before it was signed."))
        if status != AgreementStatus.TERMINATED and terminated_on:
            data["terminated_on"] = None  # only a terminated agreement has an end date
        if data.get("remove_document") and not hasattr(data.get("document"), "content_type"):
            data["document"] = False  # FileField.save_form_data clears it
        return data

    def _post_clean(self):
        super()._post_clean()
        _drop_repeated_errors(self)

    def save(self, commit=True):
        agreement = super().save(commit=False)
        keep_submission_key(self, agreement)
        if commit:
            agreement.save()
            self._save_m2m()
        return agreement


class PercentField(forms.DecimalField):
    """A percentage as typed: full-width digits, with or without a % sign."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 5)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal"}))
        super().__init__(**kwargs)

    def to_python(self, value):
        if isinstance(value, str):
            value = unicodedata.normalize("NFKC", value)
            value = value.replace("%", "").replace("。", ".").strip()
        return super().to_python(value)


BENEFIT_FIELDS = ("category", "benefit_kind", "percent_off", "fixed_price")


class AgreementItemForm(forms.ModelForm):
    class Meta:
        model = AgreementItem
        fields = [
            "category",
            "description",
            "benefit_kind",
            "percent_off",
            "fixed_price",
            "usual_price",
            "conditions",
            "is_withdrawn",
        ]
        field_classes = {
            "percent_off": PercentField,
            "fixed_price": YuanField,
            "usual_price": YuanField,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.use_count = getattr(self.instance, "use_count", 0) if self.instance.pk else 0
        if self.use_count:
            # Uses point at this item: its benefit stays as it was when they were recorded.
            for name in BENEFIT_FIELDS:
                self.fields[name].disabled = True
        self.fields["percent_off"].min_value = Decimal("0.01")
        style_widgets(self.fields)

    def clean_description(self):
        return typed_text(self.cleaned_data.get("description"), 200)

    def clean_conditions(self):
        return typed_text(self.cleaned_data.get("conditions"), 200)


class BaseItemFormSet(BaseInlineFormSet):
    """The items of an agreement. A used item offers no delete (mark it withdrawn); a
    signed agreement keeps at least one item."""

    require_item = False

    def add_fields(self, form, index):
        super().add_fields(form, index)
        if form.instance.pk and getattr(form.instance, "use_count", 0):
            form.fields.pop("DELETE", None)

    def kept_forms(self):
        kept = []
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or not form.cleaned_data:
                continue
            if form.cleaned_data.get("DELETE"):
                continue
            if form.instance.pk or form.has_changed():
                kept.append(form)
        return kept

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        if self.require_item and not self.kept_forms():
            raise ValidationError(_("A signed agreement needs at least one item."))


def item_formset_class(extra: int):
    return inlineformset_factory(
        Agreement,
        AgreementItem,
        form=AgreementItemForm,
        formset=BaseItemFormSet,
        extra=extra,
        can_delete=True,
        can_delete_extra=False,
        max_num=MAX_ITEMS,
        absolute_max=MAX_ITEMS,
        validate_max=True,
    )


def items_with_use_counts():
    """The queryset an item formset edits: each item with how many uses point at it (voided
    ones too: they still hold on to it)."""
    return AgreementItem.objects.annotate(use_count=Count("uses")).order_by("id")


def renewal_initial(old: Agreement, user) -> tuple[dict, list[dict]]:
    """A new agreement like ``old``, starting the day after it ends and lasting as long,
    with its items (those not withdrawn) copied."""
    starts = old.valid_to + datetime.timedelta(days=1)
    length = old.valid_to - old.valid_from
    ends = min(starts + length, LATEST_DAY)
    area = old.area if signing_areas(user).filter(pk=old.area_id).exists() else None
    initial = {
        "merchant": old.merchant_id,
        "area": area.pk if area else None,
        "status": AgreementStatus.DRAFT,
        "valid_from": starts,
        "valid_to": ends,
        "note": old.note,
    }
    items = [
        {
            "category": item.category,
            "description": item.description,
            "benefit_kind": item.benefit_kind,
            "percent_off": item.percent_off,
            "fixed_price": item.fixed_price,
            "usual_price": item.usual_price,
            "conditions": item.conditions,
        }
        for item in old.items.filter(is_withdrawn=False).order_by("id")
    ]
    return initial, items
