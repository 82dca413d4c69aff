"""Exporting the register: the same rows and masking as the page, formulas defused, every
export logged; and the export log that district bureau staff read."""

import csv
import datetime
import io

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from network.models import ExportLog
from residents.exporters import safe_cell
from tests.factories import HouseholdFactory, PersonFactory

EXPORT = reverse("residents:person-export")
LOG = reverse("network:export-log")


def xlsx_rows(response):
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    return [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]


def csv_rows(response):
    assert response.status_code == 200
    data = b"".join(response.streaming_content)
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM, so Excel reads the Chinese
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def column(rows, index):
    return sorted(str(r[index]) for r in rows[1:])


NAME, ETHNICITY, ID = 4, 8, 9


def test_community_staff_export_their_community_to_excel(world, register, login):
    rows = xlsx_rows(login(world.pingjianglu_staff).get(EXPORT, {"format": "xlsx"}))
    assert column(rows, NAME) == ["哈丽娜", "马晓东"]
    assert column(rows, ETHNICITY) == ["回族", "回族"]
    number = register.ma_xiaodong.id_number
    assert f"{number[:6]}********{number[-4:]}" in column(rows, ID)
    assert number not in str(rows)
    log = ExportLog.objects.get()
    assert (log.user, log.file_format, log.row_count) == (world.pingjianglu_staff, "xlsx", 2)
    assert log.area == world.pingjianglu


def test_csv_export_follows_the_filters_of_the_page(world, register, login):
    client = login(world.bureau)
    rows = csv_rows(
        client.get(EXPORT, {"format": "csv", "community": world.pingjiang.pk, "ethnicity": "11"})
    )
    assert column(rows, NAME) == ["白兰"]
    log = ExportLog.objects.get()
    assert log.row_count == 1 and log.area == world.pingjiang
    assert log.filters["ethnicity"] == "11"
    assert log.filters["community"].endswith("平江街道")
    rows = csv_rows(client.get(EXPORT, {"format": "csv", "q": "mxd"}))
    assert column(rows, NAME) == ["马晓东"]
    assert ExportLog.objects.latest("at").filters["q"] == "mxd"


def test_export_is_masked_like_the_page_for_a_role_without_sensitive_data(world, register, login):
    """Should an office let its liaisons export, they get what their page shows."""
    Group.objects.get(name="liaison").permissions.add(
        Permission.objects.get(codename="export_households")
    )
    rows = csv_rows(login(world.pingjianglu_liaison).get(EXPORT, {"format": "csv"}))
    assert column(rows, NAME) == ["哈丽娜", "马晓东"]
    assert set(column(rows, ETHNICITY)) == {"—"}
    assert not any(c.isdigit() for c in "".join(column(rows, ID)))
    assert "低保" not in str(rows)


def test_cells_that_look_like_formulas_are_exported_as_text(world, register, login):
    household = HouseholdFactory(
        community=world.pingjianglu, address='=HYPERLINK("http://evil.example","点我")'
    )
    PersonFactory(household=household, name="@SUM(A1)")
    PersonFactory(household=household, name="-2+3")
    client = login(world.pingjianglu_staff)
    rows = xlsx_rows(client.get(EXPORT, {"format": "xlsx", "q": "点我"}))
    assert rows[1][2] == '\'=HYPERLINK("http://evil.example","点我")'
    assert sorted(r[NAME] for r in rows[1:]) == ["'-2+3", "'@SUM(A1)"]
    rows = csv_rows(client.get(EXPORT, {"format": "csv", "q": "点我"}))
    assert all(r[2].startswith("'=") for r in rows[1:])


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@x", "\tx", "\rx"])
def test_every_formula_start_is_defused(value):
    assert safe_cell(value) == "'" + value
    assert safe_cell("马晓东") == "马晓东" and safe_cell(42) == 42


def test_liaison_cannot_export_and_nothing_is_logged(world, register, login):
    assert login(world.pingjianglu_liaison).get(EXPORT, {"format": "xlsx"}).status_code == 403
    assert login(world.no_post).get(EXPORT, {"format": "csv"}).status_code == 403
    assert not ExportLog.objects.exists()


def test_an_unknown_format_is_refused_with_a_message(world, register, login):
    response = login(world.pingjianglu_staff).get(EXPORT, {"format": "pdf"})
    assert response.status_code == 302
    assert not ExportLog.objects.exists()


def test_export_costs_the_same_queries_at_two_sizes(world, register, login):
    client = login(world.pingjiang_staff)

    def count():
        with CaptureQueriesContext(connection) as queries:
            xlsx_rows(client.get(EXPORT, {"format": "xlsx"}))
        return len(queries)

    small = count()
    for n in range(30):
        PersonFactory(household=HouseholdFactory(community=world.ganjiang, address=f"干将路{n}号"))
    assert count() == small
    assert ExportLog.objects.latest("at").row_count == 33


# ---------------------------------------------------------------- the export log


def test_bureau_reads_the_export_log_and_filters_it(world, register, login):
    login(world.pingjianglu_staff).get(EXPORT, {"format": "csv"})
    login(world.canglang_staff).get(EXPORT, {"format": "xlsx"})
    old = ExportLog.objects.get(user=world.canglang_staff)
    old.at = timezone.now() - datetime.timedelta(days=40)
    old.save()
    client = login(world.bureau)
    response = client.get(LOG)
    assert response.status_code == 200
    assert {e.user for e in response.context["page"]} == {
        world.pingjianglu_staff,
        world.canglang_staff,
    }
    response = client.get(LOG, {"who": "canglang"})
    assert [e.user for e in response.context["page"]] == [world.canglang_staff]
    since = (timezone.localdate() - datetime.timedelta(days=7)).isoformat()
    response = client.get(LOG, {"date_from": since})
    assert [e.user for e in response.context["page"]] == [world.pingjianglu_staff]
    until = (timezone.localdate() - datetime.timedelta(days=30)).isoformat()
    response = client.get(LOG, {"date_to": until})
    assert [e.user for e in response.context["page"]] == [world.canglang_staff]
    assert client.get(LOG, {"date_from": "0001-01-01", "page": "x"}).status_code == 200


@pytest.mark.parametrize("who", ["pingjiang_staff", "pingjianglu_staff", "pingjianglu_liaison"])
def test_only_bureau_staff_read_the_export_log(world, login, who):
    assert login(getattr(world, who)).get(LOG).status_code == 403


def test_export_log_costs_the_same_queries_at_two_sizes(world, register, login):
    staff = login(world.pingjianglu_staff)
    staff.get(EXPORT, {"format": "csv"})
    client = login(world.bureau)
    client.get(LOG)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(LOG).status_code == 200
        return len(queries)

    small = count()
    staff = login(world.pingjianglu_staff)
    for _n in range(5):
        staff.get(EXPORT, {"format": "csv"})
    client = login(world.bureau)
    client.get(LOG)
    assert count() == small
