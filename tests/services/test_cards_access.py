"""Who may open the card and consent pages: another sub-district gets 404 (never a hint), a
liaison and a merchant's till login get 403, and nothing is written by a refused POST."""

import pytest
from django.urls import reverse

from services.models import CardStatus, Consent, ServiceCard

pytestmark = pytest.mark.django_db


def card_pages(card):
    return [
        reverse(name, kwargs={"pk": card.pk})
        for name in (
            "services:card-detail",
            "services:card-print",
            "services:card-reissue",
            "services:card-revoke",
        )
    ]


def list_pages():
    return [
        reverse("services:card-list"),
        reverse("services:card-issue"),
        reverse("services:card-export"),
        reverse("services:card-print-sheet"),
        reverse("services:consent-list"),
    ]


def test_other_subdistrict_staff_get_404_on_pingjiangs_cards(world, partners, register, login):
    client = login(world.canglang_staff)
    for url in card_pages(partners.ma_card):
        assert client.get(url).status_code == 404, url
    for url in card_pages(partners.ma_card)[2:]:
        assert client.post(url, {"on": "2026-01-01", "reason": "x"}).status_code == 404, url
    assert (
        client.get(
            reverse("services:consent-person", kwargs={"pk": register.ma_xiaodong.pk})
        ).status_code
        == 404
    )
    partners.ma_card.refresh_from_db()
    assert partners.ma_card.status == CardStatus.ACTIVE
    assert ServiceCard.objects.count() == 4


def test_community_staff_get_404_on_the_next_communitys_card(world, partners, login):
    client = login(world.pingjianglu_staff)
    for url in card_pages(partners.bai_card):
        assert client.get(url).status_code == 404, url
    assert client.get(card_pages(partners.ma_card)[0]).status_code == 200


def test_district_bureau_sees_but_does_not_change(world, partners, login):
    client = login(world.bureau)
    detail, printed, lost, revoke = card_pages(partners.ma_card)
    assert client.get(detail).status_code == 200
    assert client.get(printed).status_code == 200
    assert client.get(lost).status_code == 403
    assert client.post(revoke, {"on": "2026-01-01", "reason": "x"}).status_code == 403
    partners.ma_card.refresh_from_db()
    assert partners.ma_card.status == CardStatus.ACTIVE


def test_a_liaison_gets_403_on_the_card_pages(world, partners, register, login):
    client = login(world.pingjianglu_liaison)
    for url in card_pages(partners.ma_card) + list_pages():
        assert client.get(url).status_code == 403, url
    person = reverse("services:consent-person", kwargs={"pk": register.ma_wife.pk})
    assert client.get(person).status_code == 403
    assert client.post(person, {"given_on": "2026-01-01"}).status_code == 403
    assert not Consent.objects.filter(person=register.ma_wife).exists()


def test_a_merchants_till_login_gets_403_on_the_staff_card_pages(world, partners, register, login):
    client = login(partners.lamian_till)
    for url in card_pages(partners.ma_card) + list_pages():
        assert client.get(url).status_code == 403, url
    for url in card_pages(partners.ma_card)[2:]:
        assert client.post(url, {"on": "2026-01-01", "reason": "x"}).status_code == 403, url
    consent = Consent.objects.get(person=register.ma_xiaodong)
    withdraw = reverse("services:consent-withdraw", kwargs={"pk": consent.pk})
    assert client.post(withdraw, {"withdrawn_on": "2026-01-01"}).status_code == 403
    partners.ma_card.refresh_from_db()
    assert partners.ma_card.status == CardStatus.ACTIVE


@pytest.mark.parametrize("who", ["no_post", "ended_post", "future_post"])
def test_users_without_a_current_post_get_403(world, partners, login, who):
    client = login(getattr(world, who))
    for url in card_pages(partners.ma_card) + list_pages():
        assert client.get(url).status_code == 403, url


def test_signed_out_visitors_are_sent_to_sign_in(partners, client):
    for url in card_pages(partners.ma_card) + list_pages():
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login"))
