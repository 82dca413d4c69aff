"""Downloads (xlsx, csv, docx) and print pages of period summaries and of reports.

The area and the report are fetched through the scoping (an area or report the user may not
see is a 404); a format or period that cannot be read gets a page saying so in the user's
language, never a 500. Every download and every print page is logged with ``log_export``.
The files themselves are built in ``reports.exports``.
"""

from urllib.parse import quote

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from network.access import get_visible_or_404, scope_for
from network.exports import log_export
from network.models import Area
from network.scoped import scoped_view
from reports import exports
from reports.models import Report
from reports.periods import PeriodError, parse_period
from reports.summary import summary_table

VIEW_SUMMARY = "reports.view_summary"
VIEW_REPORT = "reports.view_report"
EXPORT = "reports.export_reports"
PRINT = "html"  # the file format the export log records for a print page


class BadRequest(Exception):
    """A parameter that cannot be read; the message is for the user."""


def _message_page(request, message: str):
    return render(request, "reports/print_summary.html", {"error": message}, status=400)


def _format(request) -> str:
    fmt = (request.GET.get("format") or exports.XLSX).strip().lower()
    if fmt not in exports.FORMATS:
        raise BadRequest(
            _("“%(format)s” is not a file format we export: choose %(formats)s.")
            % {"format": fmt[:20], "formats": "、".join(exports.FORMATS)}
        )
    return fmt


def _own_area(user) -> Area | None:
    """The area a user's posts cover, when it is one area (the summary's default)."""
    paths = scope_for(user).visible_paths
    if len(paths) != 1:
        return None
    return Area.objects.filter(path=paths[0]).first()


def _area_and_period(request):
    raw = (request.GET.get("area") or "").strip()
    if raw:
        area = get_visible_or_404(Area.objects.filter(is_active=True), request.user, pk=raw)
    else:
        area = _own_area(request.user)
        if area is None:
            raise BadRequest(_("Choose an area."))
    try:
        period = parse_period(request.GET.get("period") or str(timezone.localdate().year))
    except PeriodError as exc:
        raise BadRequest(str(exc)) from exc
    return area, period


def _report(request, pk) -> Report:
    reports = Report.objects.select_related("definition", "area", "generated_by")
    return get_visible_or_404(reports, request.user, pk=pk)


def _download(request, content, fmt: str, *, exporter: str, filters: dict) -> HttpResponse:
    data = exports.write(content, fmt)
    log_export(
        request=request,
        exporter=exporter,
        label=content.title,
        file_format=fmt,
        row_count=len(content.figures),
        filters={**filters, "format": fmt},
        area=content.area,
    )
    response = HttpResponse(data, content_type=exports.CONTENT_TYPES[fmt])
    response["Content-Disposition"] = (
        f'attachment; filename="{content.ascii_filename(fmt)}"; '
        f"filename*=utf-8''{quote(content.filename(fmt))}"
    )
    return response


def _print_page(request, template: str, content, *, exporter: str, filters: dict):
    log_export(
        request=request,
        exporter=exporter,
        label=content.title,
        file_format=PRINT,
        row_count=len(content.figures),
        filters=filters,
        area=content.area,
    )
    context = {
        "content": content,
        "blocks": exports.blocks(content),
        "comparison_rows": exports.comparison_rows(content),
        "area_headers": exports.area_headers(content),
        "breakdown_rows": exports.breakdown_rows(content),
        "printed_on": timezone.localdate(),
    }
    if content.report is not None:
        context["facts"] = exports.report_facts(content.report)
    return render(request, template, context)


def _summary_filters(area, period) -> dict:
    return {"area": area.pk, "period": period.key}


def _report_filters(report) -> dict:
    return {"report": report.pk, "version": report.version, "period": report.period}


@scoped_view(VIEW_SUMMARY, EXPORT)
@require_GET
def summary_export(request):
    """A period summary of an area as xlsx, csv or docx (``?area&period&format``)."""
    try:
        fmt = _format(request)
        area, period = _area_and_period(request)
    except BadRequest as exc:
        return _message_page(request, str(exc))
    content = exports.from_summary(summary_table(area, period))
    return _download(
        request, content, fmt, exporter="summary", filters=_summary_filters(area, period)
    )


@scoped_view(VIEW_SUMMARY)
@require_GET
def summary_print(request):
    """A period summary as a clean A4 page to print (``?area&period``)."""
    try:
        area, period = _area_and_period(request)
    except BadRequest as exc:
        return _message_page(request, str(exc))
    content = exports.from_summary(summary_table(area, period))
    return _print_page(
        request,
        "reports/print_summary.html",
        content,
        exporter="summary",
        filters=_summary_filters(area, period),
    )


@scoped_view(VIEW_REPORT, EXPORT)
@require_GET
def report_export(request, pk):
    """A report as xlsx, csv or docx: its snapshot once submitted, its live figures before."""
    try:
        fmt = _format(request)
    except BadRequest as exc:
        return _message_page(request, str(exc))
    report = _report(request, pk)
    content = _report_content(report)
    return _download(request, content, fmt, exporter="report", filters=_report_filters(report))


@scoped_view(VIEW_SUMMARY, VIEW_REPORT)
@require_GET
def report_print(request, pk):
    report = _report(request, pk)
    content = _report_content(report)
    return _print_page(
        request,
        "reports/print_report.html",
        content,
        exporter="report",
        filters=_report_filters(report),
    )


def _report_content(report):
    try:
        return exports.from_report(report)
    except PeriodError as exc:  # a report's period was checked when defined; never expected
        raise Http404 from exc
