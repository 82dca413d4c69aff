"""The merchant's till on a phone: type the card number, tap the service, confirm — one use
recorded, once; every refusal records nothing; the till shows the holder's name masked and
nothing else of the register; a till login sees no staff page and no other merchant."""

import dataclasses
import datetime
import uuid
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.db.models import Model, QuerySet
from django.forms import BaseForm
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from residents.models import Honour, Household, Person
from services.cards import revoke_card, with_check_digit
from services.home import till_panel
from services.models import CardUse, Consent, ServiceCard, UseChannel
from services.uses import record_use

pytestmark = pytest.mark.django_db

TILL = reverse("services:till")
CARD = reverse("services:till-card")
CONFIRM = reverse("services:till-confirm")
SETTLEMENT = reverse("services:till-settlement")


def confirm(client, card, item, key=None, **extra):
    data = {"number": card.number, "item": item.pk, "submission_key": str(key or uuid.uuid4())}
    data.update(extra)
    return client.post(CONFIRM, data)


def shown(response) -> str:
    return response.content.decode()


# ---------------------------------------------------------------- two taps


def test_two_taps_record_one_use_with_the_benefit(partners, login):
    till = login(partners.lamian_till)
    home = till.get(TILL)
    assert home.status_code == 200
    assert 'inputmode="numeric"' in shown(home)
    assert 'autocomplete="off"' in shown(home)

    # the number as typed on a phone: groups and full-width digits
    typed = partners.ma_card.display_number.replace("0", "０")
    card_page = till.get(CARD, {"number": typed})
    assert card_page.status_code == 200
    assert card_page.context["card"].holder == "马*东"
    items = [item.pk for item in card_page.context["items"]]
    assert set(items) == {partners.noodles.pk, partners.home_cooking.pk, partners.delivery.pk}
    tap = f"{CONFIRM}?number={partners.ma_card.number}&amp;item={partners.noodles.pk}"
    assert tap in shown(card_page)

    # tap 1: the confirm step, pre-filled with the usual price and the price after
    step = till.get(CONFIRM, {"number": partners.ma_card.number, "item": partners.noodles.pk})
    assert step.status_code == 200
    assert step.context["form"]["value_before"].value() == Decimal("30.00")
    assert step.context["pays"] == Decimal("24.00")
    key = step.context["submission_key"]

    # tap 2: confirm
    done = till.post(
        CONFIRM,
        {
            "number": partners.ma_card.number,
            "item": partners.noodles.pk,
            "value_before": "30.00",
            "submission_key": str(key),
        },
    )
    assert done.status_code == 302
    assert done["Location"] == TILL
    use = CardUse.objects.get()
    assert use.channel == UseChannel.TILL
    assert use.card == partners.ma_card
    assert use.merchant == partners.lamian
    assert use.item == partners.noodles
    assert (use.value_before, use.value_after) == (Decimal("30.00"), Decimal("24.00"))
    assert use.recorded_by == partners.lamian_till
    assert use.submission_key == key
    message = [str(m) for m in get_messages(done.wsgi_request)]
    assert any("6.00" in m and "马*东" in m for m in message), message

    # back at the till home: today's count and benefit, and the use in the last few
    home = till.get(TILL)
    assert home.context["totals"] == {"uses": 1, "benefit": Decimal("6.00")}
    recent = home.context["recent"]
    assert [(u.holder, u.service, u.card_number) for u in recent] == [
        ("马*东", "清真牛肉面", partners.ma_card.display_number)
    ]


def test_the_value_typed_at_the_till_wins_over_the_usual_price(partners, login):
    till = login(partners.lamian_till)
    response = confirm(till, partners.ma_card, partners.home_cooking, value_before="３２元")
    assert response.status_code == 302
    use = CardUse.objects.get()
    assert (use.value_before, use.value_after) == (Decimal("32.00"), Decimal("15.00"))
    message = " ".join(str(m) for m in get_messages(response.wsgi_request))
    assert "¥32.00" in message and "¥17.00" in message


def test_an_item_without_usual_price_asks_for_the_value(partners, login):
    partners.delivery.usual_price = None
    partners.delivery.save()
    till = login(partners.lamian_till)
    step = till.get(CONFIRM, {"number": partners.ma_card.number, "item": partners.delivery.pk})
    assert step.context["form"].fields["value_before"].required
    assert "pays" not in step.context
    assert confirm(till, partners.ma_card, partners.delivery).status_code == 200
    assert not CardUse.objects.exists()
    assert confirm(till, partners.ma_card, partners.delivery, value_before="8").status_code == 302
    assert CardUse.objects.get().value_after == Decimal("0.00")


# ---------------------------------------------------------------- once only


def test_a_double_tap_or_a_resent_post_records_one_use(partners, login):
    till = login(partners.lamian_till)
    key = uuid.uuid4()
    first = confirm(till, partners.ma_card, partners.noodles, key=key)
    second = confirm(till, partners.ma_card, partners.noodles, key=key)
    assert first.status_code == second.status_code == 302
    assert second["Location"] == TILL
    assert CardUse.objects.count() == 1


def test_a_key_of_another_merchants_use_records_a_new_use_and_shows_nothing(partners, login):
    other, _created = record_use(
        card=partners.ayt_card,
        merchant=partners.repair,
        item=partners.repair_visit,
        value_before=Decimal("80"),
        user=None,
    )
    till = login(partners.lamian_till)
    response = confirm(till, partners.ma_card, partners.noodles, key=other.submission_key)
    assert response.status_code == 302
    assert CardUse.objects.filter(merchant=partners.lamian).count() == 1
    messages = " ".join(str(m) for m in get_messages(response.wsgi_request))
    assert "阿*逊" not in messages and "上门维修" not in messages


# ---------------------------------------------------------------- refusals record nothing


def lose(card):
    card.status = "lost"
    card.save()


def expire(card):
    card.valid_until = timezone.localdate() - datetime.timedelta(days=1)
    card.save()


def revoke(card):
    revoke_card(card, on=timezone.localdate(), reason="本人申请", user=None)


@pytest.mark.parametrize("spoil", [lose, revoke, expire], ids=["lost", "revoked", "expired"])
def test_a_refused_card_shows_why_and_no_buttons(partners, login, spoil):
    spoil(partners.ma_card)
    till = login(partners.lamian_till)
    page = till.get(CARD, {"number": partners.ma_card.number})
    assert page.status_code == 200
    assert page.context["refusal"]
    assert page.context["card"] is None
    assert page.context["items"] == []
    assert reverse("services:till-confirm") not in shown(page)
    step = till.get(CONFIRM, {"number": partners.ma_card.number, "item": partners.noodles.pk})
    assert step.context["refusal"] and "form" not in step.context
    assert confirm(till, partners.ma_card, partners.noodles).status_code == 200
    assert not CardUse.objects.exists()


def test_the_lost_card_is_refused_even_after_its_reissue(partners, login):
    till = login(partners.lamian_till)
    assert till.get(CARD, {"number": partners.bai_lost.number}).context["refusal"]
    assert confirm(till, partners.bai_lost, partners.noodles).status_code == 200
    assert not CardUse.objects.exists()
    assert till.get(CARD, {"number": partners.bai_card.number}).context["items"]


@pytest.mark.parametrize(
    "number",
    [
        with_check_digit("001999999"),  # well formed, never issued
        "001-000001-5",  # a mistyped digit
        "马晓东",
        "1" * 5000,
        "\x00\x00",
        "",
        "<script>alert(1)</script>",
    ],
    ids=["unknown", "mistyped", "name", "huge", "nul", "empty", "markup"],
)
def test_an_unknown_or_garbage_number_is_refused(partners, login, number):
    till = login(partners.lamian_till)
    page = till.get(CARD, {"number": number})
    assert page.status_code == 200
    assert page.context["refusal"] and page.context["items"] == []
    response = till.post(
        CONFIRM,
        {"number": number, "item": partners.noodles.pk, "submission_key": str(uuid.uuid4())},
    )
    assert response.status_code == 200
    assert response.context["refusal"]
    assert not CardUse.objects.exists()


def test_an_item_of_an_expired_agreement_is_refused(partners, login):
    till = login(partners.lamian_till)
    step = till.get(CONFIRM, {"number": partners.ma_card.number, "item": partners.expired_item.pk})
    assert step.context["refusal"] and "form" not in step.context
    response = confirm(till, partners.ma_card, partners.expired_item, value_before="10")
    assert response.status_code == 200
    assert response.context["refusal"]
    assert not CardUse.objects.exists()
    # and it is not offered
    items = till.get(CARD, {"number": partners.ma_card.number}).context["items"]
    assert partners.expired_item.pk not in [i.pk for i in items]


def test_another_merchants_item_is_refused_without_showing_it(partners, login):
    till = login(partners.lamian_till)
    step = till.get(CONFIRM, {"number": partners.ma_card.number, "item": partners.repair_visit.pk})
    assert step.context["refusal"] and "form" not in step.context
    assert "上门维修家电" not in shown(step)
    response = confirm(till, partners.ma_card, partners.repair_visit, value_before="80")
    assert response.status_code == 200
    assert "上门维修家电" not in shown(response)
    assert not CardUse.objects.exists()


def test_a_withdrawn_item_is_refused(partners, login):
    partners.noodles.is_withdrawn = True
    partners.noodles.save()
    till = login(partners.lamian_till)
    assert confirm(till, partners.ma_card, partners.noodles).status_code == 200
    assert not CardUse.objects.exists()


@pytest.mark.parametrize("item", ["", "abc", "-1", "0", "99999999999999999999999", "\x00"])
def test_a_garbage_item_id_is_refused(partners, login, item):
    till = login(partners.lamian_till)
    response = till.post(
        CONFIRM,
        {"number": partners.ma_card.number, "item": item, "submission_key": str(uuid.uuid4())},
    )
    assert response.status_code == 200
    assert not CardUse.objects.exists()
    assert till.get(CONFIRM, {"number": partners.ma_card.number, "item": item}).status_code == 200


@pytest.mark.parametrize("value", ["-5", "abc", "1e9", "99999999999", "\x00"])
def test_a_garbage_value_is_refused(partners, login, value):
    till = login(partners.lamian_till)
    response = confirm(till, partners.ma_card, partners.noodles, value_before=value)
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not CardUse.objects.exists()


def test_a_garbled_key_still_records_one_use(partners, login):
    till = login(partners.lamian_till)
    assert confirm(till, partners.ma_card, partners.noodles, key="x").status_code == 302
    assert CardUse.objects.count() == 1


def test_confirm_needs_get_or_post(partners, login):
    assert login(partners.lamian_till).put(CONFIRM).status_code == 405


# ---------------------------------------------------------------- masking


def test_the_till_never_shows_the_register(partners, register, login):
    record_use(
        card=partners.ma_card,
        merchant=partners.lamian,
        item=partners.noodles,
        value_before=Decimal("30"),
        user=None,
    )
    till = login(partners.lamian_till)
    person = register.ma_xiaodong
    pages = [
        till.get(TILL),
        till.get(CARD, {"number": partners.ma_card.number}),
        till.get(CONFIRM, {"number": partners.ma_card.number, "item": partners.noodles.pk}),
        till.get(SETTLEMENT),
        till.get(reverse("home")),
    ]
    for page in pages:
        assert page.status_code == 200
        text = shown(page)
        assert person.name not in text
        assert person.household.address not in text
        assert person.id_number not in text
        assert person.ethnicity.name not in text
        assert register.ma_wife.name not in text
    assert "马*东" in shown(pages[1])


REGISTER_MODELS = (Person, Household, Honour, ServiceCard, CardUse, Consent)


def register_records_in(value, seen=None):
    """The register's records reachable from a template context value: through lists,
    dicts, dataclasses, forms, fetched querysets and models' cached relations."""
    seen = set() if seen is None else seen
    if id(value) in seen or isinstance(value, str | bytes | int | Decimal):
        return []
    seen.add(id(value))
    found = []
    if isinstance(value, REGISTER_MODELS):
        found.append(value)
    if isinstance(value, Model):
        inner = [*value._state.fields_cache.values()]
        inner += getattr(value, "_prefetched_objects_cache", {}).values()
    elif isinstance(value, dict):
        inner = value.values()
    elif isinstance(value, list | tuple | set):
        inner = value
    elif isinstance(value, QuerySet):
        inner = value._result_cache or []
    elif isinstance(value, BaseForm):
        inner = [value.initial, value.data, getattr(value, "cleaned_data", {}), vars(value)]
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        inner = [getattr(value, f.name) for f in dataclasses.fields(value)]
    else:
        inner = []
    for each in inner:
        found += register_records_in(each, seen)
    return found


def test_no_register_record_reaches_a_till_template(partners, register, login):
    record_use(
        card=partners.ma_card,
        merchant=partners.lamian,
        item=partners.noodles,
        value_before=Decimal("30"),
        user=None,
    )
    till = login(partners.lamian_till)
    responses = []
    for method, url, data in till_pages(partners):
        responses.append(getattr(till, method)(url, data, follow=True))
    responses.append(till.post(CONFIRM, {"number": partners.bai_lost.number, "item": 1}))
    assert CardUse.objects.count() == 2  # the confirm page did record its use
    for response in responses:
        assert response.status_code == 200
        for context in response.context:
            for layer in context.dicts:
                values = [v for k, v in layer.items() if k not in {"request", "user", "perms"}]
                assert register_records_in(values) == [], response.request["PATH_INFO"]


# ---------------------------------------------------------------- a till login sees nothing else


@pytest.mark.parametrize(
    "name",
    [
        "residents:person-list",
        "services:use-list",
        "services:use-create",
        "services:settlement-choose",
        "outreach:visit-list",
        "network:area-list",
    ],
)
def test_a_till_login_is_refused_on_staff_pages(partners, login, name):
    assert login(partners.lamian_till).get(reverse(name)).status_code == 403


def test_a_till_login_is_refused_on_staff_pages_of_its_own_merchant(partners, login):
    till = login(partners.lamian_till)
    for url in [
        reverse("services:settlement", args=[partners.lamian.pk]),
        reverse("services:merchant-accounts", args=[partners.lamian.pk]),
    ]:
        assert till.get(url).status_code == 403


def till_pages(partners):
    """Every till page, with what it needs to do its work."""
    number, item = partners.ma_card.number, partners.noodles.pk
    key = str(uuid.uuid4())
    return [
        ("get", TILL, {}),
        ("get", CARD, {"number": number}),
        ("get", CONFIRM, {"number": number, "item": item}),
        ("post", CONFIRM, {"number": number, "item": item, "submission_key": key}),
        ("get", SETTLEMENT, {}),
    ]


def test_staff_are_refused_every_till_page(world, partners, login):
    for user in (world.pingjiang_staff, world.superuser, world.no_post):
        client = login(user)
        for method, url, data in till_pages(partners):
            assert getattr(client, method)(url, data).status_code == 403, (user, method, url)
    assert not CardUse.objects.exists()


def switch_off_the_account(partners):
    account = partners.lamian_till.merchant_account
    account.is_active = False  # the login itself stays active: the account alone decides
    account.save()


def archive_the_merchant(partners):
    partners.lamian.archived_at = timezone.now()
    partners.lamian.save()


@pytest.mark.parametrize("spoil", [switch_off_the_account, archive_the_merchant])
def test_a_switched_off_till_or_archived_merchant_is_refused_every_till_page(
    partners, login, spoil
):
    till = login(partners.lamian_till)
    assert till.get(TILL).status_code == 200
    spoil(partners)
    for method, url, data in till_pages(partners):
        assert getattr(till, method)(url, data).status_code == 403, (method, url)
    assert not CardUse.objects.exists()
    assert till_panel(till.get(reverse("home")).wsgi_request) is None


def test_the_till_shows_only_its_own_merchants_uses(partners, login):
    record_use(
        card=partners.ayt_card,
        merchant=partners.repair,
        item=partners.repair_visit,
        value_before=Decimal("80"),
        user=None,
    )
    till = login(partners.lamian_till)
    home = till.get(TILL)
    assert home.context["totals"]["uses"] == 0
    assert home.context["recent"] == []
    assert "阿*逊" not in shown(home)
    settlement = till.get(SETTLEMENT).context["settlement"]
    assert settlement.merchant == partners.lamian
    assert settlement.total.uses == 0
    assert "苏城家电维修部" not in shown(till.get(SETTLEMENT))


def test_the_home_panel_is_the_way_to_the_till_for_the_till_only(world, partners, login):
    record_use(
        card=partners.ma_card,
        merchant=partners.lamian,
        item=partners.noodles,
        value_before=Decimal("30"),
        user=None,
    )
    request = login(partners.lamian_till).get(reverse("home")).wsgi_request
    template, context = till_panel(request)
    assert context["merchant"] == partners.lamian
    assert context["totals"] == {"uses": 1, "benefit": Decimal("6.00")}
    html = render_to_string(template, {"panel": context}, request=request)
    assert TILL in html and SETTLEMENT in html and "马记清真拉面馆" in html
    for user in (world.pingjiang_staff, world.no_post):
        request = login(user).get(reverse("home")).wsgi_request
        assert till_panel(request) is None


def test_the_till_home_costs_the_same_queries_at_any_size(partners, login):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    till = login(partners.lamian_till)

    def count():
        till.get(TILL)
        with CaptureQueriesContext(connection) as queries:
            response = till.get(TILL)
        assert response.status_code == 200
        return len(queries)

    def one(card, item, ago):
        record_use(
            card=card,
            merchant=partners.lamian,
            item=item,
            value_before=Decimal("20"),
            used_on=timezone.localdate() - datetime.timedelta(days=ago),
            user=None,
        )

    one(partners.ma_card, partners.noodles, 0)
    small = count()
    for n in range(30):
        one([partners.ma_card, partners.bai_card][n % 2], partners.home_cooking, n % 4)
    large = count()
    assert small == large, (small, large)
    print("till home queries:", small)
