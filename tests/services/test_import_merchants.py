"""Importing partner merchants (django-import-export): the template, the preview that
writes nothing, the confirm that writes every row or none, and a clear message with its row
number for each bad row."""

import io

import pytest
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from services.models import Merchant
from services.resources import MERCHANT_COLUMNS, import_file
from tests.services.test_merchants_merchant_pages import CODE, valid_code

HEADERS = [c.header for c in MERCHANT_COLUMNS]
IMPORT = reverse("services:merchant-import")
CONFIRM = reverse("services:merchant-import-confirm")
CANCEL = reverse("services:merchant-import-cancel")
TEMPLATE = reverse("services:merchant-import-template")


def xlsx(rows, headers=HEADERS) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(list(headers))
    for row in rows:
        sheet.append([row.get(h, "") for h in headers])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def merchant_row(**cells):
    row = {
        "名称": "古城清真牛肉店",
        "类别": "清真餐饮",
        "地址": "临顿路56号",
        "联系人": "马海",
        "电话": "13912340000",
        "管理单位": "平江街道",
        "服务社区": "平江路社区、干将社区",
    }
    row.update(cells)
    return row


def upload(client, data, name="商户.xlsx"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(IMPORT, {"file": SimpleUploadedFile(name, data)})


def test_template_lists_the_columns_categories_and_the_users_areas(world, login):
    response = login(world.pingjiang_staff).get(TEMPLATE)
    assert response.status_code == 200
    assert ".xlsx" in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.content))
    sheet, notes = book.worksheets
    assert [c.value for c in sheet[1]] == HEADERS
    assert all(c.value is None for row in sheet.iter_rows(min_row=2) for c in row)
    cells = {c.value for row in notes.iter_rows() for c in row}
    assert {"平江街道", "320508001000", "平江路社区", "干将社区", "清真餐饮", "halal_food"} <= cells
    assert "沧浪街道" not in cells and "道前社区" not in cells


def test_the_template_round_trips_into_an_import(world, login):
    client = login(world.pingjiang_staff)
    book = load_workbook(io.BytesIO(client.get(TEMPLATE).content))
    book.worksheets[0].append([merchant_row().get(h, "") for h in HEADERS])
    out = io.BytesIO()
    book.save(out)
    response = upload(client, out.getvalue())
    assert response.context["plan"].ok


def test_preview_writes_nothing_and_confirm_writes_every_row(world, partners, login):
    client = login(world.pingjiang_staff)
    rows = [
        merchant_row(),
        merchant_row(
            名称="姑苏家政服务社",
            类别="housekeeping",
            统一社会信用代码=CODE.lower(),
            服务社区="平江路社区,干将社区",
        ),
        merchant_row(名称="平江路理发店", 类别="理发", 管理单位="320508001001", 服务社区=""),
    ]
    response = upload(client, xlsx(rows))
    assert response.status_code == 200
    plan = response.context["plan"]
    assert plan.ok and [r.outcome for r in plan.rows] == ["new", "new", "new"]
    assert [r.number for r in plan.rows] == [2, 3, 4]
    assert not Merchant.objects.filter(name="古城清真牛肉店").exists()
    token = response.context["token"]
    response = client.post(CONFIRM, {"token": token})
    assert response.status_code == 302
    beef = Merchant.objects.get(name="古城清真牛肉店")
    assert (beef.area, beef.category) == (world.pingjiang, "halal_food")
    assert set(beef.serves.all()) == {world.pingjianglu, world.ganjiang}
    housekeeping = Merchant.objects.get(name="姑苏家政服务社")
    assert housekeeping.licence_number == CODE
    assert set(housekeeping.serves.all()) == {world.pingjianglu, world.ganjiang}
    barber = Merchant.objects.get(name="平江路理发店")
    assert (barber.area, barber.category) == (world.pingjianglu, "hairdressing")
    history = beef.history.earliest()
    assert history.history_user == world.pingjiang_staff
    assert history.history_change_reason.startswith("import")
    # the token is spent
    client.post(CONFIRM, {"token": token})
    assert Merchant.objects.filter(name="古城清真牛肉店").count() == 1


@pytest.mark.parametrize(
    ("cells", "column"),
    [
        ({"管理单位": "不存在街道"}, "管理单位"),  # unknown area
        ({"管理单位": "沧浪街道"}, "管理单位"),  # an area the user may not change
        ({"服务社区": "平江路社区、道前社区"}, "服务社区"),
        ({"服务社区": "平江路社区、火星社区"}, "服务社区"),
        ({"统一社会信用代码": "91320508MA1N2B3C4X"}, "统一社会信用代码"),  # bad check char
        ({"统一社会信用代码": "12345"}, "统一社会信用代码"),
        ({"类别": "宇宙航行"}, "类别"),  # unknown category
        ({"名称": ""}, "名称"),
        ({"地址": ""}, "地址"),
        ({"管理单位": ""}, "管理单位"),
        ({"管理单位": "北片"}, "管理单位"),  # a zone manages no merchant
        ({"名称": "长" * 150}, "名称"),
    ],
)
def test_a_bad_row_in_the_middle_is_named_and_nothing_is_imported(
    world, partners, login, cells, column
):
    client = login(world.pingjiang_staff)
    rows = [merchant_row(名称="第一家"), merchant_row(**{"名称": "第二家", **cells})]
    rows.append(merchant_row(名称="第三家"))
    response = upload(client, xlsx(rows))
    plan = response.context["plan"]
    assert not plan.ok and response.context["token"] is None
    assert [r.number for r in plan.error_rows] == [3]
    assert any(m.startswith(column) for m in plan.error_rows[0].messages), plan.error_rows[0]
    assert [r.outcome for r in plan.rows] == ["new", "error", "new"]
    page = response.content.decode()
    assert 'data-error-row="3"' in page
    assert not Merchant.objects.filter(name__in=["第一家", "第三家"]).exists()
    # no token: nothing to confirm
    assert client.post(CONFIRM, {"token": "forged"}).status_code == 302
    assert not Merchant.objects.filter(name="第一家").exists()


def test_a_recorded_merchant_is_updated_and_blank_cells_keep_what_it_holds(world, partners, login):
    client = login(world.pingjiang_staff)
    lamian = partners.lamian
    row = {h: "" for h in HEADERS}
    row.update(
        {"名称": lamian.name, "统一社会信用代码": lamian.licence_number, "电话": "0512-66668888"}
    )
    response = upload(client, xlsx([row, merchant_row()]))
    plan = response.context["plan"]
    assert [r.outcome for r in plan.rows] == ["update", "new"]
    client.post(CONFIRM, {"token": response.context["token"]})
    lamian.refresh_from_db()
    assert lamian.phone == "0512-66668888"
    assert lamian.address == "平江路88号" and lamian.contact_person == "马福来"
    assert set(lamian.serves.all()) == {world.pingjianglu, world.ganjiang}
    # the same file again: nothing changes
    again = upload(client, xlsx([row])).context["plan"]
    assert [r.outcome for r in again.rows] == ["unchanged"]


def test_a_merchant_of_another_sub_district_is_not_touched(world, partners, login):
    repair = partners.repair
    repair.licence_number = CODE
    repair.save()
    row = merchant_row(名称="冒名", 统一社会信用代码=CODE)
    plan = upload(login(world.pingjiang_staff), xlsx([row])).context["plan"]
    assert [r.number for r in plan.error_rows] == [2]
    assert all("苏城家电维修部" not in m for m in plan.error_rows[0].messages)
    repair.refresh_from_db()
    assert repair.name == "苏城家电维修部"


def test_the_same_merchant_twice_in_a_file_is_refused(world, partners, login):
    other = valid_code("91320508MA1N2B3C5")
    rows = [
        merchant_row(统一社会信用代码=other),
        merchant_row(名称="别名", 统一社会信用代码=other),
        merchant_row(名称="重复店"),
        merchant_row(名称="重复店"),
    ]
    plan = upload(login(world.pingjiang_staff), xlsx(rows)).context["plan"]
    assert [r.number for r in plan.error_rows] == [3, 5]
    assert "2" in plan.error_rows[0].messages[0] and "4" in plan.error_rows[1].messages[0]


def test_confirm_rechecks_and_writes_nothing_when_a_row_now_fails(world, partners, login):
    """All or nothing at confirm too: a row that became bad since the preview stops every
    row."""
    client = login(world.pingjiang_staff)
    rows = [merchant_row(名称="第一家"), merchant_row(名称="第二家", 统一社会信用代码=CODE)]
    token = upload(client, xlsx(rows)).context["token"]
    Merchant.objects.create(  # meanwhile someone in 沧浪 records that licence
        area=world.canglang, name="抢先", category="other", address="x", licence_number=CODE
    )
    response = client.post(CONFIRM, {"token": token})
    assert response.status_code == 200
    assert [r.number for r in response.context["plan"].error_rows] == [3]
    assert not Merchant.objects.filter(name="第一家").exists()


def test_confirm_shows_the_preview_again_when_outcomes_changed(world, partners, login):
    client = login(world.pingjiang_staff)
    token = upload(client, xlsx([merchant_row()])).context["token"]
    Merchant.objects.create(
        area=world.pingjiang, name="古城清真牛肉店", category="halal_food", address="旧址"
    )
    response = client.post(CONFIRM, {"token": token})
    assert response.status_code == 200
    assert [r.outcome for r in response.context["plan"].rows] == ["update"]
    assert Merchant.objects.get(name="古城清真牛肉店").address == "旧址"
    client.post(CONFIRM, {"token": response.context["token"]})
    assert Merchant.objects.get(name="古城清真牛肉店").address == "临顿路56号"


def test_cancel_forgets_the_file(world, partners, login):
    client = login(world.pingjiang_staff)
    token = upload(client, xlsx([merchant_row()])).context["token"]
    client.post(CANCEL, {"token": token})
    client.post(CONFIRM, {"token": token})
    assert not Merchant.objects.filter(name="古城清真牛肉店").exists()


def test_another_user_cannot_confirm_a_token(world, partners, login, client):
    token = upload(login(world.pingjiang_staff), xlsx([merchant_row()])).context["token"]
    client.logout()
    login(world.canglang_staff).post(CONFIRM, {"token": token})
    assert not Merchant.objects.filter(name="古城清真牛肉店").exists()


def test_import_file_in_python_reports_the_same(world, partners):
    plan = import_file(
        "merchants",
        xlsx([merchant_row(类别="???")]),
        "x.xlsx",
        user=world.pingjiang_staff,
        dry_run=False,
    )
    assert not plan.written and [r.number for r in plan.error_rows] == [2]
    assert not Merchant.objects.filter(name="古城清真牛肉店").exists()
