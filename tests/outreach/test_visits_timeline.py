"""Visits on the household's timeline: what the user may see, newest first, in one query,
and the "Record a visit" button for those who may record one there."""

import datetime
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from outreach import timeline_visits
from outreach.models import FollowUpStatus, VisitKind
from tests.outreach.test_visits_support import (
    add_assistance,
    add_follow_up,
    make_visit,
    mid_autumn,
    url,
)


def household_page(household):
    return reverse("residents:household-detail", args=[household.pk])


def warm(user):
    user.has_perm("outreach.view_visit")  # the permission cache, filled once per request


def test_the_household_page_shows_its_visits(world, register, login):
    festival = mid_autumn()
    visit = make_visit(
        register.ma_household,
        group=world.pingjianglu_group,
        kind=VisitKind.FESTIVAL,
        festival=festival,
        learned="全家身体都好，孩子今年考上了苏州大学。",
    )
    add_assistance(visit, "300")
    add_follow_up(visit)
    response = login(world.pingjianglu_liaison).get(household_page(register.ma_household))
    entries = response.context["timeline"].entries
    (entry,) = [e for e in entries if e.url == url("visit-detail", visit.pk)]
    assert festival.name in entry.title
    assert "苏州大学" in entry.detail
    assert "300.00" in entry.detail
    assert len(entry.badges) == 1
    assert entry.sort_key == (visit.visited_on, 1, visit.pk)
    page = response.content.decode()
    assert url("visit-detail", visit.pk) in page
    assert url("visit-create") + f"?household={register.ma_household.pk}" in page


def test_entries_are_newest_first_limited_and_before_a_date(world, register):
    today = timezone.localdate()
    visits = [make_visit(register.ma_household, days_ago=n) for n in (1, 3, 3, 9, 20)]
    user = world.pingjianglu_staff
    warm(user)
    with CaptureQueriesContext(connection) as queries:
        entries = timeline_visits.entries(register.ma_household, user, limit=3)
    assert len(queries) == 1
    expected = [visits[0], visits[2], visits[1]]  # same day: the later id first
    assert [e.url for e in entries] == [url("visit-detail", v.pk) for v in expected]
    older = timeline_visits.entries(
        register.ma_household, user, before=today - datetime.timedelta(days=3)
    )
    assert [e.on for e in older] == [v.visited_on for v in visits[3:]]


def test_one_query_whatever_the_follow_ups_and_assistance(world, register):
    for n in range(6):
        visit = make_visit(register.ma_household, days_ago=n)
        add_follow_up(visit)
        add_follow_up(visit, due_in=-3)
        add_follow_up(visit, status=FollowUpStatus.DONE)
        add_assistance(visit, "100")
        add_assistance(visit, "20.5", kind="goods")
    user = world.pingjiang_staff
    warm(user)
    with CaptureQueriesContext(connection) as queries:
        entries = timeline_visits.entries(register.ma_household, user)
    assert len(queries) == 1
    assert len(entries) == 6
    assert all("120.50" in e.detail for e in entries)
    assert all(len(e.badges) == 2 for e in entries)  # 2 open follow-ups, overdue


def test_archived_and_out_of_scope_visits_stay_off_the_timeline(world, register):
    make_visit(register.ma_household, archived_at=timezone.now())
    visit = make_visit(register.ma_household)
    entries = timeline_visits.entries(register.ma_household, world.pingjianglu_liaison)
    assert [e.url for e in entries] == [url("visit-detail", visit.pk)]
    assert timeline_visits.entries(register.ma_household, world.canglang_staff) == []
    assert timeline_visits.entries(register.ma_household, world.no_post) == []


def test_record_a_visit_is_offered_to_those_who_may_record_there(world, register):
    create = url("visit-create")
    ((label, link),) = timeline_visits.actions(register.ma_household, world.pingjianglu_liaison)
    assert link == f"{create}?household={register.ma_household.pk}"
    assert timeline_visits.actions(register.ma_household, world.pingjiang_staff)
    # a liaison of another community, staff of another sub-district, no post: nothing
    assert timeline_visits.actions(register.ma_household, world.daoqian_liaison) == []
    assert timeline_visits.actions(register.bai_household, world.pingjianglu_liaison) == []
    assert timeline_visits.actions(register.ma_household, world.canglang_staff) == []
    assert timeline_visits.actions(register.ma_household, world.no_post) == []


def test_the_assistance_total_is_in_yuan(world, register):
    visit = make_visit(register.ma_household)
    add_assistance(visit, "0.1")
    add_assistance(visit, "0.2")
    (entry,) = timeline_visits.entries(register.ma_household, world.pingjianglu_staff)
    assert str(Decimal("0.30")) in entry.detail
