"""``reports_world``: a small register and liaison network on top of ``world``, with every
figure of the register counted by hand for 2025 (and 2024, the period before).

平江路社区 (平江街道, 北片):
  马 household 平江路112号3幢201室, registered, compound, dibao (covers every member),
    moved in 2010; model family 2025
    马晓东 Hui, volunteer · 张秀英 Han spouse · 马小燕 Hui
  白 household 平江路56号2幢102室, floating, work unit, disability
    白玉兰 Manchu · 白志强 Manchu, volunteer, moved away 2025-06-30 (on the 2024 register only)
    丁德明 Hui, volunteer, archived (never counted)
  哈 household 平江路200号1幢301室, dibao, moved in 2026-03-01 (never counted for 2025)
    哈志强 Hui
干将社区 (平江街道):
  穆 household 干将东路88号5幢601室, registered, new organisation, dibao for 1 person;
    featured building 2025, model family 2024
    穆桂芳 Uyghur, volunteer · 穆永祥 Uyghur, moved away 2026-02-01 (still counted for 2025)
  王 household 干将西路9号: 王建军 Han only (not a minority household)
道前社区 (沧浪街道):
  阿 household 道前街45号, temporary, compound, dibao for 2 persons, low income;
    featured building 2023
    阿依吐尔逊 Uyghur, volunteer
  沙 household 道前街17号, registered, other residence, no hardship; model family 2025
    沙德明 Hui
南门社区 (沧浪街道): inactive, empty.

Population 2025: 姑苏区 500 registered / 80 floating, 平江街道 300 / 50, 平江路社区 100 / 20.
Dibao standards 2025: 姑苏区 1095.00 at 20%, 沧浪街道 1000.00 at 25%; none for 2024.

Liaison groups: 平江路's (set up 2019-03-01), 干将's (set up 2026-01-10, so not in 2025),
道前's (date unknown) and 道前社区第二联络组 (inactive).
Liaisons (community, secretary?, membership):
  白梅 平江路 secretary, 平江路 group from 2020-01-01 · 马建华 道前, 道前 group 2021-06-01 to
  2025-06-30 · 金秀兰 道前 secretary, 道前 group from 2025-03-01 · 李德明 干将 secretary, 干将
  group from 2026-01-10 · 沙永祥 平江路 archived, 平江路 group from 2020 · 丁海燕 平江路,
  平江路 group from 2026-01-01 · 哈桂芳 干将, in 平江路's group from 2022-04-01.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.utils import timezone

from network.models import Area, AreaLevel, AreaPopulation, LiaisonGroup
from outreach.models import GroupMembership, Liaison
from residents.models import DibaoStandard, Honour, HonourKind, Household, Person
from tests.factories import HouseholdFactory, PersonFactory, _ethnicity

D = datetime.date
HUI, MANCHU, UYGHUR, HAN = "03", "11", "05", "01"


@dataclass
class ReportsWorld:
    world: object
    nanmen: Area  # inactive community of 沧浪街道
    ma_household: Household
    bai_household: Household
    ha_household: Household
    mu_household: Household
    wang_household: Household
    ayi_household: Household
    sha_household: Household
    ma_xiaodong: Person
    bai_yulan: Person
    mu_guifang: Person
    aytursun: Person
    sha_deming: Person


def _person(household, name, ethnicity, **fields):
    return PersonFactory(household=household, name=name, ethnicity=_ethnicity(ethnicity), **fields)


def _liaison(community, name, group, start, end=None, secretary=False):
    liaison = Liaison.objects.create(
        community=community, name=name, is_committee_secretary=secretary
    )
    GroupMembership.objects.create(liaison=liaison, group=group, start_date=start, end_date=end)
    return liaison


@pytest.fixture
def reports_world(world) -> ReportsWorld:
    w = world
    nanmen = Area.objects.create(
        code="320508002002",
        name="南门社区",
        level=AreaLevel.COMMUNITY,
        parent=w.canglang,
        is_active=False,
    )
    ma = HouseholdFactory(
        community=w.pingjianglu,
        address="平江路112号3幢201室",
        is_dibao=True,
        moved_in_on=D(2010, 5, 1),
    )
    bai = HouseholdFactory(
        community=w.pingjianglu,
        address="平江路56号2幢102室",
        registration_kind="floating",
        residence_kind="work_unit",
        has_disability=True,
    )
    ha = HouseholdFactory(
        community=w.pingjianglu,
        address="平江路200号1幢301室",
        is_dibao=True,
        moved_in_on=D(2026, 3, 1),
    )
    mu = HouseholdFactory(
        community=w.ganjiang,
        address="干将东路88号5幢601室",
        residence_kind="new_org",
        is_dibao=True,
        dibao_persons=1,
    )
    wang = HouseholdFactory(community=w.ganjiang, address="干将西路9号")
    ayi = HouseholdFactory(
        community=w.daoqian,
        address="道前街45号",
        registration_kind="temporary",
        is_dibao=True,
        is_low_income=True,
        dibao_persons=2,
    )
    sha = HouseholdFactory(community=w.daoqian, address="道前街17号", residence_kind="other")

    ma_xiaodong = _person(ma, "马晓东", HUI, is_volunteer=True)
    _person(ma, "张秀英", HAN, sex="F", relation="spouse")
    _person(ma, "马小燕", HUI, sex="F", relation="child")
    bai_yulan = _person(bai, "白玉兰", MANCHU, sex="F")
    _person(
        bai,
        "白志强",
        MANCHU,
        relation="child",
        is_volunteer=True,
        status="moved_away",
        status_changed_on=D(2025, 6, 30),
    )
    archived = _person(bai, "丁德明", HUI, relation="other", is_volunteer=True)
    Person.objects.filter(pk=archived.pk).update(archived_at=timezone.now())
    _person(ha, "哈志强", HUI)
    mu_guifang = _person(mu, "穆桂芳", UYGHUR, sex="F", is_volunteer=True)
    _person(
        mu,
        "穆永祥",
        UYGHUR,
        relation="spouse",
        status="moved_away",
        status_changed_on=D(2026, 2, 1),
    )
    _person(wang, "王建军", HAN)
    aytursun = _person(ayi, "阿依吐尔逊", UYGHUR, sex="F", is_volunteer=True)
    sha_deming = _person(sha, "沙德明", HUI)

    Honour.objects.create(household=ma, year=2025, kind=HonourKind.MODEL_FAMILY)
    Honour.objects.create(household=mu, year=2025, kind=HonourKind.FEATURED_BUILDING)
    Honour.objects.create(household=mu, year=2024, kind=HonourKind.MODEL_FAMILY)
    Honour.objects.create(household=ayi, year=2023, kind=HonourKind.FEATURED_BUILDING)
    Honour.objects.create(household=sha, year=2025, kind=HonourKind.MODEL_FAMILY)

    AreaPopulation.objects.create(area=w.district, year=2025, registered=500, floating=80)
    AreaPopulation.objects.create(area=w.pingjiang, year=2025, registered=300, floating=50)
    AreaPopulation.objects.create(area=w.pingjianglu, year=2025, registered=100, floating=20)
    DibaoStandard.objects.create(
        area=w.district, year=2025, monthly_standard=Decimal("1095.00"), supplement_rate="0.200"
    )
    DibaoStandard.objects.create(
        area=w.canglang, year=2025, monthly_standard=Decimal("1000.00"), supplement_rate="0.250"
    )

    LiaisonGroup.objects.filter(pk=w.pingjianglu_group.pk).update(established_on=D(2019, 3, 1))
    LiaisonGroup.objects.filter(pk=w.ganjiang_group.pk).update(established_on=D(2026, 1, 10))
    LiaisonGroup.objects.create(community=w.daoqian, name="道前社区第二联络组", is_active=False)
    pjl, gj, dq = w.pingjianglu_group, w.ganjiang_group, w.daoqian_group
    _liaison(w.pingjianglu, "白梅", pjl, D(2020, 1, 1), secretary=True)
    _liaison(w.daoqian, "马建华", dq, D(2021, 6, 1), D(2025, 6, 30))
    _liaison(w.daoqian, "金秀兰", dq, D(2025, 3, 1), secretary=True)
    _liaison(w.ganjiang, "李德明", gj, D(2026, 1, 10), secretary=True)
    gone = _liaison(w.pingjianglu, "沙永祥", pjl, D(2020, 1, 1))
    Liaison.objects.filter(pk=gone.pk).update(archived_at=timezone.now())
    _liaison(w.pingjianglu, "丁海燕", pjl, D(2026, 1, 1))
    _liaison(w.ganjiang, "哈桂芳", pjl, D(2022, 4, 1))

    return ReportsWorld(
        world=w,
        nanmen=nanmen,
        ma_household=ma,
        bai_household=bai,
        ha_household=ha,
        mu_household=mu,
        wang_household=wang,
        ayi_household=ayi,
        sha_household=sha,
        ma_xiaodong=ma_xiaodong,
        bai_yulan=bai_yulan,
        mu_guifang=mu_guifang,
        aytursun=aytursun,
        sha_deming=sha_deming,
    )


def drilldown_size(key: str, area: Area, period) -> object:
    """What the drill-down list behind figure ``key`` adds up to: its number of rows, or for
    a sum the total of its value field."""
    from reports import catalogue

    f = catalogue.figure(catalogue.figure(key).drill_key)
    rows = catalogue.records(key, area, period)
    if f.measure == catalogue.SUM:
        return sum((getattr(r, f.value_field) for r in rows), Decimal("0.00"))
    return rows.count()
