"""Period summaries and reports as files: xlsx, csv and Word (.docx).

Plain functions: ``summary_file(table, fmt)`` and ``report_file(report, fmt)`` return the
bytes. Both first gather what a file shows into an ``ExportContent`` (``from_summary``,
``from_report``); the writers only lay it out, so the three formats cannot disagree.

A frozen report (submitted and after) shows only its snapshot: the values frozen for its area
and child areas, with no comparison columns and no charts, since anything computed now from
the live data would no longer match what was submitted. A draft or returned report is still
live, and is exported like a summary of its figures.

Logging is the caller's job (the views and ``export_summary`` call ``log_export``).
"""

from __future__ import annotations

import csv
import datetime
import io
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from network.models import Area
from reports import catalogue, narrative
from reports.catalogue import MEDIAN, SHARE, Figure, Section
from reports.periods import Period, parse_period
from reports.summary import SummaryTable, summary_table
from residents.exporters import safe_cell
from residents.typed_input import without_control_characters

XLSX, CSV, DOCX = "xlsx", "csv", "docx"
CONTENT_TYPES = {
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    CSV: "text/csv; charset=utf-8",
    DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
FORMATS = tuple(CONTENT_TYPES)

# The charts of a live summary's Word file, in the order they are shown (reports.charts).
CHART_NAMES = ("ethnic-composition", "visits-by-month", "coverage-by-community")


# ---------------------------------------------------------------- what a file shows


@dataclass
class ExportContent:
    title: str
    area: Area
    period: Period
    figures: list[Figure]
    areas: list[Area]  # the rows of the breakdown: child areas, then the area itself (total)
    values: dict[str, dict[int, object]]  # figure key → area pk → value
    # figure key → (previous period, same period last year) for the total; empty when frozen
    comparison: dict[str, tuple] = field(default_factory=dict)
    narrative: str = ""  # filled in, as ``narrative.paragraphs`` reads it
    report: object = None  # reports.models.Report, for a report's file
    frozen: bool = False

    def value(self, figure: Figure, area: Area):
        return self.values.get(figure.key, {}).get(area.pk)

    def total(self, figure: Figure):
        return self.value(figure, self.area)

    @property
    def has_comparison(self) -> bool:
        return bool(self.comparison)

    def filename(self, fmt: str) -> str:
        """平江街道_2025_民族工作总结.docx; a report adds its title and version."""
        if self.report is not None:
            parts = [
                self.area.name,
                self.period.key,
                self.report.definition.title,
                f"v{self.report.version}",
            ]
        else:
            parts = [self.area.name, self.period.key, _("ethnic affairs work summary")]
        return f"{'_'.join(_file_part(p) for p in parts)}.{fmt}"

    def ascii_filename(self, fmt: str) -> str:
        """A plain fallback name for clients that do not read ``filename*``."""
        kind = f"report-{self.report.pk}-v{self.report.version}" if self.report else "summary"
        return f"{kind}-{self.area.code or self.area.pk}-{_file_part(self.period.key)}.{fmt}"


def _file_part(text) -> str:
    cleaned = re.sub(r'[\\/:*?"<>|\s]+', "_", without_control_characters(str(text)))
    return cleaned.strip("._") or "_"


def summary_title(area: Area, period: Period) -> str:
    """平江街道2025年民族工作总结."""
    return _("%(area)s, %(period)s: ethnic affairs work summary") % {
        "area": area.name,
        "period": period.label,
    }


def _narrative_values(content_area: Area, period: Period, figures, totals) -> dict:
    values = {f.key: totals.get(f.key) for f in figures}
    values[narrative.AREA] = content_area.name
    values[narrative.PERIOD] = period.label
    return values


def from_summary(table: SummaryTable, template: str | None = None) -> ExportContent:
    """A live summary: the table's values, the comparison, and ``template`` (default: seed
    003's structure) filled in with the total's values."""
    values = {
        f.key: {row.area.pk: row.values[n] for row in table.rows}
        for n, f in enumerate(table.figures)
    }
    comparison = {f.key: (previous, before) for f, _now, previous, before in table.comparison()}
    totals = {f.key: table.current.value(f.key, table.area) for f in table.figures}
    text = narrative.fill(
        narrative.DEFAULT_TEMPLATE if template is None else template,
        _narrative_values(table.area, table.period, table.figures, totals),
    )
    return ExportContent(
        title=_title_of(text) or summary_title(table.area, table.period),
        area=table.area,
        period=table.period,
        figures=table.figures,
        areas=[row.area for row in table.rows],
        values=values,
        comparison=comparison,
        narrative=text,
    )


def from_report(report) -> ExportContent:
    """A report: its snapshot once submitted, else its figures computed now (as the report
    page shows them: ``workflow.shows_snapshot``). The narrative is the report's own text,
    filled in with ``workflow.report_values``."""
    from reports import workflow

    period = workflow.report_period(report)
    known = catalogue.catalogue()
    keys = [key for key in report.keys if key in known]
    frozen = workflow.shows_snapshot(report)
    if frozen:
        figures = [known[key] for key in keys]
        snapshot = workflow.snapshot_values(report)
        areas = workflow.snapshot_areas(report)
        values = {key: dict(snapshot.get(key, {})) for key in keys}
        comparison = {}
    else:
        table = summary_table(report.area, period, keys)
        figures = table.figures
        values = {
            f.key: {row.area.pk: row.values[n] for row in table.rows}
            for n, f in enumerate(table.figures)
        }
        areas = [row.area for row in table.rows]
        comparison = {f.key: (prev, before) for f, _now, prev, before in table.comparison()}
    filled = {
        **workflow.report_values(report),
        narrative.AREA: report.area.name,
        narrative.PERIOD: period.label,
    }
    text = narrative.fill(report.narrative, filled)
    return ExportContent(
        title=_title_of(text) or f"{report.area.name}{report.definition.title}",
        area=report.area,
        period=period,
        figures=figures,
        areas=areas,
        values=values,
        comparison=comparison,
        narrative=text,
        report=report,
        frozen=frozen,
    )


def _title_of(text: str) -> str:
    """The narrative's title: its first line when that is a heading without a section mark
    (seed 003's structure starts with "# 平江街道2025年民族工作总结")."""
    found = narrative.paragraphs(text)
    if found and _is_title(0, *found[0]):
        return found[0][1]
    return ""


def _is_title(index: int, kind: str, line: str) -> bool:
    return index == 0 and kind == "heading" and not _SECTION_MARK.match(line)


_SECTION_MARK = re.compile(r"^[一二三四五六七八九十]+、")

TITLE, HEADING, SUBHEADING, TEXT = "title", "heading", "subheading", "text"


def blocks(content: ExportContent) -> list[tuple[str, str]]:
    """The narrative as (kind, line): the title first (the narrative's own title line, or
    the content's title), section headings (一、…), other headings, and paragraphs."""
    lines = narrative.paragraphs(content.narrative)
    if not (lines and _is_title(0, *lines[0])):
        lines.insert(0, ("heading", content.title))
    found = []
    for index, (kind, line) in enumerate(lines):
        if _is_title(index, kind, line):
            found.append((TITLE, line))
        elif kind == "heading":
            found.append((HEADING if _SECTION_MARK.match(line) else SUBHEADING, line))
        else:
            found.append((TEXT, line))
    return found


def summary_file(table: SummaryTable, fmt: str) -> bytes:
    return write(from_summary(table), fmt)


def report_file(report, fmt: str) -> bytes:
    return write(from_report(report), fmt)


def write(content: ExportContent, fmt: str) -> bytes:
    writers = {XLSX: xlsx_bytes, CSV: csv_bytes, DOCX: docx_bytes}
    if fmt not in writers:
        raise ValueError(f"Unknown export format {fmt!r}")
    return writers[fmt](content)


# ---------------------------------------------------------------- values as cells


def _is_whole(figure: Figure, value) -> bool:
    if figure.is_money or figure.measure in (SHARE, MEDIAN):
        return False
    return isinstance(value, int) or (
        isinstance(value, Decimal) and value == value.to_integral_value()
    )


def cell_value(figure: Figure, value):
    """A number a spreadsheet can add up (``None`` stays empty)."""
    if value is None or isinstance(value, bool):
        return None
    if _is_whole(figure, value):
        return int(value)
    if isinstance(value, Decimal | float | int):
        return float(value)
    return safe_cell(str(value))


def number_format(figure: Figure, value) -> str:
    if figure.is_money:
        return "#,##0.00"
    if figure.measure == SHARE:
        return '0.0"%"'
    if figure.measure == MEDIAN:
        return "0.0"
    return "0" if value is None or _is_whole(figure, value) else "0.00"


def csv_value(figure: Figure, value) -> str:
    """The value as plain text: 12, 1234.50, 12.5 (the unit column says %)."""
    if value is None:
        return ""
    text = narrative.format_value(figure, value)
    return text.removesuffix("%") if figure.measure == SHARE else text


def _text(value) -> str:
    return safe_cell(without_control_characters(str(value)))


def _section_label(figure: Figure) -> str:
    return str(Section.LABELS.get(figure.section, ""))


def _total_label(area: Area) -> str:
    return _("%(area)s (total)") % {"area": area.name}


def _area_header(content: ExportContent, area: Area) -> str:
    return _total_label(area) if area.pk == content.area.pk else area.name


# ---------------------------------------------------------------- print page


def comparison_rows(content: ExportContent) -> list[tuple[Figure, list[str]]]:
    """Each figure with its formatted total (and the previous period and the same period
    last year when the content has them), for the print page."""
    rows = []
    for figure in content.figures:
        numbers = [content.total(figure)]
        if content.has_comparison:
            numbers += list(content.comparison.get(figure.key, (None, None)))
        rows.append((figure, [narrative.format_value(figure, n) for n in numbers]))
    return rows


def breakdown_rows(content: ExportContent) -> list[tuple[Figure, list[str]]]:
    """Each figure with its formatted value for every area of the breakdown."""
    return [
        (figure, [narrative.format_value(figure, content.value(figure, a)) for a in content.areas])
        for figure in content.figures
    ]


def area_headers(content: ExportContent) -> list[str]:
    return [_area_header(content, area) for area in content.areas]


# ---------------------------------------------------------------- xlsx


def xlsx_bytes(content: ExportContent) -> bytes:
    """One sheet per table: for a report 报告信息 first; then 汇总 (figures as rows with the
    comparison), 分区 (figures × child areas and total), and for a report its text."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    if content.report is not None:
        _report_sheet(book, content)
    _summary_sheet(book, content)
    _breakdown_sheet(book, content)
    if content.report is not None:
        _narrative_sheet(book, content)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _new_sheet(book, content: ExportContent, title: str, header: list[str]):
    from openpyxl.styles import Alignment, Font, PatternFill

    sheet = book.create_sheet(title=title[:31])
    sheet.append([_text(h) for h in header])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="EEEEEE")
        cell.alignment = Alignment(vertical="center", wrap_text=True)
    sheet.print_title_rows = "1:1"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.oddHeader.center.text = without_control_characters(content.title).replace("&", "&&")
    sheet.oddFooter.center.text = "&P / &N"
    return sheet


def _display_width(value) -> int:
    """Columns are measured in Latin characters; a Chinese character takes two."""
    if value is None:
        return 0
    text = str(value)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _fit_columns(sheet, widest: int = 50, wrap: tuple[int, ...] = ()) -> None:
    from openpyxl.styles import Alignment
    from openpyxl.utils import get_column_letter

    for index, column in enumerate(sheet.iter_cols(), start=1):
        width = max((_display_width(c.value) for c in column), default=8)
        sheet.column_dimensions[get_column_letter(index)].width = min(max(width + 2, 8), widest)
        if index in wrap:
            for cell in column[1:]:
                cell.alignment = Alignment(wrap_text=True, vertical="top")


def _summary_sheet(book, content: ExportContent) -> None:
    header = [_("Summary section"), _("Figure"), _("Unit"), _("This period")]
    if content.has_comparison:
        header += [_("Previous period"), _("Same period last year")]
    header.append(_("Definition"))
    sheet = _new_sheet(book, content, _("Summary"), header)
    for figure in content.figures:
        numbers = [content.total(figure)]
        if content.has_comparison:
            numbers += list(content.comparison.get(figure.key, (None, None)))
        sheet.append(
            [
                _text(_section_label(figure)),
                _text(figure.label),
                _text(figure.unit),
                *[cell_value(figure, n) for n in numbers],
                _text(figure.definition),
            ]
        )
        for column, number in enumerate(numbers, start=4):
            sheet.cell(row=sheet.max_row, column=column).number_format = number_format(
                figure, number
            )
    sheet.freeze_panes = "C2"
    _fit_columns(sheet, wrap=(len(header),))
    sheet.column_dimensions[_column(len(header))].width = 60


def _breakdown_sheet(book, content: ExportContent) -> None:
    header = [
        _("Figure"),
        _("Unit"),
        *[_area_header(content, area) for area in content.areas],
    ]
    sheet = _new_sheet(book, content, _("Breakdown by area"), header)
    for figure in content.figures:
        numbers = [content.value(figure, area) for area in content.areas]
        sheet.append(
            [_text(figure.label), _text(figure.unit), *[cell_value(figure, n) for n in numbers]]
        )
        for column, number in enumerate(numbers, start=3):
            sheet.cell(row=sheet.max_row, column=column).number_format = number_format(
                figure, number
            )
    sheet.freeze_panes = "C2"
    _fit_columns(sheet, widest=40)


def _column(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)


def report_facts(report) -> list[tuple[str, str]]:
    """(label, value) lines about a report: what, where, which version, and who moved it up
    the hierarchy and when (the latest submit, approve and accept)."""
    from reports.models import ReportAction

    latest = {}
    for event in report.events.select_related("by").order_by("at", "pk"):
        latest[event.action] = event

    def step(action):
        event = latest.get(action)
        if event is None:
            return ""
        return f"{event.by.display_name} · {_when(event.at)}"

    return [
        (_("Report title"), report.definition.title),
        (_("Area"), report.area.name),
        (_("Reporting period"), parse_period(report.period).label),
        (_("Version"), str(report.version)),
        (_("Status"), str(report.get_status_display())),
        (
            _("Generated by"),
            f"{report.generated_by.display_name} · {_when(report.generated_at)}",
        ),
        (_("Submitted by"), step(ReportAction.SUBMITTED)),
        (_("Approved by"), step(ReportAction.APPROVED)),
        (_("Accepted by"), step(ReportAction.ACCEPTED)),
    ]


def _when(moment: datetime.datetime | None) -> str:
    if moment is None:
        return ""
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"


def _report_sheet(book, content: ExportContent) -> None:
    sheet = _new_sheet(book, content, _("Report details"), [_("Item"), _("Value")])
    for label, value in report_facts(content.report):
        sheet.append([_text(label), _text(value)])
    sheet.freeze_panes = "A2"
    _fit_columns(sheet, widest=60)


def _narrative_sheet(book, content: ExportContent) -> None:
    sheet = _new_sheet(book, content, _("Report text"), [_("Text of the report")])
    for _kind, line in narrative.paragraphs(content.narrative):
        sheet.append([_text(line)])
    sheet.freeze_panes = "A2"
    _fit_columns(sheet, widest=100, wrap=(1,))
    sheet.column_dimensions["A"].width = 100


# ---------------------------------------------------------------- csv


def csv_bytes(content: ExportContent) -> bytes:
    """One table, figures × areas, in UTF-8 with a byte-order mark so that Excel on a
    Chinese Windows reads it as UTF-8 rather than GBK."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            _("Figure key"),
            _("Figure"),
            _("Unit"),
            *[_text(_area_header(content, area)) for area in content.areas],
        ]
    )
    for figure in content.figures:
        writer.writerow(
            [
                figure.key,
                _text(figure.label),
                _text(figure.unit),
                *[csv_value(figure, content.value(figure, area)) for area in content.areas],
            ]
        )
    return out.getvalue().encode("utf-8-sig")


# ---------------------------------------------------------------- docx

BODY_FONT, HEADING_FONT = "宋体", "黑体"
BODY_SIZE = 12  # 小四


def docx_bytes(content: ExportContent) -> bytes:
    """The annual summary in seed 003's structure: title, the filled narrative (section
    headings, paragraphs indented by two characters), then an appendix table of the figures
    and, for a live summary or a draft, the charts."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm

    document = Document()
    _chinese_styles(document)
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.6)
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)

    for kind, line in blocks(content):
        if kind == TITLE:
            document.add_paragraph(line, style="Title")
            document.add_paragraph(_subtitle(content), style="Subtitle")
        elif kind == TEXT:
            _body_paragraph(document, line)
        else:
            document.add_paragraph(line, style="Heading 1" if kind == HEADING else "Heading 2")

    document.add_paragraph(_("Appendix: figures"), style="Heading 1")
    table = document.add_table(rows=1, cols=3)
    table.style = "Table Grid"
    for cell, text in zip(
        table.rows[0].cells, [_("Figure"), _("Figure value"), _("Unit")], strict=True
    ):
        cell.text = text
        for run in cell.paragraphs[0].runs:
            run.bold = True
    section = None
    for figure in content.figures:
        if figure.section != section:
            section = figure.section
            row = table.add_row()
            merged = row.cells[0].merge(row.cells[2])
            merged.text = _section_label(figure)
            for run in merged.paragraphs[0].runs:
                run.bold = True
        cells = table.add_row().cells
        cells[0].text = without_control_characters(str(figure.label))
        cells[1].text = narrative.format_value(figure, content.total(figure))
        cells[1].paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
        cells[2].text = without_control_characters(str(figure.unit))

    if content.frozen:
        note = _(
            "The figures are those frozen when the report was submitted; charts drawn from "
            "today's data are left out so that nothing here differs from the submission."
        )
        document.add_paragraph(note, style="Caption")
    else:
        pictures = chart_pictures(content)
        if pictures:
            document.add_paragraph(_("Appendix: charts"), style="Heading 1")
        for caption, png in pictures:
            document.add_paragraph(caption, style="Heading 2")
            document.add_picture(io.BytesIO(png), width=Cm(15))
            document.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER

    document.core_properties.title = content.title
    document.core_properties.language = "zh-CN"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _subtitle(content: ExportContent) -> str:
    parts = [content.area.name, content.period.label]
    if content.report is not None:
        parts += [
            _("version %(version)s") % {"version": content.report.version},
            str(content.report.get_status_display()),
        ]
    else:
        parts.append(_("as of %(day)s") % {"day": f"{timezone.localdate():%Y-%m-%d}"})
    return " · ".join(str(p) for p in parts)


def _body_paragraph(document, line: str) -> None:
    """A paragraph indented by two characters on its first line (Word's firstLineChars,
    which follows the font size; firstLine for other readers)."""
    from docx.oxml.ns import qn
    from docx.shared import Pt

    paragraph = document.add_paragraph(without_control_characters(line))
    paragraph.paragraph_format.first_line_indent = Pt(BODY_SIZE * 2)
    indent = paragraph._p.get_or_add_pPr().find(qn("w:ind"))
    indent.set(qn("w:firstLineChars"), "200")


def _east_asian_font(style, name: str, size: int | None = None, bold: bool | None = None):
    """Set ``style``'s font for Chinese text (w:eastAsia) as well as Latin text; the theme
    fonts of Word's default template are dropped, since they would override it."""
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    font = style.font
    font.name = "Times New Roman"
    if size:
        font.size = Pt(size)
    if bold is not None:
        font.bold = bold
    font.color.rgb = RGBColor(0, 0, 0)
    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(theme), None)
    fonts.set(qn("w:eastAsia"), name)


def _chinese_styles(document) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Pt

    styles = document.styles
    _east_asian_font(styles["Normal"], BODY_FONT, BODY_SIZE)
    styles["Normal"].paragraph_format.line_spacing = 1.5
    for name, size in (("Title", 22), ("Heading 1", 16), ("Heading 2", 14)):
        _east_asian_font(styles[name], HEADING_FONT, size, bold=name != "Title")
        styles[name].paragraph_format.space_before = Pt(12)
        styles[name].paragraph_format.space_after = Pt(6)
    _east_asian_font(styles["Subtitle"], BODY_FONT, BODY_SIZE)
    _east_asian_font(styles["Caption"], BODY_FONT, 10)
    styles["Subtitle"].font.italic = False
    for name in ("Title", "Subtitle"):
        styles[name].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    # the default Title style draws a blue rule under itself
    title_ppr = styles["Title"].element.get_or_add_pPr()
    border = title_ppr.find(qn("w:pBdr"))
    if border is not None:
        title_ppr.remove(border)


def chart_pictures(content: ExportContent) -> list[tuple[str, bytes]]:
    """(caption, PNG) of the summary's charts, drawn from the live data (those the catalogue
    has the figures for)."""
    from reports import charts

    captions = {
        "ethnic-composition": _("Ethnic composition"),
        "visits-by-month": _("Visits by month"),
        "coverage-by-community": _("Visit coverage by community"),
    }
    return [
        (captions[name], charts.CHARTS[name](content.area, content.period, fmt="png"))
        for name in CHART_NAMES
        if charts.available(name)
    ]
