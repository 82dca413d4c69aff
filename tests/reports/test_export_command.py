"""``manage.py export_summary``: the same files as the download buttons, from the command line,
under a named user whose scope and permissions are checked and who is named in the log."""

import csv
import io

import pytest
from django.core.management import CommandError, call_command
from docx import Document
from openpyxl import load_workbook

from network.models import ExportLog
from tests.reports.test_exports import make_register, make_report


def export(**options):
    out = io.StringIO()
    call_command("export_summary", stdout=out, **options)
    return out.getvalue()


def test_writes_the_word_summary_and_logs_it_under_the_user(world, tmp_path):
    make_register(world)
    path = tmp_path / "平江街道_2025.docx"
    said = export(user="pingjiang", area="320508001000", period="2025", format="docx", output=path)
    assert str(path) in said
    document = Document(str(path))
    assert [p.text for p in document.paragraphs if p.style.name == "Title"] == [
        "平江街道2025年民族工作总结"
    ]
    assert "一、基本情况" in [p.text for p in document.paragraphs]
    log = ExportLog.objects.get()
    assert (log.user, log.exporter, log.file_format, log.area) == (
        world.pingjiang_staff,
        "summary",
        "docx",
        world.pingjiang,
    )
    assert log.filters["period"] == "2025"
    assert log.ip_address is None


def test_the_area_may_be_named_and_the_file_be_csv(world, tmp_path):
    make_register(world)
    path = tmp_path / "summary.csv"
    export(user="quminzongju", area="干将社区", period="2025-Q2", format="csv", output=path)
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = {row[0]: row for row in csv.reader(io.StringIO(data.decode("utf-8-sig")))}
    assert rows["minority_persons"][-1] == "1"  # 白兰
    assert ExportLog.objects.get().area == world.ganjiang


def test_a_report_by_its_id(world, tmp_path):
    report = make_report(world, snapshot=(7, 5, 2))
    path = tmp_path / "report.xlsx"
    export(user="quminzongju", report=report.pk, format="xlsx", output=path)
    book = load_workbook(str(path))
    assert book.sheetnames[0] == "报告信息"
    log = ExportLog.objects.get()
    assert (log.exporter, log.filters["report"]) == ("report", report.pk)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"user": "pingjiang", "area": "abc"}, "No area"),
        ({"user": "pingjiang", "area": "320508999999"}, "No area"),
        ({"user": "pingjiang", "area": "沧浪街道"}, "outside"),
        ({"user": "pingjiang", "area": "平江街道", "period": "2025-13"}, "13"),
        ({"user": "nobody", "area": "平江街道"}, "No user"),
        ({"user": "pingjianglu_llz", "area": "平江路社区"}, "may not export"),
        ({"user": "wugangwei", "area": "平江街道"}, "no current post"),
        ({"user": "pingjiang", "area": None}, "--area"),
        ({"user": "pingjiang", "area": "平江街道", "format": "pdf"}, "format"),
        ({"user": "canglang", "report": 987654, "period": None}, "No report"),
    ],
)
def test_bad_arguments_fail_cleanly_and_write_nothing(world, tmp_path, options, message):
    path = tmp_path / "out.docx"
    given = {"period": "2025", "format": "docx", "output": path, **options}
    with pytest.raises(CommandError, match=message):
        export(**{key: value for key, value in given.items() if value is not None})
    assert not path.exists()
    assert not ExportLog.objects.exists()


def test_a_report_of_another_sub_district_is_not_found(world, tmp_path):
    report = make_report(world, snapshot=(7, 5, 2))
    path = tmp_path / "out.docx"
    with pytest.raises(CommandError, match="No report"):
        export(user="canglang", report=report.pk, format="docx", output=path)
    assert not path.exists()


def test_a_report_for_another_area_than_named_is_refused(world, tmp_path):
    report = make_report(world, snapshot=(7, 5, 2))
    with pytest.raises(CommandError, match="平江街道"):
        export(
            user="quminzongju",
            report=report.pk,
            area="干将社区",
            format="docx",
            output=tmp_path / "r",
        )
