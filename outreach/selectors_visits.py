"""Reads of visits that the list, the export, the detail page and the household timeline
share, so the figures they show (open follow-ups, assistance totals) have one definition."""

import datetime
from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    Exists,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from network.access import area_q, scope_for
from network.models import Area, LiaisonGroup, User
from outreach.common import filter_by_area_group_dates
from outreach.models import Assistance, FollowUp, FollowUpStatus, Liaison, Visit
from residents.models import Household, Person
from residents.pages import HistoryEntry, history_entries
from residents.selectors import Viewer, search_kind
from residents.typed_input import typed_text

YUAN = DecimalField(max_digits=12, decimal_places=2)


# ---------------------------------------------------------------- scope of a list


def visible_areas(user) -> list[Area]:
    """The areas ``user`` sees (all for a superuser), by path: read once a page, for the
    list's scope (``visible_by_area_ids``) and its area filter alike."""
    scope = scope_for(user)
    areas = Area.objects.all() if scope.everything else Area.objects.filter(area_q(user, ""))
    return list(areas.order_by("path")) if scope.everything or scope.visible_paths else []


def visible_by_area_ids(records, user, areas: list[Area] | None = None):
    """``records.visible_to(user)`` for a list page, with the areas named by id.

    ``visible_to`` joins every row to its area to compare paths, so counting a district's
    610,000 visits read the whole table. Here the areas under the user's paths are read first
    (one small query) and the rows are kept by ``<area>_id IN (…)``: the same rows, exactly
    as strict, but counted from the record's own (area) index and ordered from its date
    index. A model whose scope goes through another table or is shared below keeps the
    join. ``areas``: ``visible_areas(user)`` when the page has read them already."""
    model = records.model
    area_field = model.scope_area_field
    scope = scope_for(user)
    if "__" in area_field or getattr(model, "scope_shared_below", False) or not area_field:
        return records.visible_to(user)
    if scope.everything:
        return records
    if not scope.visible_paths:
        return records.visible_to(user)
    if areas is None:
        area_ids = sorted(Area.objects.filter(area_q(user, "")).values_list("pk", flat=True))
    else:
        area_ids = sorted(area.pk for area in areas)
    return records.filter(**{f"{area_field}_id__in": area_ids})


# ---------------------------------------------------------------- figures per visit


def open_follow_ups_count():
    """Open follow-ups of the visit (``OuterRef("pk")``), as a correlated subquery: a
    ``Count`` over a join would multiply with the assistance rows."""
    counted = (
        FollowUp.objects.filter(visit=OuterRef("pk"), status=FollowUpStatus.OPEN)
        .order_by()
        .values("visit")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted), 0)


def overdue_follow_ups(today: datetime.date | None = None):
    """Whether the visit has an open follow-up whose due date has passed."""
    today = today or timezone.localdate()
    return Exists(
        FollowUp.objects.filter(visit=OuterRef("pk"), status=FollowUpStatus.OPEN, due_on__lt=today)
    )


def assistance_total():
    """Yuan of assistance given on the visit (0 when none)."""
    summed = (
        Assistance.objects.filter(visit=OuterRef("pk"))
        .order_by()
        .values("visit")
        .annotate(total=Sum("value"))
        .values("total")
    )
    return Coalesce(Subquery(summed, output_field=YUAN), Value(Decimal("0")), output_field=YUAN)


def with_figures(visits, today: datetime.date | None = None):
    return visits.annotate(
        open_follow_ups=open_follow_ups_count(),
        has_overdue=overdue_follow_ups(today),
        assistance_total=assistance_total(),
    )


# ---------------------------------------------------------------- the list and the export


FOLLOW_UPS_OPEN = "open"
FOLLOW_UPS_OVERDUE = "overdue"


def visit_list(*, user, filters: dict, today: datetime.date | None = None, areas=None):
    """Visits the user may see, narrowed by the list's filters, newest first, with what
    each row shows fetched in a constant number of queries."""
    today = today or timezone.localdate()
    visits = filter_by_area_group_dates(
        visible_by_area_ids(Visit.objects.all(), user, areas),
        filters,
        area_field="community",
        date_field="visited_on",
    )
    if filters.get("kind"):
        visits = visits.filter(kind=filters["kind"])
    if filters.get("festival") is not None:
        visits = visits.filter(festival=filters["festival"])
    if filters.get("visitor") is not None:
        visits = visits.filter(visitors=filters["visitor"])
    status = filters.get("follow_ups")
    if status == FOLLOW_UPS_OPEN:
        visits = visits.filter(
            Exists(FollowUp.objects.filter(visit=OuterRef("pk"), status=FollowUpStatus.OPEN))
        )
    elif status == FOLLOW_UPS_OVERDUE:
        visits = visits.filter(overdue_follow_ups(today))
    text = typed_text(filters.get("q"))
    if text:
        visits = visits.filter(household__address__icontains=text)
    return (
        with_figures(visits, today)
        .select_related("household", "community", "festival", "liaison_group")
        .prefetch_related(
            Prefetch("visitors", queryset=User.objects.order_by("real_name", "username")),
            Prefetch("visiting_liaisons", queryset=Liaison.objects.order_by("name", "id")),
        )
        .order_by("-visited_on", "-id")
    )


def for_export(visits):
    """The list's visits with their follow-ups too (the export writes them in a cell)."""
    return visits.prefetch_related(
        Prefetch("follow_ups", queryset=FollowUp.objects.select_related("assignee"))
    )


def visitor_names(visit) -> list[str]:
    """Who went: staff accounts, liaisons, then others as typed (uses the prefetches)."""
    names = [u.display_name for u in visit.visitors.all()]
    names += [liaison.name for liaison in visit.visiting_liaisons.all()]
    if visit.other_visitors.strip():
        names.append(visit.other_visitors.strip())
    return names


# ---------------------------------------------------------------- where a user may record


def recordable_households(user, *, including=None):
    """Current households in which ``user`` may record a visit: where they are staff, and
    the communities of their own liaison groups. ``including``: a household kept although
    it no longer qualifies (the one a visit being edited already names)."""
    scope = scope_for(user)
    households = Household.objects.select_related("community")
    if scope.everything:
        q = Q()
    else:
        q = area_q(user, "community", for_change=True) if scope.changeable_paths else Q(pk__in=[])
        if scope.group_ids:
            communities = LiaisonGroup.objects.filter(pk__in=sorted(scope.group_ids)).values(
                "community_id"
            )
            q |= Q(community_id__in=communities)
    q &= Q(archived_at__isnull=True)
    if including is not None:
        q |= Q(pk=including)
    return households.filter(q).visible_to(user)


# A household search reads no ID numbers: digits are part of an address.
_NO_ID_SEARCH = Viewer(sensitive=False, full_id=False, staff=False)


def household_search(text: str):
    """The condition a household search box sets, or None for an empty box: the start of
    a current member's pinyin or initials (马晓东: "mxd", "maxiao"), part of a current
    member's name, or part of the address."""
    kind, value = search_kind(typed_text(text), _NO_ID_SEARCH)
    if not kind:
        return None
    if kind == "pinyin":
        names = Q(name_pinyin__startswith=value) | Q(name_initials__startswith=value)
    else:
        names = Q(name__contains=value)
    members = Person.objects.filter(names, household=OuterRef("pk"), archived_at__isnull=True)
    return Q(address__contains=value) | Exists(members)


def search_households(households, text: str, limit: int = 30):
    """The first ``limit`` of ``households`` the search box finds (all when it is empty)."""
    found = household_search(text)
    if found is not None:
        households = households.filter(found)
    return households.order_by("address", "pk")[:limit]


# ---------------------------------------------------------------- history


def visit_history(visit, *, limit: int = 50) -> list[HistoryEntry]:
    """Who changed what and when: the visit, its follow-ups and its assistance, newest
    first."""
    # One row more than shown: the oldest shown change is compared with the row before it.
    visit_records = list(
        Visit.history.filter(id=visit.pk)
        .select_related("history_user")
        .order_by("-history_date", "-history_id")[: limit + 1]
    )
    follow_ups = FollowUp.history.filter(visit_id=visit.pk).select_related("history_user")
    assistance = Assistance.history.filter(visit_id=visit.pk).select_related("history_user")
    entries = [
        *history_entries(
            visit_records,
            subject_of=lambda r: _("Visit"),
            drop_oldest=len(visit_records) > limit,
        ),
        *history_entries(
            follow_ups.order_by("-history_date")[:limit],
            subject_of=lambda r: _("Follow-up: %(action)s") % {"action": r.action},
        ),
        *history_entries(
            assistance.order_by("-history_date")[:limit],
            subject_of=lambda r: (
                _("Assistance: %(kind)s ¥%(value)s")
                % {"kind": r.get_kind_display(), "value": r.value}
            ),
        ),
    ]
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]
