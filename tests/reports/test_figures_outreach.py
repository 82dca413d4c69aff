"""The outreach figures on the books of ``outreach_books`` (tests/reports/outreach_fixtures.py,
where every number below is counted by hand)."""

import datetime
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from outreach import compliance_cache
from outreach.models import Assistance, Consultation, Meeting, Obligation, Pairing
from reports import catalogue, figures_outreach
from reports.catalogue import COUNT, CUSTOM, MEDIAN, SHARE, SUM
from reports.figures_outreach import KEYS
from reports.periods import parse_period
from reports.summary import summary_table
from tests.factories import HouseholdFactory, PersonFactory
from tests.reports import outreach_fixtures
from tests.reports.outreach_fixtures import D, at, visit

# the fixtures (pytest finds them by name in this module)
register = outreach_fixtures.register
liaisons = outreach_fixtures.liaisons
outreach_books = outreach_fixtures.outreach_books

Y2025 = parse_period("2025")
Q1 = parse_period("2025-Q1")


def areas_of(world):
    """The columns of the tables below."""
    return [
        world.district,
        world.pingjiang,
        world.north_zone,
        world.pingjianglu,
        world.ganjiang,
        world.canglang,
        world.daoqian,
    ]


def table(world, keys, period):
    areas = areas_of(world)
    result = catalogue.compute(keys, areas, period)
    return {key: [result.value(key, a) for a in areas] for key in keys}


def money(*values):
    return [Decimal(v) for v in values]


def share(*values):
    return [None if v is None else Decimal(v) for v in values]


#                      姑苏区 平江街道 北片 平江路 干将 沧浪街道 道前
EXPECTED_2025 = {
    "meetings_held": [12, 10, 5, 4, 0, 2, 1],
    "meetings_liaison": [4, 3, 0, 0, 0, 1, 0],
    "meetings_zone_head": [2, 2, 1, 0, 0, 0, 0],
    "meetings_study": [3, 3, 3, 3, 0, 0, 0],
    "meetings_leadership": [0, 0, 0, 0, 0, 0, 0],
    "meetings_tea_party": [1, 1, 1, 1, 0, 0, 0],
    "meetings_symposium": [1, 1, 0, 0, 0, 0, 0],
    "meetings_publicity": [1, 0, 0, 0, 0, 1, 1],
    "meetings_festival": [0, 0, 0, 0, 0, 0, 0],
    # liaison 4 a year and zone-head 2 a year per sub-district; study 24 a year per group
    "meetings_due": [84, 54, 24, 24, 24, 30, 24],
    "meetings_due_liaison": [8, 4, 0, 0, 0, 4, 0],
    "meetings_due_zone_head": [4, 2, 0, 0, 0, 2, 0],
    "meetings_due_study": [72, 48, 24, 24, 24, 24, 24],
    "meetings_due_leadership": [0, 0, 0, 0, 0, 0, 0],
    "activities_held": [3, 2, 1, 1, 0, 1, 1],
    "activity_participants": [72, 32, 11, 11, 0, 40, 40],
    "activity_cost": money("2720.50", "2420.00", "800.00", "800.00", "0", "300.50", "300.50"),
    "visits": [11, 10, 8, 8, 2, 1, 1],
    "visits_festival": [6, 5, 3, 3, 2, 1, 1],
    "visits_hardship": [3, 3, 3, 3, 0, 0, 0],
    "visits_pairing": [1, 1, 1, 1, 0, 0, 0],
    "visits_care": [1, 1, 1, 1, 0, 0, 0],
    "visits_condolence": [0, 0, 0, 0, 0, 0, 0],
    "households_visited": [4, 3, 2, 2, 1, 1, 1],
    "minority_households_visited": [3, 2, 1, 1, 1, 1, 1],
    "households_visited_share": share("75.0", "66.7", "100.0", "100.0", "50.0", "100.0", "100.0"),
    "festival_households_due": [19, 14, 5, 5, 9, 5, 5],
    "festival_households_visited": [5, 4, 3, 3, 1, 1, 1],
    "festival_visit_coverage": share("26.3", "28.6", "60.0", "60.0", "11.1", "20.0", "20.0"),
    "hardship_households_due": [2, 2, 2, 2, 0, 0, 0],
    "hardship_households_visited_each_quarter": [1, 1, 1, 1, 0, 0, 0],
    "hardship_visit_coverage": share("50.0", "50.0", "50.0", "50.0", None, None, None),
    "consultations": [4, 3, 1, 1, 1, 1, 1],
    "consultations_resolved": [3, 3, 1, 1, 2, 0, 0],
    "consultation_median_days": share("3.0", "3.0", "7.0", "7.0", "3.0", None, None),
    "consultations_policy": [1, 1, 1, 1, 0, 0, 0],
    "consultations_employment": [1, 1, 0, 0, 0, 0, 0],
    "consultations_halal_food": [1, 1, 0, 0, 1, 0, 0],
    "consultations_papers": [1, 0, 0, 0, 0, 1, 1],
    "consultations_legal": [0, 0, 0, 0, 0, 0, 0],
    "pairings_active": [2, 2, 1, 1, 1, 0, 0],
    "assistance_value": money("1000.00", "800.00", "800.00", "800.00", "0", "200.00", "200.00"),
    "assistance_given": [3, 2, 2, 2, 0, 1, 1],
}


def test_every_figure_of_2025_counted_by_hand(world, outreach_books):
    got = table(world, list(EXPECTED_2025), Y2025)
    for key, expected in EXPECTED_2025.items():
        assert got[key] == expected, key


def test_first_quarter_counted_by_hand(world, outreach_books):
    expected = {
        "meetings_held": [5, 5, 4, 4, 0, 0, 0],
        # liaison once a quarter per sub-district; study twice a month per group; the
        # zone-head meetings' year does not lie in the quarter
        "meetings_due": [20, 13, 6, 6, 6, 7, 6],
        "visits": [4, 4, 3, 3, 1, 0, 0],
        # 马晓东's household twice, 周 and 白 once
        "households_visited": [3, 3, 2, 2, 1, 0, 0],
        # 元宵节 and 开斋节 fell in the quarter; 阿依吐尔逊's 开斋节 visit on 04-02 counts
        "festival_households_due": [7, 5, 2, 2, 3, 2, 2],
        "festival_households_visited": [3, 2, 2, 2, 0, 1, 1],
        "festival_visit_coverage": share("42.9", "40.0", "100.0", "100.0", "0.0", "50.0", "50.0"),
        "hardship_households_visited_each_quarter": [2, 2, 2, 2, 0, 0, 0],
        "hardship_visit_coverage": share("100.0", "100.0", "100.0", "100.0", None, None, None),
        "consultations": [2, 2, 1, 1, 0, 0, 0],
        "consultation_median_days": share("5.0", "5.0", "7.0", "7.0", "3.0", None, None),
        # the assistance pairing of 周 ran until 06-30
        "pairings_active": [2, 2, 2, 2, 0, 0, 0],
        "assistance_value": money("800", "800", "800", "800", "0", "0", "0"),
    }
    got = table(world, list(expected), Q1)
    for key, values in expected.items():
        assert got[key] == values, key


def test_previous_period(world, outreach_books):
    previous = Y2025.previous()
    assert previous.key == "2024"
    expected = {
        "meetings_held": [1, 1, 0, 0, 1, 0, 0],
        "meetings_festival": [1, 1, 0, 0, 1, 0, 0],
        "activity_participants": [30, 30, 0, 0, 30, 0, 0],
        "activity_cost": money("600", "600", "0", "0", "600", "0", "0"),
        "meetings_due": [84, 54, 24, 24, 24, 30, 24],
        "visits": [1, 1, 1, 1, 0, 0, 0],
        "households_visited": [1, 1, 1, 1, 0, 0, 0],
        # the same households were due for 2024's five festivals; none was visited
        "festival_households_due": [19, 14, 5, 5, 9, 5, 5],
        "festival_visit_coverage": share("0.0", "0.0", "0.0", "0.0", "0.0", "0.0", "0.0"),
        "hardship_households_visited_each_quarter": [0, 0, 0, 0, 0, 0, 0],
        # received 2024-12-30; the hotline call of 2025-01-01 00:10 belongs to 2025
        "consultations": [1, 1, 0, 0, 1, 0, 0],
        "consultations_resolved": [0, 0, 0, 0, 0, 0, 0],
        "consultation_median_days": [None] * 7,
        "pairings_active": [1, 1, 1, 1, 0, 0, 0],
        "assistance_given": [0, 0, 0, 0, 0, 0, 0],
    }
    got = table(world, list(expected), previous)
    for key, values in expected.items():
        assert got[key] == values, key


def test_subdistricts_own_meeting_counts_in_its_total_but_in_no_row(world, outreach_books):
    summary = summary_table(world.pingjiang, Y2025, ["meetings_held", "activities_held"])
    rows = {row.area.name: row.values for row in summary.rows}
    # rows: 北片 (平江路's four and its own zone-head meeting), 干将; the total adds the
    # three liaison meetings, the zone-head meeting and the symposium 平江街道 held itself
    assert rows == {"北片": [5, 1], "干将社区": [0, 0], "平江街道": [10, 2]}
    assert summary.previous.value("meetings_held", world.pingjiang) == 1


def test_archived_records_do_not_count(world, outreach_books):
    visits = catalogue.records("visits_hardship", world.pingjianglu, Y2025)
    assert outreach_books.archived_visit not in visits
    assert not catalogue.records("assistance_value", world.district, Y2025).filter(
        visit=outreach_books.archived_visit
    )
    outreach_books.archived_visit.archived_at = None
    outreach_books.archived_visit.save()
    got = table(world, ["visits_hardship", "hardship_households_visited_each_quarter"], Y2025)
    # restored, 周's visit of 05-05 fills the second quarter: visited every quarter
    assert got["visits_hardship"][0] == 4
    assert got["hardship_households_visited_each_quarter"][0] == 2


def test_consultation_resolved_in_seven_days(world, outreach_books):
    (consultation,) = catalogue.records("consultation_median_days", world.pingjianglu, Y2025)
    assert consultation.summary == "咨询少数民族子女中考加分政策"
    assert consultation.days == datetime.timedelta(days=7)


def test_drill_down_lists_as_many_records_as_each_figure_says(world, outreach_books):
    areas = areas_of(world)
    for period in (Y2025, Q1, Y2025.previous()):
        result = catalogue.compute(KEYS, areas, period)
        for key in KEYS:
            figure = catalogue.figure(key)
            for area in areas:
                value = result.value(key, area)
                try:
                    records = catalogue.records(key, area, period)
                except LookupError:
                    # household × festival has no list of records (see the report)
                    listed = catalogue.figure(figure.drill_key)
                    assert listed.measure == CUSTOM and listed.records is None, key
                    continue
                if figure.measure == COUNT:
                    assert records.count() == value, (key, area.name, period.key)
                elif figure.measure == SHARE:
                    numerator = result.value(figure.numerator, area)
                    assert records.count() == numerator, (key, area.name, period.key)
                elif figure.measure in (SUM, CUSTOM):
                    total = records.aggregate(total=Sum(figure.value_field))["total"] or 0
                    assert total == value, (key, area.name, period.key)
                else:
                    assert figure.measure == MEDIAN
                    assert records.exists() == (value is not None), (key, area.name)


def test_households_visited_lists_each_household_once(world, outreach_books, register):
    households = catalogue.records("households_visited", world.pingjianglu, Q1)
    assert sorted(h.address for h in households) == ["平江路112号3幢201室", "平江路200号"]
    assert len(outreach_books.ma_visits_q1) == 2


def test_only_ended_periods_are_due(world, outreach_books, monkeypatch):
    """On 2025-05-20: the first quarter and January to April have ended, the year has not."""
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: D(2025, 5, 20))
    got = table(
        world,
        [
            "meetings_due",
            "meetings_due_zone_head",
            "festival_households_due",
            "festival_households_visited",
            "hardship_households_due",
            "hardship_visit_coverage",
        ],
        Y2025,
    )
    # liaison: Q1 (1 per sub-district); study: 4 months × 2 per group; zone-head: none yet
    assert got["meetings_due"] == [26, 17, 8, 8, 8, 9, 8]
    assert got["meetings_due_zone_head"] == [0] * 7
    assert got["festival_households_due"] == [7, 5, 2, 2, 3, 2, 2]
    assert got["festival_households_visited"] == [3, 2, 2, 2, 0, 1, 1]
    assert got["hardship_households_due"] == [2, 2, 2, 2, 0, 0, 0]
    assert got["hardship_visit_coverage"][0] == Decimal("100.0")
    # the second quarter is under way: only April's study sessions are due, no hardship visit
    got = table(world, ["meetings_due", "hardship_visit_coverage"], parse_period("2025-Q2"))
    assert got["meetings_due"] == [6, 4, 2, 2, 2, 2, 2]
    assert got["hardship_visit_coverage"] == [None] * 7


def test_an_area_rule_replaces_the_default_for_its_units(world, outreach_books):
    """沧浪街道 holds its liaison meeting every month: 12 due there, 4 in 平江街道."""
    Obligation.objects.create(
        name="联络员会议",
        kind="meeting",
        meeting_kind="liaison",
        unit="subdistrict",
        period="month",
        area=world.canglang,
    )
    got = table(world, ["meetings_due_liaison"], Y2025)
    assert got["meetings_due_liaison"] == [16, 4, 0, 0, 0, 12, 0]


def test_compliance_figures_are_cached_under_the_data_version(world, outreach_books, monkeypatch):
    version = uuid.uuid4().hex
    monkeypatch.setattr(compliance_cache, "current_version", lambda: version)
    assert table(world, ["meetings_due"], Y2025)["meetings_due"][0] == 84
    with CaptureQueriesContext(connection) as queries:
        again = table(world, ["meetings_due", "festival_households_due"], Y2025)
    assert again["meetings_due"][0] == 84
    assert again["festival_households_due"][0] == 19
    # nothing read from the obligations, meetings, visits or the register
    assert not [q for q in queries if "outreach_" in q["sql"] or "residents_" in q["sql"]]
    # a new version (any change to the data) computes afresh
    Obligation.objects.filter(name="联络员学习活动").update(is_active=False)
    monkeypatch.setattr(compliance_cache, "current_version", lambda: version + "2")
    assert table(world, ["meetings_due"], Y2025)["meetings_due"][0] == 84 - 72


def _more_work(world, register, liaisons):
    """Eight more visits with assistance, meetings with attendees, consultations, pairings."""
    household = HouseholdFactory(community=world.ganjiang, address="干将西路36号")
    PersonFactory(household=household, name="穆永祥")
    for month in range(1, 9):
        v = visit(household, D(2025, month, 15), "care")
        Assistance.objects.create(visit=v, kind="goods", value=100)
    for day in (D(2025, 4, 1), D(2025, 5, 1), D(2025, 6, 1)):
        m = Meeting.objects.create(kind="exchange", held_on=day, area=world.daoqian, cost=50)
        m.attending_users.add(world.daoqian_liaison)
        m.attending_liaisons.add(liaisons.ma_jianhua)
        m.attending_persons.add(register.aytursun)
    for n in range(3):
        Consultation.objects.create(
            community=world.daoqian,
            channel="window",
            topic="schooling",
            received_at=at(2025, 6, 2 + n),
            summary="咨询入学",
            status="resolved",
            closed_on=D(2025, 6, 10),
        )
    Pairing.objects.create(
        household=household, kind="f4", partner_liaison=liaisons.bai_mei, start_date=D(2025, 1, 1)
    )


def test_queries_do_not_grow_with_the_records(world, outreach_books, register, liaisons):
    areas = areas_of(world)
    with CaptureQueriesContext(connection) as few:
        before = catalogue.compute(KEYS, areas, Y2025)
    _more_work(world, register, liaisons)
    with CaptureQueriesContext(connection) as many:
        after = catalogue.compute(KEYS, areas, Y2025)
    assert after.value("visits", world.district) == before.value("visits", world.district) + 8
    assert after.value("activity_participants", world.daoqian) == 40 + 3 * 3
    assert len(many) == len(few)


def test_figures_are_registered_with_their_sections(world):
    figures = catalogue.catalogue()
    for key in KEYS:
        figure = figures[key]
        assert figure.label and figure.definition and figure.unit, key
    assert figures["meetings_due"].section == catalogue.Section.ACTIVITIES
    assert figures["consultations_halal_food"].section == catalogue.Section.SERVICE
    assert figures["assistance_value"].section == catalogue.Section.HARDSHIP
    assert {f"visits_{kind}" for kind in ("care", "festival", "hardship")} <= set(KEYS)
    assert set(figures_outreach.ACTIVITY_KINDS).isdisjoint(figures_outreach.WORKING_KINDS)
    with pytest.raises(LookupError):
        catalogue.records("meetings_due", world.district, Y2025)
