"""The register, organisation, hardship and honours figures on ``reports_world``, whose every
answer is counted by hand in tests/reports/conftest.py; and each drill-down list as long as
its figure, for each row of the district's and the sub-districts' tables."""

from decimal import Decimal

import pytest

from reports import catalogue
from reports.catalogue import COUNT, DISTINCT, SUM
from reports.figures_register import dibao_supplements, paid_months
from reports.periods import parse_period
from tests.reports.conftest import drilldown_size

Y2025, Y2024 = parse_period("2025"), parse_period("2024")


def values(key, period, *areas):
    """The figure ``key`` for each of ``areas``, computed as a table computes them."""
    areas = list(areas)
    top = min(areas, key=lambda a: len(a.path))
    result = catalogue.compute([key], [a for a in areas if a != top] + [top], period)
    return [result.value(key, a) for a in areas]


@pytest.fixture
def w(reports_world):
    return reports_world.world


# the areas as columns: district, 平江街道, 北片, 平江路, 干将, 沧浪街道, 道前
def every_area(w):
    return [w.district, w.pingjiang, w.north_zone, w.pingjianglu, w.ganjiang, w.canglang, w.daoqian]


EXPECTED_2025 = {
    "minority_persons": [7, 5, 3, 3, 2, 2, 2],
    "minority_households": [5, 3, 2, 2, 1, 2, 2],
    "ethnic_groups": [3, 3, 2, 2, 1, 2, 2],
    "registered_population": [500, 300, 100, 100, None, None, None],
    "floating_population": [80, 50, 20, 20, None, None, None],
    # registered (户籍) minority residents only: not 白玉兰 (floating), 阿依吐尔逊 (temporary)
    "registered_minority_persons": [5, 4, 2, 2, 2, 1, 1],
    "minority_share": [Decimal("1.0"), Decimal("1.3"), Decimal("2.0"), Decimal("2.0")] + [None] * 3,
    "floating_minority_persons": [2, 1, 1, 1, 0, 1, 1],
    "minority_persons_compound": [3, 2, 2, 2, 0, 1, 1],
    "minority_persons_work_unit": [1, 1, 1, 1, 0, 0, 0],
    "minority_persons_new_org": [2, 2, 0, 0, 2, 0, 0],
    "minority_persons_other": [1, 0, 0, 0, 0, 1, 1],
    "communities": [3, 2, 1, 1, 1, 1, 1],
    "liaison_groups": [2, 1, 1, 1, 0, 1, 1],
    "liaisons": [3, 2, 1, 1, 1, 1, 1],
    "secretary_liaison_communities": [2, 1, 1, 1, 0, 1, 1],
    "volunteers": [3, 2, 1, 1, 1, 1, 1],
    "volunteer_share": [Decimal("42.9"), Decimal("40.0"), Decimal("33.3"), Decimal("33.3")]
    + [Decimal("50.0")] * 3,
    "hardship_households": [4, 3, 2, 2, 1, 1, 1],
    "dibao_households": [3, 2, 1, 1, 1, 1, 1],
    "dibao_supplement": [
        Decimal("16512.00"),
        Decimal("10512.00"),
        Decimal("7884.00"),  # 1095 × 3 persons × 20% × 12 months
        Decimal("7884.00"),
        Decimal("2628.00"),  # 1095 × 1 × 20% × 12
        Decimal("6000.00"),  # 沧浪's own standard: 1000 × 2 × 25% × 12
        Decimal("6000.00"),
    ],
    "model_families": [2, 1, 1, 1, 0, 1, 1],
    "model_family_share": [Decimal("40.0"), Decimal("33.3"), Decimal("50.0"), Decimal("50.0")]
    + [Decimal("0.0"), Decimal("50.0"), Decimal("50.0")],
    "featured_buildings": [1, 1, 0, 0, 1, 0, 0],
}


@pytest.mark.parametrize("key", sorted(EXPECTED_2025))
def test_figure_for_2025_counted_by_hand(reports_world, w, key):
    assert values(key, Y2025, *every_area(w)) == EXPECTED_2025[key]


# the period before: 白志强 had not moved away yet, 马建华 still served, 金秀兰 not yet; the
# 2024 honours; no dibao standard for 2024 and no population rows
EXPECTED_2024 = {
    "minority_persons": [8, 6, 4, 4, 2, 2, 2],
    "minority_households": [5, 3, 2, 2, 1, 2, 2],
    "liaisons": [3, 2, 1, 1, 1, 1, 1],
    "secretary_liaison_communities": [1, 1, 1, 1, 0, 0, 0],
    "volunteers": [4, 3, 2, 2, 1, 1, 1],
    "volunteer_share": [Decimal("50.0"), Decimal("50.0"), Decimal("50.0"), Decimal("50.0")]
    + [Decimal("50.0")] * 3,
    "model_families": [1, 1, 0, 0, 1, 0, 0],
    "model_family_share": [Decimal("20.0"), Decimal("33.3"), Decimal("0.0"), Decimal("0.0")]
    + [Decimal("100.0"), Decimal("0.0"), Decimal("0.0")],
    "featured_buildings": [0] * 7,
    "dibao_supplement": [None, None, None, None, None, None, None],
    "minority_share": [None] * 7,
}


@pytest.mark.parametrize("key", sorted(EXPECTED_2024))
def test_figure_for_the_period_before_counted_by_hand(reports_world, w, key):
    assert Y2025.previous() == Y2024
    assert values(key, Y2024, *every_area(w)) == EXPECTED_2024[key]


def test_dibao_supplement_pays_the_months_of_the_period(reports_world, w):
    assert values("dibao_supplement", parse_period("2025-Q3"), w.district) == [Decimal("4128.00")]
    assert values("dibao_supplement", parse_period("2025-07"), w.district) == [Decimal("1376.00")]
    # a range starting mid-March pays April, May and June (March's supplement belongs to the
    # period holding 1 March)
    spring = parse_period("2025-03-15..2025-06-30")
    assert paid_months(spring) == {2025: 3}
    assert values("dibao_supplement", spring, w.district) == [Decimal("4128.00")]
    # a month without a standard (December 2024) leaves the figure unknown, not understated
    winter = parse_period("2024-12-01..2025-01-31")
    assert values("dibao_supplement", winter, w.district, w.ganjiang) == [None, None]


def test_dibao_supplement_drills_down_to_the_dibao_households(reports_world):
    r = reports_world
    district = r.world.district
    records = catalogue.records("dibao_supplement", district, Y2025)
    amounts = dibao_supplements(district, Y2025)
    assert set(records.values_list("address", flat=True)) == {
        "平江路112号3幢201室",
        "干将东路88号5幢601室",
        "道前街45号",
    }  # not 哈志强's household, which moved in only in 2026
    assert set(amounts) == set(records.values_list("pk", flat=True))
    assert amounts[r.ma_household.pk] == Decimal("7884.00")  # the Han spouse is covered too
    assert sum(amounts.values()) == values("dibao_supplement", Y2025, district)[0]


def test_dibao_supplement_costs_the_same_queries_for_more_households(
    reports_world, w, django_assert_num_queries
):
    from tests.factories import HouseholdFactory, PersonFactory

    with django_assert_num_queries(4) as first:
        values("dibao_supplement", Y2025, w.district)
    for n in range(5):
        household = HouseholdFactory(
            community=w.ganjiang, address=f"干将东路{100 + n}号", is_dibao=True
        )
        PersonFactory(household=household, name=f"马永{n}")
    with django_assert_num_queries(len(first.captured_queries)):
        assert values("dibao_supplement", Y2025, w.district) == [Decimal("29652.00")]


def test_honours_are_counted_over_every_year_of_a_range(reports_world, w):
    three_years = parse_period("2023-06-01..2025-05-31")
    assert values("featured_buildings", three_years, w.district) == [2]
    assert values("model_families", three_years, w.district) == [3]


def test_archived_household_loses_its_honours(reports_world, w):
    from django.utils import timezone

    from residents.models import Household

    Household.objects.filter(pk=reports_world.sha_household.pk).update(archived_at=timezone.now())
    assert values("model_families", Y2025, w.district, w.daoqian) == [1, 0]


def test_records_behind_a_figure_are_the_ones_a_user_expects(reports_world, w):
    names = set(catalogue.records("volunteers", w.district, Y2025).values_list("name", flat=True))
    assert names == {"马晓东", "穆桂芳", "阿依吐尔逊"}  # not 白志强 (moved away), not 丁德明
    liaisons = catalogue.records("liaisons", w.district, Y2025).values_list("name", flat=True)
    assert set(liaisons) == {"白梅", "金秀兰", "哈桂芳"}
    secretaries = catalogue.records("secretary_liaison_communities", w.district, Y2025)
    assert set(secretaries.values_list("name", flat=True)) == {"平江路社区", "道前社区"}
    # a share lists its numerator's records
    assert set(
        catalogue.records("volunteer_share", w.pingjiang, Y2025).values_list("name", flat=True)
    ) == {"马晓东", "穆桂芳"}


MINE = [key for key in EXPECTED_2025 if catalogue.figure(key).measure in (COUNT, SUM, DISTINCT)]


@pytest.mark.parametrize("period", ["2025", "2024", "2025-Q3"])
def test_each_drilldown_list_is_as_long_as_its_figure(reports_world, w, period):
    span = parse_period(period)
    areas = every_area(w)
    for top in (w.district, w.pingjiang, w.canglang):
        rows = [a for a in areas if a != top and top.contains(a)] + [top]
        result = catalogue.compute(MINE, rows, span)
        for key in MINE:
            for area in rows:
                assert drilldown_size(key, area, span) == result.value(key, area), (key, area)
