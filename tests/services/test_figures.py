"""The services figures on a hand-counted fixture (on top of ``partners``), and each
drill-down list as long as its figure.

The period is ``today - 60`` .. ``today - 5``. What is in it, counted by hand:

cards (holder's community) — issued in the period / active at its end:
  马晓东 ma_card     平江路 issued −180, active                 —   / active
  白兰 bai_lost      干将   issued −180, lost −20               —   / —
  白兰 bai_card      干将   issued −20, active                  yes / active
  哈丽娜 wife_card   平江路 issued −40, revoked −30             yes / —
  马小燕 late_card   平江路 issued −2 (after the period)        —   / —
  白雪 old_card      干将   issued −400, valid until −10        —   / — (expired)
  阿依吐尔逊 ayt_card 道前  issued −180, active (沧浪)           —   / active

uses (value → paid, benefit):
  ma_card   −61 noodles 30→24          before the period
  ma_card   −50 noodles 30→24   6      平江路
  wife_card −35 home cooking 25→15 10  平江路
  ma_card   −40 noodles 30→24          voided
  ma_card   −30 home cooking 25→15 10  平江路
  bai_lost  −25 noodles 30→24   6      干将
  bai_card  −10 noodles 40→32   8      干将
  ma_card   −5  delivery 5→0    5      平江路 (the last day counts)
  ma_card   −2  noodles 30→24          after the period
  ayt_card  −20 repair 80→56   24      道前 (沧浪)

merchants: 马记拉面 (平江 manages, serves 平江路, 干将); 家电维修 (沧浪, serves 道前); 法律援助中心
(沧浪 manages, serves the whole district); 干将便民服务点 (干将 manages, serves nothing);
an archived 平江 merchant (never counted).
agreements in force at −5: 马记 PJ-2026-01 (halal food), 家电 CL-2026-02 (appliance),
法律援助 (consulting; its tailoring item is withdrawn); not 马记's expired one, not 干将's
draft or its agreement starting −3, not the archived merchant's.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.utils import timezone

from residents.archiving import set_archived
from services import figures
from services.cards import issue_card, record_consent, revoke_card
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
from tests.factories import PersonFactory


def days(n: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=n)


@dataclass
class Counted:
    start: datetime.date
    end: datetime.date
    legal_aid: Merchant
    ganjiang_point: Merchant


def use(card, item, merchant, on, value, user):
    made, created = record_use(
        card=card,
        merchant=merchant,
        item=item,
        value_before=Decimal(value),
        user=user,
        used_on=on,
    )
    assert created
    return made


@pytest.fixture
def counted(world, register, partners) -> Counted:
    staff = world.pingjiang_staff
    # the other cards of the table
    record_consent(register.ma_wife, given_on=days(45), form_reference="TY-0002", user=staff)
    wife_card = issue_card(register.ma_wife, user=staff, issued_on=days(40))
    daughter = PersonFactory(
        household=register.ma_household, name="马小燕", sex="F", relation="child"
    )
    record_consent(daughter, given_on=days(3), form_reference="TY-0003", user=staff)
    issue_card(daughter, user=staff, issued_on=days(2))
    bai_xue = PersonFactory(household=register.bai_household, name="白雪", sex="F")
    record_consent(bai_xue, given_on=days(500), form_reference="TY-0004", user=staff)
    issue_card(bai_xue, user=staff, issued_on=days(400), valid_until=days(10))

    p = partners
    use(p.ma_card, p.noodles, p.lamian, days(61), "30", staff)
    use(p.ma_card, p.noodles, p.lamian, days(50), "30", staff)
    use(wife_card, p.home_cooking, p.lamian, days(35), "25", staff)
    set_archived(use(p.ma_card, p.noodles, p.lamian, days(40), "30", staff), True)
    use(p.ma_card, p.home_cooking, p.lamian, days(30), "25", staff)
    revoke_card(wife_card, on=days(30), reason="本人撤回", user=staff)
    # bai_lost was used before it was lost (written as it was: the card is lost now)
    CardUse.objects.create(
        card=p.bai_lost,
        merchant=p.lamian,
        item=p.noodles,
        used_on=days(25),
        value_before=Decimal("30"),
        value_after=Decimal("24"),
        recorded_by=staff,
    )
    use(p.bai_card, p.noodles, p.lamian, days(10), "40", staff)
    use(p.ma_card, p.delivery, p.lamian, days(5), "5", staff)
    use(p.ma_card, p.noodles, p.lamian, days(2), "30", staff)
    use(p.ayt_card, p.repair_visit, p.repair, days(20), "80", world.canglang_staff)

    # merchants and agreements
    legal_aid = Merchant.objects.create(
        area=world.canglang,
        name="姑苏区法律援助中心",
        category=ServiceCategory.CONSULTING,
        address="三香路1号",
    )
    legal_aid.serves.set([world.district])
    agreement = Agreement.objects.create(
        merchant=legal_aid,
        area=world.canglang,
        number="CL-2025-07",
        signed_on=days(410),
        valid_from=days(400),
        valid_to=days(-100),
        status=AgreementStatus.SIGNED,
    )
    AgreementItem.objects.create(
        agreement=agreement,
        category=ServiceCategory.CONSULTING,
        description="法律咨询",
        benefit_kind=BenefitKind.FREE,
    )
    AgreementItem.objects.create(
        agreement=agreement,
        category=ServiceCategory.TAILORING,
        description="（误录）",
        benefit_kind=BenefitKind.FREE,
        is_withdrawn=True,
    )
    point = Merchant.objects.create(
        area=world.ganjiang,
        name="干将便民服务点",
        category=ServiceCategory.HOUSEKEEPING,
        address="干将西路2号",
    )
    for valid_from, status in ((days(100), AgreementStatus.DRAFT), (days(3), "signed")):
        later = Agreement.objects.create(
            merchant=point,
            area=world.ganjiang,
            signed_on=valid_from,
            valid_from=valid_from,
            valid_to=days(-300),
            status=status,
        )
        AgreementItem.objects.create(
            agreement=later,
            category=ServiceCategory.HOUSEKEEPING,
            description="家庭保洁",
            benefit_kind=BenefitKind.PERCENT_OFF,
            percent_off=Decimal("20"),
        )
    gone = Merchant.objects.create(
        area=world.pingjiang,
        name="已停业理发店",
        category=ServiceCategory.HAIRDRESSING,
        address="平江路1号",
    )
    gone.serves.set([world.pingjianglu])
    gone_agreement = Agreement.objects.create(
        merchant=gone,
        area=world.pingjiang,
        signed_on=days(200),
        valid_from=days(200),
        valid_to=days(-200),
        status=AgreementStatus.SIGNED,
    )
    AgreementItem.objects.create(
        agreement=gone_agreement,
        category=ServiceCategory.HAIRDRESSING,
        description="剪发",
        benefit_kind=BenefitKind.FIXED_PRICE,
        fixed_price=Decimal("10"),
    )
    set_archived(gone, True)
    return Counted(start=days(60), end=days(5), legal_aid=legal_aid, ganjiang_point=point)


EXPECTED = {
    # area: (merchants, agreements, cards issued, cards active, uses, holders, benefit)
    "district": (4, 3, 2, 3, 7, 4, "69.00"),
    "pingjiang": (3, 2, 2, 2, 6, 3, "45.00"),
    "north_zone": (2, 2, 1, 1, 4, 2, "31.00"),
    "pingjianglu": (2, 2, 1, 1, 4, 2, "31.00"),
    "ganjiang": (3, 2, 1, 1, 2, 1, "14.00"),
    "canglang": (2, 2, 0, 1, 1, 1, "24.00"),
    "daoqian": (2, 2, 0, 1, 1, 1, "24.00"),
}
KEYS = [
    "merchants",
    "agreements_in_force",
    "cards_issued",
    "cards_active",
    "card_uses",
    "card_holders_served",
    "benefit_value",
]


@pytest.mark.parametrize("where", sorted(EXPECTED))
def test_each_figure_as_expectedby_hand(world, counted, where):
    area = getattr(world, where)
    found = figures.all_figures(area, counted.start, counted.end)
    expected = dict(zip(KEYS, EXPECTED[where], strict=True))
    expected["benefit_value"] = Decimal(expected["benefit_value"])
    assert {key: found[key] for key in KEYS} == expected


@pytest.mark.parametrize("where", sorted(EXPECTED))
def test_drill_down_lists_are_as_long_as_their_figures(world, counted, where):
    area = getattr(world, where)
    start, end = counted.start, counted.end
    for key in ("merchants", "agreements_in_force", "cards_issued", "cards_active", "card_uses"):
        assert figures.records(key, area, start, end).count() == getattr(figures, key)(
            area, start, end
        ), key
    uses = list(figures.records("benefit_value", area, start, end))
    assert sum((u.benefit for u in uses), Decimal("0")) == figures.benefit_value(area, start, end)
    assert len({u.card.holder_id for u in uses}) == figures.card_holders_served(area, start, end)
    by_category = figures.agreements_by_category(area, start, end)
    for category, count in by_category.items():
        listed = figures.records("agreements_in_force", area, start, end, category=category)
        assert listed.count() == count, category


def test_agreements_by_category(world, counted):
    start, end = counted.start, counted.end
    assert figures.agreements_by_category(world.pingjiang, start, end) == {
        "halal_food": 1,
        "consulting": 1,
    }
    assert figures.agreements_by_category(world.canglang, start, end) == {
        "appliance": 1,
        "consulting": 1,
    }
    assert figures.agreements_by_category(world.district, start, end) == {
        "halal_food": 1,
        "appliance": 1,
        "consulting": 1,
    }


def test_which_records_are_behind_the_figures(world, register, partners, counted):
    start, end = counted.start, counted.end
    merchants = figures.records("merchants", world.pingjiang, start, end)
    assert {m.name for m in merchants} == {"马记清真拉面馆", "姑苏区法律援助中心", "干将便民服务点"}
    cards = figures.records("cards_active", world.pingjiang, start, end)
    assert set(cards) == {partners.ma_card, partners.bai_card}
    issued = figures.records("cards_issued", world.pingjiang, start, end)
    assert {c.holder.name for c in issued} == {"白兰", "哈丽娜"}
    uses = figures.records("card_uses", world.ganjiang, start, end)
    assert {u.card_id for u in uses} == {partners.bai_lost.pk, partners.bai_card.pk}


def test_merchants_offering_each_category_per_area(world, counted):
    areas = [world.pingjiang, world.north_zone, world.ganjiang, world.daoqian]
    found = figures.merchants_offering(areas, counted.end)
    assert found[world.pingjiang.pk] == {"halal_food": 1, "consulting": 1}
    assert found[world.north_zone.pk] == {"halal_food": 1, "consulting": 1}
    assert found[world.ganjiang.pk] == {"halal_food": 1, "consulting": 1}
    assert found[world.daoqian.pk] == {"appliance": 1, "consulting": 1}
    listed = figures.merchant_offering_records(world.daoqian, counted.end, "consulting")
    assert list(listed) == [counted.legal_aid]
    # the day 干将便民服务点's agreement is in force, it counts there (and not in 道前)
    later = figures.merchants_offering([world.ganjiang, world.daoqian], days(1))
    assert later[world.ganjiang.pk]["housekeeping"] == 1
    assert "housekeeping" not in later[world.daoqian.pk]


def test_an_empty_period_counts_nothing(world, counted):
    long_ago = datetime.date(2001, 1, 1), datetime.date(2001, 12, 31)
    found = figures.all_figures(world.district, *long_ago)
    assert found["cards_issued"] == found["card_uses"] == found["card_holders_served"] == 0
    assert found["benefit_value"] == Decimal("0.00")
    assert found["agreements_in_force"] == 0 and found["agreements_by_category"] == {}


def test_an_unknown_figure_is_refused(world):
    with pytest.raises(KeyError):
        figures.records("visits", world.district, days(10), days(1))


@pytest.mark.parametrize(
    ("key", "start", "end", "expected", "start_a_day_later", "end_a_day_earlier"),
    [
        # 平江街道's uses in −55 .. −45: only 马晓东's at −50 (benefit 6)
        ("card_uses", 50, 45, 1, 0, 1),
        ("card_uses", 55, 50, 1, 1, 0),
        ("benefit_value", 50, 50, Decimal("6.00"), figures.ZERO, figures.ZERO),
        # cards issued in −42 .. −38: only 哈丽娜's at −40
        ("cards_issued", 40, 38, 1, 0, 1),
        ("cards_issued", 42, 40, 1, 1, 0),
        # active at the end: 白雪's card is valid until −10, 白兰's new card issued at −20
        ("cards_active", 30, 10, 3, 3, 3),
        ("cards_active", 30, 9, 2, 2, 3),
        ("cards_active", 30, 20, 3, 3, 2),
        # in force at the end: 干将便民服务点's agreement starts at −3
        ("agreements_in_force", 30, 3, 3, 3, 2),
    ],
)
def test_the_first_and_last_day_of_the_period_count(
    world, counted, key, start, end, expected, start_a_day_later, end_a_day_earlier
):
    """Start and end are both included: a record on either edge day counts, and the same
    period a day narrower at that edge leaves it out."""
    figure = getattr(figures, key)
    area = world.pingjiang
    assert figure(area, days(start), days(end)) == expected
    assert figure(area, days(start - 1), days(end)) == start_a_day_later
    assert figure(area, days(start), days(end + 1)) == end_a_day_earlier
