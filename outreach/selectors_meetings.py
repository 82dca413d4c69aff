"""Reading meetings the way a user may see them: the list (filtered, with attendee counts in
the same query), the attendees a viewer may be told about, and a meeting's history.

Attendee counts are correlated ``COUNT`` subqueries on the three through tables, so a list
page is a fixed number of queries and a big meeting does not multiply rows as three joins
would. Names are shown only for attendees the viewer may see in their own right; the others
are counted, never named.
"""

import datetime

from django.db.models import Count, F, IntegerField, OuterRef, Prefetch, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from network.access import users_visible_to
from outreach.common import filter_by_area_group_dates
from outreach.models import Liaison, Meeting, Photo
from outreach.selectors_visits import visible_by_area_ids
from residents.models import Person
from residents.pages import HistoryEntry, changed_fields
from residents.selectors import reason_text

HISTORY_LIMIT = 100
SAME_SAVE = datetime.timedelta(seconds=5)


def _through_count(relation: str):
    through = Meeting._meta.get_field(relation).remote_field.through
    counted = (
        through.objects.filter(meeting_id=OuterRef("pk"))
        .order_by()
        .values("meeting_id")
        .annotate(n=Count("*"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def with_attendee_counts(meetings):
    """Each meeting with ``n_users``, ``n_liaisons``, ``n_persons`` and ``attendee_total``
    (those three plus ``other_attendees``), computed in the database."""
    return meetings.annotate(
        n_users=_through_count("attending_users"),
        n_liaisons=_through_count("attending_liaisons"),
        n_persons=_through_count("attending_persons"),
    ).annotate(
        attendee_total=F("n_users") + F("n_liaisons") + F("n_persons") + F("other_attendees")
    )


def meeting_list(*, user, filters: dict, areas=None):
    """Meetings the user may see, filtered by the list's form (area, group, dates, archived,
    kind, attending user), newest first, with attendee counts."""
    meetings = visible_by_area_ids(Meeting.objects.all(), user, areas)
    meetings = filter_by_area_group_dates(
        meetings, filters, area_field="area", date_field="held_on", group_field="liaison_group"
    )
    if filters.get("kind"):
        meetings = meetings.filter(kind=filters["kind"])
    if filters.get("attendee") is not None:
        # a subquery, not a join: a join here would also narrow the attendee counts
        through = Meeting.attending_users.through
        attended = through.objects.filter(user_id=filters["attendee"].pk).values("meeting_id")
        meetings = meetings.filter(pk__in=attended)
    meetings = meetings.select_related("area", "liaison_group")
    return with_attendee_counts(meetings).order_by("-held_on", "-id")


def visible_attendees_prefetch(user) -> list[Prefetch]:
    """Prefetch the attendees ``user`` may see, into ``shown_users``, ``shown_liaisons`` and
    ``shown_persons`` (one query each for any number of meetings)."""
    return [
        Prefetch(
            "attending_users",
            queryset=users_visible_to(user).order_by("real_name", "username"),
            to_attr="shown_users",
        ),
        Prefetch(
            "attending_liaisons",
            queryset=Liaison.objects.visible_to(user)
            .select_related("community")
            .order_by("community__path", "name", "id"),
            to_attr="shown_liaisons",
        ),
        Prefetch(
            "attending_persons",
            queryset=Person.objects.visible_to(user)
            .select_related("household", "community")
            .order_by("community__path", "household__address", "name", "id"),
            to_attr="shown_persons",
        ),
    ]


def hidden_attendee_count(meeting) -> int:
    """Attendees counted on ``meeting`` whom the viewer may not see by name (needs the
    annotations of ``with_attendee_counts`` and the prefetch above)."""
    shown = len(meeting.shown_users) + len(meeting.shown_liaisons) + len(meeting.shown_persons)
    return meeting.n_users + meeting.n_liaisons + meeting.n_persons - shown


def meeting_export_rows(meetings):
    """Rows of the xlsx export: one a meeting, attendees by name where the viewer may see
    them (the prefetch above must be applied), counts for all."""
    for m in meetings.iterator(chunk_size=500):
        yield [
            m.held_on,
            m.get_kind_display(),
            m.title,
            m.area.name,
            m.liaison_group.name if m.liaison_group_id else "",
            m.venue,
            "、".join(u.display_name for u in m.shown_users),
            "、".join(liaison.name for liaison in m.shown_liaisons),
            "、".join(p.name for p in m.shown_persons),
            m.other_attendees,
            m.attendee_total,
            m.cost,
            m.minutes,
            m.decisions,
            m.created_by.display_name if m.created_by_id else "",
            _("archived") if m.archived_at else "",
        ]


def meeting_photos(meeting, user):
    return list(Photo.objects.visible_to(user).current().filter(meeting=meeting))


# ---------------------------------------------------------------- history


def meeting_history(meeting: Meeting, limit: int = HISTORY_LIMIT) -> list[HistoryEntry]:
    """Who changed what and when, newest first, each entry naming the fields it changed.

    One save writes several history rows (the record, then each list of attendees); rows by
    the same user within a few seconds of each other are shown as one entry."""
    records = list(
        meeting.history.select_related("history_user").order_by("-history_date", "-history_id")[
            : limit + 1
        ]
    )
    records.reverse()
    entries: list[HistoryEntry] = []
    before = None
    for record in records:
        changed: list[str] = []
        if before is not None and record.history_type == "~":
            changed = changed_fields(record, before, hidden=("updated_at",))
        first_of_window = before is None and len(records) > limit
        previous, before = before, record
        if first_of_window:
            continue
        reason = reason_text(record.history_change_reason or "")
        same_save = (
            entries
            and previous is not None
            and record.history_type == "~"
            and not reason
            and record.history_user_id == previous.history_user_id
            and record.history_date - previous.history_date <= SAME_SAVE
        )
        if same_save:
            if entries[-1].kind == "~":  # a creation lists no fields: it set them all
                entries[-1].fields.extend(f for f in changed if f not in entries[-1].fields)
            continue
        if record.history_type == "~" and not changed and not reason:
            continue  # saved without a change worth showing
        entries.append(
            HistoryEntry(
                at=record.history_date,
                user=record.history_user,
                kind=record.history_type,
                fields=changed,
                reason=reason,
            )
        )
    entries.reverse()
    return entries
