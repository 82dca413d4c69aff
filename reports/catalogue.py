"""The catalogue of figures: each figure of the summaries is defined once, here and in the
``figures_*`` modules that fill ``CATALOGUE``.

A figure has a stable key, a label, a unit, a one-line definition shown to users, the section
of seed 003's summary it belongs to, and the records it counts: ``records(area, period)``
returns the queryset of those records in the area's subtree, and the figure is computed from
that very queryset, so the drill-down list behind a figure has exactly as many rows as the
figure says (or, for a sum, a total equal to it).

How a figure is computed for a table's rows (``compute``): the records of the table's top area
are grouped by the area each record belongs to (``area_field``: ``community`` for a person,
``area`` for a meeting), in one query per figure and period, and each row area adds up the
groups of the areas in its subtree (``Area.path`` prefixes). So a sub-district's summary with
its twelve communities as rows costs the same number of queries as one community's.

Measures:

- ``count``: the number of records (additive over areas).
- ``sum``: the sum of ``value_field`` over the records, in yuan (additive).
- ``distinct``: the number of distinct ``value_field`` values (ethnic groups present): the
  groups are (area, value) pairs and each row area counts the union of its subtree's values.
- ``median``: the median of ``value_field`` over the records, per row area.
- ``share``: ``numerator`` as a percentage of ``denominator`` (two other figures' keys); its
  drill-down lists the numerator's records.
- ``custom``: ``compute_fn(areas, period) -> {area pk: value}``, for figures not read from one
  queryset (population from the yearly table, meetings due from the obligations).
"""

from __future__ import annotations

import contextvars
import dataclasses
import datetime
import functools
import statistics
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, QuerySet, Sum
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from network.models import Area
from reports.periods import Period

COUNT, SUM, DISTINCT, MEDIAN, SHARE, CUSTOM = (
    "count",
    "sum",
    "distinct",
    "median",
    "share",
    "custom",
)
CENT = Decimal("0.00")


class Section:
    """The parts of seed 003's summary, in its order."""

    BASIC = "basic"  # 基本情况
    ORGANISATION = "organisation"  # 组织建设
    ACTIVITIES = "activities"  # 活动开展
    SERVICE = "service"  # 服务与维权
    HARDSHIP = "hardship"  # 帮困
    UNITY = "unity"  # 共建与荣誉
    PARTNERS = "partners"  # 合作商户与服务卡

    LABELS = {
        BASIC: _("Basic facts"),
        ORGANISATION: _("Organisation"),
        ACTIVITIES: _("Meetings, visits and activities"),
        SERVICE: _("Services and rights"),
        HARDSHIP: _("Help for hardship"),
        UNITY: _("Unity and honours"),
        PARTNERS: _("Partner merchants and service cards"),
    }
    ORDER = [BASIC, ORGANISATION, ACTIVITIES, SERVICE, HARDSHIP, UNITY, PARTNERS]


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    unit: str
    definition: str
    section: str
    measure: str = COUNT
    records: Callable[[Area, Period], QuerySet] | None = None
    area_field: str = "community"
    value_field: str = ""
    numerator: str = ""
    denominator: str = ""
    compute_fn: Callable[[list[Area], Period], dict[int, object]] | None = None
    # what the drill-down lists when it is not ``records`` (the ethnic groups, not the persons)
    list_records: Callable[[Area, Period], QuerySet] | None = None
    # the model whose list page shows the records ("residents.Person"), for the drill-down
    record_model: str = ""
    # a part of another figure: the records of figure ``split_of`` whose ``split_field`` is
    # ``split_value`` (visits of one kind). All the parts of a figure asked for together are
    # counted in one query grouped by area and that field, and their records default to the
    # whole's records so filtered.
    split_of: str = ""
    split_field: str = ""
    split_value: str = ""
    # a sum is in yuan unless told otherwise
    money: bool | None = None
    # for a figure with no list of its own (meetings due): the name of a page that shows what
    # it counts, taking ``?area=<pk>&date_from=&date_to=`` (the compliance table)
    elsewhere: str = ""

    @property
    def drill_key(self) -> str:
        """The figure whose records a click on this one lists (a share lists its numerator's)."""
        return self.numerator if self.measure == SHARE else self.key

    @property
    def is_money(self) -> bool:
        return self.money if self.money is not None else self.measure == SUM


CATALOGUE: dict[str, Figure] = {}


def _as_part(figure: Figure) -> Figure:
    """A part (``split_of``) takes its whole's records, filtered, and its whole's area field,
    measure, value field and record model unless it names its own."""
    whole = CATALOGUE.get(figure.split_of)
    if whole is None:
        raise ValueError(
            f"Figure {figure.key!r} is a part of {figure.split_of!r}: define it first."
        )
    field_name, value = figure.split_field, figure.split_value

    def records(area, period):
        return whole.records(area, period).filter(**{field_name: value})

    changes = {"records": figure.records or records}
    for name in ("area_field", "measure", "value_field", "record_model"):
        if getattr(figure, name) == Figure.__dataclass_fields__[name].default:
            changes[name] = getattr(whole, name)
    return dataclasses.replace(figure, **changes)


def register(*figures: Figure) -> None:
    for figure in figures:
        if figure.split_of:
            figure = _as_part(figure)
        if figure.key in CATALOGUE:
            raise ValueError(f"Two figures are called {figure.key!r}.")
        if figure.measure in (COUNT, SUM, DISTINCT, MEDIAN) and figure.records is None:
            raise ValueError(f"Figure {figure.key!r} needs its records.")
        CATALOGUE[figure.key] = figure


def catalogue() -> dict[str, Figure]:
    """Every figure, by key, in the order of the summary's sections (then of definition)."""
    _load()
    order = {section: n for n, section in enumerate(Section.ORDER)}
    return dict(sorted(CATALOGUE.items(), key=lambda item: order[item[1].section]))


def figure(key: str) -> Figure:
    _load()
    return CATALOGUE[key]


def _load() -> None:
    # the modules that define the figures register them when imported
    from reports import (  # noqa: F401
        figures_budget,
        figures_outreach,
        figures_register,
        figures_services,
    )


# ---------------------------------------------------------------- computing


@dataclass
class Computation:
    """What one ``compute`` call found: figure key → area pk → value (``None`` where a figure
    cannot be worked out, e.g. a share of nothing)."""

    period: Period
    areas: list[Area]
    values: dict[str, dict[int, object]] = field(default_factory=dict)

    def value(self, key: str, area: Area):
        return self.values.get(key, {}).get(area.pk)


def top_area(areas: list[Area]) -> Area:
    """The area whose subtree holds all of ``areas`` (the table's total row)."""
    tops = [a for a in areas if not any(o.pk != a.pk and o.contains(a) for o in areas)]
    if len(tops) != 1:
        raise ValueError("The areas of a table must lie under one of them.")
    return tops[0]


_shared_results: contextvars.ContextVar[dict | None] = contextvars.ContextVar(
    "shared_figure_results", default=None
)


def shared(fn):
    """Decorate a function of ``(areas, period)`` that several custom figures read their
    values from (the compliance figures all come from one pass over the obligations): within
    one ``compute`` call it runs once for the same areas and period."""

    @functools.wraps(fn)
    def wrapped(areas, period):
        results = _shared_results.get()
        if results is None:
            return fn(areas, period)
        key = (fn, tuple(a.pk for a in areas), period)
        if key not in results:
            results[key] = fn(areas, period)
        return results[key]

    return wrapped


def compute(keys, areas: list[Area], period: Period) -> Computation:
    """The values of the figures ``keys`` for every area of ``areas`` (one of which contains
    all the others) over ``period``: one query per figure, plus one for the area paths."""
    token = _shared_results.set({})
    try:
        return _compute(keys, areas, period)
    finally:
        _shared_results.reset(token)


def _compute(keys, areas: list[Area], period: Period) -> Computation:
    _load()
    top = top_area(areas)
    paths = dict(Area.objects.filter(path__startswith=top.path).values_list("pk", "path"))
    result = Computation(period=period, areas=list(areas))
    wanted = list(dict.fromkeys(keys))
    # a share needs its two parts
    for key in list(wanted):
        f = CATALOGUE[key]
        if f.measure == SHARE:
            for part in (f.numerator, f.denominator):
                if part not in wanted:
                    wanted.append(part)
    parts = defaultdict(list)  # whole's key → its parts asked for
    for key in wanted:
        f = CATALOGUE[key]
        if f.split_of and f.measure in (COUNT, SUM):
            parts[f.split_of].append(f)
    for whole_key, split in parts.items():
        whole = CATALOGUE[whole_key]
        result.values.update(
            _compute_parts(whole, split, areas, paths, period, with_whole=whole_key in wanted)
        )
    # counts and sums over the very same records (the assistance given and its value) are
    # read in one query
    together = defaultdict(list)
    for key in wanted:
        f = CATALOGUE[key]
        if f.measure in (COUNT, SUM) and key not in result.values:
            together[(f.records, f.area_field)].append(f)
    for figures in together.values():
        if len(figures) > 1:
            result.values.update(_compute_together(figures, top, areas, paths, period))
    for key in wanted:
        f = CATALOGUE[key]
        if f.measure != SHARE and key not in result.values:
            result.values[key] = _compute_one(f, top, areas, paths, period)
    for key in wanted:
        f = CATALOGUE[key]
        if f.measure == SHARE:
            result.values[key] = {
                a.pk: share(result.value(f.numerator, a), result.value(f.denominator, a))
                for a in areas
            }
    return result


def share(part, whole) -> Decimal | None:
    """``part`` as a percentage of ``whole``, to one decimal; ``None`` when ``whole`` is
    nothing."""
    if part is None or not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


def _total(values, zero):
    """The sum of a subtree's groups; sums of money to the cent (SQLite returns more places)."""
    total = sum((v for v in values if v is not None), zero)
    return total if zero == 0 else Decimal(total).quantize(CENT)


def _under(paths: dict[int, str], area: Area, groups: dict[int, object]):
    """The groups whose area lies in ``area``'s subtree."""
    for area_pk, value in groups.items():
        path = paths.get(area_pk)
        if path is not None and path.startswith(area.path):
            yield value


def _aggregate(f: Figure):
    return Count("pk") if f.measure == COUNT else Sum(f.value_field)


def _compute_together(figures: list[Figure], top: Area, areas, paths, period) -> dict:
    """Counts and sums over the same records, in one query grouped by area."""
    f0 = figures[0]
    aggregates = {f"v{n}": _aggregate(f) for n, f in enumerate(figures)}
    rows = list(f0.records(top, period).order_by().values(f0.area_field).annotate(**aggregates))
    found = {}
    for n, f in enumerate(figures):
        groups = {row[f0.area_field]: row[f"v{n}"] for row in rows}
        zero = 0 if f.measure == COUNT else CENT
        found[f.key] = {a.pk: _total(_under(paths, a, groups), zero) for a in areas}
    return found


def _compute_parts(
    whole: Figure, split: list[Figure], areas, paths, period, *, with_whole: bool = False
) -> dict:
    """The values of figures that are parts of ``whole`` (one ``split_field``), in one query
    grouped by area and that field; and the whole's too when ``with_whole`` (the sum of its
    parts' groups, when it measures as they do)."""
    field_name = split[0].split_field
    if any(f.split_field != field_name or f.measure != split[0].measure for f in split):
        return {f.key: _compute_one(f, top_area(areas), areas, paths, period) for f in split}
    f0 = split[0]
    aggregate = _aggregate(f0)
    zero = 0 if f0.measure == COUNT else CENT
    rows = (
        whole.records(top_area(areas), period)
        .order_by()
        .values(f0.area_field, field_name)
        .annotate(value=aggregate)
    )
    groups = defaultdict(dict)  # split value → area pk → value
    for row in rows:
        groups[str(row[field_name])][row[f0.area_field]] = row["value"]
    found = {
        f.key: {
            a.pk: _total(_under(paths, a, groups.get(str(f.split_value), {})), zero) for a in areas
        }
        for f in split
    }
    if with_whole and whole.measure == f0.measure and whole.value_field == f0.value_field:
        every = defaultdict(lambda: zero)
        for by_area in groups.values():
            for area_pk, value in by_area.items():
                every[area_pk] += value or zero
        found[whole.key] = {a.pk: _total(_under(paths, a, every), zero) for a in areas}
    return found


def _compute_one(f: Figure, top: Area, areas, paths, period: Period) -> dict[int, object]:
    if f.measure == CUSTOM:
        return f.compute_fn(areas, period)
    records = f.records(top, period).order_by()
    if f.measure in (COUNT, SUM):
        aggregate = Count("pk") if f.measure == COUNT else Sum(f.value_field)
        groups = {
            row[f.area_field]: row["value"]
            for row in records.values(f.area_field).annotate(value=aggregate)
        }
        zero = 0 if f.measure == COUNT else CENT
        return {a.pk: _total(_under(paths, a, groups), zero) for a in areas}
    if f.measure == DISTINCT:
        groups = defaultdict(set)
        for area_pk, value in records.values_list(f.area_field, f.value_field).distinct():
            if value is not None:
                groups[area_pk].add(value)
        return {a.pk: len(set().union(*_under(paths, a, groups))) for a in areas}
    if f.measure == MEDIAN:
        groups = defaultdict(list)
        for area_pk, value in records.values_list(f.area_field, f.value_field):
            if value is not None:
                groups[area_pk].append(_number(value))
        medians = {}
        for a in areas:
            found = [v for values in _under(paths, a, groups) for v in values]
            medians[a.pk] = (
                Decimal(statistics.median(found)).quantize(Decimal("0.1")) if found else None
            )
        return medians
    raise ValueError(f"Unknown measure {f.measure!r}")


def _number(value):
    if isinstance(value, datetime.timedelta):
        return value.days + value.seconds / 86400
    return value


def elsewhere_url(f: Figure, area: Area, period: Period) -> str:
    """The page that shows what ``f`` counts when it has no list of records ("" if none)."""
    name = f.elsewhere or figure(f.drill_key).elsewhere
    if not name:
        return ""
    query = {"area": area.pk, "date_from": period.start, "date_to": period.end}
    return f"{reverse(name)}?{urlencode(query)}"


def records(key: str, area: Area, period: Period) -> QuerySet:
    """The records behind figure ``key`` (for a share, its numerator's) in ``area``."""
    f = figure(key)
    target = figure(f.drill_key)
    lister = target.list_records or target.records
    if lister is None:
        raise LookupError(f"Figure {key!r} has no list of records.")
    return lister(area, period)
