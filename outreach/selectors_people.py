"""Reading the network's people the way each role may see them: the liaison list with its
filters and rows, one liaison's seats, pairings and history, and the leadership and
coordination groups of the sub-districts.

Every query starts from ``visible_to(user)``; the list runs a fixed number of queries
whatever its size (rows, current memberships, current zone posts)."""

import datetime
from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Prefetch, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from network.access import can_see_area
from network.models import Area, AreaLevel
from outreach.models import (
    GroupMembership,
    Liaison,
    Meeting,
    Pairing,
    WorkGroup,
    WorkGroupMember,
    ZonePost,
    current_q,
)

HISTORY_LIMIT = 50


@dataclass(frozen=True)
class PeopleViewer:
    """What one user may see of liaisons; computed once per request."""

    staff: bool  # manages liaisons: sees full mobile numbers
    memberships: bool
    zone_posts: bool
    pairings: bool
    meetings: bool
    register: bool  # may open households of the register

    @classmethod
    def of(cls, user) -> "PeopleViewer":
        return cls(
            staff=user.has_perm("outreach.change_liaison"),
            memberships=user.has_perm("outreach.view_groupmembership"),
            # zone posts are scoped by their zone: a community's staff see none, so they
            # get no empty column either
            zone_posts=user.has_perm("outreach.view_zonepost")
            and Area.objects.visible_to(user).filter(level=AreaLevel.ZONE).exists(),
            pairings=user.has_perm("outreach.view_pairing"),
            meetings=user.has_perm("outreach.view_meeting"),
            register=user.has_perm("residents.view_household"),
        )


def mask_mobile(mobile: str, *, staff: bool) -> str:
    """Liaisons see only the last four digits of each other's mobiles (139****5678); staff
    who manage liaisons see them whole."""
    if staff or not mobile:
        return mobile
    if len(mobile) == 11:
        return f"{mobile[:3]}****{mobile[-4:]}"
    return "*" * max(len(mobile) - 4, 4) + mobile[-4:]


# ---------------------------------------------------------------- the list


def liaison_queryset(user, filters: dict):
    """Liaisons the user may see, filtered. ``filters`` holds the cleaned values of
    ``LiaisonFilterForm``: q, area, group, login ("yes"/"no"), secretary, archived."""
    liaisons = Liaison.objects.visible_to(user).filter(
        archived_at__isnull=not filters.get("archived")
    )
    if filters.get("q"):
        q = filters["q"]
        match = Q(name__contains=q)
        if q.isascii() and q.isalpha():
            # residents who are liaisons are found by their register pinyin (mxd, maxiaodong)
            q = q.lower()
            match |= Q(person__name_initials__startswith=q) | Q(person__name_pinyin__startswith=q)
        liaisons = liaisons.filter(match)
    if filters.get("area") is not None:
        liaisons = liaisons.filter(community__path__startswith=filters["area"].path)
    if filters.get("group") is not None:
        liaisons = liaisons.filter(
            Exists(
                GroupMembership.objects.filter(
                    current_q(), liaison=OuterRef("pk"), group=filters["group"]
                )
            )
        )
    if filters.get("login") == "yes":
        liaisons = liaisons.filter(user__isnull=False)
    elif filters.get("login") == "no":
        liaisons = liaisons.filter(user__isnull=True)
    if filters.get("secretary"):
        liaisons = liaisons.filter(is_committee_secretary=True)
    return liaisons


def with_current_seats(liaisons, user, viewer: PeopleViewer):
    """Fetch the rows with what the list shows: community, account, the person's household,
    and (one query each) the current memberships and zone posts the user may see."""
    today = timezone.localdate()
    liaisons = liaisons.select_related("community", "user", "person__household__community")
    prefetches = []
    if viewer.memberships:
        prefetches.append(
            Prefetch(
                "memberships",
                queryset=GroupMembership.objects.visible_to(user)
                .filter(current_q(today))
                .select_related("group")
                .order_by("group__name", "position", "start_date"),
                to_attr="current_memberships",
            )
        )
    if viewer.zone_posts:
        prefetches.append(
            Prefetch(
                "zone_posts",
                queryset=ZonePost.objects.visible_to(user)
                .filter(current_q(today))
                .select_related("zone")
                .order_by("zone__path", "position"),
                to_attr="current_zone_posts",
            )
        )
    return liaisons.prefetch_related(*prefetches)


@dataclass
class LiaisonRow:
    liaison: Liaison
    mobile: str
    household_url: str | None
    memberships: list = field(default_factory=list)
    zone_posts: list = field(default_factory=list)


def household_url_for(person, user, viewer: PeopleViewer, prefix: str | None = None):
    """The register page of a liaison's household, when the user may open it (no query:
    the person's household and community are already fetched)."""
    if person is None or not viewer.register or person.archived_at is not None:
        return None
    household = person.household
    if household.archived_at is not None and not viewer.staff:
        return None
    if not can_see_area(user, household.community):
        return None
    if prefix is None:
        return reverse("residents:household-detail", args=[household.pk])
    return f"{prefix}{household.pk}/"


def liaison_rows(liaisons, user, viewer: PeopleViewer) -> list[LiaisonRow]:
    # reversed once for the page, not once per row
    prefix = reverse("residents:household-detail", args=[0])[: -len("0/")]
    return [
        LiaisonRow(
            liaison=liaison,
            mobile=mask_mobile(liaison.mobile, staff=viewer.staff),
            household_url=household_url_for(liaison.person, user, viewer, prefix),
            memberships=getattr(liaison, "current_memberships", []),
            zone_posts=getattr(liaison, "current_zone_posts", []),
        )
        for liaison in liaisons
    ]


# ---------------------------------------------------------------- one liaison


def liaison_memberships(liaison: Liaison, user):
    """All the liaison's memberships the user may see, current first."""
    return (
        GroupMembership.objects.visible_to(user)
        .filter(liaison=liaison)
        .select_related("group")
        .order_by("end_date", "-start_date", "id")
    )


def liaison_zone_posts(liaison: Liaison, user):
    return (
        ZonePost.objects.visible_to(user)
        .filter(liaison=liaison)
        .select_related("zone")
        .order_by("end_date", "-start_date", "id")
    )


def liaison_pairings(liaison: Liaison, user):
    """Pairings in which the liaison is the partner (read-only here)."""
    return (
        Pairing.objects.visible_to(user)
        .filter(partner_liaison=liaison)
        .select_related("household", "person", "community")
        .order_by("archived_at", "end_date", "-start_date", "-id")
    )


def zones_for(user, liaison: Liaison):
    """Zones of the liaison's sub-district that the user manages (zone posts are given by
    sub-district and district staff: a community's staff manage no zone)."""
    above = [pk for pk in liaison.community.ancestor_ids() if pk != liaison.community_id]
    return (
        Area.objects.changeable_by(user)
        .filter(level=AreaLevel.ZONE, is_active=True, parent_id__in=above)
        .order_by("path")
    )


def meetings_attended(liaison: Liaison, user) -> int:
    return Meeting.objects.visible_to(user).current().filter(attending_liaisons=liaison).count()


def is_current(seat, today: datetime.date | None = None) -> bool:
    """Still held: not ended (a seat starting later counts as current, it is planned)."""
    today = today or timezone.localdate()
    return seat.end_date is None or seat.end_date >= today


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime.datetime
    who: str
    kind: str  # created / changed / deleted
    what: str
    changed: tuple[str, ...] = ()
    reason: str = ""


# The change reasons operations_people writes, as the page shows them.
REASONS = {
    "added": gettext_lazy("added"),
    "ended": gettext_lazy("ended"),
    "archived": gettext_lazy("archived"),
    "restored": gettext_lazy("restored"),
}

LIAISON_FIELDS = (
    "community_id",
    "name",
    "user_id",
    "person_id",
    "mobile",
    "unit",
    "is_committee_secretary",
    "note",
    "archived_at",
)
SEAT_FIELDS = ("position", "start_date", "end_date")


def _changed_fields(model, rows, fields) -> dict[int, tuple[str, ...]]:
    """For each history row, the verbose names of the fields that differ from the row
    before it of the same record (rows newest first)."""
    changed = {}
    previous_by_record = {}
    for row in reversed(rows):
        before = previous_by_record.get(row.id)
        if before is not None:
            names = []
            for name in fields:
                if getattr(row, name) != getattr(before, name):
                    field_name = name[:-3] if name.endswith("_id") else name
                    names.append(str(model._meta.get_field(field_name).verbose_name))
            changed[row.history_id] = tuple(names)
        previous_by_record[row.id] = row
    return changed


def _entries(model, rows, fields, label) -> list[HistoryEntry]:
    changed = _changed_fields(model, rows, fields)
    return [
        HistoryEntry(
            at=row.history_date,
            who=str(row.history_user) if row.history_user_id else "—",
            kind=row.get_history_type_display(),
            what=label(row),
            changed=changed.get(row.history_id, ()),
            reason=str(REASONS.get(row.history_change_reason, row.history_change_reason or "")),
        )
        for row in rows
    ]


def liaison_history(liaison: Liaison, viewer: PeopleViewer, limit: int = HISTORY_LIMIT):
    """Who changed the liaison, their memberships and zone posts, and when (three queries at
    most). Changed fields are named, their values are not (mobiles stay masked)."""
    own = list(
        Liaison.history.filter(id=liaison.pk)
        .select_related("history_user")
        .order_by("-history_date")[:limit]
    )
    entries = _entries(Liaison, own, LIAISON_FIELDS, lambda r: _("Liaison"))
    if viewer.memberships:
        rows = list(
            GroupMembership.history.filter(liaison_id=liaison.pk)
            .select_related("history_user", "group")
            .order_by("-history_date")[:limit]
        )
        entries += _entries(
            GroupMembership,
            rows,
            SEAT_FIELDS,
            lambda r: f"{r.group.name if r.group else ''} · {r.get_position_display()}",
        )
    if viewer.zone_posts:
        rows = list(
            ZonePost.history.filter(liaison_id=liaison.pk)
            .select_related("history_user", "zone")
            .order_by("-history_date")[:limit]
        )
        entries += _entries(
            ZonePost,
            rows,
            SEAT_FIELDS,
            lambda r: f"{r.zone.name if r.zone else ''} · {r.get_position_display()}",
        )
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]


# ---------------------------------------------------------------- leadership and coordination


def work_group_queryset(user, filters: dict):
    groups = WorkGroup.objects.visible_to(user).filter(
        archived_at__isnull=not filters.get("archived")
    )
    if filters.get("kind"):
        groups = groups.filter(kind=filters["kind"])
    if filters.get("subdistrict") is not None:
        groups = groups.filter(subdistrict=filters["subdistrict"])
    today = timezone.localdate()
    return (
        groups.select_related("subdistrict")
        .annotate(
            member_count=Count(
                "members",
                filter=Q(members__end_date__isnull=True) | Q(members__end_date__gte=today),
            )
        )
        .order_by("subdistrict__path", "kind", "name", "id")
    )


def work_group_members(group: WorkGroup, user):
    """(current, past) members: current ones by seat (head first), past ones newest first."""
    members = list(
        WorkGroupMember.objects.visible_to(user).filter(group=group).select_related("user")
    )
    today = timezone.localdate()
    order = {"head": 0, "deputy": 1, "member": 2, "unit": 3}
    current = sorted(
        (m for m in members if is_current(m, today)),
        key=lambda m: (order.get(m.position, 9), m.start_date, m.name),
    )
    past = sorted(
        (m for m in members if not is_current(m, today)),
        key=lambda m: (m.end_date, m.start_date),
        reverse=True,
    )
    return current, past


def work_group_history(group: WorkGroup, limit: int = HISTORY_LIMIT):
    own = list(
        WorkGroup.history.filter(id=group.pk)
        .select_related("history_user")
        .order_by("-history_date")[:limit]
    )
    rows = list(
        WorkGroupMember.history.filter(group_id=group.pk)
        .select_related("history_user")
        .order_by("-history_date")[:limit]
    )
    entries = _entries(
        WorkGroup,
        own,
        ("subdistrict_id", "kind", "name", "established_on", "archived_at"),
        lambda r: _("Group"),
    )
    entries += _entries(
        WorkGroupMember,
        rows,
        ("name", "user_id", "position", "unit", "title", "start_date", "end_date"),
        lambda r: f"{r.name} · {r.get_position_display()}",
    )
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]
