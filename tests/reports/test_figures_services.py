"""The partner-merchant and service-card figures on a hand-counted 2025 (on top of
``reports_world``): each equals what ``services.figures`` says for the same area and dates,
and each drill-down list is as long as its figure (or adds up to it).

Merchants (managed in → serves):
  马记清真拉面馆 平江街道 → 平江路, 干将: PJ-2025-01 (2025-01-01..2026-12-31: 清真牛肉面 20% off,
    高龄老人免费送餐 free), PJ-2023-02 (2023-01-01..2024-12-31: 清真早点 10% off)
  苏城家电维修部 沧浪街道 → 道前: CL-2025-03 (2025-06-01..2026-05-31: 上门维修 30% off)
  姑苏法律援助中心 沧浪街道 → the whole district: GS-2025-05 (2025-01-01..2025-12-31: 法律咨询
    free; 旗袍定制 withdrawn)
  干将便民理发店 干将社区 → nothing: a draft agreement only
  平江旧货回收站 平江街道, archived (never counted), with a signed agreement
Cards (holder's community; issued; what became of it):
  A 马晓东 平江路 2024-09-01 · B 白玉兰 平江路 2025-02-10, lost 2025-08-01 → C 2025-08-01 ·
  D 穆桂芳 干将 2025-05-01, revoked 2025-11-01 · E 阿依吐尔逊 道前 2025-03-01 ·
  F 马小燕 平江路 2026-01-05
Uses (value → paid): A 2024-11-20 早点 20→18 · A 2025-03-10 面 30→24 · A 2025-04-02 面, voided ·
  B 2025-05-05 面 30→24 · C 2025-09-09 面 40→32 · D 2025-06-01 法律咨询 100→0 ·
  E 2025-07-15 维修 80→56 · A 2025-12-31 送餐 5→0 (the last day counts) · E 2026-01-20 维修
"""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from reports import catalogue
from reports.periods import parse_period
from residents.models import Person
from services import figures as services_figures
from services.cards import issue_card, record_consent, reissue_lost_card, revoke_card
from services.models import (
    Agreement,
    AgreementItem,
    AgreementStatus,
    BenefitKind,
    CardUse,
    Merchant,
    ServiceCategory,
)
from services.uses import record_use
from tests.reports.conftest import drilldown_size

D = datetime.date
Y2025, Y2024 = parse_period("2025"), parse_period("2024")
HALAL, APPLIANCE, CONSULTING = (
    ServiceCategory.HALAL_FOOD,
    ServiceCategory.APPLIANCE,
    ServiceCategory.CONSULTING,
)


def _agreement(merchant, number, start, end, status=AgreementStatus.SIGNED):
    return Agreement.objects.create(
        merchant=merchant,
        area=merchant.area,
        number=number,
        signed_on=start,
        valid_from=start,
        valid_to=end,
        status=status,
    )


def _item(agreement, category, description, kind, percent=None, usual=None, withdrawn=False):
    return AgreementItem.objects.create(
        agreement=agreement,
        category=category,
        description=description,
        benefit_kind=kind,
        percent_off=percent,
        usual_price=usual,
        is_withdrawn=withdrawn,
    )


@pytest.fixture
def partners_2025(reports_world):
    r = reports_world
    w = r.world
    lamian = Merchant.objects.create(
        area=w.pingjiang, name="马记清真拉面馆", category=HALAL, address="平江路88号"
    )
    lamian.serves.set([w.pingjianglu, w.ganjiang])
    repair = Merchant.objects.create(
        area=w.canglang, name="苏城家电维修部", category=APPLIANCE, address="道前街12号"
    )
    repair.serves.set([w.daoqian])
    legal = Merchant.objects.create(
        area=w.canglang, name="姑苏法律援助中心", category=CONSULTING, address="三香路1号"
    )
    legal.serves.set([w.district])
    barber = Merchant.objects.create(
        area=w.ganjiang,
        name="干将便民理发店",
        category=ServiceCategory.HAIRDRESSING,
        address="干将西路20号",
    )
    old = Merchant.objects.create(
        area=w.pingjiang,
        name="平江旧货回收站",
        category=ServiceCategory.OTHER,
        address="平江路300号",
        archived_at=timezone.now(),
    )

    pj = _agreement(lamian, "PJ-2025-01", D(2025, 1, 1), D(2026, 12, 31))
    noodles = _item(pj, HALAL, "清真牛肉面", BenefitKind.PERCENT_OFF, Decimal("20"), Decimal("30"))
    delivery = _item(pj, HALAL, "高龄老人免费送餐", BenefitKind.FREE, usual=Decimal("5"))
    pj_old = _agreement(lamian, "PJ-2023-02", D(2023, 1, 1), D(2024, 12, 31))
    breakfast = _item(pj_old, HALAL, "清真早点", BenefitKind.PERCENT_OFF, Decimal("10"))
    cl = _agreement(repair, "CL-2025-03", D(2025, 6, 1), D(2026, 5, 31))
    repair_visit = _item(cl, APPLIANCE, "上门维修家电", BenefitKind.PERCENT_OFF, Decimal("30"))
    gs = _agreement(legal, "GS-2025-05", D(2025, 1, 1), D(2025, 12, 31))
    advice = _item(gs, CONSULTING, "法律咨询", BenefitKind.FREE, usual=Decimal("100"))
    _item(gs, ServiceCategory.TAILORING, "旗袍定制", BenefitKind.FREE, withdrawn=True)
    draft = _agreement(
        barber, "GJ-2025-01", D(2025, 1, 1), D(2025, 12, 31), status=AgreementStatus.DRAFT
    )
    _item(draft, ServiceCategory.HAIRDRESSING, "理发", BenefitKind.FREE)
    _item(_agreement(old, "PJ-2025-09", D(2025, 1, 1), D(2025, 12, 31)), "other", "回收", "free")

    staff = w.pingjiang_staff
    ma_xiaoyan = Person.objects.get(name="马小燕")
    holders = [r.ma_xiaodong, r.bai_yulan, r.mu_guifang, r.aytursun, ma_xiaoyan]
    for n, person in enumerate(holders):
        record_consent(person, given_on=D(2024, 8, 1), form_reference=f"TY-{n:04d}", user=staff)
    card_a = issue_card(r.ma_xiaodong, user=staff, issued_on=D(2024, 9, 1))
    card_b = issue_card(r.bai_yulan, user=staff, issued_on=D(2025, 2, 10))
    card_d = issue_card(r.mu_guifang, user=staff, issued_on=D(2025, 5, 1))
    card_e = issue_card(r.aytursun, user=w.canglang_staff, issued_on=D(2025, 3, 1))
    issue_card(ma_xiaoyan, user=staff, issued_on=D(2026, 1, 5))

    def use(card, merchant, item, on, before, after=None):
        return record_use(
            card=card,
            merchant=merchant,
            item=item,
            value_before=Decimal(before),
            value_after=after,
            used_on=on,
            user=staff,
        )[0]

    use(card_a, lamian, breakfast, D(2024, 11, 20), 20)
    use(card_a, lamian, noodles, D(2025, 3, 10), 30)
    voided = use(card_a, lamian, noodles, D(2025, 4, 2), 30)
    CardUse.objects.filter(pk=voided.pk).update(archived_at=timezone.now())
    use(card_b, lamian, noodles, D(2025, 5, 5), 30)
    card_c = reissue_lost_card(card_b, on=D(2025, 8, 1), user=staff)
    use(card_c, lamian, noodles, D(2025, 9, 9), 40)
    use(card_d, legal, advice, D(2025, 6, 1), 100)
    revoke_card(card_d, on=D(2025, 11, 1), reason="本人要求注销", user=staff)
    use(card_e, repair, repair_visit, D(2025, 7, 15), 80)
    use(card_a, lamian, delivery, D(2025, 12, 31), 5)
    use(card_e, repair, repair_visit, D(2026, 1, 20), 80)
    return reports_world


def every_area(w):
    return [w.district, w.pingjiang, w.north_zone, w.pingjianglu, w.ganjiang, w.canglang, w.daoqian]


def table(keys, period, w):
    areas = every_area(w)
    result = catalogue.compute(keys, areas[1:] + areas[:1], period)
    return {key: [result.value(key, a) for a in areas] for key in keys}


# district, 平江街道, 北片, 平江路, 干将, 沧浪街道, 道前
EXPECTED_2025 = {
    # merchants do not add up: the legal aid centre serves everyone, the barber is 干将's
    "merchants": [4, 3, 2, 2, 3, 2, 2],
    "agreements_in_force": [3, 2, 2, 2, 2, 2, 2],
    "agreements_in_force_halal_food": [1, 1, 1, 1, 1, 0, 0],
    "agreements_in_force_appliance": [1, 0, 0, 0, 0, 1, 1],
    "agreements_in_force_consulting": [1, 1, 1, 1, 1, 1, 1],
    "agreements_in_force_tailoring": [0] * 7,  # withdrawn
    "agreements_in_force_hairdressing": [0] * 7,  # a draft
    "agreements_in_force_other": [0] * 7,  # an archived merchant
    "cards_issued": [4, 3, 2, 2, 1, 1, 1],
    "cards_active": [3, 2, 2, 2, 0, 1, 1],
    "card_uses": [6, 5, 4, 4, 1, 1, 1],
    "card_holders_served": [4, 3, 2, 2, 1, 1, 1],
    "benefit_value": [Decimal(v) for v in ("149", "125", "25", "25", "100", "24", "24")],
}

EXPECTED_2024 = {
    "merchants": [4, 3, 2, 2, 3, 2, 2],
    "agreements_in_force": [1, 1, 1, 1, 1, 0, 0],
    "cards_issued": [1, 1, 1, 1, 0, 0, 0],
    "cards_active": [1, 1, 1, 1, 0, 0, 0],
    "card_uses": [1, 1, 1, 1, 0, 0, 0],
    "card_holders_served": [1, 1, 1, 1, 0, 0, 0],
    "benefit_value": [Decimal(v) for v in ("2", "2", "2", "2", "0", "0", "0")],
}


def test_partner_figures_for_2025_counted_by_hand(partners_2025):
    w = partners_2025.world
    assert table(list(EXPECTED_2025), Y2025, w) == EXPECTED_2025


def test_partner_figures_for_the_period_before_counted_by_hand(partners_2025):
    w = partners_2025.world
    assert table(list(EXPECTED_2024), Y2025.previous(), w) == EXPECTED_2024


@pytest.mark.parametrize("period", ["2025", "2025-H2", "2024", "2025-03-01..2025-06-30"])
def test_partner_figures_agree_with_the_services_pages(partners_2025, period):
    """What services.figures says for each area on its own, the catalogue says for the table's
    rows at once."""
    span = parse_period(period)
    w = partners_2025.world
    keys = list(services_figures.FIGURES)
    got = table(keys, span, w)
    for n, area in enumerate(every_area(w)):
        direct = services_figures.all_figures(area, span.start, span.end)
        assert {key: got[key][n] for key in keys} == {key: direct[key] for key in keys}, area
        for category, count in direct["agreements_by_category"].items():
            assert got.get(f"agreements_in_force_{category}") is None  # not asked for
            assert (
                catalogue.compute([f"agreements_in_force_{category}"], [area], span).value(
                    f"agreements_in_force_{category}", area
                )
                == count
            )


PARTNER_KEYS = [k for k, f in catalogue.catalogue().items() if f.section == "partners"]


@pytest.mark.parametrize("period", ["2025", "2024"])
def test_each_partner_drilldown_is_as_long_as_its_figure(partners_2025, period):
    span = parse_period(period)
    w = partners_2025.world
    got = table(PARTNER_KEYS, span, w)
    for key in PARTNER_KEYS:
        for n, area in enumerate(every_area(w)):
            assert drilldown_size(key, area, span) == got[key][n], (key, area)


def test_drilldowns_list_the_records_services_lists(partners_2025):
    w = partners_2025.world
    merchants = catalogue.records("merchants", w.ganjiang, Y2025)
    assert list(merchants.values_list("name", flat=True)) == list(
        services_figures.merchant_records(w.ganjiang, Y2025.start, Y2025.end).values_list(
            "name", flat=True
        )
    )
    assert set(merchants.values_list("name", flat=True)) == {
        "马记清真拉面馆",
        "姑苏法律援助中心",
        "干将便民理发店",
    }
    holders = catalogue.records("card_holders_served", w.pingjiang, Y2025)
    assert set(holders.values_list("name", flat=True)) == {"马晓东", "白玉兰", "穆桂芳"}
    uses = catalogue.records("benefit_value", w.pingjianglu, Y2025)
    assert sorted(u.given for u in uses) == [Decimal(v) for v in ("5", "6", "6", "8")]


def test_merchants_cost_one_query_whatever_the_rows(partners_2025, django_assert_num_queries):
    w = partners_2025.world
    keys = ["merchants", "agreements_in_force", "agreements_in_force_halal_food"]
    with django_assert_num_queries(1 + len(keys)):  # the area paths, then one per figure
        catalogue.compute(keys, every_area(w)[1:] + [w.district], Y2025)
