"""Visits made under a pairing against what its rhythm expects so far this year, counted by
hand on fixed dates; and a user's own pairings with the visits due under them (the home
panel's figures)."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from outreach.models import Assistance, Pairing, PairingKind, Visit, VisitKind
from outreach.selectors_pairings import (
    expected_so_far,
    pairings_for,
    pairings_of,
    visits_due,
    with_progress,
)
from tests.factories import HouseholdFactory

D = datetime.date


def pair(household, **fields):
    fields.setdefault("kind", PairingKind.ASSISTANCE)
    fields.setdefault("start_date", D(2023, 5, 1))
    return Pairing.objects.create(household=household, **fields)


def visit(pairing, on, **fields):
    return Visit.objects.create(
        household=pairing.household,
        pairing=pairing,
        visited_on=on,
        kind=VisitKind.PAIRING,
        **fields,
    )


def progress(pairing, today):
    annotated = with_progress(Pairing.objects.filter(pk=pairing.pk), today).get()
    return annotated.visits_done, annotated.visits_expected


@pytest.mark.parametrize(
    ("start", "end", "per_year", "today", "expected"),
    [
        # Started before this year: 1 Jan to 2 Jul 2025 is 183 days; 4 × 183 / 365 = 2.005.
        (D(2023, 5, 1), None, 4, D(2025, 7, 2), 2),
        # One day earlier it is 182 days: 4 × 182 / 365 = 1.99, rounded down.
        (D(2023, 5, 1), None, 4, D(2025, 7, 1), 1),
        # The whole year by 31 December.
        (D(2023, 5, 1), None, 4, D(2025, 12, 31), 4),
        # 1 January itself: one day of 365.
        (D(2023, 5, 1), None, 365, D(2025, 1, 1), 1),
        # Started this year on 1 April: 1 Apr to 30 Sep is 183 days; 12 × 183 / 365 = 6.02.
        (D(2025, 4, 1), None, 12, D(2025, 9, 30), 6),
        # Leap year: 1 Jan to 31 May 2024 is 152 days of 366; 12 × 152 / 366 = 4.98.
        (D(2020, 1, 1), None, 12, D(2024, 5, 31), 4),
        # Ended on 31 March 2025: 90 days count, whatever today is; 12 × 90 / 365 = 2.96.
        (D(2023, 5, 1), D(2025, 3, 31), 12, D(2025, 10, 8), 2),
        # Ended last year: nothing is expected this year.
        (D(2023, 5, 1), D(2024, 6, 30), 12, D(2025, 10, 8), 0),
        # Starts after today (recorded ahead): nothing yet.
        (D(2025, 11, 1), None, 12, D(2025, 10, 8), 0),
        # No visits agreed.
        (D(2023, 5, 1), None, 0, D(2025, 10, 8), 0),
    ],
)
def test_expected_visits_are_prorated_to_the_day(
    world, register, start, end, per_year, today, expected
):
    pairing = pair(
        register.ma_household,
        partner_user=world.pingjianglu_staff,
        start_date=start,
        end_date=end,
        visits_per_year=per_year,
    )
    assert progress(pairing, today) == (0, expected)
    assert expected_so_far(per_year, start, end, today) == expected


def test_visits_this_year_count_only_this_pairings_current_visits(world, register, liaisons):
    pairing = pair(register.ma_household, partner_user=world.pingjianglu_staff)
    other = pair(register.ma_household, partner_liaison=liaisons.bai_mei)
    today = D(2025, 10, 8)
    visit(pairing, D(2025, 1, 1))
    visit(pairing, D(2025, 6, 12))
    visit(pairing, D(2025, 10, 8))
    visit(pairing, D(2024, 12, 31))  # last year
    visit(pairing, D(2025, 3, 3), archived_at=timezone.now())  # archived
    visit(other, D(2025, 4, 4))  # another pairing
    Visit.objects.create(
        household=register.ma_household, visited_on=D(2025, 5, 5), kind=VisitKind.CARE
    )  # not under a pairing
    # 1 Jan to 8 Oct 2025 is 281 days: 4 × 281 / 365 = 3.08.
    assert progress(pairing, today) == (3, 3)
    assert progress(pairing, D(2025, 10, 7)) == (2, 3)


def test_my_pairings_are_those_where_i_am_the_official_or_the_liaison(world, register, liaisons):
    as_liaison = pair(register.ma_household, partner_liaison=liaisons.bai_mei)
    pair(register.bai_household, partner_user=world.pingjianglu_staff)
    ended = pair(
        register.bai_household,
        partner_liaison=liaisons.bai_mei,
        end_date=timezone.localdate() - datetime.timedelta(days=1),
    )
    archived = pair(
        register.bai_household, partner_liaison=liaisons.bai_mei, archived_at=timezone.now()
    )
    mine = list(pairings_of(world.pingjianglu_liaison))
    assert mine == [as_liaison]
    assert ended not in mine and archived not in mine
    assert list(pairings_of(world.pingjianglu_staff)) == []  # 干将: outside their community
    assert [p.household for p in pairings_of(world.pingjiang_staff)] == []


def test_visits_due_lists_my_pairings_behind_their_rhythm(world, register, liaisons):
    today = D(2025, 10, 8)  # 281 days into the year
    behind = pair(register.ma_household, partner_liaison=liaisons.bai_mei, visits_per_year=12)
    on_track = pair(register.bai_household, partner_liaison=liaisons.bai_mei, visits_per_year=2)
    visit(behind, D(2025, 2, 2))
    visit(on_track, D(2025, 2, 2))
    pair(register.ma_household, partner_user=world.pingjianglu_staff, visits_per_year=12)
    assert visits_due(world.pingjianglu_liaison, today) == [(behind, 9, 1)]
    assert visits_due(world.pingjianglu_liaison, D(2025, 1, 2)) == []
    staff_due = visits_due(world.pingjianglu_staff, today)
    assert [(p.household, e, d) for p, e, d in staff_due] == [(register.ma_household, 9, 0)]


def test_visits_due_take_one_query_however_many_pairings(world, register, liaisons):
    today = D(2025, 10, 8)

    def count(n):
        for _ in range(n):
            household = HouseholdFactory(community=world.pingjianglu)
            pairing = pair(household, partner_liaison=liaisons.bai_mei, visits_per_year=12)
            visit(pairing, D(2025, 3, 3))
        user = type(world.pingjianglu_liaison).objects.get(pk=world.pingjianglu_liaison.pk)
        with CaptureQueriesContext(connection) as queries:
            due = visits_due(user, today)
            for pairing, _expected, _done in due:
                str(pairing.household.address) + str(pairing.partner_liaison.name)
        return len(queries), len(due)

    small, found_small = count(2)
    large, found_large = count(12)
    assert (found_small, found_large) == (2, 14)
    assert small == large


def test_pairing_list_figures_match_the_detail_page(world, register, login):
    pairing = pair(register.ma_household, partner_user=world.pingjianglu_staff, visits_per_year=4)
    first = visit(pairing, timezone.localdate())
    Assistance.objects.create(visit=first, kind="cash", value="500.00", description="助学金")
    Assistance.objects.create(visit=first, kind="goods", value="120.50", description="米和油")
    client = login(world.pingjiang_staff)
    listed = client.get(reverse("outreach:pairing-list")).context["page"][0]
    response = client.get(reverse("outreach:pairing-detail", args=[pairing.pk]))
    shown = response.context
    assert (listed.visits_done, listed.visits_expected) == (
        shown["pairing"].visits_done,
        shown["pairing"].visits_expected,
    )
    assert listed.visits_done == 1
    assert shown["assistance_total"] == Decimal("620.50")
    assert "¥620.50" in response.content.decode()


def test_pairings_for_respects_scope(world, register, liaisons):
    mine = pair(register.ma_household, partner_liaison=liaisons.bai_mei)
    theirs = pair(register.daoqian_household, partner_liaison=liaisons.ma_jianhua)
    assert list(pairings_for(world.pingjianglu_liaison)) == [mine]
    assert list(pairings_for(world.daoqian_liaison)) == [theirs]
    assert set(pairings_for(world.bureau)) == {mine, theirs}
    assert list(pairings_for(world.no_post)) == []
