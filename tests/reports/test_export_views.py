"""Downloading and printing summaries and reports: who may, what the file is called, that
every download is logged, and that bad input gets a message or a 404, never a 500."""

import io
from urllib.parse import quote

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from docx import Document
from openpyxl import load_workbook

from network.models import Area, AreaLevel, ExportLog
from network.roles import GROUP_NAMES
from reports import catalogue
from reports.models import ReportStatus, SnapshotFigure
from reports.periods import PeriodError, parse_period
from tests.reports.test_exports import make_register, make_report

SUMMARY_EXPORT = reverse("reports:summary-export")
SUMMARY_PRINT = reverse("reports:summary-print")


def report_export(report):
    return reverse("reports:report-export", args=[report.pk])


def report_print(report):
    return reverse("reports:report-print", args=[report.pk])


@pytest.fixture
def pingjiang_2025(world):
    make_register(world)
    return {"area": world.pingjiang.pk, "period": "2025"}


# ---------------------------------------------------------------- downloads


def test_staff_download_the_summary_as_excel_and_it_is_logged(world, login, pingjiang_2025):
    response = login(world.pingjiang_staff).get(
        SUMMARY_EXPORT, {**pingjiang_2025, "format": "xlsx"}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; ")
    assert f"filename*=utf-8''{quote('平江街道_2025_民族工作总结.xlsx')}" in disposition
    assert 'filename="summary-320508001000-2025.xlsx"' in disposition
    book = load_workbook(io.BytesIO(response.content))
    persons = str(catalogue.figure("minority_persons").label)
    rows = {row[1]: row for row in book["汇总"].iter_rows(min_row=2, values_only=True)}
    assert rows[persons][3] == 3

    log = ExportLog.objects.get()
    assert log.user == world.pingjiang_staff
    assert log.exporter == "summary"
    assert log.file_format == "xlsx"
    assert log.area == world.pingjiang
    assert log.filters == {"area": world.pingjiang.pk, "period": "2025", "format": "xlsx"}
    assert log.label == "平江街道2025年民族工作总结"
    assert log.row_count == len(catalogue.catalogue())


def test_the_summary_as_word_and_csv(world, login, pingjiang_2025):
    client = login(world.bureau)
    response = client.get(SUMMARY_EXPORT, {**pingjiang_2025, "format": "docx"})
    assert response.status_code == 200
    document = Document(io.BytesIO(response.content))
    assert "一、基本情况" in [p.text for p in document.paragraphs]
    response = client.get(SUMMARY_EXPORT, {**pingjiang_2025, "format": "csv"})
    assert response.status_code == 200
    assert response.content.startswith(b"\xef\xbb\xbf")
    assert response["Content-Type"].startswith("text/csv")
    logs = ExportLog.objects.order_by("at", "pk")
    assert [log.file_format for log in logs] == ["docx", "csv"]
    assert {log.user for log in logs} == {world.bureau}


def test_the_summary_defaults_to_the_users_own_area(world, login):
    response = login(world.pingjianglu_staff).get(
        SUMMARY_EXPORT, {"format": "csv", "period": "2025"}
    )
    assert response.status_code == 200
    assert ExportLog.objects.get().area == world.pingjianglu


# ---------------------------------------------------------------- who may


def test_another_sub_district_gets_404_and_nothing_is_logged(world, login):
    client = login(world.canglang_staff)
    response = client.get(SUMMARY_EXPORT, {"area": world.pingjiang.pk, "format": "xlsx"})
    assert response.status_code == 404
    assert client.get(SUMMARY_PRINT, {"area": world.pingjiang.pk}).status_code == 404
    assert not ExportLog.objects.exists()


def test_a_community_cannot_export_its_sub_district(world, login):
    response = login(world.pingjianglu_staff).get(SUMMARY_EXPORT, {"area": world.pingjiang.pk})
    assert response.status_code == 404


def test_a_liaison_is_refused(world, login):
    client = login(world.pingjianglu_liaison)
    assert client.get(SUMMARY_EXPORT, {"area": world.pingjianglu.pk}).status_code == 403
    assert client.get(SUMMARY_PRINT, {"area": world.pingjianglu.pk}).status_code == 403
    assert not ExportLog.objects.exists()


def test_staff_without_the_export_permission_are_refused(world, login):
    group = Group.objects.get(name=GROUP_NAMES["subdistrict"])
    group.permissions.remove(Permission.objects.get(codename="export_reports"))
    client = login(world.pingjiang_staff)
    assert client.get(SUMMARY_EXPORT, {"area": world.pingjiang.pk}).status_code == 403
    report = make_report(world, snapshot=(7, 5, 2))
    assert client.get(report_export(report)).status_code == 403
    assert not ExportLog.objects.exists()


# ---------------------------------------------------------------- bad input


def period_message(text):
    with pytest.raises(PeriodError) as error:
        parse_period(text)
    return str(error.value)


def test_an_unknown_format_gets_a_chinese_message(world, login):
    client = login(world.pingjiang_staff)
    response = client.get(SUMMARY_EXPORT, {"area": world.pingjiang.pk, "format": "pdf"})
    assert response.status_code == 400
    assert "“pdf”不是可导出的文件格式" in response.content.decode()
    assert not ExportLog.objects.exists()


@pytest.mark.parametrize("period", ["2025-13", "abc", "1800"])
def test_a_period_that_cannot_be_read_gets_the_periods_message(world, login, period):
    client = login(world.pingjiang_staff)
    response = client.get(SUMMARY_EXPORT, {"area": world.pingjiang.pk, "period": period})
    assert response.status_code == 400
    assert period_message(period) in response.content.decode()
    assert not ExportLog.objects.exists()


@pytest.mark.parametrize("area", ["abc", "987654", "-1", "１"])
def test_an_area_that_cannot_be_read_is_a_404(world, login, area):
    client = login(world.pingjiang_staff)
    assert client.get(SUMMARY_EXPORT, {"area": area}).status_code == 404
    assert client.get(SUMMARY_PRINT, {"area": area}).status_code == 404


def test_a_print_with_a_bad_period_says_so(world, login):
    response = login(world.pingjiang_staff).get(SUMMARY_PRINT, {"period": "2025-13"})
    assert response.status_code == 400
    assert period_message("2025-13") in response.content.decode()


# ---------------------------------------------------------------- reports


def test_a_report_downloads_from_its_snapshot_and_is_logged(world, login):
    make_register(world)
    report = make_report(world, snapshot=(7, 5, 2))
    response = login(world.bureau).get(report_export(report), {"format": "xlsx"})
    assert response.status_code == 200
    name = quote("平江街道_2025_2025年民族工作总结_v2.xlsx")
    assert f"filename*=utf-8''{name}" in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames[0] == "报告信息"
    log = ExportLog.objects.get()
    assert (log.user, log.exporter, log.file_format, log.area) == (
        world.bureau,
        "report",
        "xlsx",
        world.pingjiang,
    )
    assert log.filters == {"report": report.pk, "version": 2, "period": "2025", "format": "xlsx"}


def test_a_report_as_word(world, login):
    report = make_report(world, snapshot=(7, 5, 2))
    response = login(world.pingjiang_staff).get(report_export(report), {"format": "docx"})
    assert response.status_code == 200
    text = "\n".join(p.text for p in Document(io.BytesIO(response.content)).paragraphs)
    assert "现有少数民族7人、共6户。" in text


def test_another_sub_district_cannot_reach_a_report(world, login):
    report = make_report(world, snapshot=(7, 5, 2))
    client = login(world.canglang_staff)
    assert client.get(report_export(report), {"format": "docx"}).status_code == 404
    assert client.get(report_print(report)).status_code == 404
    assert login(world.pingjianglu_liaison).get(report_export(report)).status_code == 403
    assert not ExportLog.objects.exists()


def test_a_report_with_a_bad_format_gets_a_message(world, login):
    report = make_report(world, status=ReportStatus.DRAFT)
    response = login(world.pingjiang_staff).get(report_export(report), {"format": "pdf"})
    assert response.status_code == 400
    assert not ExportLog.objects.exists()


# ---------------------------------------------------------------- print pages


def test_the_summary_prints_on_a_clean_page(world, login, pingjiang_2025):
    response = login(world.pingjiang_staff).get(SUMMARY_PRINT, pingjiang_2025)
    assert response.status_code == 200
    page = response.content.decode()
    assert "<h1>平江街道2025年民族工作总结</h1>" in page
    from django.contrib.staticfiles.finders import find  # its print stylesheet (no inline CSS)

    assert "css/tongxin-print-summary.css" in page
    with open(find("css/tongxin-print-summary.css"), encoding="utf-8") as css:
        assert "@page" in css.read()
    assert "<nav" not in page
    assert "干将社区" in page and "道前社区" not in page
    log = ExportLog.objects.get()
    assert (log.exporter, log.file_format, log.user) == ("summary", "html", world.pingjiang_staff)


def test_the_report_prints_with_its_text(world, login):
    report = make_report(world, snapshot=(7, 5, 2))
    response = login(world.pingjiang_staff).get(report_print(report))
    assert response.status_code == 200
    page = response.content.decode()
    assert "<h2>一、基本情况</h2>" in page
    assert "现有少数民族7人、共6户。" in page
    assert "第2版" in page
    assert ExportLog.objects.get().exporter == "report"


def test_the_report_print_page_costs_the_same_queries_for_more_areas(world, login):
    report = make_report(world, snapshot=(7, 5, 2))
    client = login(world.pingjiang_staff)
    client.get(report_print(report))
    with CaptureQueriesContext(connection) as small:
        client.get(report_print(report))
    for n in range(4):
        area = Area.objects.create(
            code=f"32050800101{n}",
            name=f"观前{n}社区",
            level=AreaLevel.COMMUNITY,
            parent=world.pingjiang,
        )
        for position, key in enumerate(["minority_persons", "minority_households"]):
            SnapshotFigure.objects.create(
                report=report, key=key, area=area, position=position, value=n
            )
    with CaptureQueriesContext(connection) as large:
        response = client.get(report_print(report))
    assert "观前3社区" in response.content.decode()
    assert len(large) == len(small)
