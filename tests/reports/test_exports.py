"""The files of a period summary and of a report, read back as a user's Excel and Word would
read them: sheet names and headers in Chinese, figures in the right cells, the summary's
sections in Word, and a submitted report showing its snapshot, not today's data."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.utils import timezone
from django.utils.translation import gettext
from docx import Document
from docx.oxml.ns import qn
from openpyxl import load_workbook

from reports import catalogue, charts, exports
from reports.catalogue import COUNT, MEDIAN, SHARE, SUM, Figure, Section
from reports.models import (
    Report,
    ReportAction,
    ReportDefinition,
    ReportEvent,
    ReportStatus,
    SnapshotFigure,
)
from reports.periods import parse_period
from reports.summary import summary_table
from tests.factories import HouseholdFactory, PersonFactory, _ethnicity

YEAR = parse_period("2025")
SECTIONS = [
    "一、基本情况",
    "二、组织建设",
    "三、活动开展",
    "四、服务与维权",
    "五、帮困",
    "六、共建与荣誉",
    "七、合作商户与服务卡",
]


def make_register(world):
    """马晓东 and 哈丽娜 (回族) in 平江路社区, 白兰 (满族) in 干将社区: three minority residents
    in 平江街道, who moved in during March 2025; 阿依吐尔逊 (维吾尔族) in 道前社区 belongs to
    沧浪街道."""
    moved_in = datetime.date(2025, 3, 1)
    ma = HouseholdFactory(
        community=world.pingjianglu, address="平江路112号3幢201室", moved_in_on=moved_in
    )
    bai = HouseholdFactory(community=world.ganjiang, address="干将东路88号", moved_in_on=moved_in)
    dq = HouseholdFactory(community=world.daoqian, address="道前街45号")
    PersonFactory(household=ma, name="马晓东")
    PersonFactory(household=ma, name="哈丽娜", sex="F")
    PersonFactory(household=bai, name="白兰", sex="F", ethnicity=_ethnicity("11"))
    PersonFactory(household=dq, name="阿依吐尔逊", sex="F", ethnicity=_ethnicity("05"))


def make_report(world, *, status=ReportStatus.SUBMITTED, snapshot=None):
    """平江街道's 2025 report, version 2; ``snapshot`` gives the frozen minority residents
    per area (total, 北片, 干将社区)."""
    definition = ReportDefinition.objects.create(
        title="2025年民族工作总结",
        area=world.district,
        period="2025",
        figure_keys="minority_persons\nminority_households",
        narrative_template="# {{ area }}{{ period }}民族工作总结\n\n一、基本情况\n"
        "现有少数民族{{ minority_persons }}人、共{{ minority_households }}户。\n",
        created_by=world.bureau,
    )
    now = timezone.now()
    report = Report.objects.create(
        definition=definition,
        area=world.pingjiang,
        period="2025",
        version=2,
        status=status,
        narrative=definition.narrative_template,
        figure_keys=definition.figure_keys,
        generated_by=world.pingjiang_staff,
        generated_at=now - datetime.timedelta(hours=2),
        submitted_at=now if status != ReportStatus.DRAFT else None,
    )
    ReportEvent.objects.create(
        report=report,
        action=ReportAction.GENERATED,
        by=world.pingjiang_staff,
        at=report.generated_at,
    )
    if snapshot:
        ReportEvent.objects.create(
            report=report, action=ReportAction.SUBMITTED, by=world.pingjiang_staff, at=now
        )
        total, north, ganjiang = snapshot
        rows = [
            (world.pingjiang, total, total - 1),
            (world.north_zone, north, north),
            (world.ganjiang, ganjiang, 1),
        ]
        for area, persons, households in rows:
            SnapshotFigure.objects.create(
                report=report, key="minority_persons", area=area, position=0, value=persons
            )
            SnapshotFigure.objects.create(
                report=report, key="minority_households", area=area, position=1, value=households
            )
    return report


def label(key):
    return str(catalogue.figure(key).label)


def rows_by_label(sheet, column=2):
    """The sheet's rows keyed by the text of ``column`` (1-based)."""
    return {row[column - 1]: row for row in sheet.iter_rows(min_row=2, values_only=True)}


def figure_header():
    """ "Figure" is a word several pages share (指标); whatever it is called, it is Chinese."""
    text = gettext("Figure")
    assert not text.isascii()
    return text


def header(sheet):
    return [cell.value for cell in sheet[1]]


# a few figures keep the tests fast; the views' tests go through the whole catalogue
KEYS = ["minority_persons", "minority_households", "ethnic_groups", "minority_share"]


@pytest.fixture
def summary(world):
    make_register(world)
    return summary_table(world.pingjiang, YEAR, KEYS)


# ---------------------------------------------------------------- xlsx


def test_summary_workbook_has_chinese_sheets_headers_and_the_figures(world, summary):
    book = load_workbook(io.BytesIO(exports.summary_file(summary, "xlsx")))
    assert book.sheetnames == ["汇总", "分区"]
    main = book["汇总"]
    assert header(main) == ["部分", figure_header(), "单位", "本期", "上期", "去年同期", "口径"]
    row = rows_by_label(main)[label("minority_persons")]
    assert row[3] == 3  # this period: 马晓东, 哈丽娜, 白兰
    assert row[4] == 0 and row[5] == 0  # they moved in in 2025
    assert main["A1"].font.bold
    assert main.freeze_panes == "C2"
    assert main.page_setup.orientation == "landscape"
    assert main.page_setup.fitToWidth == 1

    by_area = book["分区"]
    columns = header(by_area)
    assert columns[:2] == [figure_header(), "单位"]
    assert set(columns[2:]) == {"北片", "干将社区", "平江街道（合计）"}
    assert columns[-1] == "平江街道（合计）"
    row = rows_by_label(by_area, column=1)[label("minority_persons")]
    assert row[columns.index("北片")] == 2
    assert row[columns.index("干将社区")] == 1
    assert row[columns.index("平江街道（合计）")] == 3
    assert "道前社区" not in columns


def test_figures_that_cannot_be_worked_out_stay_empty_not_zero(world, summary):
    book = load_workbook(io.BytesIO(exports.summary_file(summary, "xlsx")))
    # no population table for 2025: the share of the population cannot be said
    row = rows_by_label(book["汇总"])[label("minority_share")]
    assert row[3] is None


def test_number_formats_follow_the_kind_of_figure():
    def figure(measure):
        return Figure("x", "x", "", "", Section.BASIC, measure=measure, records=lambda a, p: None)

    assert exports.number_format(figure(COUNT), 12) == "0"
    assert exports.number_format(figure(SUM), Decimal("1234.50")) == "#,##0.00"
    assert exports.number_format(figure(SHARE), Decimal("12.5")) == '0.0"%"'
    assert exports.number_format(figure(MEDIAN), Decimal("3.5")) == "0.0"
    assert exports.cell_value(figure(COUNT), Decimal("12.00")) == 12
    assert exports.cell_value(figure(SUM), Decimal("1234.50")) == 1234.5


def test_report_workbook_shows_the_snapshot_not_todays_data(world):
    make_register(world)
    report = make_report(world, snapshot=(7, 5, 2))  # frozen values, unlike today's 3, 2, 1
    book = load_workbook(io.BytesIO(exports.report_file(report, "xlsx")))
    assert book.sheetnames == ["报告信息", "汇总", "分区", "正文"]
    facts = dict(book["报告信息"].iter_rows(min_row=2, values_only=True))
    assert facts["标题"] == "2025年民族工作总结"
    assert facts["区域"] == "平江街道"
    assert facts["版本"] == "2"
    assert facts["提交"].startswith("李秀英 · ")
    main = book["汇总"]
    # frozen: no comparison with the live data
    assert header(main) == ["部分", figure_header(), "单位", "本期", "口径"]
    assert rows_by_label(main)[label("minority_persons")][3] == 7
    by_area = book["分区"]
    columns = header(by_area)
    row = rows_by_label(by_area, column=1)[label("minority_persons")]
    assert row[columns.index("北片")] == 5
    texts = [row[0] for row in book["正文"].iter_rows(min_row=2, values_only=True)]
    assert "现有少数民族7人、共6户。" in texts


def test_a_draft_report_is_exported_with_its_live_figures(world):
    make_register(world)
    report = make_report(world, status=ReportStatus.DRAFT)
    book = load_workbook(io.BytesIO(exports.report_file(report, "xlsx")))
    main = book["汇总"]
    assert header(main)[3:6] == ["本期", "上期", "去年同期"]
    assert rows_by_label(main)[label("minority_persons")][3] == 3


def test_text_that_looks_like_a_formula_is_kept_as_text(world):
    report = make_report(world, status=ReportStatus.DRAFT)
    report.narrative = '=HYPERLINK("http://example.com")\n'
    book = load_workbook(io.BytesIO(exports.report_file(report, "xlsx")))
    cell = book["正文"]["A2"]
    assert cell.data_type == "s"
    assert cell.value.startswith("'=")


# ---------------------------------------------------------------- csv


def test_csv_has_a_bom_and_one_row_per_figure(world, summary):
    data = exports.summary_file(summary, "csv")
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["代码", figure_header(), "单位"]
    assert rows[0][-1] == "平江街道（合计）"
    by_key = {row[0]: row for row in rows[1:]}
    assert len(by_key) == len(summary.figures)
    persons = by_key["minority_persons"]
    assert persons[1] == label("minority_persons")
    assert persons[rows[0].index("干将社区")] == "1"
    assert persons[-1] == "3"
    assert by_key["minority_share"][-1] == ""  # no population table: nothing, not 0


# ---------------------------------------------------------------- docx


def styled(document, style):
    return [p.text for p in document.paragraphs if p.style.name == style]


def test_word_summary_follows_seed_003_with_the_figures_filled_in(world, summary):
    document = Document(io.BytesIO(exports.summary_file(summary, "docx")))
    assert styled(document, "Title") == ["平江街道2025年民族工作总结"]
    assert styled(document, "Heading 1")[: len(SECTIONS)] == SECTIONS
    text = "\n".join(p.text for p in document.paragraphs)
    assert "少数民族3人、共2户" in text
    assert "XX" not in text
    body = next(p for p in document.paragraphs if p.text.startswith("平江街道现有户籍人口"))
    indent = body._p.pPr.find(qn("w:ind"))
    assert indent.get(qn("w:firstLineChars")) == "200"

    table = document.tables[0]
    cells = [[c.text for c in row.cells] for row in table.rows]
    assert cells[0] == [figure_header(), "数值", "单位"]
    assert [label("minority_persons"), "3", str(catalogue.figure("minority_persons").unit)] in cells
    assert [str(Section.LABELS[Section.BASIC])] * 3 in cells  # a merged row per section
    figure_rows = [row for row in cells if row[0] != row[1]]
    assert len(figure_rows) == len(summary.figures) + 1

    # the charts of the summary, drawn from the live data
    drawn = [name for name in exports.CHART_NAMES if charts.available(name)]
    assert "ethnic-composition" in drawn
    assert len(document.inline_shapes) == len(drawn)


def test_word_styles_name_chinese_fonts(world):
    report = make_report(world, snapshot=(7, 5, 2))  # frozen: no charts to draw
    document = Document(io.BytesIO(exports.report_file(report, "docx")))

    def east_asian(style):
        return document.styles[style].element.rPr.rFonts.get(qn("w:eastAsia"))

    assert east_asian("Normal") == "宋体"
    assert east_asian("Heading 1") == "黑体"
    assert east_asian("Title") == "黑体"


def test_word_report_is_filled_from_the_snapshot_and_has_no_live_charts(world):
    make_register(world)
    report = make_report(world, snapshot=(7, 5, 2))
    document = Document(io.BytesIO(exports.report_file(report, "docx")))
    assert styled(document, "Title") == ["平江街道2025年民族工作总结"]
    assert "一、基本情况" in styled(document, "Heading 1")
    text = "\n".join(p.text for p in document.paragraphs)
    assert "现有少数民族7人、共6户。" in text
    assert "第2版" in text  # the subtitle names the version
    assert len(document.inline_shapes) == 0
    cells = [[c.text for c in row.cells] for row in document.tables[0].rows]
    assert [label("minority_persons"), "7", str(catalogue.figure("minority_persons").unit)] in cells


def test_file_names_are_chinese_and_safe(world, summary):
    content = exports.from_summary(summary)
    assert content.filename("docx") == "平江街道_2025_民族工作总结.docx"
    assert content.ascii_filename("docx") == "summary-320508001000-2025.docx"
    report = make_report(world)
    report.definition.title = "2025年/上半年 总结"
    name = exports.from_report(report).filename("xlsx")
    assert name == "平江街道_2025_2025年_上半年_总结_v2.xlsx"
