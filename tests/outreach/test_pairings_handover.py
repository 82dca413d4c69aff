"""When an official leaves their post, their pairings are listed for handover to a
successor, not silently dropped (issue 4, section 2)."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from network.access import scope_for
from network.models import Post, Role
from outreach.models import Pairing, PairingKind
from outreach.operations_pairings import pairing_hand_over
from outreach.selectors_pairings import pairings_awaiting_handover
from tests.factories import HouseholdFactory, make_user_with_post

HANDOVER_LIST = reverse("outreach:pairing-handover-list")


def pair(household, **fields):
    fields.setdefault("kind", PairingKind.COMMITTEE_RESIDENT)
    fields.setdefault("start_date", datetime.date(2023, 3, 1))
    fields.setdefault("visits_per_year", 6)
    return Pairing.objects.create(household=household, **fields)


def today():
    return timezone.localdate()


@pytest.fixture
def departed(world):
    """王德明, community staff at 平江路社区 until yesterday."""
    return make_user_with_post(
        "wangdeming",
        "王德明",
        Role.COMMUNITY,
        world.pingjianglu,
        start_date=datetime.date(2019, 1, 1),
        end_date=today() - datetime.timedelta(days=1),
    )


@pytest.fixture
def left_pairing(world, register, departed):
    return pair(register.ma_household, person=register.ma_xiaodong, partner_user=departed)


def awaiting(client):
    return list(client.get(HANDOVER_LIST).context["page"])


def handover_url(pairing):
    return reverse("outreach:pairing-handover", args=[pairing.pk])


# ---------------------------------------------------------------- who is awaiting handover


def test_a_pairing_of_an_official_who_left_is_listed_for_handover(
    world, register, left_pairing, login
):
    staying = pair(register.ma_household, partner_user=world.pingjianglu_staff)
    client = login(world.pingjiang_staff)
    assert awaiting(client) == [left_pairing]
    assert staying not in awaiting(client)
    assert "王德明" in client.get(HANDOVER_LIST).content.decode()


def test_an_official_moved_elsewhere_no_longer_covers_the_household(world, register, login):
    moved = make_user_with_post(
        "jinzhiqiang",
        "金志强",
        Role.COMMUNITY,
        world.ganjiang,
        start_date=datetime.date(2024, 1, 1),
    )
    pairing = pair(register.ma_household, partner_user=moved)  # 平江路, but 金志强 is in 干将
    covered = pair(register.bai_household, partner_user=moved)
    sub_district = pair(register.ma_household, partner_user=world.pingjiang_staff)
    client = login(world.pingjiang_staff)
    found = awaiting(client)
    assert pairing in found
    assert covered not in found
    assert sub_district not in found  # a sub-district post covers its communities


def test_an_archived_liaison_record_puts_its_pairings_up_for_handover(
    world, register, liaisons, login
):
    pairing = pair(register.ma_household, partner_liaison=liaisons.ma_xiaodong)
    assert awaiting(login(world.pingjianglu_staff)) == []
    liaisons.ma_xiaodong.archived_at = timezone.now()
    liaisons.ma_xiaodong.save()
    assert awaiting(login(world.pingjianglu_staff)) == [pairing]


def test_ended_and_archived_pairings_are_not_awaiting_handover(world, register, departed, login):
    pair(register.ma_household, partner_user=departed, end_date=today() - datetime.timedelta(2))
    pair(register.bai_household, partner_user=departed, archived_at=timezone.now())
    assert awaiting(login(world.pingjiang_staff)) == []


def test_the_handover_list_keeps_to_the_users_areas(world, register, left_pairing, login):
    assert awaiting(login(world.canglang_staff)) == []
    assert awaiting(login(world.pingjianglu_liaison)) == [left_pairing]  # may look, not act
    assert awaiting(login(world.daoqian_liaison)) == []


def test_the_handover_list_takes_the_same_queries_for_3_or_30(world, departed, login):
    client = login(world.pingjiang_staff)

    def add(n):
        for _ in range(n):
            pair(HouseholdFactory(community=world.pingjianglu), partner_user=departed)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(HANDOVER_LIST)
        return len(captured), len(response.context["page"].object_list)

    add(3)
    small, rows_small = queries()
    add(27)
    large, rows_large = queries()
    assert (rows_small, rows_large) == (3, 30)
    assert small == large
    scope_for(world.pingjiang_staff)  # the user's posts, read once per request
    with CaptureQueriesContext(connection) as captured:
        assert len(list(pairings_awaiting_handover(world.pingjiang_staff))) == 30
    assert len(captured) == 1


# ---------------------------------------------------------------- handing over


def test_handing_over_ends_the_old_pairing_and_starts_the_successor(
    world, register, left_pairing, login
):
    client = login(world.pingjiang_staff)
    assert client.get(handover_url(left_pairing)).status_code == 200
    on = today()
    response = client.post(
        handover_url(left_pairing),
        {"successor_user": world.pingjianglu_staff.pk, "on": on.isoformat()},
    )
    successor = Pairing.objects.get(succeeds=left_pairing)
    assert response.status_code == 302
    assert response["Location"] == reverse("outreach:pairing-detail", args=[successor.pk])

    left_pairing.refresh_from_db()
    assert left_pairing.end_date == on - datetime.timedelta(days=1)
    assert left_pairing.partner_user.username == "wangdeming"
    assert left_pairing.history.first().history_change_reason == "handed over to 周晓红"
    assert left_pairing.history.count() == 2  # created, then ended by the handover

    assert successor.partner_user == world.pingjianglu_staff
    assert successor.start_date == on
    assert successor.end_date is None
    assert (successor.household, successor.person, successor.kind, successor.visits_per_year) == (
        register.ma_household,
        register.ma_xiaodong,
        PairingKind.COMMITTEE_RESIDENT,
        6,
    )
    assert successor.history.get().history_user == world.pingjiang_staff
    assert awaiting(client) == []

    page = client.get(reverse("outreach:pairing-detail", args=[successor.pk]))
    assert page.context["predecessor"] == left_pairing
    old_page = client.get(reverse("outreach:pairing-detail", args=[left_pairing.pk]))
    assert old_page.context["successors"] == [successor]


def test_a_pairing_can_be_handed_to_a_liaison(world, register, left_pairing, liaisons, login):
    client = login(world.pingjianglu_staff)
    response = client.post(
        handover_url(left_pairing),
        {"successor_liaison": liaisons.bai_mei.pk, "on": today().isoformat()},
    )
    assert response.status_code == 302
    assert Pairing.objects.get(succeeds=left_pairing).partner_liaison == liaisons.bai_mei


def test_the_successor_must_be_in_scope_and_cover_the_community(
    world, register, left_pairing, liaisons, login
):
    ganjiang_staff = make_user_with_post("ganjiang", "丁桂芳", Role.COMMUNITY, world.ganjiang)
    client = login(world.pingjiang_staff)
    for data in (
        {"successor_user": world.canglang_staff.pk},  # another sub-district
        {"successor_user": ganjiang_staff.pk},  # visible, but no post covering 平江路社区
        {"successor_user": world.ended_post.pk},  # left too
        {"successor_liaison": liaisons.ma_jianhua.pk},  # a liaison of 道前社区
        {"successor_user": world.pingjianglu_staff.pk, "successor_liaison": liaisons.bai_mei.pk},
        {},
        {"successor_user": "987654"},
    ):
        response = client.post(handover_url(left_pairing), {"on": today().isoformat(), **data})
        assert response.status_code == 200, data
        assert response.context["form"].errors, data
    assert not Pairing.objects.filter(succeeds=left_pairing).exists()
    left_pairing.refresh_from_db()
    assert left_pairing.end_date is None

    with pytest.raises(ValidationError):
        pairing_hand_over(
            by=world.pingjiang_staff,
            pairing=left_pairing,
            successor_user=world.canglang_staff,
            on=today(),
        )
    assert not Pairing.objects.filter(succeeds=left_pairing).exists()


def test_the_handover_date_comes_after_the_start_and_not_in_the_future(world, left_pairing, login):
    client = login(world.pingjiang_staff)
    for on in ("2023-03-01", "2022-12-31", (today() + datetime.timedelta(1)).isoformat(), "x"):
        response = client.post(
            handover_url(left_pairing), {"successor_user": world.pingjianglu_staff.pk, "on": on}
        )
        assert "on" in response.context["form"].errors, on
    assert not Pairing.objects.filter(succeeds=left_pairing).exists()


def test_canglang_staff_cannot_hand_over_a_pingjiang_pairing(world, left_pairing, login):
    client = login(world.canglang_staff)
    assert client.get(handover_url(left_pairing)).status_code == 404
    response = client.post(
        handover_url(left_pairing),
        {"successor_user": world.canglang_staff.pk, "on": today().isoformat()},
    )
    assert response.status_code == 404
    assert not Pairing.objects.filter(succeeds=left_pairing).exists()


def test_liaisons_and_the_district_bureau_do_not_hand_over(world, left_pairing, login):
    data = {"successor_user": world.pingjianglu_staff.pk, "on": today().isoformat()}
    for who in (world.pingjianglu_liaison, world.bureau):
        client = login(who)
        assert client.get(handover_url(left_pairing)).status_code == 403
        assert client.post(handover_url(left_pairing), data).status_code == 403
    assert not Pairing.objects.filter(succeeds=left_pairing).exists()


def test_an_ended_pairing_is_not_handed_over(world, register, departed, login):
    ended = pair(
        register.ma_household, partner_user=departed, end_date=today() - datetime.timedelta(3)
    )
    client = login(world.pingjiang_staff)
    response = client.post(
        handover_url(ended), {"successor_user": world.pingjianglu_staff.pk, "on": today()}
    )
    assert response.status_code == 302
    assert not Pairing.objects.filter(succeeds=ended).exists()


def test_the_successor_already_paired_with_the_household_is_refused(
    world, register, left_pairing, login
):
    pair(register.ma_household, partner_user=world.pingjianglu_staff)
    client = login(world.pingjiang_staff)
    response = client.post(
        handover_url(left_pairing),
        {"successor_user": world.pingjianglu_staff.pk, "on": today().isoformat()},
    )
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    left_pairing.refresh_from_db()
    assert left_pairing.end_date is None


def test_a_post_ending_today_still_covers_the_household(world, register, login):
    leaving = make_user_with_post(
        "majunfeng",
        "马俊峰",
        Role.COMMUNITY,
        world.pingjianglu,
        start_date=datetime.date(2020, 1, 1),
    )
    Post.objects.filter(user=leaving).update(end_date=today())
    pairing = pair(register.ma_household, partner_user=leaving)
    assert pairing not in awaiting(login(world.pingjiang_staff))
