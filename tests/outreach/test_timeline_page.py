"""The timeline's own page (what the "Older" button loads in place): one page of entries for
users who may see the household, older pages by date, nothing for anyone else."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from residents.timeline import PER_PAGE
from tests.outreach.test_visits_support import make_visit


def timeline_url(household, **params):
    url = reverse("residents:household-timeline", args=[household.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def test_pages_go_back_in_time_without_losing_or_repeating_a_visit(world, register, login):
    visits = [
        make_visit(register.ma_household, group=world.pingjianglu_group, days_ago=3 * n + 1)
        for n in range(PER_PAGE + 7)
    ]
    client = login(world.pingjianglu_staff)
    first = client.get(timeline_url(register.ma_household))
    assert first.status_code == 200
    seen = [e.url for e in first.context["timeline"].entries]
    before = first.context["timeline"].next_before
    assert before is not None
    assert f'hx-get="{timeline_url(register.ma_household, before=before.isoformat())}"' in (
        first.content.decode()
    )
    second = client.get(timeline_url(register.ma_household, before=before.isoformat()))
    seen += [e.url for e in second.context["timeline"].entries]
    assert second.context["timeline"].next_before is None
    expected = [reverse("outreach:visit-detail", args=[v.pk]) for v in visits]
    assert sorted(seen) == sorted(expected)  # each visit exactly once


def test_the_household_page_loads_htmx_for_the_older_button(world, register, login):
    for n in range(PER_PAGE + 1):
        make_visit(register.ma_household, group=world.pingjianglu_group, days_ago=n + 1)
    page = login(world.pingjianglu_liaison).get(
        reverse("residents:household-detail", args=[register.ma_household.pk])
    )
    html = page.content.decode()
    assert "htmx.min.js" in html
    assert 'hx-target="#timeline-entries"' in html


def test_another_communitys_liaison_gets_not_found(world, register, login):
    make_visit(register.ma_household, group=world.pingjianglu_group)
    assert login(world.daoqian_liaison).get(timeline_url(register.ma_household)).status_code == 404
    assert login(world.canglang_staff).get(timeline_url(register.ma_household)).status_code == 404
    assert login(world.no_post).get(timeline_url(register.ma_household)).status_code == 403


def test_a_date_that_is_not_a_date_shows_the_newest_page(world, register, login):
    make_visit(register.ma_household, group=world.pingjianglu_group)
    client = login(world.pingjianglu_staff)
    for typed in ("２０２５-01-01x", "2025-02-30", "<script>"):
        response = client.get(timeline_url(register.ma_household, before=typed))
        assert response.status_code == 200
        assert len(response.context["timeline"].entries) == 1


def test_the_page_costs_the_same_queries_at_any_size(world, register, login):
    client = login(world.pingjianglu_staff)
    make_visit(register.ma_household, group=world.pingjianglu_group)
    client.get(timeline_url(register.ma_household))
    with CaptureQueriesContext(connection) as few:
        client.get(timeline_url(register.ma_household))
    for n in range(40):
        make_visit(register.ma_household, group=world.pingjianglu_group, days_ago=n + 2)
    with CaptureQueriesContext(connection) as many:
        client.get(timeline_url(register.ma_household))
    assert len(many) == len(few)
