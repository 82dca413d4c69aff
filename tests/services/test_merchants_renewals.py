"""The renewal list: agreements in force that end within RENEWAL_DAYS days, and those that
expired in the last 90 days with no newer agreement for their merchant; Renew pre-fills a
new agreement from the day after the old one ends, with its items copied."""

import datetime

from django.urls import reverse
from django.utils import timezone

from services.models import (
    RENEWAL_DAYS,
    Agreement,
    AgreementItem,
    AgreementStatus,
    BenefitKind,
    Merchant,
    ServiceCategory,
)
from tests.services.test_merchants_agreements import item_rows

RENEWALS = reverse("services:agreement-renewals")


def days(n):
    return timezone.localdate() + datetime.timedelta(days=n)


def merchant(world, name):
    return Merchant.objects.create(
        area=world.pingjiang, name=name, category=ServiceCategory.HAIRDRESSING, address="观前街1号"
    )


def agreement(m, number, start, end, status=AgreementStatus.SIGNED, **extra):
    a = Agreement.objects.create(
        merchant=m,
        area=m.area,
        number=number,
        signed_on=days(start - 5) if status != AgreementStatus.DRAFT else None,
        valid_from=days(start),
        valid_to=days(end),
        status=status,
        **extra,
    )
    AgreementItem.objects.create(
        agreement=a,
        category=ServiceCategory.HAIRDRESSING,
        description=f"理发 {number}",
        benefit_kind=BenefitKind.PERCENT_OFF,
        percent_off=10,
        usual_price=30,
    )
    return a


def listed(client):
    return [a.number for a in client.get(RENEWALS).context["page"]]


def test_what_is_due_for_renewal(world, partners, login):
    soon = agreement(merchant(world, "美美理发店"), "R-1", -300, RENEWAL_DAYS - 1)
    later = agreement(merchant(world, "远期理发店"), "R-2", -10, RENEWAL_DAYS + 30)
    lapsed = agreement(merchant(world, "过期理发店"), "R-3", -400, -30)
    long_gone = agreement(merchant(world, "久远理发店"), "R-4", -500, -120)
    renewed_m = merchant(world, "已续理发店")
    renewed = agreement(renewed_m, "R-5", -400, -10)
    agreement(renewed_m, "R-6", -9, 300)
    draft_m = merchant(world, "草稿理发店")
    agreement(draft_m, "R-7", -400, -20)
    agreement(draft_m, "R-8", -19, 300, status=AgreementStatus.DRAFT)  # a renewal drafted
    archived = agreement(merchant(world, "归档理发店"), "R-9", -300, 10, archived_at=timezone.now())
    terminated = agreement(
        merchant(world, "终止理发店"),
        "R-10",
        -300,
        10,
        status=AgreementStatus.TERMINATED,
        terminated_on=days(-1),
    )
    numbers = listed(login(world.pingjiang_staff))
    assert numbers == ["R-3", "R-1"]  # soonest ending first: the lapsed one, then the soon one
    for other in (later, long_gone, renewed, archived, terminated):
        assert other.number not in numbers
    assert soon.number in numbers and lapsed.number in numbers
    # the other sub-district does not see them
    assert listed(login(world.canglang_staff)) == []


def test_renew_prefills_the_day_after_with_the_items(world, partners, login):
    old = agreement(merchant(world, "美美理发店"), "R-1", -300, 20)
    client = login(world.pingjiang_staff)
    page = client.get(reverse("services:agreement-renew", args=[old.pk]))
    form, formset = page.context["form"], page.context["formset"]
    assert form.initial["valid_from"] == old.valid_to + datetime.timedelta(days=1)
    assert form.initial["valid_to"] == form.initial["valid_from"] + (old.valid_to - old.valid_from)
    assert form.initial["merchant"] == old.merchant_id
    assert [f.initial.get("description") for f in formset.forms][:1] == ["理发 R-1"]
    assert page.context["renewing"] == old


def test_renew_saves_a_new_agreement_and_the_old_one_leaves_the_list(world, partners, login):
    old = agreement(merchant(world, "美美理发店"), "R-1", -300, 20)
    client = login(world.pingjiang_staff)
    starts = old.valid_to + datetime.timedelta(days=1)
    data = {
        "submission_key": "9b1de7a4-3c4a-4a8a-9d0e-1e6c2f9a0b11",
        "merchant": old.merchant_id,
        "area": old.area_id,
        "number": "R-1-续",
        "status": "draft",
        "signed_on": "",
        "valid_from": starts.isoformat(),
        "valid_to": (starts + datetime.timedelta(days=364)).isoformat(),
        "terminated_on": "",
        "note": "",
    }
    data.update(
        item_rows(
            {
                "category": "hairdressing",
                "description": "理发 R-1",
                "benefit_kind": "percent_off",
                "percent_off": "10.00",
                "usual_price": "30.00",
            }
        )
    )
    response = client.post(reverse("services:agreement-renew", args=[old.pk]), data)
    assert response.status_code == 302
    new = Agreement.objects.get(number="R-1-续")
    assert new.valid_from == starts
    assert list(new.items.values_list("description", flat=True)) == ["理发 R-1"]
    rows = client.get(RENEWALS).context["page"]
    assert [(a.number, a.has_newer) for a in rows] == [("R-1", True)]  # shown as renewed


def test_renew_is_for_staff_who_may_sign(world, partners, login):
    old = agreement(merchant(world, "美美理发店"), "R-1", -300, 20)
    url = reverse("services:agreement-renew", args=[old.pk])
    assert login(world.canglang_staff).get(url).status_code == 404
    assert login(world.bureau).get(url).status_code == 403
    assert login(world.pingjianglu_staff).get(url).status_code == 403
