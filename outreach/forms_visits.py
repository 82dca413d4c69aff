"""Forms of the visit pages: the list filters, the one-page visit entry (the visit, its
follow-ups, its assistance and photos, saved together or not at all), and the follow-up
status form."""

import uuid
from html import escape

from django import forms
from django.db import transaction
from django.db.models import Q
from django.forms import BaseInlineFormSet, inlineformset_factory
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from network import versioning
from network.access import scope_for, users_visible_to
from network.models import Area, AreaLevel, LiaisonGroup, User
from network.versioning import Conflict, StaleEdit, VersionedFormMixin
from outreach.common import OutreachFilterForm, default_group, may_record_in, recordable_groups
from outreach.models import (
    Assistance,
    Festival,
    FollowUp,
    Liaison,
    Pairing,
    Visit,
    VisitKind,
)
from outreach.photos import PhotosField, save_photos
from outreach.selectors_visits import (
    FOLLOW_UPS_OPEN,
    FOLLOW_UPS_OVERDUE,
    recordable_households,
    search_households,
)
from residents.pages import ListFilterForm, no_future, posted_submission_key, style_widgets
from residents.typed_input import MAX_ID, YuanField, whole_number

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MAX_ROWS = 30  # follow-ups or assistance rows one visit may carry on the page
HOUSEHOLD_CHOICES = 30  # households offered in the select at a time
# Inputs holding record IDs, by the last part of their name (formset rows: "follow_ups-0-id").
ID_INPUTS = {
    "household",
    "festival",
    "pairing",
    "liaison_group",
    "visitors",
    "visiting_liaisons",
    "id",
    "visit",
    "assignee",
    "area",
    "group",
    "visitor",
}


def _unfit_id(raw) -> bool:
    number = whole_number(raw)
    return number is not None and not 0 <= number <= MAX_ID


def without_unfit_ids(data, *, replacement=None):
    """``data`` (a QueryDict) with ID inputs holding numbers no ID can have replaced by
    ``replacement`` (an invalid choice: the form says so) or dropped (``None``): a query
    with such a number fails on the database instead of finding nothing."""
    if data is None or not any(
        _unfit_id(v) for k in data for v in data.getlist(k) if k.rsplit("-", 1)[-1] in ID_INPUTS
    ):
        return data
    data = data.copy()
    for key in list(data):
        if key.rsplit("-", 1)[-1] not in ID_INPUTS:
            continue
        kept = []
        for value in data.getlist(key):
            if not _unfit_id(value):
                kept.append(value)
            elif replacement is not None:
                kept.append(replacement)
        data.setlist(key, kept)
    return data


def _person_label(user) -> str:
    return user.display_name


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return _person_label(obj)


class UsersChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return _person_label(obj)


def visible_users(user, *, including=()):
    """Active accounts the user may see, for choosing visitors and assignees; accounts a
    record already names stay choosable."""
    visible = users_visible_to(user).filter(is_active=True)
    q = Q(pk__in=visible.values("pk"))
    if including:
        q |= Q(pk__in=list(including))
    return User.objects.filter(q).order_by("real_name", "username")


# ---------------------------------------------------------------- the list


class QuickFilters:
    """A list's filter form drawn quickly (the outreach lists): each drop-down's options are
    read once as a plain list and joined in Python, as the register's filters are. Django's
    per-option widget templates, and the server-side cursor PostgreSQL opens for each
    model field's options, cost more than the list's own SQL (docs/performance.md). The
    HTML is what the widget draws; a field showing an error or help text is drawn by Django
    as before."""

    def share_areas(self, areas) -> None:
        """Offer ``areas`` (``selectors_visits.visible_areas``, read by the page already)
        in the area filter, but the district: the options its queryset would read."""
        self._shown_options = {"area": [a for a in areas if a.level != AreaLevel.DISTRICT]}

    def rendered_filters(self) -> list[tuple]:
        """(bound field, HTML) for each field, in order."""
        shown = getattr(self, "_shown_options", {})
        return [(bound, _quick_html(bound, shown.get(bound.name))) for bound in self]


def _quick_html(bound, objects=None):
    field, widget = bound.field, bound.field.widget
    plain_select = isinstance(widget, forms.Select) and not isinstance(widget, forms.SelectMultiple)
    if not plain_select or bound.errors or field.help_text or field.disabled or field.required:
        return bound.as_widget()
    if isinstance(field, forms.ModelChoiceField):
        objects = field.queryset if objects is None else objects
        choices = [(obj.pk, field.label_from_instance(obj)) for obj in objects]
        if field.empty_label is not None:
            choices.insert(0, ("", field.empty_label))
    else:
        choices = field.choices
    value = bound.value()
    current = "" if value is None else str(value)
    attrs = "".join(
        f" {escape(str(name))}" if given is True else f' {escape(str(name))}="{escape(str(given))}"'
        for name, given in {**widget.attrs, "id": bound.auto_id}.items()
        if given is not False and given is not None
    )
    selected = False
    options = []
    for option_value, label in choices:
        option_value = "" if option_value is None else str(option_value)
        mark = ""
        if not selected and option_value == current:
            mark, selected = " selected", True
        options.append(
            f'<option value="{escape(option_value)}"{mark}>{escape(str(label))}</option>'
        )
    html = f'<select name="{escape(bound.html_name)}"{attrs}>{"".join(options)}</select>'
    return mark_safe(html)  # every value above is escaped


class VisitFilterForm(QuickFilters, OutreachFilterForm):
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"),
        choices=[("", gettext_lazy("All")), *VisitKind.choices],
        required=False,
    )
    festival = forms.ModelChoiceField(
        label=gettext_lazy("Festival"),
        queryset=Festival.objects.all(),
        required=False,
        empty_label=gettext_lazy("All"),
    )
    visitor = UserChoiceField(
        label=gettext_lazy("Visitor"),
        queryset=User.objects.none(),
        required=False,
        empty_label=gettext_lazy("All"),
    )
    follow_ups = forms.ChoiceField(
        label=gettext_lazy("Follow-ups"),
        choices=[
            ("", gettext_lazy("All")),
            (FOLLOW_UPS_OPEN, gettext_lazy("Has open follow-ups")),
            (FOLLOW_UPS_OVERDUE, gettext_lazy("Has overdue follow-ups")),
        ],
        required=False,
    )
    q = forms.CharField(
        label=gettext_lazy("Household address"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search"}),
    )

    def __init__(self, data=None, *, user, **kwargs):
        super().__init__(without_unfit_ids(data), user=user, **kwargs)
        self.fields["visitor"].queryset = visible_users(user)


class FollowUpFilterForm(ListFilterForm):
    """Filters of the open follow-ups list (GET); a value that does not fit is dropped."""

    overdue = forms.BooleanField(label=gettext_lazy("Overdue only"), required=False)
    mine = forms.BooleanField(label=gettext_lazy("Assigned to me"), required=False)
    due_before = forms.DateField(label=gettext_lazy("Due before"), required=False, widget=DATE)
    area = forms.ModelChoiceField(
        label=gettext_lazy("Area"),
        queryset=Area.objects.none(),
        required=False,
        empty_label=gettext_lazy("All"),
    )

    def __init__(self, data=None, *, user, **kwargs):
        super().__init__(without_unfit_ids(data), **kwargs)
        self.fields["area"].queryset = (
            Area.objects.visible_to(user).exclude(level=AreaLevel.DISTRICT).order_by("path")
        )
        style_widgets(self.fields)


class FollowUpUpdateForm(forms.Form):
    DONE, DROPPED, REOPEN = "done", "dropped", "reopen"
    action = forms.ChoiceField(
        choices=[
            (DONE, gettext_lazy("Mark done")),
            (DROPPED, gettext_lazy("Drop")),
            (REOPEN, gettext_lazy("Reopen")),
        ]
    )
    note = forms.CharField(label=gettext_lazy("Note"), max_length=200, required=False)


# ---------------------------------------------------------------- entering a visit


class HouseholdChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.address} · {obj.community.name}"


class PairingChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.get_kind_display()} · {obj.partner} ({obj.start_date:%Y-%m-%d})"


class VisitForm(VersionedFormMixin, forms.ModelForm):
    """The visit itself. Households, groups, visitors and liaisons offered are those the
    user may record for or see; a value posted from outside them is refused by the field.
    Editing, it carries the version it was loaded with (network.versioning)."""

    photos = PhotosField()
    submission_key = forms.UUIDField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Visit
        fields = [
            "household",
            "visited_on",
            "kind",
            "festival",
            "pairing",
            "liaison_group",
            "visitors",
            "visiting_liaisons",
            "other_visitors",
            "learned",
            "needs",
        ]
        field_classes = {
            "household": HouseholdChoiceField,
            "pairing": PairingChoiceField,
            "visitors": UsersChoiceField,
        }
        widgets = {
            "visited_on": DATE,
            "learned": forms.Textarea(attrs={"rows": 3}),
            "needs": forms.Textarea(attrs={"rows": 2}),
            "visitors": forms.SelectMultiple(attrs={"size": 6}),
            "visiting_liaisons": forms.SelectMultiple(attrs={"size": 4}),
        }

    def __init__(self, data=None, files=None, *, user, search: str = "", **kwargs):
        super().__init__(data, files, **kwargs)
        self.user = user
        instance = self.instance
        editing = instance.pk is not None
        if editing:
            del self.fields["submission_key"]
        scope = scope_for(user)
        # A liaison records for their own group; staff may name a group they manage.
        self.forced_group = None
        if not scope.everything and not scope.changeable_paths:
            self.forced_group = instance.liaison_group if editing else default_group(user)

        households = recordable_households(
            user, including=instance.household_id if editing else None
        )
        field = self.fields["household"]
        field.queryset = households
        field.widget.choices = self._household_choices(households, search)

        group = self.fields["liaison_group"]
        group.queryset = recordable_groups(user)
        if editing and instance.liaison_group_id:
            group.queryset = group.queryset | LiaisonGroup.objects.filter(
                pk=instance.liaison_group_id
            )
        if self.forced_group is not None:
            group.disabled = True
            group.required = False
            self.initial["liaison_group"] = self.forced_group.pk
        group.help_text = _("The liaison group the visit was made for, if any.")

        self.fields["festival"].queryset = Festival.objects.filter(
            Q(is_active=True) | Q(pk=instance.festival_id or 0)
        )
        self.fields["pairing"].queryset = Pairing.objects.visible_to(user).filter(
            Q(archived_at__isnull=True) | Q(pk=instance.pairing_id or 0)
        )
        self.fields["pairing"].widget.choices = self._pairing_choices()
        self.fields["visitors"].queryset = visible_users(
            user, including=[u.pk for u in instance.visitors.all()] if editing else ()
        )
        liaisons = Liaison.objects.visible_to(user).filter(archived_at__isnull=True)
        if editing:
            liaisons = liaisons | Liaison.objects.filter(
                pk__in=[li.pk for li in instance.visiting_liaisons.all()]
            )
        self.fields["visiting_liaisons"].queryset = liaisons.order_by("name", "id")
        self.fields["visited_on"].help_text = _("Not in the future.")
        style_widgets(self.fields)

    def _chosen_pk(self, name):
        if self.is_bound:
            raw = self.data.get(self.add_prefix(name))
        else:
            raw = self.initial.get(name) or getattr(self.instance, f"{name}_id", None)
            raw = getattr(raw, "pk", raw)
        return whole_number(raw)

    def _household_choices(self, households, search):
        """Only the chosen household and up to ``HOUSEHOLD_CHOICES`` found by the search
        (or the first ones in order): a sub-district has thousands."""
        chosen = self._chosen_pk("household")
        shown = list(search_households(households, search, HOUSEHOLD_CHOICES))
        if chosen is not None and all(h.pk != chosen for h in shown):
            shown = list(households.filter(pk=chosen)) + shown
        label = self.fields["household"].label_from_instance
        return [("", "---------"), *((h.pk, label(h)) for h in shown)]

    def _pairing_choices(self):
        """The pairings of the chosen household only."""
        field = self.fields["pairing"]
        household = self._chosen_pk("household")
        pairings = []
        if household is not None:
            pairings = field.queryset.filter(household_id=household).select_related(
                "partner_user", "partner_liaison", "partner_person"
            )
        return [("", "---------"), *((p.pk, field.label_from_instance(p)) for p in pairings)]

    def clean_visited_on(self):
        day = self.cleaned_data.get("visited_on")
        no_future(day, _("A visit cannot be dated in the future."))
        return day

    def clean(self):
        data = super().clean()
        household = data.get("household")
        group = self.forced_group if self.forced_group is not None else data.get("liaison_group")
        if self.forced_group is not None:
            data["liaison_group"] = self.forced_group
        kind = data.get("kind")
        if kind == VisitKind.FESTIVAL and not data.get("festival"):
            self.add_error("festival", _("Say which festival this visit was for."))
        elif kind and kind != VisitKind.FESTIVAL:
            data["festival"] = None
        if household is None:
            return data
        if group is not None and not household.community.path.startswith(group.community.path):
            self.add_error(
                "liaison_group", _("This liaison group does not work in the household's community.")
            )
        elif not may_record_in(self.user, household.community, group):
            self.add_error("household", _("You may not record visits for this household."))
        pairing = data.get("pairing")
        if pairing is not None and pairing.household_id != household.pk:
            self.add_error("pairing", _("This pairing is not with the chosen household."))
        return data

    def _post_clean(self):
        # Visit.clean repeats the date and festival checks made above: say each once.
        super()._post_clean()
        for name, errors in list(self._errors.items()):
            if name == forms.forms.NON_FIELD_ERRORS:
                continue
            messages = list(dict.fromkeys(errors))
            if len(messages) < len(errors):
                self._errors[name] = self.error_class(messages, renderer=self.renderer)


class FollowUpForm(forms.ModelForm):
    class Meta:
        model = FollowUp
        fields = ["action", "due_on", "assignee"]
        field_classes = {"assignee": UserChoiceField}
        widgets = {"due_on": DATE}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        assignee = self.instance.assignee_id if self.instance.pk else None
        self.fields["assignee"].queryset = visible_users(
            user, including=[assignee] if assignee else ()
        )
        style_widgets(self.fields)


class AssistanceForm(forms.ModelForm):
    value = YuanField(label=gettext_lazy("Value (yuan)"))

    class Meta:
        model = Assistance
        fields = ["kind", "description", "value"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        style_widgets(self.fields)


class FollowUpFormSet(BaseInlineFormSet):
    """Follow-ups of one visit; none may be due before the visit (``visit_date``, set by
    the entry once the visit's own form is clean)."""

    visit_date = None

    def clean(self):
        super().clean()
        if self.visit_date is None:
            return
        for form in self.forms:
            due = getattr(form, "cleaned_data", {}).get("due_on")
            if due and due < self.visit_date:
                form.add_error("due_on", _("A follow-up cannot be due before the visit."))


def _formset(model, form, formset, fields, extra):
    return inlineformset_factory(
        Visit,
        model,
        form=form,
        formset=formset,
        fields=fields,
        extra=extra,
        max_num=MAX_ROWS,
        absolute_max=MAX_ROWS,
        validate_max=True,
        can_delete=False,
    )


class VisitEntry:
    """The visit, its follow-ups, its assistance and its photos, on one page: all valid and
    saved in one transaction, or nothing saved."""

    def __init__(self, data=None, files=None, *, user, instance=None, initial=None, search=""):
        editing = instance is not None and instance.pk is not None
        instance = instance if instance is not None else Visit()
        data = without_unfit_ids(data, replacement="x")
        self.user = user
        self.editing = editing
        self.form = VisitForm(
            data, files, user=user, instance=instance, initial=initial or {}, search=search
        )
        follow_ups = _formset(
            FollowUp, FollowUpForm, FollowUpFormSet, FollowUpForm.Meta.fields, 1 if editing else 2
        )
        assistance = _formset(
            Assistance, AssistanceForm, BaseInlineFormSet, AssistanceForm.Meta.fields, 1
        )
        self.follow_ups = follow_ups(
            data,
            instance=self.form.instance,
            prefix="follow_ups",
            form_kwargs={"user": user},
            queryset=FollowUp.objects.select_related("assignee").order_by("due_on", "id"),
        )
        self.assistance = assistance(
            data,
            instance=self.form.instance,
            prefix="assistance",
            form_kwargs={"user": user},
            queryset=Assistance.objects.order_by("id"),
        )

    @property
    def submission_key(self):
        if self.editing:
            return None
        return posted_submission_key(self.form.data) if self.form.is_bound else None

    def is_valid(self) -> bool:
        form_valid = self.form.is_valid()
        if form_valid:
            self.follow_ups.visit_date = self.form.cleaned_data.get("visited_on")
        # Every part is checked, so the page shows all that is wrong at once.
        follow_ups_valid = self.follow_ups.is_valid()
        assistance_valid = self.assistance.is_valid()
        return form_valid and follow_ups_valid and assistance_valid

    @property
    def has_errors(self) -> bool:
        return self.form.is_bound and not self.is_valid()

    def conflicts(self, *, lock: bool = False) -> list[Conflict]:
        """Editing: the visit, when it changed since the page was loaded (or the page's
        version is missing or bad). ``lock`` (inside the saving transaction) keeps its row
        locked until the transaction ends."""
        if not self.editing:
            return []
        found = versioning.check(
            self.form.instance, self.form.loaded_version, subject=_("this visit"), lock=lock
        )
        return [found] if found is not None else []

    def save(self, *, by) -> Visit:
        """Save it all in one transaction; editing, ``StaleEdit`` and nothing written when
        the visit changed since the page was loaded."""
        with transaction.atomic():
            if self.editing:
                conflicts = self.conflicts(lock=True)
                if conflicts:
                    raise StaleEdit(conflicts)
            visit = self.form.save(commit=False)
            if self.form.forced_group is not None:
                visit.liaison_group = self.form.forced_group
            if not self.editing:
                visit.created_by = by
                visit.submission_key = self.form.cleaned_data.get("submission_key") or uuid.uuid4()
            visit.save()
            self.form.save_m2m()
            self.follow_ups.instance = visit
            self.follow_ups.save()
            self.assistance.instance = visit
            self.assistance.save()
            save_photos(self.form.cleaned_data.get("photos") or [], by=by, visit=visit)
        return visit
