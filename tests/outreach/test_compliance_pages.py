"""The compliance pages: every number links to a list of as many rows, staff see only their
scope, liaisons are turned away, bad input is a 404 or ignored (never a 500), and each page
runs the same number of queries whatever the size of the books."""

import datetime
import re
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from outreach.models import Festival, Meeting, Obligation
from tests.factories import HouseholdFactory, PersonFactory
from tests.outreach.test_compliance_counts import books, meeting, visit  # noqa: F401

D = datetime.date
REPORT = reverse("outreach:compliance")
HOUSEHOLDS = reverse("outreach:compliance-households")
MEETINGS = reverse("outreach:compliance-meetings")
FESTIVAL_VISITS = reverse("outreach:festival-visits")
ALL_PAGES = [REPORT, HOUSEHOLDS, MEETINGS, FESTIVAL_VISITS]


def drill_count(client, figure, which, params, unit=True, period=None):
    url = MEETINGS if figure.is_meeting else HOUSEHOLDS
    query = {**params, "obligation": figure.obligation.pk, "which": which}
    if unit:
        query["unit"] = figure.unit.key
    if period:
        query["period"] = period
    response = client.get(url, query)
    assert response.status_code == 200, (figure.obligation.name, which, response.status_code)
    return response.context["page"].paginator.count


def test_every_number_of_2025_matches_its_list(world, books, login):  # noqa: F811
    client = login(world.pingjiang_staff)
    params = {"year": "2025"}
    response = client.get(REPORT, params)
    assert response.status_code == 200
    report = response.context["report"]
    checked = 0
    for figure in report.figures:
        if not figure.applies:
            continue
        for which in ("due", "done", "overdue"):
            assert drill_count(client, figure, which, params) == getattr(figure, which)
            checked += 1
    for section in report.sections:
        for column in section.columns:
            for part in column.parts:
                any_figure = next(f for f in report.figures if f.obligation == part.obligation)
                for which in ("due", "done", "overdue"):
                    count = drill_count(client, any_figure, which, params, unit=False)
                    assert count == getattr(part.totals, which)
                    checked += 1
    assert checked > 40
    # the whole of 2025 has ended: 中秋 and 国庆 are judged too (nobody visited for them)
    lantern = next(
        f
        for f in report.figures
        if f.obligation.name == "节庆走访：国庆节" and f.unit.area == world.ganjiang
    )
    assert (lantern.due, lantern.done, lantern.overdue) == (1, 0, 1)


def test_the_page_links_each_number_to_its_list(world, books, login):  # noqa: F811
    page = login(world.pingjiang_staff).get(REPORT, {"year": "2025"}).content.decode()
    links = re.findall(r'href="(/outreach/compliance/(?:households|meetings)/\?[^"]+)"', page)
    assert any("which=overdue" in link and "unit=area" in link for link in links)
    assert any("unit=group" in link for link in links)
    assert "平江路社区" in page and "干将社区" in page


def test_a_period_under_way_links_to_its_meetings_so_far(world, books, login):  # noqa: F811
    today = timezone.localdate()
    meeting("study", today, group=world.pingjianglu_group)
    client = login(world.pingjiang_staff)
    report = client.get(REPORT).context["report"]
    figure = next(
        f
        for f in report.figures
        if f.obligation.name == "联络员学习活动" and f.unit.group == world.pingjianglu_group
    )
    assert figure.current is not None and figure.current_done == 1
    assert drill_count(client, figure, "done", {}, period=figure.current.key) == 1


def test_households_list_names_members_and_links_to_the_household(
    world,
    books,  # noqa: F811
    register,
    login,
):
    client = login(world.pingjiang_staff)
    lantern = Obligation.objects.get(name="节庆走访：元宵节")
    response = client.get(
        HOUSEHOLDS,
        {
            "year": "2025",
            "obligation": lantern.pk,
            "unit": f"area:{world.ganjiang.pk}",
            "which": "overdue",
        },
    )
    page = response.content.decode()
    assert reverse("residents:household-detail", args=[register.bai_household.pk]) in page
    assert "白兰" in page and "干将东路88号" in page
    assert register.bai_lan.id_number not in page


def test_meetings_list_shows_the_meetings_counted(world, books, login):  # noqa: F811
    client = login(world.pingjiang_staff)
    study = Obligation.objects.get(name="联络员学习活动")
    query = {"year": "2025", "obligation": study.pk, "unit": f"group:{world.pingjianglu_group.pk}"}
    response = client.get(MEETINGS, {**query, "which": "done"})
    assert [m.held_on for m in response.context["page"].object_list] == [
        D(2025, 1, 8),
        D(2025, 1, 22),
        D(2025, 2, 12),
    ]
    response = client.get(MEETINGS, {**query, "which": "overdue"})
    assert response.context["page"].paginator.count == 11  # Feb–Dec 2025 fell short


# ---------------------------------------------------------------- who may see what


@pytest.mark.parametrize("url", ALL_PAGES)
def test_liaisons_and_users_without_a_post_are_refused(world, login, url):
    assert login(world.pingjianglu_liaison).get(url).status_code == 403
    assert login(world.no_post).get(url).status_code == 403


def test_canglang_staff_see_no_pingjiang_numbers(world, books, login):  # noqa: F811
    client = login(world.canglang_staff)
    response = client.get(REPORT, {"year": "2025"})
    page = response.content.decode()
    assert "道前社区" in page and "沧浪街道" in page
    for name in ("平江街道", "平江路社区", "干将社区", "北片"):
        assert name not in page
    units = {f.unit.key for f in response.context["report"].figures}
    assert f"area:{world.pingjiang.pk}" not in units
    # a foreign area in the filter is ignored (and said), never a 500 nor a leak
    response = client.get(REPORT, {"year": "2025", "area": world.pingjiang.pk})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert "平江路社区" not in response.content.decode()


def test_drill_down_outside_scope_or_malformed_is_404(world, books, login):  # noqa: F811
    client = login(world.canglang_staff)
    lantern = Obligation.objects.get(name="节庆走访：元宵节")
    liaison = Obligation.objects.get(name="联络员会议")
    base = {"year": "2025", "which": "due"}
    assert (
        client.get(
            HOUSEHOLDS, {**base, "obligation": lantern.pk, "unit": f"area:{world.ganjiang.pk}"}
        ).status_code
        == 404
    )
    assert (
        client.get(
            MEETINGS, {**base, "obligation": liaison.pk, "unit": f"area:{world.pingjiang.pk}"}
        ).status_code
        == 404
    )
    own = {**base, "obligation": lantern.pk, "unit": f"area:{world.daoqian.pk}"}
    assert client.get(HOUSEHOLDS, own).status_code == 200
    for bad in (
        {"obligation": "987654"},
        {"obligation": "x"},
        {"unit": "area:x"},
        {"unit": "nonsense"},
        {"which": "all"},
        {"period": "2025-Q9"},
        {"obligation": liaison.pk, "unit": f"area:{world.canglang.pk}"},  # wrong page
    ):
        assert client.get(HOUSEHOLDS, {**own, **bad}).status_code == 404, bad
    for odd in ({"year": "abc"}, {"year": "1800"}, {"quarter": "7"}, {"date_from": "2025-13-01"}):
        assert client.get(REPORT, odd).status_code == 200
        assert client.get(HOUSEHOLDS, {**own, **odd}).status_code == 200
    reversed_range = client.get(REPORT, {"date_from": "2025-06-01", "date_to": "2025-01-01"})
    assert reversed_range.status_code == 200 and reversed_range.context["form"].errors


# ---------------------------------------------------------------- festival visits


@pytest.fixture
def eid_season(monkeypatch):
    """The festival-visit page on 2025-03-20: 开斋节 (2025-03-30) is ten days ahead."""
    monkeypatch.setattr(
        "outreach.views_compliance.timezone", SimpleNamespace(localdate=lambda: D(2025, 3, 20))
    )


def test_eid_list_holds_the_muslim_households_with_their_visits(
    world,
    register,
    login,
    eid_season,
):
    eid = Festival.objects.get(name="开斋节")
    visit(register.ma_household, D(2025, 3, 18), "festival", eid)
    response = login(world.bureau).get(FESTIVAL_VISITS)
    choices = response.context["choices"]
    assert [(c["festival"].name, c["day"]) for c in choices][:1] == [("开斋节", D(2025, 3, 30))]
    assert response.context["selected"]["festival"] == eid
    rows = {h.address: h.visited_on for h in response.context["page"].object_list}
    # 马 (回族) visited; 阿依吐尔逊 (维吾尔族) not yet; 白兰 (满族) is not on the list
    assert rows == {"平江路112号3幢201室": D(2025, 3, 18), "道前街45号": None}
    eid_choice = choices[0]
    assert (eid_choice["due"], eid_choice["visited"]) == (2, 1)

    todo = login(world.bureau).get(FESTIVAL_VISITS, {"show": "todo"})
    assert [h.address for h in todo.context["page"].object_list] == ["道前街45号"]


def test_festival_list_keeps_to_the_users_scope(world, register, login, eid_season):
    response = login(world.pingjiang_staff).get(FESTIVAL_VISITS)
    assert [h.address for h in response.context["page"].object_list] == ["平江路112号3幢201室"]
    assert "道前街45号" not in response.content.decode()
    # another festival of the list, and an occasion that is not on it
    water = next(c for c in response.context["choices"] if c["festival"].name == "泼水节")
    response = login(world.pingjiang_staff).get(FESTIVAL_VISITS, {"occasion": water["key"]})
    assert response.context["page"].paginator.count == 0  # no Dai household
    response = login(world.pingjiang_staff).get(FESTIVAL_VISITS, {"occasion": "1:2099-01-01"})
    assert response.status_code == 200
    response = login(world.canglang_staff).get(FESTIVAL_VISITS, {"area": world.pingjiang.pk})
    assert response.status_code == 200
    assert [h.address for h in response.context["page"].object_list] == ["道前街45号"]


# ---------------------------------------------------------------- constant queries


def grow(world, n):
    """``n`` more Hui households in each of 平江路 and 干将, each with a hardship flag, two
    members and visits, and ``n`` more meetings."""
    lantern = Festival.objects.get(name="元宵节")
    for i in range(n):
        for community, street in ((world.pingjianglu, "平江路"), (world.ganjiang, "干将西路")):
            household = HouseholdFactory(
                community=community, address=f"{street}{300 + i}号", is_low_income=True
            )
            PersonFactory(household=household, name=f"马{i}号")
            PersonFactory(household=household, name=f"哈{i}号", sex="F")
            visit(household, D(2025, 2, 1 + i % 20), "festival", lantern)
            visit(household, D(2025, 5, 1 + i % 20), "hardship")
        meeting("study", D(2025, 1 + i % 12, 3), group=world.ganjiang_group)
        Meeting.objects.create(kind="liaison", held_on=D(2025, 1 + i % 12, 5), area=world.pingjiang)


def queries(client, url, params):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_query_count_does_not_grow_with_the_books(world, books, register, login, eid_season):  # noqa: F811
    client = login(world.pingjiang_staff)
    lantern = Obligation.objects.get(name="节庆走访：元宵节")
    hardship = Obligation.objects.get(name="困难户走访")
    study = Obligation.objects.get(name="联络员学习活动")
    pages = [
        (REPORT, {"year": "2025"}),
        (REPORT, {}),
        (HOUSEHOLDS, {"year": "2025", "obligation": lantern.pk, "which": "due"}),
        (
            HOUSEHOLDS,
            {
                "year": "2025",
                "obligation": hardship.pk,
                "unit": f"area:{world.pingjianglu.pk}",
                "which": "done",
            },
        ),
        (MEETINGS, {"year": "2025", "obligation": study.pk, "which": "done"}),
        (MEETINGS, {"year": "2025", "obligation": study.pk, "which": "due"}),
        (FESTIVAL_VISITS, {}),
    ]
    for url, params in pages:
        queries(client, url, params)  # warm the caches (content types, permissions)
    small = [queries(client, url, params) for url, params in pages]
    grow(world, 25)
    large = [queries(client, url, params) for url, params in pages]
    assert small == large
