"""A partner merchant's till on a phone: record a card use in two taps; an expired card is
refused with the reason and nothing to tap."""

import json

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e

# Two cards of holders in reach of 马记清真拉面馆: one good, one whose validity ended yesterday.
CARDS = """
import datetime, json
from django.utils import timezone
from services.models import CardUse, ServiceCard
today = timezone.localdate()
later = today + datetime.timedelta(days=30)
usable = ServiceCard.objects.filter(status="active", valid_until__gt=later)
cards = list(usable.order_by("number")[:2])
good, lapsed = cards
lapsed.valid_until = today - datetime.timedelta(days=1)
lapsed.save()
print(json.dumps({"good": good.number, "lapsed": lapsed.number,
                  "ended": lapsed.valid_until.isoformat(),
                  "uses": CardUse.objects.filter(card=good).count()}))
"""
USES = """
from services.models import CardUse
print(CardUse.objects.filter(card__number={number!r}).count())
"""
FULL_WIDTH = str.maketrans("0123456789-", "０１２３４５６７８９－")


def test_record_a_card_use_and_refuse_an_expired_card(site, phone):
    cards = json.loads(site.shell(CARDS))
    page = phone
    sign_in(page, site, "majilamian")
    assert "今天：0 人次" in page.inner_text("main")
    page.get_by_role("link", name="打开收银台").tap()
    page.wait_for_url("**/services/till/")

    # The expired card: refused, with the date it ended, and no service to choose.
    number = page.get_by_role("textbox").first
    number.fill(cards["lapsed"])
    number.press("Enter")
    page.wait_for_url("**/services/till/card/**")
    assert f"已于{cards['ended']}过期" in page.inner_text("main")
    assert "未登记任何记录" in page.inner_text("main")
    assert page.locator("a[href*='/till/confirm/']").count() == 0

    # A good card, typed with full-width digits as a Chinese keyboard gives them.
    # The refusal page asks for another number straight away.
    number = page.get_by_role("textbox").first
    number.fill(cards["good"][:3] + "-" + cards["good"][3:9] + "-" + cards["good"][9:])
    number.evaluate("(el, v) => { el.value = v; }", number.input_value().translate(FULL_WIDTH))
    number.press("Enter")
    expect(page.locator("a[href*='/till/confirm/']").first).to_be_visible()
    assert "有效" in page.inner_text("main")
    page.locator("a[href*='/till/confirm/']").filter(has_text="清真牛肉拉面").tap()
    page.wait_for_url("**/services/till/confirm/**")
    assert page.get_by_label("原价（元）").input_value() == "22.00"
    assert "持卡人支付 ¥17.60 · 优惠 ¥4.40" in page.inner_text("main")
    page.get_by_role("button", name="确认").tap()
    page.wait_for_url(lambda url: url.rstrip("/").endswith("/services/till"))
    assert "已为" in page.inner_text("main") and "清真牛肉拉面" in page.inner_text("main")
    assert site.shell(USES.format(number=cards["good"])) == str(cards["uses"] + 1)
