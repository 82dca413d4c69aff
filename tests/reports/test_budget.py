"""Yearly budgets (经费) with what was spent beside them, and who may set them."""

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from outreach.models import Assistance, Meeting, MeetingKind, Visit, VisitKind
from reports.budget import budget_summaries, budget_summary
from reports.models import Budget
from tests.residents.conftest import register  # noqa: F401  (the register fixture)

CJK = re.compile(r"[\u4e00-\u9fff]")
IN_2025 = datetime.date(2025, 5, 20)


def meeting(area, cost, held_on=IN_2025, archived=False, title="民族团结茶话会"):
    return Meeting.objects.create(
        area=area,
        kind=MeetingKind.TEA_PARTY,
        title=title,
        held_on=held_on,
        cost=Decimal(cost),
        archived_at=timezone.now() if archived else None,
    )


def visit(household, on=IN_2025, archived=False, **given):
    made = Visit.objects.create(
        household=household,
        kind=VisitKind.HARDSHIP,
        visited_on=on,
        archived_at=timezone.now() if archived else None,
    )
    for kind, value in given.items():
        Assistance.objects.create(visit=made, kind=kind, value=Decimal(value), description="米面油")
    return made


@pytest.fixture
def spending(world, register):  # noqa: F811
    meeting(world.pingjianglu, "300")
    meeting(world.ganjiang, "200")
    meeting(world.pingjiang, "1000", title="街道民族工作会议")
    meeting(world.pingjianglu, "500", archived=True)  # archived: not counted
    meeting(world.daoqian, "700")  # the other sub-district
    meeting(world.pingjianglu, "400", held_on=datetime.date(2024, 12, 31))  # last year
    visit(register.ma_household, cash="200", goods="150", service="80")
    visit(register.ma_household, on=datetime.date(2025, 2, 1), archived=True, cash="999")
    visit(register.bai_household, on=datetime.date(2024, 6, 1), cash="50")  # last year
    visit(register.daoqian_household, cash="300")  # the other sub-district
    return Budget.objects.create(area=world.pingjiang, year=2025, amount=Decimal("10000"))


def test_a_sub_districts_spending_adds_up_its_subtree_for_the_year(world, spending):
    summary = budget_summary(world.pingjiang, 2025)

    assert summary.amount == Decimal("10000")
    assert summary.activities == Decimal("1500.00")  # 300 + 200 + 1000
    assert summary.assistance == Decimal("350.00")  # cash 200 + goods 150
    assert summary.services == Decimal("80.00")  # shown, not spent
    assert summary.total == Decimal("1850.00")
    assert summary.remaining == Decimal("8150.00")
    assert summary.share_spent == Decimal("18.5")
    assert not summary.overspent


def test_a_community_without_a_budget_still_shows_what_it_spent(world, spending):
    summary = budget_summary(world.pingjianglu, 2025)

    assert summary.budget is None and summary.amount is None
    assert summary.activities == Decimal("300.00")
    assert summary.assistance == Decimal("350.00")
    assert summary.remaining is None and summary.share_spent is None


def test_the_other_sub_district_and_other_years_are_apart(world, spending):
    assert budget_summary(world.canglang, 2025).total == Decimal("1000.00")  # 700 + 300
    last_year = budget_summary(world.pingjiang, 2024)
    assert last_year.activities == Decimal("400.00")
    assert last_year.assistance == Decimal("50.00")
    assert last_year.budget is None


def test_spending_above_the_budget_is_overspent(world, spending):
    spending.amount = Decimal("1000")
    spending.save()

    summary = budget_summary(world.pingjiang, 2025)

    assert summary.remaining == Decimal("-850.00")
    assert summary.overspent


def test_summaries_of_many_areas_cost_the_same_queries(world, spending, django_assert_num_queries):
    areas = [world.pingjiang, world.north_zone, world.pingjianglu, world.ganjiang]
    with django_assert_num_queries(4):
        rows = budget_summaries(areas, 2025)
    assert [r.total for r in rows] == [
        Decimal("1850.00"),
        Decimal("650.00"),
        Decimal("650.00"),
        Decimal("200.00"),
    ]
    with django_assert_num_queries(4):
        budget_summaries([world.pingjiang], 2025)


# ---------------------------------------------------------------- the list page


def test_the_list_shows_the_area_and_its_children(world, spending, login):
    page = login(world.pingjiang_staff).get(
        reverse("reports:budget-list"), {"area": world.pingjiang.pk, "year": "2025"}
    )

    assert page.status_code == 200
    rows = page.context["rows"]
    assert [r.area for r in rows] == [world.pingjiang, world.ganjiang, world.north_zone]
    text = page.content.decode()
    assert "¥10000.00" in text and "¥8150.00" in text and "18.5%" in text


def test_the_list_costs_the_same_queries_for_more_communities(
    world, spending, login, django_assert_max_num_queries
):
    from tests.factories import AreaFactory

    client = login(world.pingjiang_staff)
    url = reverse("reports:budget-list")
    client.get(url, {"area": world.pingjiang.pk, "year": "2025"})  # warm the caches
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(url, {"area": world.pingjiang.pk, "year": "2025"})
    for n in range(6):
        area = AreaFactory(
            name=f"新建社区{n}",
            level="community",
            parent=world.pingjiang,
            code=f"3205080010{n + 10}",
        )
        Budget.objects.create(area=area, year=2025, amount=Decimal("500"))
        meeting(area, "50")
    with CaptureQueriesContext(connection) as many:
        page = client.get(url, {"area": world.pingjiang.pk, "year": "2025"})

    assert len(page.context["rows"]) == 9
    assert len(many) == len(few)


def test_a_community_sees_its_budget_but_cannot_set_it(world, spending, login):
    Budget.objects.create(area=world.pingjianglu, year=2025, amount=Decimal("2000"))
    client = login(world.pingjianglu_staff)

    page = client.get(reverse("reports:budget-list"), {"year": "2025"})

    assert page.status_code == 200
    assert page.context["rows"][0].area == world.pingjianglu
    assert "¥2000.00" in page.content.decode()
    assert all(row.edit_url == "" for row in page.context["rows"])


def test_a_foreign_or_garbled_area_is_not_found(world, login):
    client = login(world.canglang_staff)
    url = reverse("reports:budget-list")

    assert client.get(url, {"area": world.pingjiang.pk}).status_code == 404
    assert client.get(url, {"area": world.pingjianglu.pk}).status_code == 404
    assert client.get(url, {"area": "abc"}).status_code == 404
    assert client.get(url, {"area": "99999999999999999999999"}).status_code == 404


def test_a_year_that_cannot_be_read_is_said_and_nothing_listed(world, login):
    page = login(world.pingjiang_staff).get(reverse("reports:budget-list"), {"year": "二〇二五"})

    assert page.status_code == 200
    assert page.context["rows"] == []
    assert page.context["error"]
    assert "二〇二五" in page.content.decode()


def test_a_full_width_year_is_read(world, spending, login):
    page = login(world.pingjiang_staff).get(
        reverse("reports:budget-list"), {"area": world.pingjiang.pk, "year": "２０２５"}
    )

    assert page.context["year"] == 2025


@pytest.mark.parametrize("who", ["pingjianglu_liaison", "daoqian_liaison", "no_post"])
def test_liaisons_and_users_without_a_post_see_no_budgets(world, login, who):
    assert login(getattr(world, who)).get(reverse("reports:budget-list")).status_code == 403


# ---------------------------------------------------------------- setting a budget


def edit_url(area, year=2025):
    return reverse("reports:budget-edit", args=[area.pk, year])


@pytest.mark.parametrize("where", ["pingjiang", "pingjianglu"])
def test_the_sub_district_sets_its_own_and_its_communities_budget(world, login, where):
    area = getattr(world, where)
    client = login(world.pingjiang_staff)

    assert client.get(edit_url(area)).status_code == 200
    response = client.post(edit_url(area), {"amount": "１２０００元", "note": "区拨经费"})

    assert response.status_code == 302
    budget = Budget.objects.get(area=area, year=2025)
    assert budget.amount == Decimal("12000")
    assert budget.note == "区拨经费"


def test_changing_a_budget_keeps_its_history(world, login):
    client = login(world.pingjiang_staff)
    client.post(edit_url(world.pingjiang), {"amount": "¥12,000.50"})
    client.post(edit_url(world.pingjiang), {"amount": "15000", "note": "追加"})

    budget = Budget.objects.get(area=world.pingjiang, year=2025)
    assert budget.amount == Decimal("15000")
    assert [h.amount for h in budget.history.order_by("history_date")] == [
        Decimal("12000.50"),
        Decimal("15000"),
    ]
    assert budget.history.latest().history_user == world.pingjiang_staff
    page = client.get(edit_url(world.pingjiang))
    assert len(page.context["history"]) == 2


@pytest.mark.parametrize("where", ["pingjiang", "pingjianglu"])
def test_another_sub_district_cannot_find_the_budget(world, login, where):
    area = getattr(world, where)
    client = login(world.canglang_staff)

    assert client.get(edit_url(area)).status_code == 404
    assert client.post(edit_url(area), {"amount": "100"}).status_code == 404
    assert not Budget.objects.exists()


def test_community_staff_may_not_set_even_their_own_budget(world, login):
    client = login(world.pingjianglu_staff)

    assert client.get(edit_url(world.pingjianglu)).status_code == 403
    assert client.post(edit_url(world.pingjianglu), {"amount": "100"}).status_code == 403
    assert not Budget.objects.exists()


@pytest.mark.parametrize("who", ["pingjianglu_liaison", "no_post"])
def test_liaisons_and_users_without_a_post_may_not_set_budgets(world, login, who):
    response = login(getattr(world, who)).post(edit_url(world.pingjianglu), {"amount": "100"})

    assert response.status_code == 403
    assert not Budget.objects.exists()


def test_the_bureau_sets_any_budget(world, login):
    response = login(world.bureau).post(edit_url(world.daoqian), {"amount": "3000"})

    assert response.status_code == 302
    assert Budget.objects.get(area=world.daoqian).amount == Decimal("3000")


@pytest.mark.parametrize("amount", ["abc", "-5", "１２３４５６７８９０１２３", ""])
def test_a_bad_amount_is_refused_in_chinese_and_nothing_saved(world, login, amount):
    client = login(world.pingjiang_staff)

    response = client.post(edit_url(world.pingjiang), {"amount": amount, "note": "区拨经费"})

    assert response.status_code == 200
    errors = response.context["form"].errors["amount"]
    assert errors and all(CJK.search(e) for e in errors)
    assert errors[0] in response.content.decode()
    assert not Budget.objects.exists()


def test_a_bad_amount_leaves_an_existing_budget_as_it_was(world, login):
    Budget.objects.create(area=world.pingjiang, year=2025, amount=Decimal("8000"))

    login(world.pingjiang_staff).post(edit_url(world.pingjiang), {"amount": "-5"})

    assert Budget.objects.get(area=world.pingjiang).amount == Decimal("8000")


@pytest.mark.parametrize("year", [1900, 2101, 987654])
def test_a_year_out_of_range_is_not_found(world, login, year):
    assert login(world.pingjiang_staff).get(edit_url(world.pingjiang, year)).status_code == 404


def test_a_missing_area_is_not_found(world, login):
    url = reverse("reports:budget-edit", args=[987654, 2025])
    assert login(world.pingjiang_staff).get(url).status_code == 404


def test_the_budget_include_shows_the_summary(world, spending):
    from django.template.loader import render_to_string

    with_budget = render_to_string(
        "reports/includes/budget_summary.html", {"budget": budget_summary(world.pingjiang, 2025)}
    )
    without = render_to_string(
        "reports/includes/budget_summary.html", {"budget": budget_summary(world.ganjiang, 2025)}
    )

    assert "¥10000.00" in with_budget and "¥1850.00" in with_budget and "¥8150.00" in with_budget
    assert "18.5%" in with_budget and "80.00" in with_budget  # the services, not counted
    assert "¥200.00" in without and "¥8150.00" not in without
