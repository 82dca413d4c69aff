"""Importing agreement items (django-import-export): agreements created as needed, benefits
read as offices write them (免费, 8折, 20%, 优惠价15元), and every bad row refused with its
number while nothing is imported."""

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from services.models import Agreement, AgreementItem, AgreementStatus, BenefitKind
from services.resources import ITEM_COLUMNS, parse_benefit
from services.uses import record_use
from tests.services.test_import_merchants import xlsx

HEADERS = [c.header for c in ITEM_COLUMNS]
IMPORT = reverse("services:agreement-import")
CONFIRM = reverse("services:agreement-import-confirm")
TEMPLATE = reverse("services:agreement-import-template")


def day(n):
    return (timezone.localdate() + datetime.timedelta(days=n)).isoformat()


def item_row(**cells):
    row = {
        "商户": "马记清真拉面馆",
        "协议编号": "PJ-2027-01",
        "有效期自": day(10),
        "有效期至": day(375),
        "签订日期": day(-1),
        "服务类别": "清真餐饮",
        "服务内容": "手抓饭",
        "优惠": "8折",
        "原价": "３５元",
        "条件": "",
    }
    row.update(cells)
    return row


def upload(client, rows, name="协议.xlsx"):
    data = xlsx(rows, HEADERS)
    return client.post(IMPORT, {"file": SimpleUploadedFile(name, data)})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("免费", (BenefitKind.FREE, None, None)),
        ("8折", (BenefitKind.PERCENT_OFF, Decimal("20.00"), None)),
        ("8.5折", (BenefitKind.PERCENT_OFF, Decimal("15.00"), None)),
        ("九五折", (BenefitKind.PERCENT_OFF, Decimal("5.00"), None)),
        ("20%", (BenefitKind.PERCENT_OFF, Decimal("20.00"), None)),
        ("２０％", (BenefitKind.PERCENT_OFF, Decimal("20.00"), None)),
        ("优惠价15元", (BenefitKind.FIXED_PRICE, None, Decimal("15.00"))),
        ("￥15", (BenefitKind.FIXED_PRICE, None, Decimal("15.00"))),
    ],
)
def test_benefits_are_read_as_offices_write_them(text, expected):
    assert parse_benefit(text) == expected


@pytest.mark.parametrize("text", ["15", "10折", "100%", "0%", "打折", "半价优惠多多", "8折折"])
def test_an_unreadable_benefit_is_refused(text):
    with pytest.raises(ValueError):
        parse_benefit(text)


def test_rows_make_agreements_as_needed(world, partners, login):
    client = login(world.pingjiang_staff)
    rows = [
        item_row(),
        item_row(服务内容="羊肉串", 优惠="优惠价15元", 原价="25"),
        item_row(服务内容="送餐", 优惠="免费", 原价="", 条件="限70岁以上持卡人"),
        item_row(
            协议编号="PJ-2027-02", 服务内容="早点", 优惠="20%", 签订日期="", 签约单位="干将社区"
        ),
        item_row(
            协议编号="",
            商户=partners.lamian.licence_number,
            服务内容="茶水",
            优惠="免费",
            有效期自="2027/1/1",
            有效期至="2027年12月31日",
        ),
    ]
    response = upload(client, rows)
    plan = response.context["plan"]
    assert plan.ok, [r.messages for r in plan.error_rows]
    assert [r.outcome for r in plan.rows] == ["new"] * 5
    assert plan.notes  # the agreements to be created are named
    assert not Agreement.objects.filter(number="PJ-2027-01").exists()
    assert client.post(CONFIRM, {"token": response.context["token"]}).status_code == 302
    signed = Agreement.objects.get(number="PJ-2027-01")
    assert (signed.status, signed.area, signed.created_by) == (
        AgreementStatus.SIGNED,
        world.pingjiang,
        world.pingjiang_staff,
    )
    items = {i.description: i for i in signed.items.all()}
    assert set(items) == {"手抓饭", "羊肉串", "送餐"}
    assert (items["手抓饭"].percent_off, items["手抓饭"].usual_price) == (
        Decimal("20.00"),
        Decimal("35.00"),
    )
    assert items["羊肉串"].fixed_price == Decimal("15.00")
    assert items["送餐"].benefit_kind == "free" and items["送餐"].conditions == "限70岁以上持卡人"
    draft = Agreement.objects.get(number="PJ-2027-02")
    assert (draft.status, draft.area) == (AgreementStatus.DRAFT, world.ganjiang)
    dated = Agreement.objects.get(valid_from=datetime.date(2027, 1, 1), number="")
    assert dated.valid_to == datetime.date(2027, 12, 31)
    assert signed.history.get().history_user == world.pingjiang_staff


def test_rows_add_to_an_agreement_already_recorded(world, partners, login):
    agreement = partners.lamian_agreement
    client = login(world.pingjiang_staff)
    dates = {
        "有效期自": agreement.valid_from.isoformat(),
        "有效期至": agreement.valid_to.isoformat(),
    }
    rows = [
        item_row(协议编号="PJ-2026-01", 服务内容="清真牛肉面", 优惠="8折", 原价="32", **dates),
        item_row(协议编号="PJ-2026-01", 服务内容="手抓饭", **dates),
    ]
    response = upload(client, rows)
    plan = response.context["plan"]
    assert [r.outcome for r in plan.rows] == ["update", "new"]
    client.post(CONFIRM, {"token": response.context["token"]})
    partners.noodles.refresh_from_db()
    assert partners.noodles.usual_price == Decimal("32.00")
    assert agreement.items.count() == 4
    assert Agreement.objects.filter(number="PJ-2026-01").count() == 1


def test_a_used_item_keeps_its_benefit(world, partners, login):
    record_use(
        card=partners.ma_card,
        merchant=partners.lamian,
        item=partners.noodles,
        value_before=Decimal("30"),
        user=world.pingjiang_staff,
    )
    a = partners.lamian_agreement
    row = item_row(
        协议编号="PJ-2026-01",
        有效期自=a.valid_from.isoformat(),
        有效期至=a.valid_to.isoformat(),
        服务内容="清真牛肉面",
        优惠="5折",
    )
    plan = upload(login(world.pingjiang_staff), [row]).context["plan"]
    assert [r.number for r in plan.error_rows] == [2]
    assert plan.error_rows[0].messages[0].startswith("优惠")


@pytest.mark.parametrize(
    ("cells", "column"),
    [
        ({"商户": "不存在的店"}, "商户"),
        ({"商户": "苏城家电维修部"}, "商户"),  # another sub-district's: unknown here
        ({"有效期自": "2027-02-30"}, "有效期自"),  # bad date
        ({"有效期至": "明年"}, "有效期至"),
        ({"有效期自": day(400), "有效期至": day(10)}, "有效期至"),
        ({"签订日期": day(3)}, "签订日期"),  # in the future
        ({"服务类别": "宇宙航行"}, "服务类别"),
        ({"优惠": "看心情"}, "优惠"),  # unreadable benefit
        ({"优惠": ""}, "优惠"),
        ({"原价": "三十"}, "原价"),
        ({"签约单位": "沧浪街道"}, "签约单位"),  # may not change
        ({"签约单位": "火星街道"}, "签约单位"),  # unknown
        ({"服务内容": ""}, "服务内容"),
    ],
)
def test_a_bad_row_in_the_middle_stops_the_import(world, partners, login, cells, column):
    client = login(world.pingjiang_staff)
    rows = [
        item_row(服务内容="第一项"),
        item_row(**{"协议编号": "PJ-2027-09", "服务内容": "第二项", **cells}),
        item_row(服务内容="第三项"),
    ]
    response = upload(client, rows)
    plan = response.context["plan"]
    assert not plan.ok and response.context["token"] is None
    assert [r.number for r in plan.error_rows] == [3]
    assert any(m.startswith(column) for m in plan.error_rows[0].messages), plan.error_rows[0]
    assert not Agreement.objects.filter(number__in=["PJ-2027-01", "PJ-2027-09"]).exists()
    assert not AgreementItem.objects.filter(description="第一项").exists()


def test_rows_of_one_agreement_must_agree_on_its_dates(world, partners, login):
    rows = [item_row(), item_row(服务内容="羊肉串", 有效期至=day(200))]
    plan = upload(login(world.pingjiang_staff), rows).context["plan"]
    assert [r.number for r in plan.error_rows] == [3]


def test_the_same_service_twice_is_refused(world, partners, login):
    plan = upload(login(world.pingjiang_staff), [item_row(), item_row()]).context["plan"]
    assert [r.number for r in plan.error_rows] == [3]


def test_an_agreement_of_another_area_cannot_be_added_to(world, partners, login):
    a = partners.repair_agreement
    row = item_row(
        商户="苏城家电维修部",
        协议编号="CL-2026-02",
        有效期自=a.valid_from.isoformat(),
        有效期至=a.valid_to.isoformat(),
    )
    plan = upload(login(world.pingjiang_staff), [row]).context["plan"]
    assert [r.number for r in plan.error_rows] == [2]
    assert a.items.count() == 1


def test_template_download(world, login):
    from io import BytesIO

    from openpyxl import load_workbook

    response = login(world.pingjiang_staff).get(TEMPLATE)
    book = load_workbook(BytesIO(response.content))
    assert [c.value for c in book.worksheets[0][1]] == HEADERS
    cells = {c.value for row in book.worksheets[1].iter_rows() for c in row}
    assert {"优惠", "平江街道"} <= cells and "沧浪街道" not in cells


def test_community_staff_may_not_import_agreements(world, partners, login):
    client = login(world.pingjianglu_staff)
    assert client.get(IMPORT).status_code == 403
    assert client.get(TEMPLATE).status_code == 403
    assert client.post(CONFIRM, {"token": "x"}).status_code == 403
