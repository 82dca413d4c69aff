"""The two-way survey summary (``services:survey-summary``): per child area, how many
households want and offer each service category (each household once, with its latest
survey in the period), beside the merchants offering that category there, and the
categories wanted with no merchant: the merchants to sign next.

Counted by hand for 平江街道 over the last 60 days (partners: 马记清真拉面馆, halal food,
serves 平江路社区 and 干将社区; 苏城家电维修部, appliance, serves 道前社区 only):
- 马晓东's household (平江路, in 北片): surveyed −40 (wants medical, appliance) and −10
  (wants medical, halal food; offers tailoring): only −10 counts;
- 白兰's household (干将): −5 wants halal food, housekeeping;
- 干将's 白云 household: −3 wants moving, archived (not counted); −20 wants consulting
  (its latest counted survey);
- 平江路's 马林 household: −200 wants education (before the period);
- 道前 (沧浪): wants appliance (another sub-district).
"""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from residents.archiving import set_archived
from services.selectors_survey import survey_summary
from tests.factories import HouseholdFactory, PersonFactory
from tests.services.test_survey_pages import make_survey

SUMMARY = reverse("services:survey-summary")


def days(n):
    return timezone.localdate() - datetime.timedelta(days=n)


@pytest.fixture
def surveyed(world, register, partners):
    ma, ma_x = register.ma_household, register.ma_xiaodong
    make_survey(ma, ma_x, on=days(40), wants=["medical", "appliance"])
    make_survey(ma, ma_x, on=days(10), wants=["medical", "halal_food"], offers=["tailoring"])
    make_survey(
        register.bai_household, register.bai_lan, on=days(5), wants=["halal_food", "housekeeping"]
    )
    baiyun = HouseholdFactory(community=world.ganjiang, address="干将西路9号")
    baiyun_head = PersonFactory(household=baiyun, name="白云")
    make_survey(baiyun, baiyun_head, on=days(20), wants=["consulting"])
    set_archived(make_survey(baiyun, baiyun_head, on=days(3), wants=["moving"]), True)
    malin = HouseholdFactory(community=world.pingjianglu, address="平江路300号")
    make_survey(
        malin, PersonFactory(household=malin, name="马林"), on=days(200), wants=["education"]
    )
    make_survey(register.daoqian_household, register.aytursun, on=days(7), wants=["appliance"])
    return {"start": days(60), "end": days(0)}


def cells(row, *categories):
    return {c: (row.cell(c).wants, row.cell(c).offers, row.cell(c).merchants) for c in categories}


def test_summary_per_child_area_as_counted_by_hand(world, surveyed):
    today = timezone.localdate()
    summary = survey_summary(
        world.pingjiang_staff, world.pingjiang, surveyed["start"], surveyed["end"], today
    )
    assert [row.area for row in summary.rows] == [world.north_zone, world.ganjiang]
    north, ganjiang = summary.rows
    total = summary.total
    assert (north.households, ganjiang.households, total.households) == (1, 2, 3)
    shown = ["medical", "tailoring", "consulting", "housekeeping", "halal_food"]
    assert [value for value, _label in summary.categories] == shown
    # (households wanting, households offering, merchants offering it there)
    assert cells(north, *shown) == {
        "medical": (1, 0, 0),
        "tailoring": (0, 1, 0),
        "consulting": (0, 0, 0),
        "housekeeping": (0, 0, 0),
        "halal_food": (1, 0, 1),
    }
    assert cells(ganjiang, *shown) == {
        "medical": (0, 0, 0),
        "tailoring": (0, 0, 0),
        "consulting": (1, 0, 0),
        "housekeeping": (1, 0, 0),
        "halal_food": (1, 0, 1),
    }
    assert cells(total, *shown) == {
        "medical": (1, 0, 0),
        "tailoring": (0, 1, 0),
        "consulting": (1, 0, 0),
        "housekeeping": (1, 0, 0),
        "halal_food": (2, 0, 1),
    }
    # what no merchant offers where it is wanted: the merchants to sign next
    assert [value for value, _label in summary.gaps] == ["medical", "consulting", "housekeeping"]
    assert not total.cell("halal_food").gap


def test_an_archived_latest_survey_leaves_the_one_before(world, surveyed):
    today = timezone.localdate()
    summary = survey_summary(world.bureau, world.ganjiang, days(60), today, today)
    (row,) = summary.rows
    assert row.area == world.ganjiang
    assert row.cell("consulting").wants == 1 and row.cell("moving").wants == 0


def test_merchants_are_counted_on_the_periods_last_day(world, surveyed):
    today = timezone.localdate()
    # 马记's agreement in force started 90 days ago; its expired one ended 60 days ago
    long_ago = survey_summary(world.bureau, world.pingjiang, days(400), days(100), today)
    assert long_ago.total.cell("halal_food").merchants == 1  # the expired agreement then
    before_any = survey_summary(world.bureau, world.pingjiang, days(900), days(800), today)
    assert before_any.total.cell("halal_food").merchants == 0
    assert before_any.total.households == 0


def test_the_page_opens_on_the_users_own_area_and_this_year(world, surveyed, login):
    response = login(world.pingjiang_staff).get(SUMMARY)
    assert response.status_code == 200
    summary = response.context["summary"]
    assert summary.area == world.pingjiang
    assert summary.start == timezone.localdate().replace(month=1, day=1)
    assert summary.end == timezone.localdate()
    liaison = login(world.pingjianglu_liaison).get(SUMMARY).context["summary"]
    assert liaison.area == world.pingjianglu
    assert [row.area for row in liaison.rows] == [world.pingjianglu]


def test_the_page_with_an_area_and_period(world, surveyed, login):
    client = login(world.bureau)
    response = client.get(
        SUMMARY,
        {"area": world.pingjiang.pk, "date_from": days(60).isoformat(), "date_to": days(0)},
    )
    summary = response.context["summary"]
    assert summary.area == world.pingjiang and summary.total.households == 3
    page = response.content.decode()
    assert "北片" in page and "干将社区" in page
    # dates the wrong way round are swapped
    swapped = client.get(
        SUMMARY,
        {"area": world.pingjiang.pk, "date_from": days(0), "date_to": days(60).isoformat()},
    ).context["summary"]
    assert (swapped.start, swapped.end) == (days(60), days(0))


@pytest.mark.parametrize(
    "params",
    [
        {"area": "abc"},
        {"area": "99999999999999999999"},
        {"date_from": "2025-02-30", "date_to": "x"},
        {"date_from": "0001-01-01"},
        {"area": "1\x00"},
    ],
)
def test_garbled_parameters_fall_back_to_the_defaults(world, surveyed, login, params):
    response = login(world.pingjiang_staff).get(SUMMARY, params)
    assert response.status_code == 200
    assert response.context["summary"].area == world.pingjiang


def test_another_streets_area_is_not_summarised(world, surveyed, login):
    response = login(world.canglang_staff).get(SUMMARY, {"area": world.pingjiang.pk})
    summary = response.context["summary"]
    assert summary.area == world.canglang  # the foreign area is dropped, nothing of it shown
    assert "北片" not in response.content.decode()
    assert summary.total.cell("appliance").wants == 1
    assert summary.total.cell("appliance").merchants == 1


@pytest.mark.parametrize("who", ["no_post", "ended_post"])
def test_no_post_no_summary(world, login, who):
    assert login(getattr(world, who)).get(SUMMARY).status_code == 403


def test_summary_costs_the_same_for_many_surveys(world, surveyed, login):
    client = login(world.pingjiang_staff)
    params = {"area": world.pingjiang.pk, "date_from": days(60).isoformat()}

    def cost():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(SUMMARY, params).status_code == 200
        return len(queries)

    few = cost()
    for n in range(15):
        household = HouseholdFactory(community=world.ganjiang, address=f"干将西路{20 + n}号")
        person = PersonFactory(household=household, name=f"白{n}")
        make_survey(household, person, on=days(n), wants=["medical", "moving"], offers=["other"])
    assert cost() == few
