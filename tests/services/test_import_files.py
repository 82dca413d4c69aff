"""No uploaded file gives a 500: empty, the wrong type, garbage bytes, too large, too many
rows, missing columns, a csv from Chinese Excel (GB18030)."""

import io
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from services import resources
from services.models import Agreement, Merchant
from tests.services.test_import_merchants import HEADERS, merchant_row, xlsx

IMPORTS = [reverse("services:merchant-import"), reverse("services:agreement-import")]


def post(client, url, name, data):
    return client.post(url, {"file": SimpleUploadedFile(name, data)})


def big_xlsx(rows: int) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(HEADERS)
    for i in range(rows):
        sheet.append([f"店{i}", "其他", "某路1号", "", "", "", "平江街道", "", ""])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize("url", IMPORTS)
@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("空.xlsx", b""),
        ("空.csv", b""),
        ("协议.pdf", b"%PDF-1.4 not a table"),
        ("商户.xls", b"\xd0\xcf\x11\xe0 old excel"),
        ("乱码.xlsx", os.urandom(4096)),
        ("乱码.csv", os.urandom(4096)),
        ("假的.xlsx", b"PK\x03\x04" + os.urandom(2000)),  # looks like a zip, is not
        ("只有表头.csv", ",".join(HEADERS).encode()),
        ("缺列.csv", "名称,地址\n某店,某路\n".encode()),
        ("引号.csv", ('名称,"' + "x" * 200_000 + "\n").encode()),
        ("NUL.csv", b"\x00\x00\x00,\x00\n\x00"),
    ],
)
def test_a_file_that_cannot_be_used_is_an_error_on_the_form(world, login, url, name, data):
    client = login(world.pingjiang_staff)
    response = post(client, url, name, data)
    assert response.status_code == 200
    assert response.context["form"].errors["file"]
    assert not Merchant.objects.exists() and not Agreement.objects.exists()


@pytest.mark.parametrize("url", IMPORTS)
def test_a_file_over_5_mb_is_refused(world, login, url):
    data = b"PK\x03\x04" + b"0" * (5 * 1024 * 1024 + 10)
    response = post(login(world.pingjiang_staff), url, "大.xlsx", data)
    assert response.context["form"].errors["file"]


def test_too_many_rows_are_refused(world, login, monkeypatch):
    monkeypatch.setattr(resources, "MAX_ROWS", 20)  # the limit itself, on a small file
    client = login(world.pingjiang_staff)
    response = post(client, IMPORTS[0], "多.xlsx", big_xlsx(21))
    assert response.context["form"].errors["file"]
    assert not Merchant.objects.exists()
    assert post(client, IMPORTS[0], "刚好.xlsx", big_xlsx(20)).context["plan"].ok


def test_a_gb18030_csv_from_chinese_excel_is_read(world, login):
    lines = [",".join(HEADERS), ",".join(merchant_row().get(h, "") for h in HEADERS)]
    data = "\r\n".join(lines).encode("gb18030")
    response = post(login(world.pingjiang_staff), IMPORTS[0], "商户.csv", data)
    plan = response.context["plan"]
    assert plan.ok and plan.rows[0].label == "古城清真牛肉店"


def test_headers_with_aliases_and_marks_are_understood(world, login):
    headers = ["商户名称*", "服务类别", "经营地址", "负责人", "联系电话", "营业执照号"]
    headers += ["所属街道", "服务范围", "说明", "多余的列"]
    values = [merchant_row().get(h, "") for h in HEADERS] + ["?"]
    rows = [dict(zip(headers, values, strict=True))]
    response = post(login(world.pingjiang_staff), IMPORTS[0], "商户.xlsx", xlsx(rows, headers))
    plan = response.context["plan"]
    assert plan.ok, [r.messages for r in plan.rows]


def test_control_characters_in_cells_are_dropped(world, login):
    row = merchant_row(名称="古城\x00清真\x07牛肉店")
    data = "\n".join([",".join(HEADERS), ",".join(row.get(h, "") for h in HEADERS)]).encode()
    client = login(world.pingjiang_staff)
    response = post(client, IMPORTS[0], "商户.csv", data)
    assert response.context["plan"].ok
    client.post(reverse("services:merchant-import-confirm"), {"token": response.context["token"]})
    assert Merchant.objects.get().name == "古城清真牛肉店"


def test_confirm_with_a_garbled_token_is_refused_quietly(world, login):
    client = login(world.pingjiang_staff)
    for token in ("", "x" * 10_000, "\x00", "../../etc/passwd"):
        response = client.post(reverse("services:merchant-import-confirm"), {"token": token})
        assert response.status_code == 302
    assert client.get(reverse("services:merchant-import-confirm")).status_code == 405
