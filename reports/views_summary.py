"""Period summaries: the table of figures for an area and a period (with the previous period
and the same period a year earlier beside it), the live list of records behind each figure,
and the charts.

Thin views: the figures come from ``reports.summary`` / ``reports.catalogue``, the list from
``reports.drilldown``, the charts from ``reports.charts``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from network.scoped import scoped_view
from reports import catalogue, charts
from reports.catalogue import Section
from reports.drilldown import records_page, shown_value
from reports.forms_summary import SummaryForm, area_from, quick_periods
from reports.periods import PeriodError, parse_period, period_of_year
from reports.summary import SummaryTable, summary_table
from residents.selectors import Viewer

VIEW_SUMMARY = "reports.view_summary"
EXPORT = "reports.export_reports"
EXPORT_FORMATS = (
    ("xlsx", gettext_lazy("Excel (xlsx)")),
    ("csv", gettext_lazy("CSV")),
    ("docx", gettext_lazy("Word (docx)")),
)
CHART_MAX_AGE = 300  # seconds a browser may keep a chart


# ---------------------------------------------------------------- the table as shown


@dataclass
class Cell:
    text: str
    url: str = ""


@dataclass
class Line:
    figure: catalogue.Figure
    cells: list[Cell]


@dataclass
class Part:
    label: str
    lines: list[Line] = field(default_factory=list)


@dataclass
class Column:
    heading: str
    note: str = ""
    is_total: bool = False


def _lists_records(figure: catalogue.Figure) -> bool:
    target = catalogue.figure(figure.drill_key)
    return bool(target.list_records or target.records)


def table_columns(table: SummaryTable) -> list[Column]:
    """The total, the previous period and the same period last year first, so the comparison
    reads first; then the child areas. Keep in step with ``table_parts``."""
    columns = [
        Column(_("Total"), table.period.label, is_total=True),
        Column(_("Previous period"), table.previous.period.label),
    ]
    if _year_before_differs(table):
        columns.append(Column(_("Same period last year"), table.year_before.period.label))
    return [*columns, *[Column(row.area.name) for row in table.rows[:-1]]]


def _year_before_differs(table: SummaryTable) -> bool:
    """A year's previous period is the same period last year: one column says it."""
    return table.year_before.period != table.previous.period


def table_parts(table: SummaryTable) -> list[Part]:
    """The figures as rows grouped by the sections of seed 003, each value a link to its
    records for the column's area and period."""
    area = table.area
    columns = [
        (table.current, area, table.period),
        (table.previous, area, table.previous.period),
    ]
    if _year_before_differs(table):
        columns.append((table.year_before, area, table.year_before.period))
    columns += [(table.current, row.area, table.period) for row in table.rows[:-1]]
    parts: dict[str, Part] = {}
    for f in table.figures:
        base = reverse("reports:figure-records", args=[f.key]) if _lists_records(f) else ""
        cells = []
        for computation, column_area, period in columns:
            value = computation.value(f.key, column_area)
            url = ""
            if base and value is not None:
                url = f"{base}?{urlencode({'area': column_area.pk, 'period': period.key})}"
            elif value is not None:
                url = catalogue.elsewhere_url(f, column_area, period)
            cells.append(Cell(shown_value(f, value), url))
        section = parts.setdefault(f.section, Part(str(Section.LABELS.get(f.section, f.section))))
        section.lines.append(Line(f, cells))
    order = {s: n for n, s in enumerate(Section.ORDER)}
    return [parts[s] for s in sorted(parts, key=lambda s: order.get(s, len(order)))]


def _optional_url(name: str, query: dict) -> str:
    """A URL of a page another part of the reports app provides, or "" while it does not."""
    try:
        return f"{reverse(name)}?{urlencode(query)}"
    except NoReverseMatch:
        return ""


def _charts_for(user, query: dict) -> list[tuple[str, str, str]]:
    """(name, title, URL) of the charts the user may see."""
    titles = {
        "ethnic-composition": _("Minority residents by ethnic group"),
        "visits-by-month": _("Visits per month"),
        "coverage-by-community": _("Minority households visited, by area"),
    }
    shown = []
    for name, title in titles.items():
        if not charts.available(name):
            continue
        if name == "ethnic-composition" and not Viewer.of(user).sensitive:
            continue
        url = f"{reverse('reports:chart', args=[name])}?{urlencode(query)}"
        shown.append((name, title, url))
    return shown


# ---------------------------------------------------------------- views


@scoped_view(VIEW_SUMMARY)
@require_GET
def summary(request):
    """The summary of an area (default: the user's own) over a period (default: this year).
    An area outside the user's scope is a 404; a period that cannot be read is said so on
    the form, with no table."""
    user = request.user
    today = timezone.localdate()
    area = area_from(user, request.GET.get("area"))
    form = SummaryForm(
        {"area": area.pk, "period": request.GET.get("period") or str(today.year)},
        user=user,
        chosen=area,
        today=today,
    )
    context = {
        "form": form,
        "area": area,
        "quick_periods": quick_periods(today),
        "table": None,
        "compared": 0,
    }
    if form.is_valid():
        period = form.cleaned_data["period"]
        table = summary_table(area, period)
        query = {"area": area.pk, "period": period.key}
        context.update(
            {
                "table": table,
                "period": period,
                "columns": table_columns(table),
                "compared": 3 if _year_before_differs(table) else 2,
                "parts": table_parts(table),
                "charts": _charts_for(user, query),
                "print_url": _optional_url("reports:summary-print", query),
                "exports": [
                    (label, url)
                    for fmt, label in EXPORT_FORMATS
                    if (url := _optional_url("reports:summary-export", {**query, "format": fmt}))
                ]
                if user.has_perm(EXPORT)
                else [],
            }
        )
    return render(request, "reports/summary.html", context)


def _period_or_404(raw):
    if raw in (None, ""):
        return period_of_year(timezone.localdate().year)
    try:
        return parse_period(raw)
    except PeriodError as error:
        raise Http404 from error


def _figure_or_404(key: str) -> catalogue.Figure:
    try:
        return catalogue.figure(key)
    except KeyError as error:
        raise Http404 from error


@scoped_view(VIEW_SUMMARY)
@require_GET
def figure_records(request, key):
    """The live list of the records a figure counts for an area and period: as many rows as
    the figure says (a sum: a value column adding up to it)."""
    figure = _figure_or_404(key)
    area = area_from(request.user, request.GET.get("area"))
    period = _period_or_404(request.GET.get("period"))
    try:
        records = catalogue.records(key, area, period)
    except LookupError as error:
        raise Http404 from error
    value = catalogue.compute([key], [area], period).value(key, area)
    back = f"{reverse('reports:summary')}?{urlencode({'area': area.pk, 'period': period.key})}"
    return records_page(
        request,
        figure,
        records,
        heading=str(figure.label),
        subtitle=f"{area.name} · {period.label}",
        back_url=back,
        value=value,
    )


@scoped_view(VIEW_SUMMARY)
@require_GET
def chart(request, name):
    """One chart of the summary as SVG, for the page (``<img>``) and its print."""
    draw = charts.CHARTS.get(name)
    if draw is None or not charts.available(name):
        raise Http404
    if name == "ethnic-composition" and not Viewer.of(request.user).sensitive:
        raise PermissionDenied(_("Your role does not allow this."))
    area = area_from(request.user, request.GET.get("area"))
    period = _period_or_404(request.GET.get("period"))
    try:
        image = draw(area, period, "svg")
    except charts.ChartUnavailable as error:
        raise Http404 from error
    response = HttpResponse(image, content_type="image/svg+xml")
    patch_cache_control(response, private=True, max_age=CHART_MAX_AGE)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response
