"""What is due, done and overdue (seed 000: 考核有依据) — the one definition of every compliance
figure, used by the compliance table and by the drill-down lists behind its numbers.

Obligations (``outreach.models.Obligation``) say what a unit must do and how often. An
obligation without an area is the district-wide default; one with an area applies to the units
under that area and replaces a default (or a wider area's obligation) of the same name there.

The figures for one obligation and one unit, over a report span (default: this year up to today):

- **Meetings** (kind ``meeting``): the periods (month, quarter, half year, year) lying wholly in
  the span are counted once they have ended. ``due`` = times × ended periods (meetings required);
  ``done`` = meetings of the obligation's kind held in those periods (not archived) by the unit —
  held by the unit's area or an area inside it, or for a liaison-group unit recorded for that
  group; ``overdue`` = ended periods with fewer than ``times`` meetings. The period still under
  way is reported apart (``current``), never as overdue.
- **Festival visits**: each date of the festival in the span, once its 7-day grace has passed.
  Due: every active household (status active, not archived) of the unit with at least one active
  minority member (ethnicity code other than 01, GB/T 3304), and for a group's own festival
  (e.g. 开斋节) a member of one of the festival's ethnic groups. Done: those with a festival
  visit for that festival (not archived) dated within 30 days either side of the date.
  ``overdue`` = due − done. A festival date whose grace has not passed is ``current``.
- **Hardship visits**: each period of the obligation that ended in the span. Due: every active
  household of the unit with a hardship flag (dibao, low income, disability, elderly alone,
  serious illness) or an "other hardship" note. Done: those with at least ``times`` visits of any
  kind (not archived) in the period. ``overdue`` = due − done.

Household figures count household × occasion (four festivals × 30 households = 120 due) and use
the register as it is today: a household that became a hardship household in June is due for
the first quarter too. Households belong to communities, so a household obligation set "per
liaison group" is counted per the group's community.

Queries: a handful to load the areas, groups and obligations, then one aggregate query per
meeting obligation (GROUP BY area or group, and month) and one per set of households due
(GROUP BY community) for all the household obligations that share it (the four festivals
everyone keeps share one), whatever the number of households, visits or meetings. Whether a
household was visited, or has a minority member, is a semi-join (``household_id IN (SELECT
…)``) that PostgreSQL hashes once per query, never a probe per household; the indexes
``visit_festival_window_idx``, ``visit_current_day_idx`` and ``meeting_kind_day_idx`` serve
them from the index alone. The report's figures are cached, never stale, by
``outreach.compliance_cache``.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, F, IntegerField, Q, Value
from django.db.models.functions import TruncMonth
from django.utils.translation import gettext as _

from network.models import Area, AreaLevel, LiaisonGroup
from outreach import compliance_cache  # connects the handlers that version the data
from outreach.festivals import festival_dates
from outreach.models import (
    Meeting,
    Obligation,
    ObligationKind,
    ObligationUnit,
    Period,
    Visit,
    VisitKind,
)
from residents.models import Ethnicity, Household, HouseholdStatus, Person, PersonStatus

GRACE_DAYS = 7  # a festival's visits are judged a week after the festival
WINDOW_DAYS = 30  # a festival visit counts from 30 days before to 30 days after
MAX_SPAN_YEARS = 5
HAN = "01"

UNIT_ORDER = [
    ObligationUnit.SUBDISTRICT,
    ObligationUnit.ZONE,
    ObligationUnit.COMMUNITY,
    ObligationUnit.LIAISON_GROUP,
]
UNIT_LEVEL = {
    ObligationUnit.SUBDISTRICT: AreaLevel.SUBDISTRICT,
    ObligationUnit.ZONE: AreaLevel.ZONE,
    ObligationUnit.COMMUNITY: AreaLevel.COMMUNITY,
}
HOUSEHOLD_KINDS = {ObligationKind.FESTIVAL_VISITS, ObligationKind.HARDSHIP_VISITS}
WHICH = ("due", "done", "overdue")


# ---------------------------------------------------------------- the report span


@dataclass(frozen=True)
class Span:
    """The days a report covers, both ends included; never later than today."""

    start: datetime.date
    end: datetime.date

    @property
    def is_empty(self) -> bool:
        return self.start > self.end


def report_span(
    today: datetime.date,
    *,
    year: int | None = None,
    quarter: int | None = None,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
) -> Span:
    """A custom range when either date is given, else a quarter of ``year``, else ``year``,
    else this year up to ``today``. The end never passes ``today``: work cannot be overdue
    before its time."""
    if date_from or date_to:
        start = date_from or datetime.date((date_to or today).year, 1, 1)
        end = date_to or today
    else:
        year = year or today.year
        if quarter:
            start = datetime.date(year, 3 * quarter - 2, 1)
            end = _next_month(start, 3) - datetime.timedelta(days=1)
        else:
            start, end = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    return Span(start, min(end, today))


# ---------------------------------------------------------------- periods and occasions


def _next_month(first: datetime.date, months: int = 1) -> datetime.date:
    index = first.year * 12 + first.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


PERIOD_MONTHS = {Period.MONTH: 1, Period.QUARTER: 3, Period.HALF_YEAR: 6, Period.YEAR: 12}


def period_start(kind: str, day: datetime.date) -> datetime.date:
    months = PERIOD_MONTHS[kind]
    return datetime.date(day.year, (day.month - 1) // months * months + 1, 1)


def period_end(kind: str, start: datetime.date) -> datetime.date:
    return _next_month(start, PERIOD_MONTHS[kind]) - datetime.timedelta(days=1)


def period_key(kind: str, start: datetime.date) -> str:
    if kind == Period.MONTH:
        return f"{start:%Y-%m}"
    if kind == Period.QUARTER:
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    if kind == Period.HALF_YEAR:
        return f"{start.year}-H{(start.month - 1) // 6 + 1}"
    return str(start.year)


def period_label(kind: str, start: datetime.date) -> str:
    if kind == Period.MONTH:
        return f"{start:%Y-%m}"
    if kind == Period.QUARTER:
        return _("%(year)s Q%(quarter)s") % {
            "year": start.year,
            "quarter": (start.month - 1) // 3 + 1,
        }
    if kind == Period.HALF_YEAR:
        if start.month == 1:
            return _("%(year)s first half") % {"year": start.year}
        return _("%(year)s second half") % {"year": start.year}
    return _("Year %(year)s") % {"year": start.year}


@dataclass(frozen=True)
class Occasion:
    """One check of an obligation: a period, or one date of a festival. Work dated from
    ``start`` to ``end`` counts for it; ``judged`` once it has ended (or its grace passed)."""

    key: str
    label: str
    start: datetime.date
    end: datetime.date
    judged: bool
    day: datetime.date | None = None  # the festival's date


def occasions(obligation: Obligation, span: Span, today: datetime.date):
    """``(judged occasions, occasion in progress or None)`` of ``obligation`` in ``span``."""
    if span.is_empty:
        return [], None
    if obligation.kind == ObligationKind.FESTIVAL_VISITS:
        return _festival_occasions(obligation.festival, span, today)
    kind = obligation.period
    judged, current = [], None
    start = period_start(kind, span.start)
    if start < span.start:
        start = _next_month(start, PERIOD_MONTHS[kind])
    while start <= span.end:
        end = period_end(kind, start)
        if end > span.end and not (start <= today <= end and span.end == today):
            break
        occasion = Occasion(
            key=period_key(kind, start),
            label=period_label(kind, start),
            start=start,
            end=end,
            judged=end < today,
        )
        if occasion.judged:
            judged.append(occasion)
        else:
            current = occasion
        start = _next_month(start, PERIOD_MONTHS[kind])
    return judged, current


def _festival_occasions(festival, span: Span, today: datetime.date):
    judged, current = [], None
    window = datetime.timedelta(days=WINDOW_DAYS)
    for year in range(span.start.year, span.end.year + 1):
        for day in festival_dates(festival, year):
            if not span.start <= day <= span.end:
                continue
            occasion = Occasion(
                key=day.isoformat(),
                label=f"{festival.name} {day:%Y-%m-%d}",
                start=day - window,
                end=day + window,
                judged=day + datetime.timedelta(days=GRACE_DAYS) < today,
                day=day,
            )
            if occasion.judged:
                judged.append(occasion)
            elif current is None:
                current = occasion
    return judged, current


# ---------------------------------------------------------------- units in scope


@dataclass(frozen=True)
class Unit:
    """A sub-district, zone or community (``area``), or a liaison group (``group``)."""

    kind: str
    area: Area | None = None
    group: LiaisonGroup | None = None

    @property
    def key(self) -> str:
        return f"group:{self.group.pk}" if self.group else f"area:{self.area.pk}"

    @property
    def name(self) -> str:
        if self.group:
            community = self.group.community.name
            if community in self.group.name:
                return self.group.name
            return f"{self.group.name}（{community}）"
        return self.area.name

    @property
    def path(self) -> str:
        return self.group.community.path if self.group else self.area.path


@dataclass
class Context:
    """What one compliance request works on, loaded once: the areas and groups in scope, the
    active obligations, and which obligation applies to which unit."""

    user: object
    root: Area | None
    span: Span
    today: datetime.date
    areas: dict[int, Area]
    units: list[Unit]
    obligations: list[Obligation]
    assigned: dict[int, list[Unit]]  # obligation pk → units it applies to
    # the version of the data read before anything else (``cached=True``): the report's
    # figures are cached under it; None: computed afresh
    version: str | None = None

    def units_of(self, obligation: Obligation) -> list[Unit]:
        return self.assigned.get(obligation.pk, [])

    def obligation(self, pk) -> Obligation | None:
        return next((o for o in self.obligations if str(o.pk) == str(pk)), None)

    def unit(self, obligation: Obligation, key: str) -> Unit | None:
        return next((u for u in self.units_of(obligation) if u.key == key), None)


def _usable(obligation: Obligation) -> bool:
    if obligation.kind == ObligationKind.MEETING:
        return bool(obligation.meeting_kind)
    if obligation.kind == ObligationKind.FESTIVAL_VISITS:
        return obligation.festival is not None and obligation.festival.is_active
    return obligation.kind == ObligationKind.HARDSHIP_VISITS


def _unit_kind(obligation: Obligation) -> str:
    """Households belong to communities: a household obligation set per liaison group is
    counted per community."""
    if obligation.kind in HOUSEHOLD_KINDS and obligation.unit == ObligationUnit.LIAISON_GROUP:
        return ObligationUnit.COMMUNITY
    return obligation.unit


def resolve(obligations, units) -> dict[int, list[Unit]]:
    """Which obligation applies to which unit: for each name, the obligation of the deepest
    area above the unit, else the district-wide default (area empty); it applies when it is
    set for that kind of unit."""
    by_name: dict[str, list[Obligation]] = defaultdict(list)
    for obligation in obligations:
        by_name[obligation.name].append(obligation)
    assigned: dict[int, list[Unit]] = defaultdict(list)
    for unit in units:
        for candidates in by_name.values():
            best, depth = None, -1
            for obligation in candidates:
                if obligation.area_id is None:
                    d = 0
                elif unit.path.startswith(obligation.area.path):
                    d = len(obligation.area.path)
                else:
                    continue
                if d > depth:
                    best, depth = obligation, d
            if best is not None and _usable(best) and _unit_kind(best) == unit.kind:
                assigned[best.pk].append(unit)
    return dict(assigned)


def _calendar_order(obligation: Obligation, span: Span) -> datetime.date:
    """Festival obligations in the order their festivals fall (元宵, 七一, 中秋, 国庆)."""
    if obligation.kind == ObligationKind.FESTIVAL_VISITS and obligation.festival is not None:
        dates = festival_dates(obligation.festival, span.start.year)
        if dates:
            return dates[0]
    return datetime.date.max


def build_context(
    user, *, area: Area | None = None, span: Span, today: datetime.date, cached: bool = False
) -> Context:
    """Load the areas, groups and obligations for ``user`` under ``area`` (which the caller
    has checked the user may see; None: all the user may see).

    ``cached``: the report's figures may come from the cache (``outreach.compliance_cache``).
    The version of the data is then read first, so that nothing loaded here or computed
    later is older than the version it is cached under."""
    version = compliance_cache.current_version() if cached else None
    areas_qs = Area.objects.visible_to(user)
    groups_qs = LiaisonGroup.objects.visible_to(user).filter(
        is_active=True, community__is_active=True
    )
    if area is not None:
        areas_qs = areas_qs.filter(path__startswith=area.path)
        groups_qs = groups_qs.filter(community__path__startswith=area.path)
    areas = {a.pk: a for a in areas_qs.order_by("path")}
    units = [
        Unit(kind=kind, area=a)
        for kind, level in UNIT_LEVEL.items()
        for a in areas.values()
        if a.level == level and a.is_active
    ]
    units += [
        Unit(kind=ObligationUnit.LIAISON_GROUP, group=g)
        for g in groups_qs.select_related("community").order_by("community__path", "name")
    ]
    obligations = sorted(
        Obligation.objects.filter(is_active=True)
        .select_related("festival", "area")
        .prefetch_related("festival__ethnicities")
        .order_by("kind", "name", "pk"),
        key=lambda o: (o.kind, _calendar_order(o, span), o.name, o.pk),
    )
    return Context(
        user=user,
        root=area,
        span=span,
        today=today,
        areas=areas,
        units=units,
        obligations=obligations,
        assigned=resolve(obligations, units),
        version=version,
    )


def _area_units(context: Context, units) -> dict[int, Unit]:
    """Area pk → the unit (of ``units``) that holds it, for every area in scope."""
    by_pk = {u.area.pk: u for u in units if u.area is not None}
    holder: dict[int, Unit] = {}
    for pk, area in context.areas.items():
        for ancestor in area.ancestor_ids():
            if ancestor in by_pk:
                holder[pk] = by_pk[ancestor]
                break
    return holder


# ---------------------------------------------------------------- the figures


@dataclass
class Figure:
    """One obligation for one unit over the span."""

    obligation: Obligation
    unit: Unit
    judged: list[Occasion] = field(default_factory=list)
    current: Occasion | None = None
    due: int = 0
    done: int = 0
    overdue: int = 0
    current_due: int = 0
    current_done: int = 0

    @property
    def is_meeting(self) -> bool:
        return self.obligation.kind == ObligationKind.MEETING

    @property
    def applies(self) -> bool:
        """Something was due in the span or is under way."""
        return bool(self.judged or self.current)


def _root_q(context: Context, field_name: str) -> Q:
    if context.root is None:
        return Q()
    return Q(**{f"{field_name}__path__startswith": context.root.path})


def figures_for(context: Context, obligation: Obligation, households=None) -> list[Figure]:
    """The figures of one obligation for each unit it applies to, in one query (or none, for
    a household obligation whose ``households`` counts were fetched with others')."""
    units = context.units_of(obligation)
    judged, current = occasions(obligation, context.span, context.today)
    figures = {
        u.key: Figure(obligation=obligation, unit=u, judged=judged, current=current) for u in units
    }
    windows = [*judged, *([current] if current else [])]
    if not units or not windows:
        return list(figures.values())
    if obligation.kind == ObligationKind.MEETING:
        counts = _meeting_counts(context, obligation, units, windows)
        for key, figure in figures.items():
            held = counts.get(key, {})
            figure.due = obligation.times * len(judged)
            figure.done = sum(held.get(o.key, 0) for o in judged)
            figure.overdue = sum(1 for o in judged if held.get(o.key, 0) < obligation.times)
            if current:
                figure.current_due = obligation.times
                figure.current_done = held.get(current.key, 0)
    else:
        if households is None:
            households = household_counts(context, [obligation])
        counts = households.get(obligation.pk, {})
        for key, figure in figures.items():
            due, done = counts.get(key, (0, [0] * len(windows)))
            figure.due = due * len(judged)
            figure.done = sum(done[: len(judged)])
            figure.overdue = figure.due - figure.done
            if current:
                figure.current_due = due
                figure.current_done = done[-1]
    return list(figures.values())


# ------------------------------------------------ meetings


def _meetings(context: Context, obligation: Obligation):
    return (
        Meeting.objects.visible_to(context.user)
        .filter(_root_q(context, "area"))
        .filter(archived_at__isnull=True, kind=obligation.meeting_kind)
    )


def _within(occasions_, field_name: str) -> Q:
    q = Q(pk__in=[])
    for o in occasions_:
        q |= Q(**{f"{field_name}__gte": o.start, f"{field_name}__lte": o.end})
    return q


def _meeting_units_q(obligation: Obligation, units) -> Q:
    if obligation.unit == ObligationUnit.LIAISON_GROUP:
        return Q(liaison_group_id__in=[u.group.pk for u in units])
    q = Q(pk__in=[])
    for unit in units:
        q |= Q(area__path__startswith=unit.area.path)
    return q


def _meeting_counts(context, obligation, units, windows) -> dict[str, dict[str, int]]:
    """unit key → occasion key → meetings held, from one GROUP BY (area or group, month)."""
    meetings = _meetings(context, obligation).filter(_within(windows, "held_on"))
    by_group = obligation.unit == ObligationUnit.LIAISON_GROUP
    if by_group:
        holder = {u.group.pk: u for u in units}
        meetings = meetings.filter(liaison_group_id__in=list(holder))
        column = "liaison_group_id"
    else:
        holder = _area_units(context, units)
        column = "area_id"
    rows = (
        meetings.order_by()
        .values(column, month=TruncMonth("held_on"))
        .annotate(n=Count("pk"))
        .values_list(column, "month", "n")
    )
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for owner, month, n in rows:
        unit = holder.get(owner)
        if unit is None:
            continue
        month = month.date() if isinstance(month, datetime.datetime) else month
        for o in windows:
            if o.start <= month <= o.end:
                counts[unit.key][o.key] += n
    return counts


def meetings_counted(context: Context, obligation: Obligation, units, occasions_):
    """The meetings behind a ``done`` figure (or the meetings so far of a period under way)."""
    return (
        _meetings(context, obligation)
        .filter(_meeting_units_q(obligation, units), _within(occasions_, "held_on"))
        .select_related("area", "liaison_group")
        .order_by("held_on", "pk")
    )


@dataclass(frozen=True)
class PeriodRow:
    """One line of a meetings drill-down by period: a required meeting (``due``) or a period
    that fell short (``overdue``)."""

    unit: Unit
    occasion: Occasion
    held: int
    required: int
    slot: int | None = None  # 1..times for a required meeting

    @property
    def filled(self) -> bool:
        return self.slot is not None and self.slot <= self.held


def meeting_periods(context: Context, obligation: Obligation, units, occasions_, which: str):
    """``due``: one row per meeting required (times per period), marked held or missing;
    ``overdue``: one row per period with fewer meetings than required."""
    counts = _meeting_counts(context, obligation, units, occasions_) if occasions_ else {}
    rows = []
    for unit in units:
        for o in occasions_:
            held = counts.get(unit.key, {}).get(o.key, 0)
            if which == "due":
                rows += [
                    PeriodRow(unit, o, held, obligation.times, slot)
                    for slot in range(1, obligation.times + 1)
                ]
            elif which == "overdue" and held < obligation.times:
                rows.append(PeriodRow(unit, o, held, obligation.times))
    return rows


# ------------------------------------------------ households

HARDSHIP_Q = (
    Q(is_dibao=True)
    | Q(is_low_income=True)
    | Q(has_disability=True)
    | Q(is_elderly_alone=True)
    | Q(has_serious_illness=True)
    | ~Q(other_hardship="")
)
ACTIVE_HOUSEHOLD_Q = Q(status=HouseholdStatus.ACTIVE, archived_at__isnull=True)


def minority_member(ethnicity_ids=()) -> Q:
    """The household has an active minority member (of one of ``ethnicity_ids`` if any): a
    semi-join on the persons, hashed once per query."""
    han = Ethnicity.objects.filter(code=HAN).values("pk")
    members = Person.objects.filter(status=PersonStatus.ACTIVE, archived_at__isnull=True).exclude(
        ethnicity_id__in=han
    )
    if ethnicity_ids:
        members = members.filter(ethnicity_id__in=list(ethnicity_ids))
    return Q(pk__in=members.order_by().values("household_id"))


def festival_households(user, festival, area: Area | None = None):
    """Households to visit for ``festival``: active, with an active minority member — of the
    festival's ethnic groups when it has any (开斋节: 回族, 维吾尔族 ...)."""
    households = Household.objects.visible_to(user).filter(ACTIVE_HOUSEHOLD_Q)
    if area is not None:
        households = households.filter(community__path__startswith=area.path)
    ethnicity_ids = [e.pk for e in festival.ethnicities.all()]
    return households.filter(minority_member(ethnicity_ids))


def festival_visited(festival, day: datetime.date, window: int = WINDOW_DAYS) -> Q:
    """A festival visit for ``festival`` within ``window`` days of ``day`` (a semi-join the
    index ``visit_festival_window_idx`` answers alone)."""
    delta = datetime.timedelta(days=window)
    visits = Visit.objects.filter(
        archived_at__isnull=True,
        kind=VisitKind.FESTIVAL,
        festival_id=festival.pk,
        visited_on__gte=day - delta,
        visited_on__lte=day + delta,
    )
    return Q(pk__in=visits.order_by().values("household_id"))


def hardship_households(user, area: Area | None = None):
    households = Household.objects.visible_to(user).filter(ACTIVE_HOUSEHOLD_Q, HARDSHIP_Q)
    if area is not None:
        households = households.filter(community__path__startswith=area.path)
    return households


def _due_households(context: Context, obligation: Obligation):
    if obligation.kind == ObligationKind.FESTIVAL_VISITS:
        return festival_households(context.user, obligation.festival, context.root)
    return hardship_households(context.user, context.root)


def _due_set(obligation: Obligation) -> tuple:
    """Obligations with the same ``_due_set`` have the same households due."""
    if obligation.kind == ObligationKind.FESTIVAL_VISITS:
        ethnicities = sorted(e.pk for e in obligation.festival.ethnicities.all())
        return (ObligationKind.FESTIVAL_VISITS, *ethnicities)
    return (ObligationKind.HARDSHIP_VISITS,)


def _visited(obligation: Obligation, occasion: Occasion) -> Q:
    """The condition that a household was visited for ``occasion``: ``times`` visits of any
    kind in the period for hardship (``visit_current_day_idx``)."""
    if obligation.kind == ObligationKind.FESTIVAL_VISITS:
        return festival_visited(obligation.festival, occasion.day)
    visits = Visit.objects.filter(
        archived_at__isnull=True,
        visited_on__gte=occasion.start,
        visited_on__lte=occasion.end,
    ).order_by()
    if obligation.times > 1:
        visits = (
            visits.values("household_id").annotate(n=Count("pk")).filter(n__gte=obligation.times)
        )
    return Q(pk__in=visits.values("household_id"))


def household_counts(context: Context, obligations) -> dict[int, dict[str, tuple[int, list[int]]]]:
    """obligation pk → unit key → (households due, [visited for each occasion, judged ones
    first]) for the household ``obligations``: one GROUP BY community per set of households
    due, with a count of the visited for each obligation and occasion."""
    batches: dict[tuple, list] = defaultdict(list)
    for obligation in obligations:
        units = context.units_of(obligation)
        judged, current = occasions(obligation, context.span, context.today)
        windows = [*judged, *([current] if current else [])]
        if units and windows:
            batches[_due_set(obligation)].append((obligation, units, windows))
    counts: dict[int, dict[str, tuple[int, list[int]]]] = {}
    for batch in batches.values():
        communities: set[int] = set()
        visited = {}
        for n, (obligation, units, windows) in enumerate(batch):
            communities.update(_communities(context, units))
            for i, occasion in enumerate(windows):
                visited[f"done{n}_{i}"] = Count("pk", filter=_visited(obligation, occasion))
        rows = list(
            _due_households(context, batch[0][0])
            .filter(community_id__in=sorted(communities))
            .order_by()
            .values("community_id")
            .annotate(due=Count("pk"), **visited)
        )
        for n, (obligation, units, windows) in enumerate(batch):
            holder = _area_units(context, units)
            mine: dict[str, tuple[int, list[int]]] = {}
            for row in rows:
                unit = holder.get(row["community_id"])
                if unit is None:
                    continue
                due, done = mine.get(unit.key, (0, [0] * len(windows)))
                mine[unit.key] = (
                    due + row["due"],
                    [d + row[f"done{n}_{i}"] for i, d in enumerate(done)],
                )
            counts[obligation.pk] = mine
    return counts


def _communities(context: Context, units) -> list[int]:
    holder = _area_units(context, units)
    return sorted(
        pk for pk, a in context.areas.items() if a.level == AreaLevel.COMMUNITY and pk in holder
    )


def household_rows(context: Context, obligation: Obligation, units, occasions_, which: str):
    """The households behind a figure, one row per household and occasion: ``due`` all,
    ``done`` the visited, ``overdue`` the others. Values with the household's id, address,
    ledger number, community name and the occasion's key, ordered by occasion then address."""
    communities = _communities(context, units)
    parts = []
    for index, occasion in enumerate(occasions_):
        households = _due_households(context, obligation).filter(community_id__in=communities)
        visited = _visited(obligation, occasion)
        if which == "done":
            households = households.filter(visited)
        elif which == "overdue":
            households = households.exclude(visited)
        parts.append(
            households.order_by().values(
                "id",
                "address",
                "ledger_number",
                community_name=F("community__name"),
                community_path=F("community__path"),
                occasion_index=Value(index, output_field=IntegerField()),
            )
        )
    if not parts:
        return Household.objects.none().values("id")
    ordering = ("occasion_index", "community_path", "address", "id")
    if len(parts) == 1:
        return parts[0].order_by(*ordering)
    return parts[0].union(*parts[1:], all=True).order_by(*ordering)


# ---------------------------------------------------------------- the table


@dataclass
class Totals:
    due: int = 0
    done: int = 0
    overdue: int = 0

    def add(self, figure: Figure) -> None:
        self.due += figure.due
        self.done += figure.done
        self.overdue += figure.overdue


@dataclass
class ColumnPart:
    obligation: Obligation
    totals: Totals = field(default_factory=Totals)


@dataclass
class Column:
    """An obligation name in a section, with its totals over the section's units. Where an
    area's own rule replaces the default for some units, the column holds both obligations,
    each with its own totals (``parts``)."""

    name: str
    parts: list[ColumnPart] = field(default_factory=list)
    totals: Totals = field(default_factory=Totals)

    def add(self, figure: Figure) -> None:
        part = next((p for p in self.parts if p.obligation.pk == figure.obligation.pk), None)
        if part is None:
            part = ColumnPart(figure.obligation)
            self.parts.append(part)
        part.totals.add(figure)
        self.totals.add(figure)


@dataclass
class Row:
    unit: Unit
    cells: list[Figure | None]
    totals: Totals = field(default_factory=Totals)


@dataclass
class Section:
    kind: str
    label: str
    columns: list[Column]
    rows: list[Row]

    @property
    def width(self) -> int:
        return 1 + 3 * len(self.columns)


@dataclass
class Report:
    context: Context
    sections: list[Section]
    figures: list[Figure]

    @property
    def overdue(self) -> int:
        return sum(f.overdue for f in self.figures)


def report_figures(context: Context) -> list[Figure]:
    """Every obligation's figures for every unit in scope: one query per meeting obligation
    and one per set of households due; or, when ``context.version`` is set, the numbers
    cached for it (``outreach.compliance_cache``)."""
    computed: list[Figure] = []

    def compute() -> dict[tuple[int, str], tuple[int, ...]]:
        households = household_counts(
            context, [o for o in context.obligations if o.kind in HOUSEHOLD_KINDS]
        )
        computed.extend(f for o in context.obligations for f in figures_for(context, o, households))
        return {
            (f.obligation.pk, f.unit.key): (
                f.due,
                f.done,
                f.overdue,
                f.current_due,
                f.current_done,
            )
            for f in computed
        }

    if context.version is None:
        compute()
        return computed
    numbers = compliance_cache.cached_report(context, compute)
    if computed:
        return computed
    figures = []
    for obligation in context.obligations:
        units = context.units_of(obligation)
        if not units:
            continue
        judged, current = occasions(obligation, context.span, context.today)
        for unit in units:
            cached = numbers.get((obligation.pk, unit.key))
            if cached is None:
                # a unit loaded after a change that committed while the cached numbers'
                # request was under way (both read the version before it): compute afresh
                compute()
                return computed
            figure = Figure(obligation=obligation, unit=unit, judged=judged, current=current)
            (
                figure.due,
                figure.done,
                figure.overdue,
                figure.current_due,
                figure.current_done,
            ) = cached
            figures.append(figure)
    return figures


def compliance_report(context: Context) -> Report:
    """Every obligation's figures for every unit in scope, grouped by kind of unit, with the
    totals of each obligation (column) and of each unit (row)."""
    figures = report_figures(context)
    labels = dict(ObligationUnit.choices)
    sections = []
    for kind in UNIT_ORDER:
        mine = [f for f in figures if f.unit.kind == kind]
        if not mine:
            continue
        columns: dict[str, Column] = {}
        for f in mine:
            columns.setdefault(f.obligation.name, Column(f.obligation.name)).add(f)
        cells: dict[tuple[str, str], Figure] = {(f.unit.key, f.obligation.name): f for f in mine}
        rows = []
        for unit in [u for u in context.units if u.kind == kind]:
            row = Row(unit, [cells.get((unit.key, name)) for name in columns])
            for f in row.cells:
                if f is not None:
                    row.totals.add(f)
            rows.append(row)
        sections.append(Section(kind, str(labels[kind]), list(columns.values()), rows))
    return Report(context=context, sections=sections, figures=figures)
