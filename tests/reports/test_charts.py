"""Charts of the summaries: they draw as PNG and SVG with Chinese text in a CJK font (no
boxes: no "Glyph ... missing" warning), count what the figures count, cost a few queries,
and are cached privately by the browser."""

import datetime
import warnings

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django.utils.translation import gettext

from network.roles import GROUP_NAMES
from outreach.models import Visit, VisitKind
from reports import charts
from reports.periods import parse_period
from residents.models import Ethnicity
from tests.factories import HouseholdFactory, PersonFactory
from tests.reports.test_drilldown import YEAR, build_town

needs_cjk_font = pytest.mark.skipif(
    charts.cjk_family() is None,
    reason="no CJK font installed (Debian: apt-get install fonts-noto-cjk; CI installs it)",
)


@pytest.fixture
def town(world):
    return build_town(world)


def chart_url(name, area, period="2025"):
    return f"{reverse('reports:chart', args=[name])}?area={area.pk}&period={period}"


# ---------------------------------------------------------------- drawing


@pytest.mark.parametrize("name", list(charts.CHARTS))
def test_each_chart_draws_as_png_and_svg(world, town, name):
    draw = charts.CHARTS[name]
    png = draw(world.pingjiang, YEAR, "png")
    svg = draw(world.pingjiang, YEAR, "svg").decode()
    assert png.startswith(b"\x89PNG")
    assert "<svg" in svg
    assert "平江街道" in svg  # the text stays text, for the browser to draw


@needs_cjk_font
def test_chinese_labels_are_drawn_with_a_cjk_font_not_boxes(world, town):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        charts.ethnic_composition(world.pingjiang, YEAR, "png")
        charts.coverage_by_community(world.district, YEAR, "png")
    missing = [str(w.message) for w in caught if "missing from font" in str(w.message)]
    assert missing == []


@needs_cjk_font
def test_svg_names_the_cjk_font_for_the_browser(world, town):
    svg = charts.ethnic_composition(world.pingjiang, YEAR, "svg").decode()
    assert charts.cjk_family() in svg
    assert "回族" in svg and "满族" in svg


def test_the_font_is_found_by_family_name():
    family = charts.cjk_family()
    assert family is None or family in charts.CJK_FAMILIES


def test_a_chart_with_nothing_to_show_says_so(world):
    svg = charts.ethnic_composition(world.canglang, YEAR, "svg").decode()
    assert gettext("No minority residents on the register.") in svg


def test_only_svg_and_png_are_drawn(world):
    with pytest.raises(ValueError):
        charts.visits_by_month(world.pingjiang, YEAR, "pdf")


# ---------------------------------------------------------------- what the charts count


def test_ethnic_composition_keeps_the_ten_largest_groups_and_adds_up_the_rest(world):
    groups = list(Ethnicity.objects.exclude(code="01").order_by("code")[:12])
    for n, ethnicity in enumerate(groups):
        household = HouseholdFactory(community=world.pingjianglu, address=f"平江路{n + 1}号")
        for _ in range(12 - n):  # 12 Mongols, 11 Hui, ... 1 of the twelfth group
            PersonFactory(household=household, ethnicity=ethnicity)
    counts = charts.ethnic_counts(world.pingjiang, YEAR)
    assert len(counts) == 11
    assert counts[0] == (groups[0].name, 12)
    assert counts[-1][1] == 2 + 1  # the eleventh and twelfth groups
    assert sum(n for _name, n in counts) == sum(range(1, 13))


def test_visits_per_month_has_every_month_of_the_period(world, town):
    months = charts.visits_per_month(world.district, YEAR)
    assert [label for label, _n in months] == [str(m) for m in range(1, 13)]
    assert [n for _label, n in months] == [0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 0, 0]
    quarter = charts.visits_per_month(world.pingjiang, parse_period("2025-Q3"))
    assert quarter == [("7", 1), ("8", 0), ("9", 0)]


def test_visits_per_month_across_years_names_the_year(world, town):
    months = charts.visits_per_month(world.district, parse_period("2024-06-01..2025-03-31"))
    assert months[0] == ("2024-06", 1)
    assert months[-1] == ("2025-03", 2)


def test_coverage_is_the_share_of_minority_households_visited_per_child_area(world, town):
    if not charts.coverage_available():
        pytest.skip("the catalogue has no figures of households visited yet")
    household = HouseholdFactory(community=world.ganjiang, address="干将西路5号")
    PersonFactory(household=household, name="沙永祥")  # a minority household never visited
    rows = {name: (visited, households) for name, visited, households, _s in
            charts.coverage_rows(world.pingjiang, YEAR)}  # fmt: skip
    assert rows == {"北片": (1, 1), "干将社区": (1, 2)}


def test_without_the_figures_the_coverage_chart_is_left_out(world, town, login, monkeypatch):
    monkeypatch.setattr(charts, "coverage_keys", lambda: None)
    with pytest.raises(charts.ChartUnavailable):
        charts.coverage_by_community(world.pingjiang, YEAR)
    client = login(world.bureau)
    assert client.get(chart_url("coverage-by-community", world.pingjiang)).status_code == 404
    page = client.get(reverse("reports:summary"), {"area": world.pingjiang.pk, "period": "2025"})
    assert "coverage-by-community" not in page.content.decode()


@pytest.mark.parametrize(
    ("name", "most"),
    [("ethnic-composition", 2), ("visits-by-month", 2), ("coverage-by-community", 8)],
)
def test_each_chart_costs_a_few_queries(world, town, name, most, django_assert_max_num_queries):
    if not charts.available(name):
        pytest.skip(f"{name} cannot be drawn with this catalogue")
    for n in range(10):
        household = HouseholdFactory(community=world.ganjiang, address=f"干将西路{n + 10}号")
        PersonFactory(household=household)
        Visit.objects.create(
            household=household, kind=VisitKind.CARE, visited_on=datetime.date(2025, 4, 1)
        )
    with django_assert_max_num_queries(most):
        charts.CHARTS[name](world.pingjiang, YEAR, "svg")


# ---------------------------------------------------------------- the chart URL


def test_the_chart_url_gives_svg_cached_privately(world, town, login):
    response = login(world.pingjiang_staff).get(chart_url("ethnic-composition", world.pingjiang))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert "private" in response["Cache-Control"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "回族" in response.content.decode()


def test_ethnic_composition_is_kept_from_roles_without_sensitive_data(world, town, login):
    group = Group.objects.get(name=GROUP_NAMES["community"])
    group.permissions.remove(Permission.objects.get(codename="view_sensitive"))
    client = login(world.pingjianglu_staff)
    assert client.get(chart_url("ethnic-composition", world.pingjianglu)).status_code == 403
    assert client.get(chart_url("visits-by-month", world.pingjianglu)).status_code == 200
    page = client.get(reverse("reports:summary")).content.decode()
    assert "ethnic-composition" not in page and "visits-by-month" in page
