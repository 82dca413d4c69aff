"""Forms of the meeting pages: the list's filters and the record of a meeting or activity.

Who may be chosen is decided here from ``network.access``: the areas a user may record in,
the liaison groups they record for (a liaison: only their own), and attendees they may see.
An attendee already on record whom the editor may not see stays on record, unnamed.
"""

import datetime
import uuid
from decimal import Decimal

from django import forms
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from network.access import area_q, scope_for, users_visible_to
from network.models import Area, AreaLevel, Post, Role, User
from outreach.common import OutreachFilterForm, default_group, may_record_in, recordable_groups
from outreach.forms_visits import QuickFilters
from outreach.models import Liaison, Meeting, MeetingKind
from outreach.photos import PhotosField
from residents.models import Person, PersonStatus
from residents.typed_input import MAX_ID, YuanField, whole_number

RECORDING_LEVELS = (AreaLevel.SUBDISTRICT, AreaLevel.ZONE, AreaLevel.COMMUNITY)
ATTENDEE_FIELDS = ("attending_users", "attending_liaisons", "attending_persons")
MAX_OTHER_ATTENDEES = 100_000
EARLIEST_DAY = datetime.date(1900, 1, 1)  # before it, a year is mistyped (0202 for 2022)


def recordable_areas(user):
    """Areas whose own meetings ``user`` may record: the sub-districts, zones and
    communities they manage as staff."""
    return (
        Area.objects.filter(area_q(user, "", for_change=True))
        .filter(level__in=RECORDING_LEVELS, is_active=True)
        .order_by("path")
    )


def _area_label(area: Area) -> str:
    indent = {AreaLevel.SUBDISTRICT: "", AreaLevel.ZONE: "· ", AreaLevel.COMMUNITY: "· · "}
    return f"{indent.get(area.level, '')}{area.name}"


# ---------------------------------------------------------------- list filters


class MeetingFilterForm(QuickFilters, OutreachFilterForm):
    """The shared filters plus the kind of meeting and a member of staff who attended."""

    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"),
        choices=[("", gettext_lazy("All")), *MeetingKind.choices],
        required=False,
    )
    attendee = forms.ModelChoiceField(
        label=gettext_lazy("Staff attending"),
        queryset=User.objects.none(),
        required=False,
        empty_label=gettext_lazy("All"),
    )

    def __init__(self, data=None, *, user, **kwargs):
        super().__init__(data, user=user, **kwargs)
        self.fields["attendee"].queryset = users_visible_to(user).order_by("real_name", "username")


# ---------------------------------------------------------------- the meeting record


class SearchableCheckboxes(forms.CheckboxSelectMultiple):
    """Checkboxes carrying the text a filter box matches (name, pinyin, address), so a long
    list of residents narrows as a few letters are typed."""

    def __init__(self, attrs=None, choices=()):
        super().__init__(attrs={"class": "form-check-input", **(attrs or {})}, choices=choices)
        self.search_text: dict[int, str] = {}

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        option["attrs"]["data-search"] = self.search_text.get(value, str(label)).lower()
        return option


class AttendeeField(forms.ModelMultipleChoiceField):
    """Ticked attendees; an id no record can have (a huge number) is refused as a choice
    that does not exist, not handed to the database."""

    def clean(self, value):
        if isinstance(value, list | tuple):
            for raw in value:
                pk = whole_number(raw)
                if pk is not None and not 0 < pk <= MAX_ID:
                    raise forms.ValidationError(
                        self.error_messages["invalid_choice"],
                        code="invalid_choice",
                        params={"value": raw},
                    )
        return super().clean(value)


class MeetingForm(forms.ModelForm):
    """Create or edit a meeting. ``held_by`` is ``area:<pk>`` or ``group:<pk>``; a liaison
    who manages no area may choose only their own groups (one group: fixed)."""

    held_by = forms.ChoiceField(
        label=gettext_lazy("Held by"),
        help_text=gettext_lazy("The area that held it, or a liaison group (of its community)."),
    )
    other_attendees = forms.IntegerField(
        label=gettext_lazy("Other attendees"),
        help_text=gettext_lazy("How many others came who are not listed above."),
        min_value=0,
        max_value=MAX_OTHER_ATTENDEES,
        required=False,
        initial=0,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 0}),
    )
    cost = YuanField(
        label=gettext_lazy("Cost (yuan)"),
        help_text=gettext_lazy("What it cost from the budget; 0 if nothing."),
        required=False,
        initial=Decimal("0"),
    )
    photos = PhotosField()
    # Read by the view, which puts a fresh key in place of one that is garbled.
    submission_key = forms.UUIDField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Meeting
        fields = [
            "kind",
            "title",
            "held_on",
            "venue",
            "attending_users",
            "attending_liaisons",
            "attending_persons",
            "other_attendees",
            "minutes",
            "decisions",
            "cost",
        ]
        widgets = {
            "held_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "minutes": forms.Textarea(attrs={"rows": 5}),
            "decisions": forms.Textarea(attrs={"rows": 3}),
            "attending_users": SearchableCheckboxes,
            "attending_liaisons": SearchableCheckboxes,
            "attending_persons": SearchableCheckboxes,
        }
        field_classes = {name: AttendeeField for name in ATTENDEE_FIELDS}

    field_order = [
        "kind",
        "title",
        "held_by",
        "held_on",
        "venue",
        *ATTENDEE_FIELDS,
        "other_attendees",
        "minutes",
        "decisions",
        "cost",
        "photos",
        "submission_key",
    ]

    def __init__(self, data=None, files=None, *, user, instance=None, initial=None, **kwargs):
        super().__init__(data, files, instance=instance, initial=initial, **kwargs)
        self.user = user
        self.creating = self.instance.pk is None
        self.fields["title"].label = _("Subject")
        self.fields["title"].help_text = _("For example: 第三季度少数民族联络员会议")
        self.fields["venue"].widget.attrs["placeholder"] = _("e.g. 平江路社区民族之家")
        self._setup_held_by()
        self.residents_area = self._chosen_area()
        self._setup_attendees()
        if self.creating:
            self.fields["submission_key"].initial = str(uuid.uuid4())
            if not self.initial.get("kind"):  # the kind this user recorded last
                self.initial["kind"] = (
                    Meeting.objects.filter(created_by=user)
                    .order_by("-id")
                    .values_list("kind", flat=True)
                    .first()
                )
        else:
            del self.fields["submission_key"]

    def reload_attendees_from(self, url: str) -> None:
        """Changing ``held_by`` reloads the liaison and resident boxes (htmx) from ``url``."""
        field = self.fields["held_by"]
        if not field.disabled:
            field.widget.attrs.update(
                {
                    "hx-get": url,
                    "hx-trigger": "change",
                    "hx-select": "#area-attendees",
                    "hx-target": "#area-attendees",
                    "hx-swap": "outerHTML",
                    "hx-include": "#area-attendees",
                }
            )

    # ------------------------------------------------------------ held by

    def _setup_held_by(self):
        self._areas = {a.pk: a for a in recordable_areas(self.user)}
        self._groups = {g.pk: g for g in recordable_groups(self.user)}
        if not self.creating:  # keep what it has, e.g. a group since closed
            if self.instance.liaison_group_id:
                group = self.instance.liaison_group
                self._groups.setdefault(group.pk, group)
            else:
                self._areas.setdefault(self.instance.area_id, self.instance.area)
        self.can_record = bool(self._areas or self._groups)
        area_choices = [(f"area:{pk}", _area_label(a)) for pk, a in self._areas.items()]
        group_choices = [(f"group:{pk}", g.name) for pk, g in self._groups.items()]
        field = self.fields["held_by"]
        choices = []
        if area_choices:
            choices.append((_("Areas"), area_choices))
        if group_choices:
            choices.append((_("Liaison groups"), group_choices))
        only_groups = not self._areas
        if only_groups and len(group_choices) == 1:
            field.choices = group_choices
            field.disabled = True  # a liaison records for their own group
            field.initial = group_choices[0][0]
        else:
            field.choices = [("", "---------"), *choices]
            field.initial = self._initial_held_by()
        self.initial["held_by"] = field.initial
        field.widget.attrs["class"] = "form-select"

    def _initial_held_by(self) -> str | None:
        hinted = self.initial.get("held_by")
        if hinted and self._parse(hinted)[0] is not None:
            return hinted
        if not self.creating:
            if self.instance.liaison_group_id:
                return f"group:{self.instance.liaison_group_id}"
            return f"area:{self.instance.area_id}"
        group = default_group(self.user)
        if group is not None and group.pk in self._groups:
            return f"group:{group.pk}"
        for area_id in scope_for(self.user).area_ids:
            if area_id in self._areas:
                return f"area:{area_id}"
        return None

    def _parse(self, value):
        """``(area, group)`` for a ``held_by`` value among the choices, else ``(None, None)``."""
        kind, _sep, raw = str(value or "").partition(":")
        pk = whole_number(raw)
        if kind == "area" and pk in self._areas:
            return self._areas[pk], None
        if kind == "group" and pk in self._groups:
            group = self._groups[pk]
            return group.community, group
        return None, None

    def _chosen_area(self):
        """The area whose liaisons and residents are offered: the one chosen (as posted, or
        at first the initial choice)."""
        field = self.fields["held_by"]
        if self.is_bound and not field.disabled:
            value = self.data.get(self.add_prefix("held_by"))
        else:
            value = self.get_initial_for_field(field, "held_by")
        return self._parse(value)[0]

    # ------------------------------------------------------------ attendees

    def _selected_ids(self, name) -> set[int]:
        if self.is_bound:
            raw = self.data.getlist(self.add_prefix(name)) if hasattr(self.data, "getlist") else []
        else:
            raw = self.get_initial_for_field(self.fields[name], name) or []
        ids = {whole_number(getattr(v, "pk", v)) for v in raw}
        return {i for i in ids if i is not None and 0 < i <= MAX_ID}

    def _setup_attendees(self):
        """Each attendee field accepts what the user may see; it offers (renders) the part
        of it that fits the chosen area, plus what is already ticked."""
        user, area = self.user, self.residents_area
        selected = {name: self._selected_ids(name) for name in ATTENDEE_FIELDS}
        on_record = {name: set() for name in ATTENDEE_FIELDS}
        if not self.creating:
            for name in ATTENDEE_FIELDS:
                on_record[name] = set(getattr(self.instance, name).values_list("pk", flat=True))

        users = users_visible_to(user)
        liaisons = Liaison.objects.visible_to(user).filter(
            Q(archived_at__isnull=True) | Q(pk__in=on_record["attending_liaisons"])
        )
        persons = Person.objects.visible_to(user).filter(
            Q(archived_at__isnull=True) | Q(pk__in=on_record["attending_persons"])
        )
        accepted = {
            "attending_users": users,
            "attending_liaisons": liaisons,
            "attending_persons": persons,
        }
        staff_posts = Post.objects.current().exclude(role=Role.LIAISON).values("user_id")
        offered = {
            "attending_users": users.filter(
                Q(is_active=True, pk__in=staff_posts) | Q(pk__in=selected["attending_users"])
            ).order_by("real_name", "username"),
            "attending_liaisons": liaisons.filter(
                _under(area, "community", archived_at__isnull=True)
                | Q(pk__in=selected["attending_liaisons"])
            )
            .select_related("community")
            .order_by("community__path", "name", "id"),
            "attending_persons": persons.filter(
                _under(area, "community", archived_at__isnull=True, status=PersonStatus.ACTIVE)
                | Q(pk__in=selected["attending_persons"])
            )
            .select_related("household")
            .order_by("community__path", "household__address", "household_id", "id"),
        }
        labels = {
            "attending_users": lambda u: u.display_name,
            "attending_liaisons": lambda li: f"{li.name} · {li.community.name}",
            "attending_persons": lambda p: f"{p.name} · {p.household.address}",
        }
        search = {
            "attending_users": lambda u: f"{u.display_name} {u.username}",
            "attending_liaisons": lambda li: f"{li.name} {li.community.name}",
            "attending_persons": lambda p: (
                f"{p.name} {p.name_pinyin} {p.name_initials} {p.household.address}"
            ),
        }
        self.hidden_attendees = {}
        for name in ATTENDEE_FIELDS:
            field = self.fields[name]
            field.queryset = accepted[name]
            rows = list(offered[name])
            field.widget.choices = [(obj.pk, labels[name](obj)) for obj in rows]
            field.widget.search_text = {obj.pk: search[name](obj) for obj in rows}
            hidden = set()
            if on_record[name]:
                seen = accepted[name].filter(pk__in=on_record[name]).values_list("pk", flat=True)
                hidden = on_record[name] - set(seen)
            self.hidden_attendees[name] = hidden

    # ------------------------------------------------------------ validation

    def clean_held_by(self):
        area, group = self._parse(self.cleaned_data.get("held_by"))
        if area is None:
            raise forms.ValidationError(_("Choose the area or liaison group that held it."))
        if not may_record_in(self.user, area, group):
            raise forms.ValidationError(_("You may not record meetings for this area or group."))
        return self.cleaned_data["held_by"]

    def clean_held_on(self):
        held_on = self.cleaned_data.get("held_on")
        if held_on and held_on < EARLIEST_DAY:
            raise forms.ValidationError(_("This is before 1900: check the year."))
        return held_on

    def clean_other_attendees(self):
        return self.cleaned_data.get("other_attendees") or 0

    def clean_cost(self):
        cost = self.cleaned_data.get("cost")
        return Decimal("0") if cost is None else cost

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("held_by"):
            area, group = self._parse(cleaned["held_by"])
            self.instance.area = area
            self.instance.liaison_group = group
        if all(name in cleaned for name in (*ATTENDEE_FIELDS, "other_attendees")):
            listed = sum(len(cleaned[name]) for name in ATTENDEE_FIELDS)
            hidden = sum(len(ids) for ids in self.hidden_attendees.values())
            if listed + hidden + cleaned["other_attendees"] == 0:
                raise forms.ValidationError(
                    _(
                        "A meeting needs attendees: tick the staff, liaisons or residents who "
                        "came, or give the number of others."
                    ),
                    code="no_attendees",
                )
        return cleaned

    def _save_m2m(self):
        super()._save_m2m()
        for name, hidden in self.hidden_attendees.items():
            if hidden:  # attendees on record whom this editor may not see stay on record
                getattr(self.instance, name).add(*hidden)


def _under(area, field: str, **extra) -> Q:
    """Records whose ``field`` lies in ``area``'s subtree (nothing without an area)."""
    if area is None:
        return Q(pk__in=[])
    return Q(**{f"{field}__path__startswith": area.path, **extra})
