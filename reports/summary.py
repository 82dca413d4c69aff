"""A period summary: for one area and period, a table of figures with the child areas as rows
and a total row, and beside it the previous period and the same period a year earlier.

The rows are the area's child areas (a sub-district's zones and communities directly under
it; a zone's communities), then the total, which is the area itself. The total counts what
the area holds at its own level too (a meeting held by the sub-district itself), so it may
exceed the sum of the rows; and figures that are not additive (ethnic groups present, shares,
medians, merchants serving several areas) are worked out for the total on their own.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import F

from network.models import Area
from reports import catalogue
from reports.catalogue import Computation, Figure
from reports.periods import Period


@dataclass
class SummaryRow:
    area: Area
    values: list  # in the order of ``SummaryTable.figures``
    is_total: bool = False


@dataclass
class SummaryTable:
    area: Area
    period: Period
    figures: list[Figure]
    rows: list[SummaryRow]  # child areas, then the total
    current: Computation
    previous: Computation
    year_before: Computation

    @property
    def total(self) -> SummaryRow:
        return self.rows[-1]

    def comparison(self):
        """(figure, this period, previous period, same period last year) for the total."""
        for f in self.figures:
            yield (
                f,
                self.current.value(f.key, self.area),
                self.previous.value(f.key, self.area),
                self.year_before.value(f.key, self.area),
            )


def child_areas(area: Area) -> list[Area]:
    """The rows of ``area``'s table: its active child areas, in code then name order."""
    areas = Area.objects.filter(parent=area, is_active=True)
    # an area without a code (a zone) after the coded ones, on every database alike
    return list(areas.order_by(F("code").asc(nulls_last=True), "name", "pk"))


def summary_table(area: Area, period: Period, keys=None, *, compare: bool = True) -> SummaryTable:
    """The summary of ``area`` over ``period`` for the figures ``keys`` (default: all of the
    catalogue). One query per figure and period, whatever the number of child areas."""
    figures = (
        [catalogue.figure(key) for key in keys] if keys else list(catalogue.catalogue().values())
    )
    children = child_areas(area)
    areas = [*children, area]
    wanted = [f.key for f in figures]
    current = catalogue.compute(wanted, areas, period)
    if compare:
        previous = catalogue.compute(wanted, [area], period.previous())
        year_before = catalogue.compute(wanted, [area], period.year_before())
    else:
        previous = year_before = Computation(period=period, areas=[])
    rows = [SummaryRow(area=a, values=[current.value(f.key, a) for f in figures]) for a in children]
    rows.append(
        SummaryRow(area=area, values=[current.value(f.key, area) for f in figures], is_total=True)
    )
    return SummaryTable(
        area=area,
        period=period,
        figures=figures,
        rows=rows,
        current=current,
        previous=previous,
        year_before=year_before,
    )
