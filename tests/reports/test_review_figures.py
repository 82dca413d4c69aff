"""Review of the register figures against their one-line definitions: who is "on the register
at the end of the period", and shares whose numerator lies inside their denominator."""

import datetime
from decimal import Decimal

import pytest

from network.models import AreaPopulation
from outreach.models import Visit, VisitKind
from reports import catalogue
from reports.narrative import DEFAULT_TEMPLATE, fill
from reports.periods import parse_period
from residents.models import Honour, HonourKind, HouseholdStatus
from tests.factories import HouseholdFactory, PersonFactory, _ethnicity
from tests.reports.conftest import drilldown_size

Y2024, Y2025 = parse_period("2024"), parse_period("2025")
D = datetime.date


def value(key, area, period):
    return catalogue.compute([key], [area], period).value(key, area)


@pytest.fixture
def moved_household(world):
    """马 household of 平江路社区, dibao, marked moved away on 2025-05-01 on the household form;
    its two Hui members' own status was left "active" (the form does not touch them)."""
    household = HouseholdFactory(
        community=world.pingjianglu,
        address="平江路112号3幢201室",
        is_dibao=True,
        moved_in_on=D(2012, 3, 1),
        status=HouseholdStatus.MOVED_AWAY,
        moved_out_on=D(2025, 5, 1),
    )
    PersonFactory(household=household, name="马晓东")
    PersonFactory(household=household, name="马小燕", sex="F", relation="child")
    stays = HouseholdFactory(community=world.pingjianglu, address="平江路56号2幢102室")
    PersonFactory(household=stays, name="白玉兰", sex="F", ethnicity=_ethnicity("11"))
    return household


@pytest.mark.parametrize(
    "key", ["minority_persons", "minority_households", "dibao_households", "hardship_households"]
)
def test_a_household_that_moved_away_leaves_the_register_from_its_moving_day(
    world, moved_household, key
):
    expected_2025 = {"minority_persons": 1, "minority_households": 1}.get(key, 0)
    expected_2024 = {"minority_persons": 3, "minority_households": 2}.get(key, 1)
    assert value(key, world.pingjianglu, Y2025) == expected_2025
    assert drilldown_size(key, world.pingjianglu, Y2025) == expected_2025
    # still there at the end of 2024: it moved out in May 2025
    assert value(key, world.pingjianglu, Y2024) == expected_2024
    assert drilldown_size(key, world.pingjianglu, Y2024) == expected_2024


def test_a_closed_household_with_no_moving_out_date_is_not_counted(world):
    closed = HouseholdFactory(
        community=world.ganjiang, address="干将东路88号5幢601室", status=HouseholdStatus.CLOSED
    )
    PersonFactory(household=closed, name="穆桂芳", sex="F", ethnicity=_ethnicity("05"))
    assert value("minority_persons", world.ganjiang, Y2025) == 0
    assert value("ethnic_groups", world.ganjiang, Y2025) == 0


def test_a_child_born_after_the_period_is_not_on_its_register(world):
    home = HouseholdFactory(community=world.pingjianglu, address="平江路200号1幢301室")
    PersonFactory(household=home, name="哈志强")
    PersonFactory(household=home, name="哈小雨", sex="F", birth_date=D(2026, 1, 15))
    assert value("minority_persons", world.pingjianglu, Y2025) == 1
    assert drilldown_size("minority_persons", world.pingjianglu, Y2025) == 1
    assert value("minority_persons", world.pingjianglu, parse_period("2026")) == 2


@pytest.fixture
def mixed_registration(world):
    """平江路社区, 100 registered residents in 2025: two registered Hui residents and three
    floating Uyghur workers of one rented flat."""
    AreaPopulation.objects.create(area=world.pingjianglu, year=2025, registered=100, floating=40)
    home = HouseholdFactory(community=world.pingjianglu, address="平江路112号3幢201室")
    PersonFactory(household=home, name="马晓东")
    PersonFactory(household=home, name="马小燕", sex="F", relation="child")
    flat = HouseholdFactory(
        community=world.pingjianglu, address="平江路18号1幢502室", registration_kind="floating"
    )
    for name in ("艾尔肯", "买买提", "阿不都"):
        PersonFactory(household=flat, name=name, ethnicity=_ethnicity("05"))


def test_the_minority_share_takes_registered_minorities_of_the_registered_population(
    world, mixed_registration
):
    assert value("minority_persons", world.pingjianglu, Y2025) == 5
    assert value("floating_minority_persons", world.pingjianglu, Y2025) == 3
    assert value("registered_minority_persons", world.pingjianglu, Y2025) == 2
    # 2 of 100, not 5 of 100: floating residents are not part of the registered population
    assert value("minority_share", world.pingjianglu, Y2025) == Decimal("2.0")
    # its list is the registered minority residents it counts
    assert drilldown_size("minority_share", world.pingjianglu, Y2025) == 2


def test_the_default_summary_says_which_minorities_the_share_is_of(world, mixed_registration):
    keys = [
        "minority_persons",
        "registered_minority_persons",
        "floating_minority_persons",
        "minority_share",
    ]
    computed = catalogue.compute(keys, [world.pingjianglu], Y2025)
    text = fill(DEFAULT_TEMPLATE, {k: computed.value(k, world.pingjianglu) for k in keys})
    assert "其中户籍少数民族2人，占户籍人口的2.0%" in text


def test_the_model_family_share_counts_only_minority_households(world):
    hui = HouseholdFactory(community=world.ganjiang, address="干将东路88号5幢601室")
    PersonFactory(household=hui, name="沙德明")
    han = HouseholdFactory(community=world.ganjiang, address="干将西路9号")
    PersonFactory(household=han, name="王建军", ethnicity=_ethnicity("01"))
    Honour.objects.create(household=hui, year=2025, kind=HonourKind.MODEL_FAMILY)
    Honour.objects.create(household=han, year=2025, kind=HonourKind.MODEL_FAMILY)

    assert value("minority_households", world.ganjiang, Y2025) == 1
    assert value("model_families", world.ganjiang, Y2025) == 1
    assert drilldown_size("model_families", world.ganjiang, Y2025) == 1
    assert value("model_family_share", world.ganjiang, Y2025) == Decimal("100.0")


def test_the_default_summary_writes_the_minority_households_visited_beside_their_share(world):
    hui = HouseholdFactory(community=world.ganjiang, address="干将东路88号5幢601室")
    PersonFactory(household=hui, name="沙德明")
    other = HouseholdFactory(community=world.ganjiang, address="干将东路90号")
    PersonFactory(household=other, name="丁海燕", sex="F")
    han = HouseholdFactory(community=world.ganjiang, address="干将西路9号")
    PersonFactory(household=han, name="王建军", ethnicity=_ethnicity("01"))
    for household in (hui, han):
        Visit.objects.create(household=household, kind=VisitKind.CARE, visited_on=D(2025, 6, 1))

    keys = [k for k in catalogue.catalogue() if f"{{{{ {k} }}}}" in DEFAULT_TEMPLATE]
    computed = catalogue.compute(keys, [world.ganjiang], Y2025)
    text = fill(DEFAULT_TEMPLATE, {k: computed.value(k, world.ganjiang) for k in keys})
    # one of the two minority households was visited: 1户, 50.0%, not 2户 and 50.0%
    assert "走访到1户，占少数民族家庭的50.0%" in text


def test_the_population_list_holds_the_rows_the_figure_adds_up(world):
    for area, registered in [
        (world.district, 500),
        (world.pingjianglu, 100),
        (world.ganjiang, 80),
        (world.daoqian, 60),
    ]:
        AreaPopulation.objects.create(area=area, year=2025, registered=registered)
    for area, rows, total in [
        (world.district, ["姑苏区"], 500),  # its own row, not the communities' as well
        (world.pingjiang, ["平江路社区", "干将社区"], 180),  # no row of its own
        (world.north_zone, ["平江路社区"], 100),
    ]:
        listed = catalogue.records("registered_population", area, Y2025)
        assert sorted(r.area.name for r in listed) == sorted(rows)
        assert (
            sum(r.registered for r in listed)
            == total
            == value("registered_population", area, Y2025)
        )


def test_the_default_summary_fills_seed_003s_work_unit_sentence(world):
    works = HouseholdFactory(
        community=world.ganjiang, address="干将东路8号职工宿舍", residence_kind="work_unit"
    )
    PersonFactory(household=works, name="金秀兰", sex="F", ethnicity=_ethnicity("10"))
    key = "minority_persons_work_unit"
    computed = catalogue.compute([key], [world.ganjiang], Y2025)
    text = fill(DEFAULT_TEMPLATE, {key: computed.value(key, world.ganjiang)})
    assert "其中分布在社区所在单位的少数民族人员有1人" in text
