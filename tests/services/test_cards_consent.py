"""Consent to be known to partner merchants: recorded on the person's page, withdrawn with a
warning (it revokes the person's active cards), listed with filters, its history shown."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from services.models import CardStatus, Consent, ServiceCard

pytestmark = pytest.mark.django_db

LIST = reverse("services:consent-list")


def person_page(person):
    return reverse("services:consent-person", kwargs={"pk": person.pk})


def withdraw_url(consent):
    return reverse("services:consent-withdraw", kwargs={"pk": consent.pk})


def days(n):
    return datetime.timedelta(days=n)


def test_community_staff_record_the_consent_of_a_resident(world, partners, register, login):
    client = login(world.pingjianglu_staff)
    today = timezone.localdate()
    response = client.post(
        person_page(register.ma_wife),
        {"given_on": (today - days(3)).isoformat(), "form_reference": "TY-0042"},
    )
    assert response.status_code == 302
    consent = Consent.objects.get(person=register.ma_wife)
    assert consent.given_on == today - days(3)
    assert consent.form_reference == "TY-0042"
    assert consent.recorded_by == world.pingjianglu_staff
    page = client.get(person_page(register.ma_wife))
    assert page.context["current"] == consent
    assert page.context["history"][0].user == world.pingjianglu_staff
    assert register.ma_wife.id_number not in page.content.decode()


def test_a_consent_posted_twice_is_recorded_once(world, partners, register, login):
    client = login(world.pingjianglu_staff)
    data = {"given_on": timezone.localdate().isoformat(), "form_reference": "TY-0043"}
    assert client.post(person_page(register.ma_wife), data).status_code == 302
    assert client.post(person_page(register.ma_wife), data).status_code == 302
    assert Consent.objects.filter(person=register.ma_wife).count() == 1


@pytest.mark.parametrize("given_on", ["2999-01-01", "1899-01-01", "not a date", "\x00"])
def test_a_consent_with_a_bad_date_is_not_recorded(world, partners, register, login, given_on):
    response = login(world.pingjianglu_staff).post(
        person_page(register.ma_wife), {"given_on": given_on, "form_reference": ""}
    )
    assert response.status_code == 200
    assert "given_on" in response.context["consent_form"].errors
    assert not Consent.objects.filter(person=register.ma_wife).exists()


def test_the_person_page_warns_which_cards_a_withdrawal_revokes(world, partners, login):
    page = login(world.pingjiang_staff).get(person_page(partners.ma_card.holder))
    assert page.status_code == 200
    assert page.context["active_cards"] == [partners.ma_card]
    assert partners.ma_card.display_number in page.content.decode()
    assert page.context["withdraw_form"] is not None


def test_withdrawing_the_consent_revokes_the_active_cards(world, partners, register, login):
    consent = Consent.objects.get(person=register.bai_lan)
    today = timezone.localdate()
    client = login(world.pingjiang_staff)
    response = client.post(withdraw_url(consent), {"withdrawn_on": today.isoformat()})
    assert response.status_code == 302
    consent.refresh_from_db()
    assert consent.withdrawn_on == today
    partners.bai_card.refresh_from_db()
    assert partners.bai_card.status == CardStatus.REVOKED
    partners.bai_lost.refresh_from_db()
    assert partners.bai_lost.status == CardStatus.LOST  # a lost card stays lost
    # A second POST of the same form: a message, nothing written again.
    again = client.post(withdraw_url(consent), {"withdrawn_on": today.isoformat()})
    assert again.status_code == 302
    assert partners.bai_card.history.count() == 2  # issued, revoked
    page = client.get(person_page(register.bai_lan))
    assert page.context["current"] is None
    assert page.context["consent_form"] is not None  # may be given again
    reasons = [entry.reason for entry in page.context["history"]]
    assert len(reasons) == 2


def test_a_withdrawal_before_the_consent_was_given_is_refused(world, partners, register, login):
    consent = Consent.objects.get(person=register.bai_lan)
    before = consent.given_on - days(1)
    response = login(world.pingjiang_staff).post(
        withdraw_url(consent), {"withdrawn_on": before.isoformat()}
    )
    assert response.status_code == 200
    assert "withdrawn_on" in response.context["withdraw_form"].errors
    consent.refresh_from_db()
    assert consent.withdrawn_on is None
    assert ServiceCard.objects.get(pk=partners.bai_card.pk).status == CardStatus.ACTIVE


def test_district_bureau_sees_consents_but_cannot_record_them(world, partners, register, login):
    client = login(world.bureau)
    page = client.get(person_page(register.ma_wife))
    assert page.status_code == 200
    assert page.context["consent_form"] is None
    response = client.post(
        person_page(register.ma_wife), {"given_on": timezone.localdate().isoformat()}
    )
    assert response.status_code == 403
    consent = Consent.objects.get(person=register.ma_xiaodong)
    assert client.post(withdraw_url(consent), {"withdrawn_on": "2026-01-01"}).status_code == 403
    assert not Consent.objects.filter(person=register.ma_wife).exists()


def test_other_subdistrict_cannot_see_or_record_a_consent(world, partners, register, login):
    client = login(world.canglang_staff)
    assert client.get(person_page(register.ma_wife)).status_code == 404
    response = client.post(
        person_page(register.ma_wife), {"given_on": timezone.localdate().isoformat()}
    )
    assert response.status_code == 404
    consent = Consent.objects.get(person=register.ma_xiaodong)
    assert client.post(withdraw_url(consent), {"withdrawn_on": "2026-01-01"}).status_code == 404
    assert Consent.objects.get(pk=consent.pk).withdrawn_on is None


@pytest.mark.parametrize("pk", ["99999999999999999999", "0"])
def test_a_person_id_that_does_not_fit_is_a_404(world, login, pk):
    client = login(world.pingjiang_staff)
    assert client.get(f"/services/cards/consents/person/{pk}/").status_code == 404


def test_the_consent_list_filters_by_area_and_state(world, partners, register, login):
    consent = Consent.objects.get(person=register.bai_lan)
    consent.withdrawn_on = timezone.localdate()
    consent.save()
    client = login(world.pingjiang_staff)

    def persons(**params):
        page = client.get(LIST, params).context["page"]
        return {c.person.name for c in page}

    assert persons() == {"马晓东", "白兰"}  # 阿依吐尔逊 is 沧浪's
    assert persons(state="current") == {"马晓东"}
    assert persons(state="withdrawn") == {"白兰"}
    assert persons(area=world.ganjiang.pk) == {"白兰"}
    assert persons(q="mxd") == {"马晓东"}
    assert persons(q="白") == {"白兰"}
    assert persons(area=world.daoqian.pk) == {"马晓东", "白兰"}  # out of scope: dropped
    assert persons(state="bogus", area="x\x00") == {"马晓东", "白兰"}
