"""An agreement and its items on one page: signing area, statuses, the model's checks shown
on the form, at least one item once signed, used items never deleted, all or nothing."""

import datetime
import uuid
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from services.models import (
    Agreement,
    AgreementItem,
    AgreementStatus,
    Merchant,
    ServiceCategory,
)
from services.uses import record_use

CREATE = reverse("services:agreement-create")
ITEM_FIELDS = (
    "id",
    "category",
    "description",
    "benefit_kind",
    "percent_off",
    "fixed_price",
    "usual_price",
    "conditions",
    "is_withdrawn",
)


def day(offset: int) -> str:
    return (timezone.localdate() + datetime.timedelta(days=offset)).isoformat()


def item_rows(*items, initial=0):
    """The formset's POST data for ``items`` (dicts), ``initial`` of them already stored."""
    data = {
        "items-TOTAL_FORMS": str(len(items)),
        "items-INITIAL_FORMS": str(initial),
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "50",
    }
    for index, item in enumerate(items):
        for name in ITEM_FIELDS:
            value = item.get(name, "")
            if name == "is_withdrawn":
                if value:
                    data[f"items-{index}-{name}"] = "on"
                continue
            data[f"items-{index}-{name}"] = value
        if item.get("DELETE"):
            data[f"items-{index}-DELETE"] = "on"
    return data


NOODLES = {
    "category": "halal_food",
    "description": "羊肉泡馍",
    "benefit_kind": "percent_off",
    "percent_off": "１５％",
    "usual_price": "￥２８元",
}
FREE_TEA = {"category": "halal_food", "description": "免费茶水", "benefit_kind": "free"}


def agreement_data(world, partners, *items, **changes):
    data = {
        "submission_key": str(uuid.uuid4()),
        "merchant": partners.lamian.pk,
        "area": world.pingjiang.pk,
        "number": "PJ-2026-09",
        "status": "signed",
        "signed_on": day(-3),
        "valid_from": day(0),
        "valid_to": day(364),
        "terminated_on": "",
        "note": "",
    }
    data.update(changes)
    data.update(item_rows(*items))
    return data


def form_errors(response):
    return response.context["form"].errors


def test_staff_record_a_signed_agreement_with_its_items(world, partners, login):
    client = login(world.pingjiang_staff)
    response = client.post(CREATE, agreement_data(world, partners, NOODLES, FREE_TEA))
    agreement = Agreement.objects.get(number="PJ-2026-09")
    assert response.status_code == 302
    assert response["Location"] == reverse("services:agreement-detail", args=[agreement.pk])
    assert agreement.status == AgreementStatus.SIGNED
    assert agreement.created_by == world.pingjiang_staff
    noodles = agreement.items.get(description="羊肉泡馍")
    assert (noodles.percent_off, noodles.usual_price) == (Decimal("15.00"), Decimal("28.00"))
    assert "15" in noodles.benefit_text
    assert agreement.items.get(description="免费茶水").benefit_kind == "free"
    assert agreement.submission_key == uuid.UUID(response.wsgi_request.POST["submission_key"])
    # the same form sent again, even from another session, records nothing more
    again = login(world.pingjiang_staff).post(
        CREATE,
        agreement_data(world, partners, NOODLES, FREE_TEA)
        | {"submission_key": response.wsgi_request.POST["submission_key"]},
    )
    assert again["Location"] == response["Location"]
    assert Agreement.objects.filter(number="PJ-2026-09").count() == 1
    assert agreement.items.count() == 2


def test_the_signing_area_may_be_inside_or_above_the_merchants_area(world, partners, login):
    client = login(world.pingjiang_staff)
    response = client.post(CREATE, agreement_data(world, partners, NOODLES, area=world.ganjiang.pk))
    assert response.status_code == 302
    assert Agreement.objects.get(number="PJ-2026-09").area == world.ganjiang


def test_the_signing_area_must_be_in_line_with_the_merchants_area(world, partners, login):
    tailor = Merchant.objects.create(
        area=world.pingjianglu,
        name="平江路裁缝铺",
        category=ServiceCategory.TAILORING,
        address="平江路120号",
    )
    client = login(world.pingjiang_staff)
    data = agreement_data(world, partners, NOODLES, merchant=tailor.pk, area=world.ganjiang.pk)
    response = client.post(CREATE, data)
    assert "area" in form_errors(response)
    above = agreement_data(world, partners, NOODLES, merchant=tailor.pk, area=world.pingjiang.pk)
    assert client.post(CREATE, above).status_code == 302


def test_the_signing_area_is_one_the_user_may_change(world, partners, login):
    client = login(world.pingjiang_staff)
    assert world.canglang not in client.get(CREATE).context["form"].fields["area"].queryset
    for area in (world.canglang.pk, "99999999999999999999", "x"):
        response = client.post(CREATE, agreement_data(world, partners, NOODLES, area=area))
        assert "area" in form_errors(response)
    response = client.post(
        CREATE, agreement_data(world, partners, NOODLES, merchant=partners.repair.pk)
    )
    assert "merchant" in form_errors(response)
    assert not Agreement.objects.filter(number="PJ-2026-09").exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"signed_on": ""}, "signed_on"),  # the model's clean(): a signed one needs its date
        ({"valid_from": day(30), "valid_to": day(1)}, "valid_to"),
        ({"signed_on": day(5)}, "signed_on"),  # not in the future
        ({"valid_to": "9999-12-31"}, "valid_to"),
        ({"valid_from": "2026-02-30"}, "valid_from"),
        ({"status": "terminated"}, "status"),  # a new agreement is not terminated
    ],
)
def test_the_agreement_checks_show_on_their_fields(world, partners, login, changes, field):
    response = login(world.pingjiang_staff).post(
        CREATE, agreement_data(world, partners, NOODLES, **changes)
    )
    assert response.status_code == 200
    assert field in form_errors(response)
    assert not Agreement.objects.filter(number="PJ-2026-09").exists()


def test_a_signed_agreement_needs_an_item(world, partners, login):
    client = login(world.pingjiang_staff)
    response = client.post(CREATE, agreement_data(world, partners))
    assert response.context["formset"].non_form_errors()
    assert not Agreement.objects.filter(number="PJ-2026-09").exists()
    draft = agreement_data(world, partners, status="draft", signed_on="")
    assert client.post(CREATE, draft).status_code == 302


@pytest.mark.parametrize(
    "item",
    [
        {**NOODLES, "percent_off": ""},  # percentage off without the percentage
        {**NOODLES, "percent_off": "100"},
        {**NOODLES, "benefit_kind": "fixed_price", "percent_off": "", "fixed_price": "abc"},
        {**NOODLES, "benefit_kind": "fixed_price", "percent_off": ""},
        {**NOODLES, "usual_price": "-5"},
        {**NOODLES, "description": ""},
    ],
)
def test_a_bad_item_saves_nothing_at_all(world, partners, login, item):
    response = login(world.pingjiang_staff).post(
        CREATE, agreement_data(world, partners, FREE_TEA, item)
    )
    assert response.status_code == 200
    assert response.context["formset"].errors[1]
    assert not Agreement.objects.filter(number="PJ-2026-09").exists()
    assert not AgreementItem.objects.filter(description="免费茶水").exists()


def stored_items(agreement):
    rows = []
    for item in agreement.items.order_by("id"):
        row = {name: getattr(item, name) for name in ITEM_FIELDS if name != "id"}
        row = {k: ("" if v is None else str(v)) for k, v in row.items()}
        row["is_withdrawn"] = item.is_withdrawn
        row["id"] = str(item.pk)
        rows.append(row)
    return rows


def edit_data(agreement, items, **changes):
    data = {
        "merchant": agreement.merchant_id,
        "area": agreement.area_id,
        "number": agreement.number,
        "status": agreement.status,
        "signed_on": agreement.signed_on.isoformat() if agreement.signed_on else "",
        "valid_from": agreement.valid_from.isoformat(),
        "valid_to": agreement.valid_to.isoformat(),
        "terminated_on": "",
        "note": "",
    }
    data.update(changes)
    stored = agreement.items.count()
    data.update(item_rows(*items, initial=stored))
    return data


def use_noodles(partners, world):
    use, _created = record_use(
        card=partners.ma_card,
        merchant=partners.lamian,
        item=partners.noodles,
        value_before=Decimal("30"),
        user=world.pingjiang_staff,
    )
    return use


def test_a_used_item_offers_no_delete_and_keeps_its_benefit(world, partners, login):
    use_noodles(partners, world)
    agreement = partners.lamian_agreement
    url = reverse("services:agreement-edit", args=[agreement.pk])
    client = login(world.pingjiang_staff)
    formset = client.get(url).context["formset"]
    by_item = {f.instance.pk: f for f in formset.forms if f.instance.pk}
    assert "DELETE" not in by_item[partners.noodles.pk].fields
    assert "DELETE" in by_item[partners.delivery.pk].fields
    assert by_item[partners.noodles.pk].fields["percent_off"].disabled

    items = stored_items(agreement)
    for row in items:
        if row["id"] == str(partners.noodles.pk):
            row["DELETE"] = True
            row["percent_off"] = "50"
    response = client.post(url, edit_data(agreement, items))
    assert response.status_code == 302
    partners.noodles.refresh_from_db()
    assert partners.noodles.percent_off == Decimal("20.00")  # kept, and not deleted


def test_a_used_item_is_withdrawn_and_an_unused_one_deleted(world, partners, login):
    use_noodles(partners, world)
    agreement = partners.lamian_agreement
    items = stored_items(agreement)
    for row in items:
        if row["id"] == str(partners.noodles.pk):
            row["is_withdrawn"] = True
        if row["id"] == str(partners.delivery.pk):
            row["DELETE"] = True
    url = reverse("services:agreement-edit", args=[agreement.pk])
    response = login(world.pingjiang_staff).post(url, edit_data(agreement, [*items, NOODLES]))
    assert response.status_code == 302
    partners.noodles.refresh_from_db()
    assert partners.noodles.is_withdrawn
    assert not AgreementItem.objects.filter(pk=partners.delivery.pk).exists()
    assert agreement.items.filter(description="羊肉泡馍").exists()
    history = (
        login(world.pingjiang_staff)
        .get(reverse("services:agreement-detail", args=[agreement.pk]))
        .context["history"]
    )
    assert {e.subject for e in history} >= {"清真牛肉面", "高龄老人免费送餐", "羊肉泡馍"}


def test_an_item_of_another_agreement_cannot_be_edited_through_this_one(world, partners, login):
    agreement = partners.lamian_agreement
    items = stored_items(agreement)
    items[0]["id"] = str(partners.repair_visit.pk)
    items[0]["description"] = "篡改"
    url = reverse("services:agreement-edit", args=[agreement.pk])
    for foreign in (str(partners.repair_visit.pk), "99999999999999999999", "x"):
        items[0]["id"] = foreign
        response = login(world.pingjiang_staff).post(url, edit_data(agreement, items))
        assert response.status_code in (200, 302)  # ignored or refused, never a 500
    partners.repair_visit.refresh_from_db()
    assert partners.repair_visit.description == "上门维修家电"
    assert partners.repair_visit.agreement == partners.repair_agreement
    assert not AgreementItem.objects.filter(description="篡改").exists()


def test_status_moves_forward_only_and_termination_needs_its_date(world, partners, login):
    agreement = partners.lamian_agreement
    url = reverse("services:agreement-edit", args=[agreement.pk])
    client = login(world.pingjiang_staff)
    items = stored_items(agreement)
    response = client.post(url, edit_data(agreement, items, status="draft"))
    assert "status" in form_errors(response)
    response = client.post(url, edit_data(agreement, items, status="terminated"))
    assert "terminated_on" in form_errors(response)
    response = client.post(
        url, edit_data(agreement, items, status="terminated", terminated_on=day(0))
    )
    assert response.status_code == 302
    agreement.refresh_from_db()
    assert (agreement.status, agreement.terminated_on) == ("terminated", timezone.localdate())


def test_a_signed_agreement_keeps_at_least_one_item(world, partners, login):
    agreement = partners.lamian_agreement
    items = [dict(row, DELETE=True) for row in stored_items(agreement)]
    url = reverse("services:agreement-edit", args=[agreement.pk])
    response = login(world.pingjiang_staff).post(url, edit_data(agreement, items))
    assert response.status_code == 200
    assert response.context["formset"].non_form_errors()
    assert agreement.items.count() == 3


def test_detail_shows_each_items_uses_and_benefit(world, partners, login):
    use_noodles(partners, world)
    page = login(world.pingjiang_staff).get(
        reverse("services:agreement-detail", args=[partners.lamian_agreement.pk])
    )
    counts = {i.description: i.use_count for i in page.context["items"]}
    assert counts == {"清真牛肉面": 1, "家常菜套餐": 0, "高龄老人免费送餐": 0}
    assert page.context["agreement"].status_key == "in_force"
    assert "¥15" in page.content.decode() or "15.00" in page.content.decode()


def test_archive_and_restore_an_agreement(world, partners, login):
    agreement = partners.lamian_agreement
    client = login(world.pingjiang_staff)
    client.post(reverse("services:agreement-archive", args=[agreement.pk]))
    agreement.refresh_from_db()
    assert agreement.is_archived and not agreement.in_force_on(timezone.localdate())
    assert client.get(reverse("services:agreement-edit", args=[agreement.pk])).status_code == 302
    listed = client.get(reverse("services:agreement-list")).context["page"]
    assert agreement not in list(listed)
    client.post(reverse("services:agreement-restore", args=[agreement.pk]))
    agreement.refresh_from_db()
    assert not agreement.is_archived
    assert agreement.history.first().history_change_reason == "restored"
