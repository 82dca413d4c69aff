"""Card uses at the desk: recording (once per form, every refusal a form error and nothing
recorded), the list with its filters and totals at a constant cost, the detail with its
history, voiding and restoring, the logged export — each within the user's scope."""

import datetime
import io
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from network.models import ExportLog
from services.cards import issue_card, record_consent
from services.models import (
    Agreement,
    AgreementItem,
    AgreementStatus,
    BenefitKind,
    CardUse,
    Merchant,
    ServiceCategory,
    UseChannel,
)
from services.uses import record_use
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

LIST = reverse("services:use-list")
CREATE = reverse("services:use-create")
EXPORT = reverse("services:use-export")


def detail(use):
    return reverse("services:use-detail", args=[use.pk])


def days_ago(n):
    return timezone.localdate() - datetime.timedelta(days=n)


def use(partners, card=None, item=None, merchant=None, *, ago=0, value="30", channel="desk"):
    made, _created = record_use(
        card=card or partners.ma_card,
        merchant=merchant or partners.lamian,
        item=item or partners.noodles,
        value_before=Decimal(value),
        used_on=days_ago(ago),
        channel=channel,
        user=None,
    )
    return made


def form_data(partners, **changes):
    data = {
        "card_number": partners.ma_card.display_number,
        "merchant": partners.lamian.pk,
        "used_on": timezone.localdate().isoformat(),
        "item": partners.noodles.pk,
        "value_before": "",
        "value_after": "",
        "note": "",
        "submission_key": str(uuid.uuid4()),
    }
    data.update(changes)
    return data


# ---------------------------------------------------------------- recording


def test_staff_record_a_use_with_the_usual_price_and_the_benefit(world, partners, login):
    client = login(world.pingjiang_staff)
    page = client.get(CREATE)
    assert page.status_code == 200
    assert page.context["form"]["used_on"].value() == timezone.localdate()
    response = client.post(CREATE, form_data(partners, note="午餐"))
    recorded = CardUse.objects.get()
    assert response.status_code == 302
    assert response["Location"] == detail(recorded)
    assert recorded.channel == UseChannel.DESK
    assert recorded.recorded_by == world.pingjiang_staff
    assert (recorded.value_before, recorded.value_after) == (Decimal("30.00"), Decimal("24.00"))
    assert recorded.note == "午餐"


def test_the_value_and_what_was_paid_can_be_typed(world, partners, login):
    client = login(world.pingjiang_staff)
    data = form_data(
        partners, item=partners.home_cooking.pk, value_before="￥４０", value_after="12"
    )
    assert client.post(CREATE, data).status_code == 302
    recorded = CardUse.objects.get()
    assert (recorded.value_before, recorded.value_after) == (Decimal("40.00"), Decimal("12.00"))


def test_the_same_form_sent_twice_records_one_use(world, partners, login):
    client = login(world.pingjiang_staff)
    data = form_data(partners)
    first = client.post(CREATE, data)
    second = client.post(CREATE, data)
    assert CardUse.objects.count() == 1
    assert first["Location"] == second["Location"] == detail(CardUse.objects.get())


def test_a_key_of_a_use_out_of_sight_gets_a_fresh_one(world, partners, login):
    other = use(partners, partners.ayt_card, partners.repair_visit, partners.repair, value="80")
    client = login(world.pingjiang_staff)
    response = client.post(CREATE, form_data(partners, submission_key=str(other.submission_key)))
    assert response.status_code == 302
    assert CardUse.objects.count() == 2
    assert CardUse.objects.exclude(pk=other.pk).get().card == partners.ma_card


def second_pingjiang_merchant(world):
    """A merchant of 平江街道 whose agreement has ended: visible, but not usable today."""
    today = timezone.localdate()
    tailor = Merchant.objects.create(
        area=world.pingjiang,
        name="白记民族服饰裁缝店",
        category=ServiceCategory.TAILORING,
        address="观前街5号",
    )
    agreement = Agreement.objects.create(
        merchant=tailor,
        area=world.pingjiang,
        signed_on=today - datetime.timedelta(days=400),
        valid_from=today - datetime.timedelta(days=400),
        valid_to=today + datetime.timedelta(days=30),
        status=AgreementStatus.SIGNED,
    )
    item = AgreementItem.objects.create(
        agreement=agreement,
        category=ServiceCategory.TAILORING,
        description="民族服装修改",
        benefit_kind=BenefitKind.PERCENT_OFF,
        percent_off=Decimal("50"),
    )
    return tailor, item


@pytest.mark.parametrize(
    "changes",
    [
        {"card_number": "001-000002-4"},  # 白兰's lost card
        {"card_number": "001-999999-0"},  # mistyped
        {"card_number": "马晓东"},
        {"card_number": "\x00"},
        {"card_number": ""},
        {"used_on": "2999-01-01"},
        {"used_on": "2024-02-30"},
        {"value_before": "10", "value_after": "20"},  # paid more than the value
        {"value_before": "-1"},
        {"value_before": "abc"},
        {"merchant": "99999999999999999999"},
        {"merchant": "\x00"},
        {"item": "99999999999999999999"},
        {"note": "x" * 201},
    ],
    ids=lambda c: ",".join(c),
)
def test_a_bad_form_records_nothing(world, partners, login, changes):
    client = login(world.pingjiang_staff)
    response = client.post(CREATE, form_data(partners, **changes))
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not CardUse.objects.exists()


def test_every_refusal_of_record_use_is_a_form_error(world, partners, login):
    tailor, tailor_item = second_pingjiang_merchant(world)
    client = login(world.pingjiang_staff)
    refused = [
        # the expired agreement's item
        form_data(partners, item=partners.expired_item.pk, value_before="10"),
        # a visible merchant's item under another merchant
        form_data(partners, item=tailor_item.pk, value_before="10"),
        # the expired agreement's item on a day it was in force — but the card was not
        # issued yet that day
        form_data(
            partners, item=partners.expired_item.pk, value_before="10", used_on=days_ago(200)
        ),
        # a service with no usual price and no value typed
        form_data(partners, merchant=tailor.pk, item=tailor_item.pk),
    ]
    for data in refused:
        response = client.post(CREATE, data)
        assert response.status_code == 200
        assert response.context["form"].errors, data
    assert not CardUse.objects.exists()
    # the lost card, revoked or expired card: refused by record_use, shown on the form
    partners.ma_card.valid_until = days_ago(1)
    partners.ma_card.save()
    response = client.post(CREATE, form_data(partners))
    assert response.context["form"].non_field_errors()
    assert not CardUse.objects.exists()


def test_staff_record_only_for_cards_they_may_change(world, partners, login):
    # 阿依吐尔逊's card belongs to 沧浪街道: for 平江街道 it is no card at all
    client = login(world.pingjiang_staff)
    response = client.post(CREATE, form_data(partners, card_number=partners.ayt_card.number))
    assert "card_number" in response.context["form"].errors
    assert not CardUse.objects.exists()


def test_community_staff_record_for_their_own_community_only(world, register, partners, login):
    tea = Merchant.objects.create(
        area=world.pingjianglu,
        name="平江路清真茶社",
        category=ServiceCategory.HALAL_FOOD,
        address="平江路20号",
    )
    agreement = Agreement.objects.create(
        merchant=tea,
        area=world.pingjianglu,
        signed_on=days_ago(10),
        valid_from=days_ago(10),
        valid_to=days_ago(-300),
        status=AgreementStatus.SIGNED,
    )
    tea_item = AgreementItem.objects.create(
        agreement=agreement,
        category=ServiceCategory.HALAL_FOOD,
        description="八宝茶",
        benefit_kind=BenefitKind.FREE,
        usual_price=Decimal("12"),
    )
    client = login(world.pingjianglu_staff)
    data = form_data(partners, merchant=tea.pk, item=tea_item.pk)
    assert client.post(CREATE, data).status_code == 302
    # 白兰 lives in 干将社区: not this community's card
    data = form_data(partners, merchant=tea.pk, item=tea_item.pk)
    data["card_number"] = partners.bai_card.number
    assert "card_number" in client.post(CREATE, data).context["form"].errors
    # 马记清真拉面馆 is the sub-district's merchant: its communities record uses there too
    assert client.post(CREATE, form_data(partners)).status_code == 302
    # 苏城家电维修部 belongs to the other sub-district: not among this user's merchants
    data = form_data(partners, merchant=partners.repair.pk, item=partners.repair_visit.pk)
    assert "merchant" in client.post(CREATE, data).context["form"].errors
    assert CardUse.objects.count() == 2


def test_community_staff_are_offered_the_subdistricts_merchants_only(world, partners, login):
    page = login(world.pingjianglu_staff).get(CREATE)
    offered = {m.pk for m in page.context["form"].merchant_choices}
    assert partners.lamian.pk in offered  # the sub-district's merchant
    assert partners.repair.pk not in offered  # the other sub-district's
    widget_choices = {value for value, _label in page.context["form"].fields["merchant"].choices}
    assert partners.repair.pk not in widget_choices


@pytest.mark.parametrize("who", ["bureau", "pingjianglu_liaison"])
def test_who_may_not_record_is_refused(world, partners, login, who):
    client = login(getattr(world, who))
    assert client.get(CREATE).status_code == 403
    assert client.post(CREATE, form_data(partners)).status_code == 403
    assert not CardUse.objects.exists()


def test_the_service_box_follows_the_merchant_and_the_date(world, partners, login):
    tailor, tailor_item = second_pingjiang_merchant(world)
    client = login(world.pingjiang_staff)

    def offered(**query):
        response = client.get(CREATE, query, headers={"HX-Request": "true"})
        assert response.status_code == 200
        assert 'id="use-service"' in response.content.decode()
        return {pk for pk, _label in response.context["form"].fields["item"].widget.choices if pk}

    today = timezone.localdate().isoformat()
    lamian_today = {partners.noodles.pk, partners.home_cooking.pk, partners.delivery.pk}
    assert offered(merchant=partners.lamian.pk, used_on=today) == lamian_today
    assert offered(merchant=partners.lamian.pk, used_on=days_ago(100).isoformat()) == {
        partners.expired_item.pk
    }
    assert offered(merchant=tailor.pk, used_on=today) == {tailor_item.pk}
    assert offered(merchant=partners.repair.pk, used_on=today) == set()  # not visible
    assert offered(merchant="\x00", used_on="nonsense") == set()
    form = client.get(CREATE).context["form"]
    assert form.fields["merchant"].widget.attrs["hx-get"] == CREATE
    assert form.fields["merchant"].widget.attrs["hx-select"] == "#use-service"


def test_without_javascript_the_refresh_button_shows_the_services(world, partners, login):
    client = login(world.pingjiang_staff)
    data = form_data(partners, item="", refresh="1")
    response = client.post(CREATE, data)
    assert response.status_code == 200
    choices = {pk for pk, _label in response.context["form"].fields["item"].widget.choices if pk}
    assert partners.noodles.pk in choices
    assert response.context["form"]["card_number"].value() == partners.ma_card.display_number
    assert not CardUse.objects.exists()


# ---------------------------------------------------------------- the list


@pytest.fixture
def uses(world, partners):
    return {
        "ma_desk": use(partners, ago=3),
        "ma_till": use(partners, item=partners.home_cooking, ago=1, value="25", channel="till"),
        "bai": use(partners, partners.bai_card, partners.delivery, ago=2, value="5"),
        "ayt": use(partners, partners.ayt_card, partners.repair_visit, partners.repair, value="80"),
    }


def test_the_list_shows_what_the_user_may_see_with_totals(world, partners, uses, login):
    response = login(world.pingjiang_staff).get(LIST)
    assert response.status_code == 200
    shown = {u.pk for u in response.context["page"]}
    assert shown == {uses["ma_desk"].pk, uses["ma_till"].pk, uses["bai"].pk}
    totals = response.context["totals"]
    # benefits: 30→24 (6), 25→15 (10), 5→0 (5)
    assert totals["uses"] == 3
    assert totals["benefit"] == Decimal("21.00")
    assert totals["value_before"] == Decimal("60.00")
    assert totals["paid"] == Decimal("39.00")
    assert "21.00" in response.content.decode()
    canglang = login(world.canglang_staff).get(LIST)
    assert {u.pk for u in canglang.context["page"]} == {uses["ayt"].pk}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"channel": "till"}, ["ma_till"]),
        ({"channel": "desk"}, ["ma_desk", "bai"]),
        ({"area": "ganjiang"}, ["bai"]),
        ({"area": "pingjianglu"}, ["ma_desk", "ma_till"]),
        ({"merchant": "lamian"}, ["ma_desk", "ma_till", "bai"]),
        ({"category": "halal_food"}, ["ma_desk", "ma_till", "bai"]),
        ({"category": "appliance"}, []),
        ({"date_from": 2}, ["ma_till", "bai"]),
        ({"date_to": 2}, ["ma_desk", "bai"]),
    ],
)
def test_the_list_filters(world, partners, uses, login, filters, expected):
    query = {}
    for key, value in filters.items():
        if key == "area":
            value = getattr(world, value).pk
        elif key == "merchant":
            value = partners.lamian.pk
        elif key.startswith("date"):
            value = days_ago(value).isoformat()
        query[key] = value
    response = login(world.pingjiang_staff).get(LIST, query)
    assert {u.pk for u in response.context["page"]} == {uses[k].pk for k in expected}
    assert response.context["totals"]["uses"] == len(expected)


def test_voided_uses_leave_the_list_and_its_totals(world, partners, uses, login):
    client = login(world.pingjiang_staff)
    client.post(reverse("services:use-void", args=[uses["bai"].pk]), {"reason": "录入重复"})
    response = client.get(LIST)
    assert uses["bai"].pk not in {u.pk for u in response.context["page"]}
    assert response.context["totals"]["benefit"] == Decimal("16.00")
    voided = client.get(LIST, {"archived": "on"})
    assert [u.pk for u in voided.context["page"]] == [uses["bai"].pk]
    assert voided.context["totals"]["uses"] == 1


@pytest.mark.parametrize(
    "params",
    [
        {"area": "\x00"},
        {"merchant": "99999999999999999999"},
        {"date_from": "2024-02-30"},
        {"category": "<script>"},
        {"channel": "\x00"},
        {"page": "abc"},
    ],
)
def test_garbage_filters_never_break_the_list(world, partners, uses, login, params):
    client = login(world.pingjiang_staff)
    assert client.get(LIST, params).status_code == 200
    assert client.get(EXPORT, params).status_code == 200


def test_the_list_costs_the_same_queries_at_any_size(world, register, partners, login):
    client = login(world.pingjiang_staff)

    def count():
        client.get(LIST)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(LIST)
        assert response.status_code == 200
        return len(queries), len(response.context["page"].object_list)

    use(partners, ago=1)
    small, rows_small = count()
    for i in range(12):
        person = PersonFactory(household=register.bai_household, name=f"白{i}号")
        record_consent(person, given_on=days_ago(60), form_reference=f"GJ-{i}", user=None)
        card = issue_card(person, user=None, issued_on=days_ago(50))
        for n in range(5):
            use(partners, card, [partners.noodles, partners.home_cooking][n % 2], ago=n)
    large, rows_large = count()
    assert (rows_small, rows_large) == (1, 50)
    assert small == large, (small, large)
    print("use list queries:", small)


def test_who_may_not_see_uses_is_refused(world, partners, uses, login):
    assert login(world.pingjianglu_liaison).get(LIST).status_code == 403
    assert login(world.no_post).get(LIST).status_code == 403
    assert login(world.bureau).get(LIST).context["totals"]["uses"] == 4


# ---------------------------------------------------------------- one use


def test_the_detail_shows_the_use_and_its_history(world, partners, uses, login):
    response = login(world.pingjiang_staff).get(detail(uses["ma_desk"]))
    assert response.status_code == 200
    assert response.context["can_change"]
    text = response.content.decode()
    assert "马晓东" in text and "清真牛肉面" in text
    assert partners.ma_card.holder.id_number not in text
    assert [e.kind for e in response.context["history"]] == ["+"]


def test_another_subdistrict_gets_404(world, partners, uses, login):
    client = login(world.canglang_staff)
    assert client.get(detail(uses["ma_desk"])).status_code == 404
    void = reverse("services:use-void", args=[uses["ma_desk"].pk])
    assert client.post(void, {"reason": "x"}).status_code == 404
    assert CardUse.objects.get(pk=uses["ma_desk"].pk).archived_at is None


@pytest.mark.parametrize("pk", [0, 987654, 2**63 + 5])
def test_unknown_ids_are_404(world, partners, login, pk):
    client = login(world.pingjiang_staff)
    assert client.get(f"{LIST}{pk}/").status_code == 404
    assert client.post(f"{LIST}{pk}/void/", {"reason": "x"}).status_code == 404


def test_void_needs_a_reason_and_restore_brings_it_back(world, partners, uses, login):
    client = login(world.pingjiang_staff)
    target = uses["ma_desk"]
    void = reverse("services:use-void", args=[target.pk])
    assert client.post(void, {"reason": "  "}).status_code == 302
    target.refresh_from_db()
    assert target.archived_at is None
    assert client.get(void).status_code == 405
    client.post(void, {"reason": "卡号录错"})
    target.refresh_from_db()
    assert target.is_archived
    history = client.get(detail(target)).context["history"]
    assert history[0].reason.endswith("卡号录错")
    client.post(reverse("services:use-restore", args=[target.pk]))
    target.refresh_from_db()
    assert target.archived_at is None
    reasons = [e.reason for e in client.get(detail(target)).context["history"]]
    assert len(reasons) == 3 and reasons[1].endswith("卡号录错")


def test_community_staff_void_only_uses_of_their_own_holders(world, partners, uses, login):
    # Both uses were at 马记清真拉面馆, which 平江路社区 sees; 白兰 lives in 干将社区.
    client = login(world.pingjianglu_staff)
    own, other = uses["ma_desk"], uses["bai"]
    assert client.get(detail(own)).context["can_change"]
    assert (
        client.post(reverse("services:use-void", args=[own.pk]), {"reason": "录重了"}).status_code
        == 302
    )
    own.refresh_from_db()
    assert own.is_archived
    assert client.get(detail(other)).status_code == 404
    assert (
        client.post(reverse("services:use-void", args=[other.pk]), {"reason": "x"}).status_code
        == 404
    )
    other.archived_at = timezone.now()
    other.save()
    assert client.post(reverse("services:use-restore", args=[other.pk])).status_code == 404
    other.refresh_from_db()
    assert other.is_archived


def test_the_bureau_sees_but_does_not_void(world, partners, uses, login):
    client = login(world.bureau)
    response = client.get(detail(uses["ma_desk"]))
    assert response.status_code == 200
    assert not response.context["can_change"]
    void = reverse("services:use-void", args=[uses["ma_desk"].pk])
    assert client.post(void, {"reason": "x"}).status_code == 403


# ---------------------------------------------------------------- export


def test_the_export_is_the_filtered_list_and_is_logged(world, partners, uses, login):
    response = login(world.pingjiang_staff).get(EXPORT, {"channel": "desk"})
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(book.active.iter_rows(values_only=True))
    assert sorted(row[2] for row in rows[1:]) == sorted(["马晓东", "白兰"])
    cells = [str(c) for row in rows for c in row]
    assert partners.ma_card.holder.id_number not in cells
    log = ExportLog.objects.get()
    assert (log.exporter, log.row_count, log.filters) == ("services.uses", 2, {"channel": "desk"})


def test_the_export_needs_its_permission(world, partners, uses, login):
    assert login(world.pingjianglu_liaison).get(EXPORT).status_code == 403
    assert not ExportLog.objects.exists()
