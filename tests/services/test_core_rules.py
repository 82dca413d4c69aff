"""The scheme's core rules, below any page: card numbers, consent before a card, reissue of a
lost card, and every refusal of a use (nothing recorded)."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from services.cards import (
    card_from_token,
    issue_card,
    record_consent,
    revoke_card,
    typed_card_number,
    verification_token,
    with_check_digit,
    withdraw_consent,
)
from services.models import CardStatus, CardUse, ServiceCard
from services.uses import card_by_number, record_use

pytestmark = pytest.mark.django_db


def test_card_numbers_carry_the_subdistrict_and_a_check_digit(partners):
    assert partners.ma_card.number.startswith("001")  # 平江街道 320508001000
    assert partners.ayt_card.number.startswith("002")  # 沧浪街道
    assert partners.ma_card.number == "0010000016"
    assert partners.ma_card.display_number == "001-000001-6"
    assert partners.bai_lost.number[:9] == "001000002"
    assert partners.bai_card.number[:9] == "001000003"


@pytest.mark.parametrize("typed", ["001-000001-6", "００１０００００１６", " 001 000001 6 "])
def test_a_card_number_is_found_however_it_is_typed(partners, typed):
    assert card_by_number(typed) == partners.ma_card


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("001-000001-5", "输错了数字"),
        ("001-00001-6", "应为10位数字，输入的是9位"),
        ("马晓东", "卡号只包含数字"),
        ("", "请输入卡号"),
    ],
)
def test_a_mistyped_card_number_is_refused_with_the_reason(partners, typed, message):
    with pytest.raises(ValidationError, match=message):
        card_by_number(typed)


def test_an_unknown_card_number_is_refused(partners):
    unknown = with_check_digit("001999999")
    assert typed_card_number(unknown) == unknown  # well formed, but never issued
    with pytest.raises(ValidationError, match="没有这个号码的服务卡"):
        card_by_number(unknown)


def test_no_card_without_consent(partners, register, world):
    with pytest.raises(ValidationError, match="请先登记居民同意"):
        issue_card(register.ma_wife, user=world.pingjiang_staff)
    assert not ServiceCard.objects.filter(holder=register.ma_wife).exists()


def test_a_second_active_card_is_refused(partners, register, world):
    with pytest.raises(ValidationError, match="马晓东已持有服务卡001-000001-6"):
        issue_card(register.ma_xiaodong, user=world.pingjiang_staff)


def test_reissue_keeps_the_lost_card_and_links_the_new_one(partners):
    partners.bai_lost.refresh_from_db()
    assert partners.bai_lost.status == CardStatus.LOST
    assert partners.bai_card.replaces == partners.bai_lost
    assert partners.bai_card.holder == partners.bai_lost.holder
    assert partners.bai_lost.history.count() == 2  # issued, then marked lost


def test_withdrawing_consent_revokes_the_cards(partners, register, world):
    consent = register.ma_xiaodong.merchant_consents.get()
    revoked = withdraw_consent(consent, on=timezone.localdate(), user=world.pingjiang_staff)
    assert [c.pk for c in revoked] == [partners.ma_card.pk]
    partners.ma_card.refresh_from_db()
    assert partners.ma_card.status == CardStatus.REVOKED
    with pytest.raises(ValidationError, match="知情同意已登记"):
        record_consent(
            register.bai_lan, given_on=timezone.localdate(), form_reference="", user=None
        )


def use(partners, card, item=None, merchant=None, **kwargs):
    return record_use(
        card=card,
        merchant=merchant or partners.lamian,
        item=item or partners.noodles,
        value_before=Decimal("30.00"),
        user=partners.lamian_till,
        **kwargs,
    )


def test_a_use_computes_what_the_holder_paid(partners):
    record, created = use(partners, partners.ma_card)
    assert created
    assert record.value_after == Decimal("24.00")
    assert record.benefit == Decimal("6.00")
    fixed, _ = use(partners, partners.ma_card, item=partners.home_cooking)
    assert fixed.value_after == Decimal("15.00")
    free, _ = use(partners, partners.ma_card, item=partners.delivery)
    assert free.value_after == Decimal("0.00")


def test_the_same_submission_is_recorded_once(partners):
    import uuid

    key = uuid.uuid4()
    first, created = use(partners, partners.ma_card, submission_key=key)
    again, created_again = use(partners, partners.ma_card, submission_key=key)
    assert created and not created_again and first == again
    assert CardUse.objects.count() == 1


def test_refusals_record_nothing(partners, world):
    today = timezone.localdate()
    revoke_card(partners.ayt_card, on=today, reason="搬离本区", user=world.canglang_staff)
    expired = issue_card(
        partners.ma_card.holder,
        user=world.pingjiang_staff,
        scheme="sanyou",
        issued_on=today - datetime.timedelta(days=400),
        valid_until=today - datetime.timedelta(days=1),
    )
    cases = [
        (dict(card=partners.bai_lost), "已挂失，不能使用"),
        (dict(card=partners.ayt_card), "已注销，不能使用"),
        (dict(card=expired), "过期"),
        (dict(card=partners.ma_card, item=partners.expired_item), "协议已于.*到期"),
        (dict(card=partners.ma_card, item=partners.repair_visit), "不在马记清真拉面馆的协议中"),
        (
            dict(card=partners.ma_card, used_on=today + datetime.timedelta(days=1)),
            "在今天之后",
        ),
    ]
    for kwargs, message in cases:
        with pytest.raises(ValidationError, match=message):
            use(partners, **kwargs)
    assert CardUse.objects.count() == 0


def test_the_qr_token_names_the_card_and_cannot_be_forged(partners):
    token = verification_token(partners.ma_card)
    assert card_from_token(token) == partners.ma_card
    assert "马" not in token and partners.ma_card.holder.id_number not in token
    tampered = token[:-2] + ("yy" if token.endswith("xx") else "xx")
    assert card_from_token(tampered) is None
    assert card_from_token("0010000016") is None
