"""Issuing a card (only with consent, one active card per scheme, no future date), reporting
a lost card and reissuing it in one step, revoking with a reason; every write safe to POST
twice."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from services.cards import default_valid_until, record_consent
from services.models import CardScheme, CardStatus, CardUse, ServiceCard
from services.uses import record_use

pytestmark = pytest.mark.django_db

ISSUE = reverse("services:card-issue")


def detail(card):
    return reverse("services:card-detail", kwargs={"pk": card.pk})


def reissue(card):
    return reverse("services:card-reissue", kwargs={"pk": card.pk})


def revoke(card):
    return reverse("services:card-revoke", kwargs={"pk": card.pk})


def issue_data(holder, **extra):
    data = {
        "person": holder.pk,
        "scheme": CardScheme.LINGTONG,
        "issued_on": timezone.localdate().isoformat(),
        "valid_until": "",
    }
    data.update(extra)
    return data


# ---------------------------------------------------------------- issue


def test_the_issue_page_finds_residents_by_name_or_pinyin(world, partners, register, login):
    client = login(world.pingjiang_staff)
    for text in ("哈丽", "hln", "halina"):
        found = client.get(ISSUE, {"q": text}).context["found"]
        assert [p.name for p in found] == ["哈丽娜"], text
        assert found[0].has_consent is False
    # one person found: chosen at once
    assert client.get(ISSUE, {"q": "哈丽娜"}).context["person"] == register.ma_wife


@pytest.mark.parametrize("part", [slice(-4, None), slice(-6, None), slice(None)])
def test_the_search_never_looks_up_id_numbers(world, partners, register, login, part):
    """Not the last four digits, nor the whole number, which the register's own search box
    looks up for a user who may see ID digits."""
    user = world.pingjiang_staff
    assert user.has_perm("residents.view_sensitive")
    typed = register.ma_xiaodong.id_number[part]
    response = login(user).get(ISSUE, {"q": typed})
    assert response.context["found"] == []
    assert register.ma_xiaodong.id_number[-4:] not in response.content.decode().replace(typed, "")


def test_the_search_takes_the_same_number_of_queries_whatever_it_finds(
    world, partners, register, login
):
    from tests.services.test_cards_list import make_cards

    client = login(world.pingjiang_staff)
    client.get(ISSUE, {"q": "马"})  # warm up (session, scope)
    make_cards(register.ma_household, "001", 2, 0)
    with CaptureQueriesContext(connection) as small:
        client.get(ISSUE, {"q": "马"})
    make_cards(register.ma_household, "001", 25, 100)
    with CaptureQueriesContext(connection) as large:
        response = client.get(ISSUE, {"q": "马"})
    found = response.context["found"]
    assert len(found) == 20  # PERSON_CHOICES, each with its consent and its cards counted
    assert all(p.has_consent and p.active_cards == 1 for p in found if p.name != "哈丽娜")
    assert len(large) == len(small)


def test_the_search_finds_only_residents_the_user_manages(world, partners, login):
    client = login(world.pingjianglu_staff)
    assert client.get(ISSUE, {"q": "白兰"}).context["found"] == []  # 干将社区
    assert client.get(ISSUE, {"q": "阿依"}).context["found"] == []  # 沧浪街道


def test_arriving_from_a_person_page_chooses_the_person(world, partners, register, login):
    response = login(world.pingjiang_staff).get(ISSUE, {"person": register.ma_wife.pk})
    assert response.context["person"] == register.ma_wife
    assert response.context["form"].initial["person"] == register.ma_wife.pk


@pytest.mark.parametrize("raw", ["99999999999999999999", "abc", "\x00", "-1", "１２"])
def test_a_person_id_that_does_not_fit_chooses_nobody(world, partners, login, raw):
    response = login(world.pingjiang_staff).get(ISSUE, {"person": raw})
    assert response.status_code == 200
    assert response.context["person"] is None


def test_no_card_is_issued_without_consent(world, partners, register, login):
    before = ServiceCard.objects.count()
    response = login(world.pingjiang_staff).post(ISSUE, issue_data(register.ma_wife))
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert ServiceCard.objects.count() == before


def test_a_card_is_issued_with_the_next_number_and_the_default_term(
    world, partners, register, login
):
    staff = world.pingjiang_staff
    record_consent(
        register.ma_wife, given_on=timezone.localdate(), form_reference="TY-0050", user=staff
    )
    response = login(staff).post(ISSUE, issue_data(register.ma_wife))
    card = ServiceCard.objects.get(holder=register.ma_wife)
    assert response.status_code == 302
    assert response["Location"] == detail(card)
    assert card.number[:9] == "001000004"  # after 马晓东's and 白兰's two cards
    assert card.issuing_area == world.pingjiang
    assert card.valid_until == default_valid_until(timezone.localdate())
    assert card.issued_by == staff


def test_a_second_active_card_of_the_same_scheme_is_refused(world, partners, register, login):
    client = login(world.pingjiang_staff)
    before = ServiceCard.objects.count()
    response = client.post(ISSUE, issue_data(register.ma_xiaodong))
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert response.context["held"] == [partners.ma_card]
    assert ServiceCard.objects.count() == before
    # a card of the other scheme is another matter
    other = client.post(ISSUE, issue_data(register.ma_xiaodong, scheme=CardScheme.SANYOU))
    assert other.status_code == 302
    assert ServiceCard.objects.count() == before + 1


def test_an_issue_form_posted_twice_issues_one_card(world, partners, register, login):
    record_consent(
        register.ma_wife,
        given_on=timezone.localdate(),
        form_reference="",
        user=world.pingjiang_staff,
    )
    client = login(world.pingjiang_staff)
    assert client.post(ISSUE, issue_data(register.ma_wife)).status_code == 302
    assert client.post(ISSUE, issue_data(register.ma_wife)).status_code == 200
    assert ServiceCard.objects.filter(holder=register.ma_wife).count() == 1


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"issued_on": "2999-01-01"}, "issued_on"),
        ({"issued_on": "1990-01-01"}, "issued_on"),
        ({"issued_on": "2026-02-30"}, "issued_on"),
        ({"valid_until": "2001-01-01"}, "valid_until"),
        ({"scheme": "gold"}, "scheme"),
        ({"person": "99999999999999999999"}, "person"),
        ({"person": "\x00"}, "person"),
    ],
)
def test_bad_input_issues_nothing(world, partners, register, login, extra, field):
    record_consent(
        register.ma_wife,
        given_on=timezone.localdate(),
        form_reference="",
        user=world.pingjiang_staff,
    )
    response = login(world.pingjiang_staff).post(ISSUE, issue_data(register.ma_wife, **extra))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not ServiceCard.objects.filter(holder=register.ma_wife).exists()


def test_a_person_of_another_subdistrict_cannot_be_given_a_card(world, partners, register, login):
    before = ServiceCard.objects.count()
    response = login(world.pingjiang_staff).post(
        ISSUE, issue_data(register.aytursun, scheme=CardScheme.SANYOU)
    )
    assert response.status_code == 200
    assert "person" in response.context["form"].errors
    assert ServiceCard.objects.count() == before


def test_district_bureau_cannot_issue(world, partners, login):
    assert login(world.bureau).get(ISSUE).status_code == 403


# ---------------------------------------------------------------- lost and reissued


def test_reissue_marks_the_card_lost_and_links_the_new_one(world, partners, login):
    old = partners.ma_card
    use, _created = record_use(
        card=old,
        merchant=partners.lamian,
        item=partners.noodles,
        value_before=Decimal("30.00"),
        user=world.pingjiang_staff,
    )
    client = login(world.pingjiang_staff)
    assert client.get(reissue(old)).status_code == 200
    response = client.post(
        reissue(old), {"on": timezone.localdate().isoformat(), "reason": "在菜场丢失"}
    )
    old.refresh_from_db()
    new = old.replaced_by
    assert response.status_code == 302
    assert response["Location"] == detail(new)
    assert old.status == CardStatus.LOST
    assert old.status_reason == "在菜场丢失"
    assert new.status == CardStatus.ACTIVE and new.holder == old.holder
    assert new.number != old.number
    # the old card keeps its uses and its history
    assert list(CardUse.objects.filter(card=old)) == [use]
    assert old.history.count() == 2
    page = client.get(detail(old))
    assert page.context["uses"] == [use]
    assert page.context["replaced_by"] == new
    assert len(page.context["history"]) == 2
    assert client.get(detail(new)).context["card"].replaces == old


def test_a_second_lost_report_gives_a_message_not_a_second_card(world, partners, login):
    client = login(world.pingjiang_staff)
    data = {"on": timezone.localdate().isoformat(), "reason": ""}
    client.post(reissue(partners.ma_card), data)
    count = ServiceCard.objects.count()
    again = client.post(reissue(partners.ma_card), data)
    assert again.status_code == 302
    partners.ma_card.refresh_from_db()
    assert again["Location"] == detail(partners.ma_card.replaced_by)
    assert ServiceCard.objects.count() == count


def test_reissue_without_consent_changes_nothing(world, partners, register, login):
    consent = register.ma_xiaodong.merchant_consents.get()
    consent.withdrawn_on = timezone.localdate()  # withdrawn behind the page's back
    consent.save()
    count = ServiceCard.objects.count()
    response = login(world.pingjiang_staff).post(
        reissue(partners.ma_card), {"on": timezone.localdate().isoformat()}
    )
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    partners.ma_card.refresh_from_db()
    assert partners.ma_card.status == CardStatus.ACTIVE
    assert ServiceCard.objects.count() == count


def test_a_lost_date_before_the_card_was_issued_is_refused(world, partners, login):
    before = partners.ma_card.issued_on - datetime.timedelta(days=1)
    response = login(world.pingjiang_staff).post(
        reissue(partners.ma_card), {"on": before.isoformat()}
    )
    assert response.status_code == 200
    assert "on" in response.context["form"].errors
    partners.ma_card.refresh_from_db()
    assert partners.ma_card.status == CardStatus.ACTIVE


# ---------------------------------------------------------------- revoke


def test_revoking_needs_a_reason(world, partners, login):
    client = login(world.pingjiang_staff)
    today = timezone.localdate().isoformat()
    response = client.post(revoke(partners.ma_card), {"on": today, "reason": "  "})
    assert response.status_code == 200
    assert "reason" in response.context["form"].errors
    partners.ma_card.refresh_from_db()
    assert partners.ma_card.status == CardStatus.ACTIVE

    response = client.post(revoke(partners.ma_card), {"on": today, "reason": "已迁出本市"})
    assert response.status_code == 302
    partners.ma_card.refresh_from_db()
    assert partners.ma_card.status == CardStatus.REVOKED
    assert partners.ma_card.status_reason == "已迁出本市"
    again = client.post(revoke(partners.ma_card), {"on": today, "reason": "已迁出本市"})
    assert again.status_code == 302
    assert partners.ma_card.history.count() == 2


def test_a_lost_card_cannot_be_revoked_or_reported_again(world, partners, login):
    client = login(world.pingjiang_staff)
    lost = partners.bai_lost
    assert client.get(revoke(lost)).status_code == 302
    assert client.post(revoke(lost), {"on": "2026-01-01", "reason": "x"}).status_code == 302
    lost.refresh_from_db()
    assert lost.status == CardStatus.LOST


def test_the_detail_page_offers_what_the_user_may_do(world, partners, login):
    staff = login(world.pingjiang_staff).get(detail(partners.ma_card)).context
    assert staff["can_reissue"] and staff["can_change"]
    lost = login(world.pingjiang_staff).get(detail(partners.bai_lost)).context
    assert not lost["can_reissue"] and not lost["can_change"]
    bureau = login(world.bureau).get(detail(partners.ma_card)).context
    assert not bureau["can_reissue"] and not bureau["can_change"]
