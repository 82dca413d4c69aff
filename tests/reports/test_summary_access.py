"""Who may open the summaries, the lists behind their figures and the charts: the bureau its
district, a sub-district its own subtree and nothing of the other (404), liaisons and users
without a post nothing (403); and bad input in the URL is a 404 or a message, never a 500."""

import pytest
from django.urls import reverse

from tests.reports.test_drilldown import build_town

SUMMARY = reverse("reports:summary")
RECORDS = reverse("reports:figure-records", args=["minority_persons"])
CHART = reverse("reports:chart", args=["visits-by-month"])
PAGES = [SUMMARY, RECORDS, CHART]


@pytest.fixture
def town(world):
    return build_town(world)


def get(client, url, area=None, period="2025", **extra):
    query = {"period": period, **extra}
    if area is not None:
        query["area"] = area if isinstance(area, str) else area.pk
    return client.get(url, query)


@pytest.mark.parametrize("url", PAGES)
def test_bureau_sees_the_whole_district(world, town, login, url):
    client = login(world.bureau)
    for area in (world.district, world.daoqian):
        assert get(client, url, area).status_code == 200, area.name


@pytest.mark.parametrize("url", PAGES)
def test_sub_district_sees_its_own_subtree(world, town, login, url):
    client = login(world.pingjiang_staff)
    for area in (world.pingjiang, world.north_zone, world.ganjiang):
        assert get(client, url, area).status_code == 200, area.name


@pytest.mark.parametrize("url", PAGES)
def test_sub_district_gets_404_for_the_other_sub_district_and_its_communities(
    world, town, login, url
):
    client = login(world.pingjiang_staff)
    for area in (world.canglang, world.daoqian, world.district):
        response = get(client, url, area)
        assert response.status_code == 404, area.name
        assert "阿依吐尔逊" not in response.content.decode()


@pytest.mark.parametrize("url", PAGES)
def test_community_staff_cannot_report_on_their_sub_district(world, town, login, url):
    client = login(world.pingjianglu_staff)
    assert get(client, url, world.pingjianglu).status_code == 200
    assert get(client, url, world.pingjiang).status_code == 404
    assert get(client, url, world.ganjiang).status_code == 404


@pytest.mark.parametrize("url", PAGES)
@pytest.mark.parametrize("who", ["pingjianglu_liaison", "daoqian_liaison", "no_post", "ended_post"])
def test_liaisons_and_users_without_a_post_are_refused(world, town, login, url, who):
    client = login(getattr(world, who))
    assert get(client, url).status_code == 403
    assert get(client, url, world.pingjianglu).status_code == 403


@pytest.mark.parametrize("url", PAGES)
def test_signed_out_visitors_are_sent_to_sign_in(client, world, url):
    response = get(client, url, world.pingjiang)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_each_user_starts_on_their_own_area(world, town, login):
    assert login(world.canglang_staff).get(SUMMARY).context["area"] == world.canglang
    assert login(world.pingjianglu_staff).get(SUMMARY).context["area"] == world.pingjianglu
    assert login(world.bureau).get(SUMMARY).context["area"] == world.district


@pytest.mark.parametrize("url", PAGES)
@pytest.mark.parametrize("raw", ["x", "999999", "0", "-3", "1.5", "99999999999999999999999", "２x"])
def test_an_area_that_is_not_one_is_a_404(world, login, url, raw):
    assert get(login(world.pingjiang_staff), url, raw).status_code == 404


@pytest.mark.parametrize("url", [RECORDS, CHART])
@pytest.mark.parametrize("raw", ["2025-13", "abc", "2025-Q0", "1800", "2025-02-30..2025-03-01"])
def test_a_bad_period_in_a_list_or_chart_url_is_a_404(world, login, url, raw):
    assert get(login(world.pingjiang_staff), url, world.pingjiang, raw).status_code == 404


def test_an_unknown_figure_or_chart_is_a_404(world, login):
    client = login(world.bureau)
    for url in (
        reverse("reports:figure-records", args=["no_such_figure"]),
        reverse("reports:chart", args=["pie-of-everything"]),
    ):
        assert get(client, url, world.district).status_code == 404


def test_pages_only_answer_get(world, login):
    client = login(world.bureau)
    for url in PAGES:
        assert client.post(url, {"area": world.district.pk}).status_code == 405
