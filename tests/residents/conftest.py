"""Households in the world's communities: 平江路社区 (pingjiang sub-district, in a zone),
干将社区 (pingjiang) and 道前社区 (canglang)."""

from dataclasses import dataclass

import pytest

from residents.models import Household, Person
from tests.factories import HouseholdFactory, PersonFactory, _ethnicity, valid_id_number


@dataclass
class Register:
    ma_household: Household  # 平江路社区, Hui, dibao
    ma_xiaodong: Person
    ma_wife: Person
    bai_household: Household  # 干将社区, Manchu
    bai_lan: Person
    daoqian_household: Household  # 道前社区 (other sub-district), Uyghur, floating
    aytursun: Person


@pytest.fixture
def register(world) -> Register:
    ma = HouseholdFactory(
        community=world.pingjianglu,
        address="平江路112号3幢201室",
        is_dibao=True,
        ledger_number="PJL-001",
    )
    bai = HouseholdFactory(community=world.ganjiang, address="干将东路88号", ledger_number="GJ-001")
    dq = HouseholdFactory(
        community=world.daoqian,
        address="道前街45号",
        registration_kind="floating",
        ledger_number="DQ-001",
    )
    return Register(
        ma_household=ma,
        ma_xiaodong=PersonFactory(
            household=ma,
            name="马晓东",
            sex="M",
            relation="head",
            id_number=valid_id_number(sequence="135"),
            birth_date="1984-07-14",
        ),
        ma_wife=PersonFactory(
            household=ma,
            name="哈丽娜",
            sex="F",
            relation="spouse",
            id_number=valid_id_number(birth="19860302", sequence="246"),
            birth_date="1986-03-02",
        ),
        bai_household=bai,
        bai_lan=PersonFactory(
            household=bai,
            name="白兰",
            sex="F",
            ethnicity=_ethnicity("11"),
            id_number=valid_id_number(birth="19700101", sequence="022"),
            birth_date="1970-01-01",
        ),
        daoqian_household=dq,
        aytursun=PersonFactory(
            household=dq,
            name="阿依吐尔逊",
            sex="F",
            ethnicity=_ethnicity("05"),
            id_number=valid_id_number(region="653101", birth="19950505", sequence="064"),
            birth_date="1995-05-05",
            residence_permit_number="苏居320508123",
            residence_permit_expires_on="2026-12-20",
        ),
    )
