"""The household timeline's outreach parts stay cheap: one query per source, whoever the
pairing's partner is; the buttons above it cost one query in all (the head of household for
a consultation); and the shortcuts they take (names by subquery, links reversed once, text
shortened without a walk) give what the slow way gave."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.text import Truncator

from outreach import timeline_pairings, timeline_visits
from outreach.models import FollowUpStatus, Pairing, PairingKind
from residents.timeline import actions_for, detail_url, shorten
from tests.outreach.test_visits_support import add_follow_up, make_visit

D = datetime.date


def pair(household, **fields):
    fields.setdefault("kind", PairingKind.COMMITTEE_RESIDENT)
    return Pairing.objects.create(household=household, **fields)


def test_pairing_partners_of_every_kind_in_one_query(world, register, liaisons):
    household = register.ma_household
    official = pair(
        household,
        partner_user=world.pingjianglu_staff,
        person=register.ma_xiaodong,
        start_date=D(2024, 3, 1),
    )
    liaison = pair(household, partner_liaison=liaisons.bai_mei, start_date=D(2024, 2, 1))
    volunteer = pair(
        household,
        kind=PairingKind.RESIDENT_RESIDENT,
        partner_person=register.bai_lan,
        start_date=D(2024, 1, 1),
        end_date=D(2025, 12, 31),
    )
    user = world.pingjiang_staff
    timeline_pairings.entries(household, user)  # the permission and scope caches
    with CaptureQueriesContext(connection) as queries:
        entries = timeline_pairings.entries(household, user)
    assert len(queries) == 1
    by_url = {e.url: e for e in entries}
    first = by_url[reverse("outreach:pairing-detail", args=[official.pk])]
    assert first.title.endswith(world.pingjianglu_staff.display_name)
    assert register.ma_xiaodong.name in first.detail
    second = by_url[reverse("outreach:pairing-detail", args=[liaison.pk])]
    assert second.title.endswith(liaisons.bai_mei.name) and second.detail == ""
    third = by_url[reverse("outreach:pairing-detail", args=[volunteer.pk])]
    assert third.title.endswith(register.bai_lan.name)
    assert "2025-12-31" in third.detail
    assert [e.on for e in entries] == [D(2024, 3, 1), D(2024, 2, 1), D(2024, 1, 1)]


def test_the_overdue_badge_needs_an_open_follow_up_past_its_date(world, register):
    user = world.pingjianglu_staff
    late = make_visit(register.ma_household, days_ago=10)
    add_follow_up(late, due_in=-3)
    done_late = make_visit(register.ma_household, days_ago=20)
    add_follow_up(done_late, due_in=-3, status=FollowUpStatus.DONE)
    in_time = make_visit(register.ma_household, days_ago=30)
    add_follow_up(in_time, due_in=5)
    badges = {e.url: e.badges for e in timeline_visits.entries(register.ma_household, user)}
    assert len(badges[reverse("outreach:visit-detail", args=[late.pk])]) == 2
    assert badges[reverse("outreach:visit-detail", args=[done_late.pk])] == []
    assert len(badges[reverse("outreach:visit-detail", args=[in_time.pk])]) == 1


@pytest.mark.parametrize("who", ["pingjianglu_staff", "pingjiang_staff", "pingjianglu_liaison"])
def test_the_buttons_above_the_timeline_cost_one_query_per_app_at_most(world, register, who):
    user = getattr(world, who)
    household = register.ma_household
    actions_for(household, user)  # the permission and scope caches
    with CaptureQueriesContext(connection) as queries:
        actions = actions_for(household, user)
    assert len(queries) <= 2  # outreach's pairings, services' consents and cards
    assert actions  # each of them may record something here


def test_shortcuts_give_what_the_slow_way_gave():
    texts = ["", "短", "清真" * 30, "清真" * 40 + "。", "e\u0301" * 20, "e\u0301" * 70, "a" * 61]
    for text in texts:
        for chars in (1, 60, 80):
            assert shorten(text, chars) == Truncator(text).chars(chars), (text, chars)
    url = detail_url("outreach:visit-detail")
    assert url(7) == reverse("outreach:visit-detail", args=[7])
    assert url(123456) == reverse("outreach:visit-detail", kwargs={"pk": 123456})
