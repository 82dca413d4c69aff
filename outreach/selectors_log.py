"""Reads of the phone-first log (issue 4 §8): the households a user logs most (their own
first), the household search by a few pinyin letters, and the defaults a quick form starts
from (the last kind, the last venue, the nearest festival)."""

import datetime

from django.db.models import Exists, OuterRef, Prefetch, Q, Subquery
from django.utils import timezone

from network.access import scope_for
from outreach import festivals as festival_dates
from outreach.models import Festival, Meeting, MeetingKind, Visit, VisitKind
from outreach.selectors_pairings import pairings_of
from outreach.selectors_visits import household_search, recordable_households
from residents.models import Household, Person

RECENT_DAYS = 365  # "visited recently": within the last year
OWN_LIMIT = 8  # own households offered before the search box
SEARCH_LIMIT = 20  # households a search shows
MEMBERS_SHOWN = 3  # member names beside an address, to tell households apart
FESTIVAL_WINDOW = 45  # days either side of today in which the nearest festival is looked for


def _with_members(households):
    """Current members' names beside each household (one query for the whole list)."""
    members = Person.objects.filter(archived_at__isnull=True).order_by("household_id", "pk")
    return households.prefetch_related(
        Prefetch("members", queryset=members.only("pk", "name", "household_id"), to_attr="shown")
    )


def member_names(household) -> list[str]:
    return [p.name for p in getattr(household, "shown", [])[:MEMBERS_SHOWN]]


def _own_visits_q(user) -> Q:
    """Visits that are the user's own: made for their liaison groups, or by them."""
    group_ids = sorted(scope_for(user).group_ids)
    q = Q(visitors=user) | Q(created_by=user)
    if group_ids:
        q |= Q(liaison_group_id__in=group_ids)
    return q


def own_households(user, today: datetime.date | None = None, limit: int = OWN_LIMIT):
    """The households a user logs most, first on the form: those under their pairings in
    force, then those their group (or they) visited in the last year, latest visit first.
    Only households they may record a visit for. Two queries."""
    today = today or timezone.localdate()
    since = today - datetime.timedelta(days=RECENT_DAYS)
    last_visit = (
        Visit.objects.filter(
            _own_visits_q(user),
            household=OuterRef("pk"),
            archived_at__isnull=True,
            visited_on__gte=since,
        )
        .order_by("-visited_on")
        .values("visited_on")[:1]
    )
    paired = Exists(pairings_of(user, today).filter(household=OuterRef("pk")))
    households = (
        recordable_households(user)
        .annotate(last_visit=Subquery(last_visit), paired=paired)
        .filter(Q(paired=True) | Q(last_visit__isnull=False))
        .order_by("-paired", "-last_visit", "address", "pk")
    )
    return list(_with_members(households)[:limit])


def search_households(user, text: str, limit: int = SEARCH_LIMIT):
    """Households the user may record a visit for, found by the start of a current
    member's pinyin or initials (stored lower-case beside the name), by part of a member's
    name, or by part of the address. Two queries."""
    found = household_search(text)
    if found is None:
        return []
    households = recordable_households(user).filter(found).order_by("address", "pk")
    return list(_with_members(households)[:limit])


def households_by_pk(user, pks) -> list[Household]:
    """Households (chosen earlier) the user may still record for, with member names."""
    pks = [pk for pk in pks if pk is not None]
    if not pks:
        return []
    return list(_with_members(recordable_households(user).filter(pk__in=pks)))


# ---------------------------------------------------------------- defaults


def last_visit_kind(user) -> str:
    """The kind of the last visit the user recorded (care visit when none)."""
    kind = (
        Visit.objects.filter(created_by=user, archived_at__isnull=True)
        .order_by("-created_at", "-id")
        .values_list("kind", flat=True)
        .first()
    )
    return kind if kind in VisitKind.values else VisitKind.CARE


def nearest_festival(today: datetime.date | None = None):
    """The active festival whose date lies nearest today (within ``FESTIVAL_WINDOW`` days
    either way; the earlier one on a tie), or None when no festival is on record or near."""
    today = today or timezone.localdate()
    window = datetime.timedelta(days=FESTIVAL_WINDOW)
    festivals = list(Festival.objects.filter(is_active=True))
    pairs = festival_dates.occurrences(festivals, today - window, today + window)
    if not pairs:
        return None
    festival, _day = min(pairs, key=lambda pair: (abs((pair[1] - today).days), pair[1]))
    return festival


def last_meeting(user, group=None):
    """The last meeting of ``group`` (when given) or the last one the user recorded."""
    meetings = Meeting.objects.visible_to(user).filter(archived_at__isnull=True)
    meetings = (
        meetings.filter(liaison_group=group)
        if group is not None
        else meetings.filter(created_by=user)
    )
    return meetings.order_by("-held_on", "-id").first()


def last_meeting_kind(user) -> str:
    """The kind of the last meeting the user recorded; a liaison meeting when none (what
    a liaison group holds most: seed 000, every quarter)."""
    kind = (
        Meeting.objects.filter(created_by=user, archived_at__isnull=True)
        .order_by("-created_at", "-id")
        .values_list("kind", flat=True)
        .first()
    )
    return kind if kind in MeetingKind.values else MeetingKind.LIAISON


def last_venue(user, group=None) -> str:
    """The last venue the group used (or, without a group, the user's last venue)."""
    meetings = Meeting.objects.visible_to(user).filter(archived_at__isnull=True).exclude(venue="")
    meetings = (
        meetings.filter(liaison_group=group)
        if group is not None
        else meetings.filter(created_by=user)
    )
    return meetings.order_by("-held_on", "-id").values_list("venue", flat=True).first() or ""


# ---------------------------------------------------------------- the user's last records


def recent_records(user, limit: int = 5) -> list[tuple[str, object]]:
    """The user's last ``limit`` visits and meetings, newest recorded first, as
    ``("visit", visit)`` / ``("meeting", meeting)``. Two queries."""
    visits = (
        Visit.objects.visible_to(user)
        .filter(created_by=user, archived_at__isnull=True)
        .select_related("household", "community")
        .order_by("-created_at", "-id")[:limit]
    )
    meetings = (
        Meeting.objects.visible_to(user)
        .filter(created_by=user, archived_at__isnull=True)
        .select_related("area", "liaison_group")
        .order_by("-created_at", "-id")[:limit]
    )
    records = [("visit", v) for v in visits] + [("meeting", m) for m in meetings]
    records.sort(key=lambda pair: pair[1].created_at, reverse=True)
    return records[:limit]
