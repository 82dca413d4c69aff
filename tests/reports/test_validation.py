"""Validation rules on a draft's figures: which rule holds where, and each kind of flag."""

from decimal import Decimal

import pytest
from django.utils import translation

from network.models import AreaPopulation
from reports.catalogue import Computation, compute
from reports.models import FigureRule
from reports.periods import parse_period
from reports.validation import (
    ABOVE,
    BELOW,
    CHANGE,
    MISSING,
    NO_DENOMINATOR,
    check_figures,
    rules_for,
)
from tests.factories import HouseholdFactory, PersonFactory

PERIOD = parse_period("2025")


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def values(area, **figures):
    return Computation(
        period=PERIOD, areas=[area], values={k: {area.pk: v} for k, v in figures.items()}
    )


def kinds(flags):
    return [(f.key, f.kind) for f in flags]


def test_the_nearest_areas_rule_overrides_the_districts(world):
    FigureRule.objects.create(key="minority_persons", area=world.district, maximum=10)
    FigureRule.objects.create(key="minority_persons", area=world.pingjiang, maximum=100)

    in_pingjianglu = check_figures(
        world.pingjianglu,
        PERIOD,
        ["minority_persons"],
        values(world.pingjianglu, minority_persons=50),
        None,
    )
    in_daoqian = check_figures(
        world.daoqian,
        PERIOD,
        ["minority_persons"],
        values(world.daoqian, minority_persons=50),
        None,
    )

    assert in_pingjianglu == []  # 平江街道's maximum of 100 holds, not the district's 10
    assert kinds(in_daoqian) == [("minority_persons", ABOVE)]  # 沧浪街道 keeps the district's


def test_a_rule_for_one_sub_district_does_not_hold_in_another(world):
    FigureRule.objects.create(key="minority_persons", area=world.pingjiang, minimum=5)

    assert rules_for(world.daoqian, ["minority_persons"]) == {}
    assert rules_for(world.pingjianglu, ["minority_persons"])["minority_persons"].minimum == 5


def test_a_rule_without_area_holds_everywhere_until_a_nearer_one(world):
    everywhere = FigureRule.objects.create(key="minority_persons", minimum=1)
    community = FigureRule.objects.create(key="minority_persons", area=world.ganjiang, minimum=3)

    assert rules_for(world.daoqian, ["minority_persons"])["minority_persons"] == everywhere
    assert rules_for(world.ganjiang, ["minority_persons"])["minority_persons"] == community
    assert rules_for(world.pingjiang, ["minority_persons"])["minority_persons"] == everywhere


def test_a_required_figure_that_could_not_be_worked_out_is_flagged(world):
    FigureRule.objects.create(key="minority_persons", required=True)
    FigureRule.objects.create(key="minority_households", required=False)

    flags = check_figures(
        world.pingjianglu,
        PERIOD,
        ["minority_persons", "minority_households"],
        values(world.pingjianglu, minority_persons=None, minority_households=None),
        None,
    )

    assert kinds(flags) == [("minority_persons", MISSING)]
    assert flags[0].label == "Minority residents"
    assert flags[0].value is None


def test_below_the_minimum_and_above_the_maximum(world):
    FigureRule.objects.create(key="minority_persons", minimum=20, maximum=500)
    FigureRule.objects.create(key="minority_households", maximum=100)

    flags = check_figures(
        world.pingjianglu,
        PERIOD,
        ["minority_persons", "minority_households"],
        values(world.pingjianglu, minority_persons=12, minority_households=130),
        None,
    )

    assert kinds(flags) == [("minority_persons", BELOW), ("minority_households", ABOVE)]
    assert flags[0].value == 12
    assert "12" in flags[0].message and "20" in flags[0].message
    assert "130" in flags[1].message and "100" in flags[1].message


def test_a_value_on_the_limits_is_not_flagged(world):
    FigureRule.objects.create(key="minority_persons", minimum=20, maximum=500, max_change=50)

    flags = check_figures(
        world.pingjianglu,
        PERIOD,
        ["minority_persons"],
        values(world.pingjianglu, minority_persons=20),
        values(world.pingjianglu, minority_persons=40),  # down exactly 50%
    )

    assert flags == []


def test_a_large_change_says_old_new_and_the_percentage(world):
    FigureRule.objects.create(key="minority_persons", max_change=20)

    flags = check_figures(
        world.pingjianglu,
        PERIOD,
        ["minority_persons"],
        values(world.pingjianglu, minority_persons=135),
        values(world.pingjianglu, minority_persons=100),
    )

    assert kinds(flags) == [("minority_persons", CHANGE)]
    assert "100" in flags[0].message and "135" in flags[0].message
    assert "+35.0%" in flags[0].message
    assert "20%" in flags[0].message


def test_a_drop_is_a_change_too_and_a_small_one_is_not(world):
    FigureRule.objects.create(key="minority_persons", max_change=20)
    previous = values(world.pingjianglu, minority_persons=100)

    dropped = check_figures(
        world.pingjianglu,
        PERIOD,
        ["minority_persons"],
        values(world.pingjianglu, minority_persons=60),
        previous,
    )
    small = check_figures(
        world.pingjianglu,
        PERIOD,
        ["minority_persons"],
        values(world.pingjianglu, minority_persons=90),
        previous,
    )

    assert "-40.0%" in dropped[0].message
    assert small == []


def test_a_change_from_nothing_is_flagged_without_a_percentage(world):
    FigureRule.objects.create(key="minority_persons", max_change=20)

    flags = check_figures(
        world.pingjianglu,
        PERIOD,
        ["minority_persons"],
        values(world.pingjianglu, minority_persons=8),
        values(world.pingjianglu, minority_persons=0),
    )

    assert kinds(flags) == [("minority_persons", CHANGE)]
    assert "0" in flags[0].message and "8" in flags[0].message


def test_money_and_shares_are_written_as_such(world):
    FigureRule.objects.create(key="minority_share", maximum=Decimal("10"))

    flags = check_figures(
        world.pingjianglu,
        PERIOD,
        ["minority_share"],
        values(
            world.pingjianglu,
            minority_share=Decimal("12.5"),
            minority_persons=25,
            registered_population=200,
        ),
        None,
    )

    assert "12.5%" in flags[0].message and "10%" in flags[0].message


def test_a_share_without_its_population_row_is_flagged_without_any_rule(world):
    household = HouseholdFactory(community=world.pingjianglu, address="平江路112号3幢201室")
    PersonFactory(household=household, name="马晓东")
    areas = [world.pingjianglu]

    without_row = compute(["minority_share"], areas, PERIOD)
    flags = check_figures(world.pingjianglu, PERIOD, ["minority_share"], without_row, None)

    assert without_row.value("minority_share", world.pingjianglu) is None
    assert kinds(flags) == [("minority_share", NO_DENOMINATOR)]
    assert "Registered population" in flags[0].message and "2025" in flags[0].message

    AreaPopulation.objects.create(area=world.pingjianglu, year=2025, registered=4000)
    with_row = compute(["minority_share"], areas, PERIOD)
    assert check_figures(world.pingjianglu, PERIOD, ["minority_share"], with_row, None) == []


def test_a_population_row_of_another_year_does_not_count(world):
    AreaPopulation.objects.create(area=world.pingjianglu, year=2024, registered=4000)

    flags = check_figures(
        world.pingjianglu,
        PERIOD,
        ["minority_share"],
        compute(["minority_share"], [world.pingjianglu], PERIOD),
        None,
    )

    assert kinds(flags) == [("minority_share", NO_DENOMINATOR)]


def test_unknown_keys_are_left_out(world):
    assert (
        check_figures(
            world.pingjianglu, PERIOD, ["no_such_figure"], values(world.pingjianglu), None
        )
        == []
    )


def test_rules_are_read_in_one_query(world, django_assert_num_queries):
    for key in ("minority_persons", "minority_households", "ethnic_groups"):
        FigureRule.objects.create(key=key, area=world.pingjiang, maximum=1)
        FigureRule.objects.create(key=key, maximum=1000)
    current = values(world.pingjianglu, minority_persons=5, minority_households=3, ethnic_groups=2)

    with django_assert_num_queries(1):
        flags = check_figures(
            world.pingjianglu,
            PERIOD,
            ["minority_persons", "minority_households", "ethnic_groups"],
            current,
            None,
        )

    assert [f.kind for f in flags] == [ABOVE, ABOVE, ABOVE]


def test_the_flags_include_shows_each_flag(world):
    from django.template.loader import render_to_string

    FigureRule.objects.create(key="minority_persons", maximum=10)
    flags = check_figures(
        world.pingjianglu,
        PERIOD,
        ["minority_persons"],
        values(world.pingjianglu, minority_persons=25),
        None,
    )

    shown = render_to_string("reports/includes/figure_flags.html", {"flags": flags})
    empty = render_to_string("reports/includes/figure_flags.html", {"flags": []})

    assert "Minority residents" in shown and "25 is above the maximum of 10." in shown
    assert "No figure breaks a validation rule." in empty
