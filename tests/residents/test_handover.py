"""Handing a household over to another sub-district: send → incoming → accept, decline or
cancel."""

import pytest
from django.urls import reverse

from residents.models import Household, Person
from tests.factories import HouseholdFactory, PersonFactory

LIST = reverse("residents:handover-list")


def send_url(household):
    return reverse("residents:handover-send", args=[household.pk])


def accept_url(household):
    return reverse("residents:handover-accept", args=[household.pk])


def decline_url(household):
    return reverse("residents:handover-decline", args=[household.pk])


def cancel_url(household):
    return reverse("residents:handover-cancel", args=[household.pk])


@pytest.fixture
def sent(world, register, login):
    """平江街道 sends the 马 household (平江路社区) to 道前社区 of 沧浪街道."""
    response = login(world.pingjiang_staff).post(
        send_url(register.ma_household), {"community": world.daoqian.pk}
    )
    assert response.status_code == 302
    register.ma_household.refresh_from_db()
    return register.ma_household


def test_receiving_side_cannot_see_the_household_before_it_is_sent(world, register, login):
    client = login(world.canglang_staff)
    page = client.get(LIST).content.decode()
    assert "平江路112号3幢201室" not in page
    assert client.post(accept_url(register.ma_household)).status_code == 404
    assert client.get(decline_url(register.ma_household)).status_code == 404


def test_send_form_offers_only_other_sub_districts(world, register, login):
    response = login(world.pingjiang_staff).get(send_url(register.ma_household))
    choices = list(response.context["form"].fields["community"].queryset)
    assert world.daoqian in choices
    assert world.ganjiang not in choices and world.pingjianglu not in choices
    assert "沧浪街道 · 道前社区" in response.content.decode()


def test_sent_household_stays_with_the_old_side_until_accepted(world, register, sent, login):
    assert sent.community == world.pingjianglu
    assert sent.handover_to == world.daoqian
    assert sent.handover_sent_at is not None
    assert Household.objects.visible_to(world.pingjiang_staff).filter(pk=sent.pk).exists()
    assert not Household.objects.visible_to(world.canglang_staff).filter(pk=sent.pk).exists()
    page = login(world.pingjiang_staff).get(LIST).content.decode()
    assert cancel_url(sent) in page


def test_full_cycle_accept_moves_household_members_and_history(world, register, sent, login):
    history_before = list(sent.history.values_list("history_id", flat=True))
    client = login(world.canglang_staff)
    response = client.get(LIST)
    page = response.content.decode()
    assert "平江路112号3幢201室" in page
    assert "马晓东" in page and "哈丽娜" in page
    assert [h.pk for h in response.context["page"]] == [sent.pk]
    assert len(response.context["page"][0].active_members) == 2

    assert client.post(accept_url(sent)).status_code == 302
    sent.refresh_from_db()
    assert sent.community == world.daoqian
    assert sent.handover_to is None and sent.handover_sent_at is None
    members = Person.objects.filter(household=sent)
    assert {p.community_id for p in members} == {world.daoqian.pk}
    history_after = list(sent.history.values_list("history_id", flat=True))
    assert set(history_before) < set(history_after)  # the old history moved with it
    assert "平江路社区" in sent.history.first().history_change_reason
    ma = register.ma_xiaodong
    ma.refresh_from_db()
    assert ma.history.first().history_change_reason.startswith("handed over")
    # The old side no longer sees it; the new side does.
    assert not Household.objects.visible_to(world.pingjiang_staff).filter(pk=sent.pk).exists()
    assert Household.objects.visible_to(world.canglang_staff).filter(pk=sent.pk).exists()


def test_decline_clears_the_handover_with_a_reason(world, register, sent, login):
    client = login(world.canglang_staff)
    assert client.get(decline_url(sent)).status_code == 200
    response = client.post(decline_url(sent), {"reason": "查无此户，地址不在道前街"})
    assert response.status_code == 302
    sent.refresh_from_db()
    assert sent.handover_to is None
    assert sent.community == world.pingjianglu
    assert "查无此户" in sent.history.first().history_change_reason


def test_decline_needs_a_reason(world, register, sent, login):
    response = login(world.canglang_staff).post(decline_url(sent), {"reason": "  "})
    assert response.status_code == 200
    sent.refresh_from_db()
    assert sent.handover_to == world.daoqian


def test_sender_cancels(world, register, sent, login):
    assert login(world.pingjiang_staff).post(cancel_url(sent)).status_code == 302
    sent.refresh_from_db()
    assert sent.handover_to is None
    assert sent.community == world.pingjianglu


def test_receiver_cannot_cancel_and_sender_cannot_accept(world, register, sent, login):
    assert login(world.canglang_staff).post(cancel_url(sent)).status_code == 404
    assert login(world.pingjiang_staff).post(accept_url(sent)).status_code == 404
    sent.refresh_from_db()
    assert sent.handover_to == world.daoqian
    assert sent.community == world.pingjianglu


def test_cannot_hand_over_within_the_own_sub_district(world, register, login):
    response = login(world.pingjiang_staff).post(
        send_url(register.ma_household), {"community": world.ganjiang.pk}
    )
    assert response.status_code == 200
    register.ma_household.refresh_from_db()
    assert register.ma_household.handover_to is None


def test_cannot_hand_over_twice(world, register, sent, login):
    response = login(world.pingjiang_staff).post(send_url(sent), {"community": world.daoqian.pk})
    assert response.status_code == 200
    sent.refresh_from_db()
    assert sent.handover_to == world.daoqian


def test_unknown_community_is_a_form_error(world, register, login):
    response = login(world.pingjiang_staff).post(
        send_url(register.ma_household), {"community": "abc"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors


@pytest.mark.parametrize("who", ["pingjianglu_staff", "pingjianglu_liaison"])
def test_handover_needs_the_permission(world, register, login, who):
    client = login(getattr(world, who))
    assert client.get(LIST).status_code == 403
    response = client.post(send_url(register.ma_household), {"community": world.daoqian.pk})
    assert response.status_code == 403
    register.ma_household.refresh_from_db()
    assert register.ma_household.handover_to is None


def test_other_sub_district_cannot_send_our_household(world, register, login):
    response = login(world.canglang_staff).post(
        send_url(register.ma_household), {"community": world.daoqian.pk}
    )
    assert response.status_code == 404


def test_search_finds_own_households_to_hand_over(world, register, login):
    response = login(world.pingjiang_staff).get(LIST, {"q": "干将"})
    assert [h.pk for h in response.context["found"]] == [register.bai_household.pk]
    response = login(world.pingjiang_staff).get(LIST, {"q": "道前"})
    assert list(response.context["found"]) == []


def test_incoming_list_in_constant_queries(world, register, login, django_assert_max_num_queries):
    client = login(world.canglang_staff)

    def send(count, start):
        for n in range(start, start + count):
            household = HouseholdFactory(
                community=world.ganjiang, address=f"干将西路{n}号", handover_to=world.daoqian
            )
            PersonFactory(household=household, name=f"穆{n}")
            PersonFactory(household=household, name=f"沙{n}")

    send(1, 0)
    with django_assert_max_num_queries(9):
        assert len(client.get(LIST).context["page"]) == 1
    send(20, 1)
    with django_assert_max_num_queries(9):
        assert len(client.get(LIST).context["page"]) == 21
