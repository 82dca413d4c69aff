"""Forms of the registry pages: the list's filters, a household with its members on one page,
and moving a household."""

import functools
from html import escape

from django import forms
from django.core.validators import MaxValueValidator
from django.forms.models import BaseInlineFormSet, inlineformset_factory
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from network.models import Area, AreaLevel
from network.versioning import VersionedFormMixin
from residents.duplicates import find_existing_person
from residents.ethnicity import EthnicityNotFound, find_ethnicity
from residents.id_numbers import IdNumberError, mask_id_number, parse_id_number
from residents.models import (
    Ethnicity,
    Household,
    Person,
    PersonStatus,
    RegistrationKind,
    Sex,
)
from residents.selectors import AGE_BAND_LABELS, ANY_STATUS, HONOUR_FILTERS
from residents.typed_input import is_possible_birth_date, pinyin_fits

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

HARDSHIP_CHOICES = [
    ("dibao", _("Dibao (低保)")),
    ("low_income", _("Low income")),
    ("disability", _("Disability")),
    ("elderly_alone", _("Elderly living alone")),
    ("serious_illness", _("Serious illness")),
]


def _area_label(area: Area) -> str:
    return str(area.name) if area.level != AreaLevel.COMMUNITY else f"· {area.name}"


class AreaChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return _area_label(obj)


@functools.cache
def ethnicity_choices() -> tuple[tuple[str, str], ...]:
    """GB/T 3304 is fixed by migration, so it is read once per process, not per page."""
    return tuple(Ethnicity.objects.values_list("code", "name"))


class RegisterFilterForm(forms.Form):
    """The filters of the registry list and its export (GET). A value that does not fit is
    ignored, never an error page. Filters on data the user may not see are not offered."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={
                "class": "form-control",
                "placeholder": _("Name, pinyin (mxd), address or last digits of the ID"),
            }
        ),
    )
    community = AreaChoiceField(
        label=_("Area"), queryset=Area.objects.none(), required=False, empty_label=_("All")
    )
    ethnicity = forms.ChoiceField(label=_("Ethnic group"), required=False)
    registration = forms.ChoiceField(
        label=_("Registration"),
        required=False,
        choices=[("", _("All")), *RegistrationKind.choices],
    )
    hardship = forms.ChoiceField(
        label=_("Hardship"), required=False, choices=[("", _("All")), *HARDSHIP_CHOICES]
    )
    honour = forms.ChoiceField(
        label=_("Honour"),
        required=False,
        choices=[("", _("All")), *[(k.value, k.label) for k in HONOUR_FILTERS]],
    )
    age = forms.ChoiceField(
        label=_("Age"), required=False, choices=[("", _("All")), *AGE_BAND_LABELS.items()]
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[*PersonStatus.choices, (ANY_STATUS, _("Any status"))],
    )
    archived = forms.BooleanField(label=_("Include archived"), required=False)

    def __init__(self, data=None, *, user, viewer, **kwargs):
        super().__init__(data, **kwargs)
        field = self.fields["community"]
        field.queryset = (
            Area.objects.visible_to(user).exclude(level=AreaLevel.DISTRICT).order_by("path")
        )
        # The options as a plain list, read once: iterating the field would open a
        # server-side cursor on PostgreSQL (three round trips) on every page view.
        field.choices = [("", field.empty_label)] + [
            (area.pk, field.label_from_instance(area)) for area in field.queryset
        ]
        if viewer.sensitive:
            self.fields["ethnicity"].choices = [("", _("All")), *ethnicity_choices()]
        else:
            del self.fields["ethnicity"]
            del self.fields["hardship"]
        if not viewer.staff:
            del self.fields["archived"]
        # Drawn by a plain loop in the template, not crispy: on the register's hot path the
        # crispy field templates cost more than the page's SQL (docs/performance.md).
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select):
                widget.attrs.setdefault("class", "form-select")

    def rendered_filters(self) -> list[tuple]:
        """(bound field, HTML) for each filter but the search box. The ~110 options are
        joined in Python with html.escape: Django's per-option widget templates, and even
        format_html per option, cost more than all of the page's SQL (docs/performance.md)."""
        rendered = []
        for bound in self:
            if bound.name == "q":
                continue
            name, id_ = escape(bound.html_name), escape(bound.id_for_label)
            if isinstance(bound.field.widget, forms.CheckboxInput):
                checked = " checked" if bound.value() else ""
                html = (
                    f'<input type="checkbox" name="{name}" id="{id_}" '
                    f'class="form-check-input"{checked}>'
                )
            else:
                current = "" if bound.value() is None else str(bound.value())
                options = "".join(
                    f'<option value="{escape(str(value))}"'
                    f"{' selected' if str(value) == current else ''}>{escape(str(label))}</option>"
                    for value, label in bound.field.choices
                )
                html = f'<select name="{name}" id="{id_}" class="form-select">{options}</select>'
            rendered.append((bound, mark_safe(html)))  # every value above is escaped
        return rendered

    @property
    def filters(self) -> dict:
        """The values that passed validation; the others are dropped."""
        if not self.is_bound:
            return {}
        self.is_valid()
        return dict(getattr(self, "cleaned_data", {}))

    def logged_filters(self) -> dict:
        """The filters as plain text for the export log."""
        result = {}
        for name, value in self.filters.items():
            if isinstance(value, Area):
                result[name] = f"{value.pk} {value.name}"
            elif value not in (None, "", False):
                result[name] = str(value)
        return result


# ---------------------------------------------------------------- household and members

MAX_DIBAO_PERSONS = 99
NAME_TOO_LONG = _("This name is too long to be stored with its pinyin; shorten it.")

HOUSEHOLD_FIELDS = [
    "community",
    "ledger_number",
    "address",
    "registration_kind",
    "residence_kind",
    "phone",
    "moved_in_on",
    "is_dibao",
    "dibao_persons",
    "is_low_income",
    "has_disability",
    "is_elderly_alone",
    "has_serious_illness",
    "other_hardship",
    "income_band",
    "notes",
]


class HouseholdForm(forms.ModelForm):
    """A household; its community is one the user manages. Editing keeps the community
    (moving is its own action, so members follow)."""

    class Meta:
        model = Household
        fields = HOUSEHOLD_FIELDS
        widgets = {"moved_in_on": DATE, "notes": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if "community" in self.fields:
            self.fields["community"].queryset = Area.objects.changeable_by(user).filter(
                level=AreaLevel.COMMUNITY, is_active=True
            )
        # The column is a small integer: PostgreSQL refuses more than 32767, SQLite stores
        # anything. Refuse what no household holds, the same on both.
        covered = self.fields["dibao_persons"]
        covered.validators.append(MaxValueValidator(MAX_DIBAO_PERSONS))
        covered.widget.attrs["max"] = MAX_DIBAO_PERSONS

    def clean(self):
        data = super().clean()
        community = data.get("community") or (self.instance.community if self.instance.pk else None)
        number = (data.get("ledger_number") or "").strip()
        if community and number:
            taken = Household.objects.filter(community=community, ledger_number=number)
            if self.instance.pk:
                taken = taken.exclude(pk=self.instance.pk)
            if taken.exists():
                self.add_error(
                    "ledger_number",
                    _("Household number %(n)s is already used in %(c)s.")
                    % {"n": number, "c": community.name},
                )
        return data


class HouseholdUpdateForm(VersionedFormMixin, HouseholdForm):
    """Editing: the form carries the version it was loaded with (network.versioning)."""

    class Meta(HouseholdForm.Meta):
        fields = [f for f in HOUSEHOLD_FIELDS if f != "community"] + ["status", "moved_out_on"]
        widgets = {**HouseholdForm.Meta.widgets, "moved_out_on": DATE}


PERSON_FIELDS = [
    "name",
    "relation",
    "sex",
    "ethnicity",
    "id_number",
    "birth_date",
    "mobile",
    "education",
    "workplace",
    "is_volunteer",
    "is_association_member",
    "is_key_person",
    "residence_permit_number",
    "residence_permit_expires_on",
    "status",
    "status_changed_on",
    "notes",
]


class PersonForm(VersionedFormMixin, forms.ModelForm):
    """A member. Ethnicity as typed (回, 回族 or 03); the ID number as typed (full-width
    digits, lower-case x, spaces) gives birth date and sex, which must agree with what was
    typed. A person already in the register is shown, never entered twice. An existing
    member's card carries the version it was loaded with (network.versioning)."""

    ethnicity = forms.CharField(
        label=_("Ethnic group"),
        max_length=30,
        help_text=_("Name or code, e.g. 回, 回族 or 03."),
        widget=forms.TextInput(attrs={"list": "ethnic-groups", "autocomplete": "off"}),
    )
    # Longer than 18: typed numbers may hold spaces, and are normalised in clean_id_number.
    id_number = forms.CharField(
        label=Person._meta.get_field("id_number").verbose_name,
        required=False,
        max_length=40,
        help_text=_("Full-width digits, spaces and a lower-case x are fine."),
    )

    class Meta:
        model = Person
        fields = PERSON_FIELDS
        labels = {"name": _("Full name")}
        widgets = {
            "birth_date": DATE,
            "residence_permit_expires_on": DATE,
            "status_changed_on": DATE,
            "notes": forms.Textarea(attrs={"rows": 1}),
        }

    def __init__(self, *args, user, viewer, ethnicity_table, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.viewer = viewer
        self.ethnicity_table = ethnicity_table
        self.existing_person = None
        self.existing_visible = False
        self.id_warnings: list[str] = []
        self.fields["sex"].required = False
        self.fields["sex"].help_text = _("Taken from the ID number when left empty.")
        self.fields["birth_date"].help_text = _("Taken from the ID number when left empty.")
        self.fields["id_number"].widget.attrs.update({"autocomplete": "off", "inputmode": "text"})
        if self.instance.pk:
            self.initial["ethnicity"] = self.instance.ethnicity.name
            if self.instance.id_number and not viewer.full_id:
                # The form never carries a full number the user may not see; the masked
                # value sent back unchanged keeps the stored number.
                self.initial["id_number"] = mask_id_number(self.instance.id_number)

    def clean_name(self):
        name = self.cleaned_data["name"]
        if not pinyin_fits(name):
            raise forms.ValidationError(NAME_TOO_LONG)
        return name

    def clean_birth_date(self):
        born = self.cleaned_data.get("birth_date")
        if born and not is_possible_birth_date(born):
            raise forms.ValidationError(
                _("%(value)s is not a possible birth date: it lies between 1890 and today.")
                % {"value": born.isoformat()}
            )
        return born

    def clean_ethnicity(self):
        try:
            return find_ethnicity(self.cleaned_data["ethnicity"], self.ethnicity_table)
        except EthnicityNotFound as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean_id_number(self):
        raw = self.cleaned_data.get("id_number", "")
        stored = self.instance.id_number if self.instance.pk else ""
        if stored and raw.strip() == mask_id_number(stored):
            return stored
        if not raw.strip():
            return ""
        try:
            parsed = parse_id_number(raw)
        except IdNumberError as exc:
            raise forms.ValidationError(str(exc)) from exc
        self.id_warnings = parsed.warnings
        return parsed.number

    def clean(self):
        data = super().clean()
        number = data.get("id_number")
        if number:
            self._check_against_id_number(data, number)
        elif "id_number" not in self.errors and not data.get("sex"):
            self.add_error("sex", _("Enter the sex, or an ID number to take it from."))
        if not self.errors:
            self._refuse_duplicate(data)
        return data

    def _check_against_id_number(self, data, number):
        try:
            parsed = parse_id_number(number)
        except IdNumberError:
            return  # a stored legacy number that is not valid: leave it as it is
        typed_birth = data.get("birth_date")
        if typed_birth and typed_birth != parsed.birth_date:
            self.add_error(
                "birth_date",
                _("The ID number says born on %(d)s; check the ID number or the birth date.")
                % {"d": parsed.birth_date.isoformat()},
            )
        elif "birth_date" not in self.errors:
            data["birth_date"] = parsed.birth_date
        typed_sex = data.get("sex")
        if typed_sex and typed_sex != parsed.sex:
            self.add_error(
                "sex",
                _("The ID number is that of a %(sex)s; check the ID number or the sex.")
                % {"sex": Sex(parsed.sex).label},
            )
        elif "sex" not in self.errors:
            data["sex"] = parsed.sex

    def _refuse_duplicate(self, data):
        number = data.get("id_number", "")
        is_new = self.instance.pk is None
        number_changed = number and number != (self.instance.id_number or "")
        if not (is_new or number_changed):
            return
        existing = find_existing_person(
            id_number=number if number_changed else "",
            name=data.get("name", "") if is_new else "",
            birth_date=data.get("birth_date") if is_new else None,
            exclude_pk=self.instance.pk,
        )
        if existing is None:
            return
        self.existing_person = existing
        self.existing_visible = Person.objects.visible_to(self.user).filter(pk=existing.pk).exists()
        same_number = number and existing.id_number == number
        message = (
            _("A person with this ID number is already in the register.")
            if same_number
            else _("%(name)s, born on %(d)s, is already in the register.")
            % {"name": existing.name, "d": existing.birth_date}
        )
        if not self.existing_visible:
            message = _(
                "%(m)s The record is in another part of the district; ask its street office."
            ) % {"m": message}
        self.add_error("id_number" if same_number else "name", message)


class BasePersonFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        seen: dict[str, int] = {}
        for index, form in enumerate(self.forms):
            if not hasattr(form, "cleaned_data"):
                continue
            number = form.cleaned_data.get("id_number")
            if not number:
                continue
            if number in seen:
                form.add_error(
                    "id_number",
                    _("Member %(n)d has the same ID number.") % {"n": seen[number] + 1},
                )
            else:
                seen[number] = index

    @property
    def id_warnings(self) -> list[str]:
        return [w for form in self.forms for w in getattr(form, "id_warnings", [])]


def person_formset(*, extra: int, max_forms: int, min_num: int = 0):
    """``max_forms``: the member cards the page shows. A post claiming more is refused, and
    never more cards than that are built (Django's default builds up to 2,000 for a post
    that claims millions, which takes a minute to render)."""
    return inlineformset_factory(
        Household,
        Person,
        form=PersonForm,
        formset=BasePersonFormSet,
        fields=PERSON_FIELDS,
        extra=extra,
        min_num=min_num,
        validate_min=bool(min_num),
        max_num=max_forms,
        absolute_max=max_forms,
        can_delete=False,
    )


class MoveForm(forms.Form):
    community = forms.ModelChoiceField(label=_("Move to community"), queryset=Area.objects.none())

    def __init__(self, *args, user, household, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = (
            Area.objects.changeable_by(user)
            .filter(level=AreaLevel.COMMUNITY, is_active=True)
            .exclude(pk=household.community_id)
        )
