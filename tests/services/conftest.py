"""Services fixtures (``partners``): two partner merchants, their agreements, consents and
cards of the register's residents, and a merchant's till login.

- 马记清真拉面馆 (平江街道, serves 平江路社区 and 干将社区): agreement PJ-2026-01 in force
  (清真牛肉面 20% off, 家常菜套餐 fixed price ¥15, 送餐 free) and an
  expired one PJ-2024-03 (one item);
- 苏城家电维修部 (沧浪街道): agreement CL-2026-02 in force (上门维修 30% off);
- 马晓东 (平江路社区) consented and holds active card ``ma_card``; 白兰 (干将社区)
  consented, her card was lost and reissued (``bai_lost`` → ``bai_card``); 阿依吐尔逊 (道前
  社区, canglang) consented and holds ``ayt_card``; 哈丽娜 has not consented.
- ``lamian_till``: the till login of 马记清真拉面馆 (no post anywhere).
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.utils import timezone

from services.cards import issue_card, record_consent, reissue_lost_card
from services.models import (
    Agreement,
    AgreementItem,
    AgreementStatus,
    BenefitKind,
    Merchant,
    MerchantAccount,
    ServiceCard,
    ServiceCategory,
)
from tests.factories import UserFactory
from tests.residents.conftest import register  # noqa: F401  (the register fixture)


@dataclass
class Partners:
    lamian: Merchant  # 平江街道
    repair: Merchant  # 沧浪街道
    lamian_agreement: Agreement  # in force
    lamian_expired: Agreement  # ended last year
    repair_agreement: Agreement  # in force
    noodles: AgreementItem  # 20% off, usual ¥30
    home_cooking: AgreementItem  # fixed price ¥15, usual ¥25
    delivery: AgreementItem  # free, usual ¥5
    expired_item: AgreementItem  # in the expired agreement
    repair_visit: AgreementItem  # 30% off (沧浪's merchant)
    ma_card: ServiceCard
    bai_lost: ServiceCard
    bai_card: ServiceCard
    ayt_card: ServiceCard
    lamian_till: object  # the till's User


def days(n: int) -> datetime.timedelta:
    return datetime.timedelta(days=n)


@pytest.fixture
def partners(world, register) -> Partners:  # noqa: F811
    today = timezone.localdate()
    lamian = Merchant.objects.create(
        area=world.pingjiang,
        name="马记清真拉面馆",
        category=ServiceCategory.HALAL_FOOD,
        address="平江路88号",
        contact_person="马福来",
        phone="0512-65123456",
        licence_number="92320508MA20B3LP4A",
    )
    lamian.serves.set([world.pingjianglu, world.ganjiang])
    repair = Merchant.objects.create(
        area=world.canglang,
        name="苏城家电维修部",
        category=ServiceCategory.APPLIANCE,
        address="道前街12号",
        contact_person="周师傅",
        phone="13805121234",
    )
    repair.serves.set([world.daoqian])
    in_force = Agreement.objects.create(
        merchant=lamian,
        area=world.pingjiang,
        number="PJ-2026-01",
        signed_on=today - days(100),
        valid_from=today - days(90),
        valid_to=today + days(275),
        status=AgreementStatus.SIGNED,
    )
    expired = Agreement.objects.create(
        merchant=lamian,
        area=world.pingjiang,
        number="PJ-2024-03",
        signed_on=today - days(800),
        valid_from=today - days(790),
        valid_to=today - days(60),
        status=AgreementStatus.SIGNED,
    )
    repair_agreement = Agreement.objects.create(
        merchant=repair,
        area=world.canglang,
        number="CL-2026-02",
        signed_on=today - days(30),
        valid_from=today - days(30),
        valid_to=today + days(335),
        status=AgreementStatus.SIGNED,
    )
    noodles = AgreementItem.objects.create(
        agreement=in_force,
        category=ServiceCategory.HALAL_FOOD,
        description="清真牛肉面",
        benefit_kind=BenefitKind.PERCENT_OFF,
        percent_off=Decimal("20"),
        usual_price=Decimal("30.00"),
    )
    home_cooking = AgreementItem.objects.create(
        agreement=in_force,
        category=ServiceCategory.HALAL_FOOD,
        description="家常菜套餐",
        benefit_kind=BenefitKind.FIXED_PRICE,
        fixed_price=Decimal("15.00"),
        usual_price=Decimal("25.00"),
    )
    delivery = AgreementItem.objects.create(
        agreement=in_force,
        category=ServiceCategory.HALAL_FOOD,
        description="高龄老人免费送餐",
        benefit_kind=BenefitKind.FREE,
        usual_price=Decimal("5.00"),
        conditions="限70岁以上持卡人",
    )
    expired_item = AgreementItem.objects.create(
        agreement=expired,
        category=ServiceCategory.HALAL_FOOD,
        description="清真早点",
        benefit_kind=BenefitKind.PERCENT_OFF,
        percent_off=Decimal("10"),
    )
    repair_visit = AgreementItem.objects.create(
        agreement=repair_agreement,
        category=ServiceCategory.APPLIANCE,
        description="上门维修家电",
        benefit_kind=BenefitKind.PERCENT_OFF,
        percent_off=Decimal("30"),
        usual_price=Decimal("80.00"),
    )
    staff = world.pingjiang_staff
    for person in (register.ma_xiaodong, register.bai_lan):
        record_consent(person, given_on=today - days(200), form_reference="TY-0001", user=staff)
    record_consent(
        register.aytursun,
        given_on=today - days(200),
        form_reference="CL-0007",
        user=world.canglang_staff,
    )
    issued = today - days(180)
    ma_card = issue_card(register.ma_xiaodong, user=staff, issued_on=issued)
    bai_lost = issue_card(register.bai_lan, user=staff, issued_on=issued)
    bai_card = reissue_lost_card(bai_lost, on=today - days(20), user=staff)
    ayt_card = issue_card(register.aytursun, user=world.canglang_staff, issued_on=issued)
    till = UserFactory(username="majilamian", real_name="马记拉面收银")
    MerchantAccount.objects.create(user=till, merchant=lamian)
    return Partners(
        lamian=lamian,
        repair=repair,
        lamian_agreement=in_force,
        lamian_expired=expired,
        repair_agreement=repair_agreement,
        noodles=noodles,
        home_cooking=home_cooking,
        delivery=delivery,
        expired_item=expired_item,
        repair_visit=repair_visit,
        ma_card=ma_card,
        bai_lost=bai_lost,
        bai_card=bai_card,
        ayt_card=ayt_card,
        lamian_till=till,
    )
