"""The money set aside for ethnic-affairs work (经费, seed 003: 每年下拨X万多元) and what was
spent of it, from the yearly budgets (``reports.models.Budget``) and ``reports.budget``."""

from django.utils.translation import gettext_lazy as _

from network.models import Area
from reports.budget import budget_summaries
from reports.catalogue import CUSTOM, SHARE, Figure, Section, register
from reports.figures_register import YUAN, counted_paths
from reports.models import Budget
from reports.periods import Period


def _rows(area: Area, period: Period) -> dict[str, Budget]:
    return {
        row.area.path: row
        for row in Budget.objects.filter(
            year=period.year, area__path__startswith=area.path
        ).select_related("area")
    }


def budget_rows(area: Area, period: Period):
    """The budgets the figure adds up for ``area``: its own of the period's year, or failing
    that the nearest ones below it (as the population figures do)."""
    rows = _rows(area, period)
    counted = [rows[path].pk for path in counted_paths(area.path, rows)]
    return Budget.objects.filter(pk__in=counted).select_related("area")


def budget_by_area(areas: list[Area], period: Period) -> dict[int, object]:
    top = min(areas, key=lambda a: len(a.path))
    rows = _rows(top, period)
    found = {}
    for area in areas:
        counted = counted_paths(area.path, rows)
        found[area.pk] = sum(rows[p].amount for p in counted) if counted else None
    return found


def spent_by_area(areas: list[Area], period: Period) -> dict[int, object]:
    return {summary.area.pk: summary.total for summary in budget_summaries(areas, period.year)}


register(
    Figure(
        key="budget",
        label=_("Budget for the year"),
        unit=YUAN,
        definition=_(
            "The money set aside for the area's ethnic-affairs work in the period's year "
            "(an area without a budget of its own adds up the budgets below it)."
        ),
        section=Section.ORGANISATION,
        measure=CUSTOM,
        money=True,
        compute_fn=budget_by_area,
        records=budget_rows,
        record_model="reports.Budget",
    ),
    Figure(
        key="budget_spent",
        label=_("Spent in the year"),
        unit=YUAN,
        definition=_(
            "Meeting and activity costs and cash and goods given on visits in the period's "
            "year, in the area and below it."
        ),
        section=Section.ORGANISATION,
        measure=CUSTOM,
        money=True,
        compute_fn=spent_by_area,
    ),
    Figure(
        key="budget_spent_share",
        label=_("Share of the budget spent"),
        unit="%",
        definition=_("What was spent in the year as a share of the year's budget."),
        section=Section.ORGANISATION,
        measure=SHARE,
        numerator="budget_spent",
        denominator="budget",
    ),
)
