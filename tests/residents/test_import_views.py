"""Ledger import in the browser: template download, preview, confirm, permissions."""

import io

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from residents.ledger_import import HEADERS
from residents.models import Household, Person
from tests.residents.test_import_ledger import ledger_xlsx, messy_rows, person_row

IMPORT_URL = reverse("residents:ledger-import")
CONFIRM_URL = reverse("residents:ledger-import-confirm")
CANCEL_URL = reverse("residents:ledger-import-cancel")
TEMPLATE_URL = reverse("residents:ledger-template")


def upload(client, data, name="台账.xlsx"):
    return client.post(IMPORT_URL, {"file": SimpleUploadedFile(name, data)})


def test_staff_download_the_template_with_instructions_and_their_communities(world, login):
    response = login(world.pingjiang_staff).get(TEMPLATE_URL)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert ".xlsx" in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.content))
    ledger, instructions = book.worksheets
    assert [c.value for c in ledger[1]] == HEADERS
    # no example rows that could be imported by mistake
    assert all(c.value is None for row in ledger.iter_rows(min_row=2) for c in row)
    cells = {c.value for row in instructions.iter_rows() for c in row}
    assert {"户号", "身份证号", "民族"} <= cells
    assert {"平江路社区", "320508001001", "干将社区"} <= cells
    assert "道前社区" not in cells  # another sub-district's community


def test_the_template_round_trips_into_an_import(world, login):
    client = login(world.pingjiang_staff)
    book = load_workbook(io.BytesIO(client.get(TEMPLATE_URL).content))
    sheet = book.worksheets[0]
    sheet.append([person_row(姓名="马德明", 性别="男").get(h, "") for h in HEADERS])
    buffer = io.BytesIO()
    book.save(buffer)
    response = upload(client, buffer.getvalue())
    assert response.status_code == 200
    assert response.context["plan"].ok


def test_upload_shows_a_preview_and_writes_nothing(world, login):
    client = login(world.pingjiang_staff)
    response = upload(client, ledger_xlsx(messy_rows()))
    assert response.status_code == 200
    page = response.content.decode()
    assert "马建华" in page and "白雨" in page
    assert 'data-outcome="new"' in page
    assert "32050819840714011X" not in page  # ID numbers are masked in the preview
    assert response.context["token"]
    assert not Person.objects.exists()
    assert not Household.objects.exists()


def test_confirm_writes_every_row(world, login):
    client = login(world.pingjiang_staff)
    token = upload(client, ledger_xlsx(messy_rows())).context["token"]
    waiting = client.session["ledger_import_pending"][token]["path"]
    assert default_storage.exists(waiting)
    response = client.post(CONFIRM_URL, {"token": token})
    assert response.status_code == 302
    assert Person.objects.count() == 5
    assert Person.objects.get(name="马建华").history.get().history_user == world.pingjiang_staff
    assert not default_storage.exists(waiting)
    # the token is spent: a second confirm writes nothing more
    client.post(CONFIRM_URL, {"token": token})
    assert Person.objects.count() == 5


def test_a_bad_row_is_named_and_nothing_can_be_confirmed(world, login):
    client = login(world.pingjiang_staff)
    rows = messy_rows()
    rows.insert(2, person_row(户号="PJL-102", 姓名="丁永祥", 性别="男", 民族="拉牯族"))
    response = upload(client, ledger_xlsx(rows))
    assert response.status_code == 200
    assert response.context["token"] is None
    page = response.content.decode()
    assert 'data-row="4" data-outcome="error"' in page
    assert "拉牯族" in page
    assert CONFIRM_URL not in page
    assert not Person.objects.exists()


def test_confirm_refuses_all_when_a_row_fails_after_the_preview(world, login, register):
    client = login(world.pingjiang_staff)
    rows = [*messy_rows(), person_row(户号="PJL-001", 地址="", 姓名="马晓梅", 性别="女")]
    token = upload(client, ledger_xlsx(rows)).context["token"]
    register.ma_household.archived_at = "2026-01-01T00:00:00+08:00"
    register.ma_household.save()  # meanwhile someone archived PJL-001
    response = client.post(CONFIRM_URL, {"token": token})
    assert response.status_code == 200
    assert [r.number for r in response.context["plan"].error_rows] == [7]
    assert not Person.objects.filter(name__in=["马建华", "马晓梅"]).exists()


def test_confirm_shows_the_preview_again_when_outcomes_changed(world, login, register):
    client = login(world.pingjiang_staff)
    rows = [
        person_row(
            户号="PJL-001",
            地址="",
            姓名="马晓东",
            身份证号=register.ma_xiaodong.id_number,
            手机="13900000009",
        )
    ]
    token = upload(client, ledger_xlsx(rows)).context["token"]
    register.ma_xiaodong.mobile = "13900000009"
    register.ma_xiaodong.save()  # the row that was an update is now unchanged
    response = client.post(CONFIRM_URL, {"token": token})
    assert response.status_code == 200
    assert response.context["plan"].written is False
    assert response.context["plan"].rows[0].outcome == "unchanged"
    assert client.post(CONFIRM_URL, {"token": token}).status_code == 302


def test_a_forged_or_foreign_token_writes_nothing(world, login):
    client = login(world.pingjiang_staff)
    token = upload(client, ledger_xlsx(messy_rows())).context["token"]
    other = login(world.bureau)  # the same test client, now another user's session
    assert other.post(CONFIRM_URL, {"token": token}).status_code == 302
    assert other.post(CONFIRM_URL, {"token": "../../etc/passwd"}).status_code == 302
    assert other.post(CONFIRM_URL, {}).status_code == 302
    assert not Person.objects.exists()


def test_cancel_discards_the_upload(world, login):
    client = login(world.pingjiang_staff)
    token = upload(client, ledger_xlsx(messy_rows())).context["token"]
    assert client.post(CANCEL_URL, {"token": token}).status_code == 302
    client.post(CONFIRM_URL, {"token": token})
    assert not Person.objects.exists()


def test_an_unreadable_file_gets_a_message_not_a_500(world, login):
    client = login(world.pingjiang_staff)
    response = upload(client, b"\x00garbage", name="台账.xlsx")
    assert response.status_code == 200
    assert response.context["form"].errors
    response = upload(client, b"x", name="台账.pdf")
    assert response.status_code == 200
    assert response.context["form"].errors


def test_rows_outside_the_users_scope_are_errors_in_the_preview(world, login):
    client = login(world.pingjiang_staff)
    rows = [person_row(社区="道前社区", 姓名="穆永祥", 性别="男")]
    response = upload(client, ledger_xlsx(rows))
    assert response.context["plan"].error_rows[0].number == 2
    assert response.context["token"] is None


@pytest.mark.parametrize("who", ["pingjianglu_staff", "pingjianglu_liaison", "daoqian_liaison"])
def test_community_staff_and_liaisons_cannot_import(world, login, who):
    client = login(getattr(world, who))
    assert client.get(IMPORT_URL).status_code == 403
    assert client.get(TEMPLATE_URL).status_code == 403
    assert upload(client, ledger_xlsx(messy_rows())).status_code == 403
    assert client.post(CONFIRM_URL, {"token": "x"}).status_code == 403
    assert not Person.objects.exists()


@pytest.mark.parametrize("who", ["bureau", "pingjiang_staff", "canglang_staff", "superuser"])
def test_district_and_sub_district_staff_may_import(world, login, who):
    assert login(getattr(world, who)).get(IMPORT_URL).status_code == 200
