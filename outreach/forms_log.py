"""The quick forms of the phone-first log (issue 4 §8): a visit or a meeting in under a
minute on a 360-px phone, with sensible defaults and large touch targets.

A liaison records for their own group (``default_group``), which the form fixes; staff may
use the forms too, naming a group (or, for a meeting, an area) they manage. Whatever is
posted is checked against what the user may record (``may_record_in``): a household or a
liaison from elsewhere is refused by the field, never saved.
"""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from network.access import area_q, scope_for
from network.models import Area, AreaLevel, LiaisonGroup
from outreach.common import default_group, may_record_in, recordable_groups
from outreach.models import (
    AssistanceKind,
    Festival,
    GroupMembership,
    Liaison,
    MeetingKind,
    VisitKind,
    current_q,
)
from outreach.selectors_visits import recordable_households
from residents.models import Household
from residents.pages import no_future
from residents.typed_input import MAX_ID, YuanField, whole_number

MAX_OTHER_ATTENDEES = 100_000


def valid_pk(raw) -> int | None:
    """A primary key as posted or typed into a URL (full-width digits too), or None when
    it cannot be one."""
    number = whole_number(raw)
    return number if number is not None and 0 < number <= MAX_ID else None


class RecordsChoiceField(forms.ModelMultipleChoiceField):
    """Records chosen by their IDs; a value that cannot be an ID is an invalid choice, not
    a database error (an ``IN`` list with a number past 2**63 overflows; a single choice
    needs no such guard: Django finds nothing for an out-of-range ``pk=``)."""

    def _check_values(self, value):
        for item in value:
            if valid_pk(item) is None:
                raise forms.ValidationError(
                    self.error_messages["invalid_choice"],
                    code="invalid_choice",
                    params={"value": item},
                )
        return super()._check_values(value)


MEETING_LEVELS = (AreaLevel.SUBDISTRICT, AreaLevel.ZONE, AreaLevel.COMMUNITY)


def _date_input() -> forms.DateInput:
    """A date picker that offers no day after today."""
    return forms.DateInput(
        attrs={
            "type": "date",
            "class": "form-control form-control-lg",
            "max": timezone.localdate().isoformat(),
        },
        format="%Y-%m-%d",
    )


def _text(rows: int, placeholder: str = "") -> forms.Textarea:
    attrs = {"rows": rows, "class": "form-control form-control-lg"}
    if placeholder:
        attrs["placeholder"] = placeholder
    return forms.Textarea(attrs=attrs)


def _line(**attrs) -> forms.TextInput:
    return forms.TextInput(attrs={"class": "form-control form-control-lg", **attrs})


def records_only_for_group(user) -> bool:
    """A liaison who manages no area records only for their own group."""
    scope = scope_for(user)
    return not scope.everything and not scope.changeable_paths


# ---------------------------------------------------------------- the quick visit


class QuickVisitForm(forms.Form):
    household = forms.ModelChoiceField(
        label=gettext_lazy("Household"),
        queryset=Household.objects.none(),
        error_messages={
            "required": gettext_lazy("Choose the household you visited."),
            "invalid_choice": gettext_lazy("You may not record a visit for this household."),
        },
    )
    visited_on = forms.DateField(label=gettext_lazy("Date of the visit"))
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind of visit"),
        choices=VisitKind.choices,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )
    festival = forms.ModelChoiceField(
        label=gettext_lazy("Festival"),
        queryset=Festival.objects.none(),
        required=False,
        widget=forms.Select(attrs={"class": "form-select form-select-lg"}),
    )
    liaison_group = forms.ModelChoiceField(
        label=gettext_lazy("Liaison group"),
        queryset=LiaisonGroup.objects.none(),
        required=False,
        empty_label=gettext_lazy("None (staff visit)"),
        widget=forms.Select(attrs={"class": "form-select form-select-lg"}),
    )
    learned = forms.CharField(
        label=gettext_lazy("What was learned"), required=False, max_length=5000
    )
    needs = forms.CharField(label=gettext_lazy("Needs raised"), required=False, max_length=5000)
    follow_up_action = forms.CharField(
        label=gettext_lazy("Follow-up action"), required=False, max_length=200
    )
    follow_up_due_on = forms.DateField(label=gettext_lazy("Due on"), required=False)
    assistance_kind = forms.ChoiceField(
        label=gettext_lazy("Assistance given"),
        choices=[("", gettext_lazy("None")), *AssistanceKind.choices],
        required=False,
        widget=forms.Select(attrs={"class": "form-select form-select-lg"}),
    )
    assistance_value = YuanField(
        label=gettext_lazy("Value (yuan)"),
        required=False,
        widget=_line(inputmode="decimal", autocomplete="off"),
    )
    assistance_description = forms.CharField(
        label=gettext_lazy("What was given"), required=False, max_length=200
    )
    # Read by the view (``residents.pages.posted_submission_key``); a malformed key only
    # means a fresh one.
    submission_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=100)

    def __init__(self, data=None, *, user, initial=None, **kwargs):
        super().__init__(data, initial=initial, **kwargs)
        self.user = user
        self.fields["household"].queryset = recordable_households(user)
        self.fields["festival"].queryset = Festival.objects.filter(is_active=True).order_by(
            "calendar", "month", "day"
        )
        self.fields["visited_on"].widget = _date_input()
        self.fields["follow_up_due_on"].widget = _date_input()
        del self.fields["follow_up_due_on"].widget.attrs["max"]
        self.fields["learned"].widget = _text(3)
        self.fields["needs"].widget = _text(2)
        self.fields["follow_up_action"].widget = _line(
            placeholder=_("e.g. help apply for the dibao supplement")
        )
        self.fields["assistance_description"].widget = _line(placeholder=_("e.g. rice and oil"))
        self.forced_group = default_group(user) if records_only_for_group(user) else None
        if records_only_for_group(user):
            del self.fields["liaison_group"]
        else:
            self.fields["liaison_group"].queryset = recordable_groups(user).order_by(
                "community__path", "name"
            )

    def clean_visited_on(self):
        day = self.cleaned_data.get("visited_on")
        no_future(day, _("A visit cannot be dated in the future."))
        return day

    def clean(self):
        data = super().clean()
        if data.get("kind") == VisitKind.FESTIVAL:
            if not data.get("festival"):
                self.add_error("festival", _("Say which festival this visit was for."))
        else:
            data["festival"] = None
        self._clean_where(data)
        self._clean_follow_up(data)
        self._clean_assistance(data)
        return data

    def _clean_where(self, data):
        household = data.get("household")
        if records_only_for_group(self.user):
            group = data["liaison_group"] = self.forced_group
        else:
            group = data.get("liaison_group")
        if household is None:
            return
        if group is not None and not household.community.path.startswith(group.community.path):
            key = "household" if records_only_for_group(self.user) else "liaison_group"
            self.add_error(key, _("This liaison group does not work in the household's community."))
        elif not may_record_in(self.user, household.community, group):
            self.add_error("household", _("You may not record a visit for this household."))

    def _clean_follow_up(self, data):
        action = (data.get("follow_up_action") or "").strip()
        due = data.get("follow_up_due_on")
        if action and not due:
            self.add_error("follow_up_due_on", _("Give the follow-up a due date."))
        elif due and not action:
            self.add_error("follow_up_action", _("Say what is to be done."))
        elif due and data.get("visited_on") and due < data["visited_on"]:
            self.add_error("follow_up_due_on", _("A follow-up cannot be due before the visit."))

    def _clean_assistance(self, data):
        kind = data.get("assistance_kind")
        value = data.get("assistance_value")
        if value is not None and not kind:
            self.add_error("assistance_kind", _("Say what kind of assistance was given."))
        elif kind and value is None and "assistance_value" not in self.errors:
            self.add_error("assistance_value", _("Give the value of the assistance in yuan."))


# ---------------------------------------------------------------- the quick meeting


def meeting_areas(user):
    """Areas whose own meetings ``user`` may record: those they manage as staff."""
    return (
        Area.objects.filter(area_q(user, "", for_change=True))
        .filter(level__in=MEETING_LEVELS, is_active=True)
        .order_by("path")
    )


class QuickMeetingForm(forms.Form):
    held_by = forms.ChoiceField(
        label=gettext_lazy("Held by"),
        widget=forms.Select(attrs={"class": "form-select form-select-lg"}),
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind of meeting"),
        choices=MeetingKind.choices,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )
    held_on = forms.DateField(label=gettext_lazy("Date"))
    venue = forms.CharField(label=gettext_lazy("Venue"), required=False, max_length=200)
    attending_liaisons = RecordsChoiceField(
        label=gettext_lazy("Liaisons attending"),
        queryset=Liaison.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    me = forms.BooleanField(
        label=gettext_lazy("I attended"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
    other_attendees = forms.IntegerField(
        label=gettext_lazy("Others attending"),
        required=False,
        min_value=0,
        max_value=MAX_OTHER_ATTENDEES,
    )
    minutes = forms.CharField(label=gettext_lazy("Minutes"), required=False, max_length=5000)
    # Read by the view (``residents.pages.posted_submission_key``); a malformed key only
    # means a fresh one.
    submission_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=100)

    def __init__(self, data=None, *, user, initial=None, **kwargs):
        super().__init__(data, initial=initial, **kwargs)
        self.user = user
        self.fields["held_on"].widget = _date_input()
        self.fields["venue"].widget = _line(placeholder=_("e.g. 平江路社区民族之家"))
        self.fields["minutes"].widget = _text(4)
        self.fields["other_attendees"].widget = forms.NumberInput(
            attrs={"class": "form-control form-control-lg", "inputmode": "numeric", "min": 0}
        )
        if records_only_for_group(user):
            group = default_group(user)
            self.groups = {group.pk: group} if group is not None else {}
            self.areas = {}
            del self.fields["held_by"]
        else:
            self.groups = {g.pk: g for g in recordable_groups(user).order_by("name")}
            self.areas = {a.pk: a for a in meeting_areas(user)}
            self.fields["held_by"].choices = [
                ("", "---------"),
                *((f"group:{pk}", g.name) for pk, g in self.groups.items()),
                *((f"area:{pk}", a.name) for pk, a in self.areas.items()),
            ]
        self.liaisons = list(
            Liaison.objects.visible_to(user)
            .filter(archived_at__isnull=True)
            .filter(pk__in=_current_members(self.groups.keys()))
            .select_related("community")
            .order_by("name", "id")
        )
        field = self.fields["attending_liaisons"]
        field.queryset = Liaison.objects.filter(pk__in=[li.pk for li in self.liaisons]).order_by(
            "name", "id"
        )
        several = len(self.groups) > 1  # staff: say where each liaison works
        field.widget.choices = [
            (li.pk, f"{li.name} · {li.community.name}" if several else li.name)
            for li in self.liaisons
        ]
        self.own_liaisons = [li.pk for li in self.liaisons if li.user_id == user.pk]
        if self.own_liaisons:
            del self.fields["me"]  # their own liaison record stands for them
        else:
            self.fields["me"].initial = True
        field.initial = self.own_liaisons

    def held_by_value(self, group=None, area=None) -> str:
        if group is not None:
            return f"group:{group.pk}"
        return f"area:{area.pk}" if area is not None else ""

    def parse_held_by(self, value: str):
        kind, _sep, raw = (value or "").partition(":")
        try:
            pk = int(raw)
        except ValueError:
            return None, None
        if kind == "group" and pk in self.groups:
            group = self.groups[pk]
            return group.community, group
        if kind == "area" and pk in self.areas:
            return self.areas[pk], None
        return None, None

    def clean_held_on(self):
        day = self.cleaned_data.get("held_on")
        no_future(day, _("A meeting cannot be recorded before it is held."))
        return day

    def clean(self):
        data = super().clean()
        if "held_by" in self.fields:
            area, group = self.parse_held_by(data.get("held_by"))
            if area is None and "held_by" not in self.errors:
                self.add_error("held_by", _("Choose who held the meeting."))
        else:
            group = next(iter(self.groups.values()), None)
            area = group.community if group is not None else None
            if group is None:
                raise forms.ValidationError(_("You belong to no liaison group to record for."))
        if area is not None and not may_record_in(self.user, area, group):
            raise forms.ValidationError(_("You may not record a meeting there."))
        data["area"], data["liaison_group"] = area, group
        attendees = data.get("attending_liaisons") or []
        came = bool(attendees) or data.get("me") or (data.get("other_attendees") or 0) > 0
        if not came and "attending_liaisons" not in self.errors:
            self.add_error(
                "attending_liaisons", _("Tick who attended: a meeting has at least one attendee.")
            )
        return data


def _current_members(group_ids):
    """Liaisons holding a current membership of one of the groups."""
    return (
        GroupMembership.objects.filter(current_q(), group_id__in=list(group_ids))
        .values("liaison_id")
        .order_by()
    )
