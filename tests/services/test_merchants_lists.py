"""The merchant and agreement lists: filters, a constant number of queries whatever their
length, and the logged xlsx exports."""

import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from network.models import ExportLog
from services.models import (
    RENEWAL_DAYS,
    Agreement,
    AgreementItem,
    AgreementStatus,
    BenefitKind,
    Merchant,
    ServiceCategory,
)

MERCHANTS = reverse("services:merchant-list")
AGREEMENTS = reverse("services:agreement-list")
RENEWALS = reverse("services:agreement-renewals")


def names(response):
    return sorted(m.name for m in response.context["page"])


def numbers(response):
    return sorted(a.number for a in response.context["page"])


def test_merchant_filters(world, partners, login):
    client = login(world.bureau)
    assert names(client.get(MERCHANTS, {"area": world.canglang.pk})) == ["苏城家电维修部"]
    assert names(client.get(MERCHANTS, {"category": "halal_food"})) == ["马记清真拉面馆"]
    assert names(client.get(MERCHANTS, {"serves": world.ganjiang.pk})) == ["马记清真拉面馆"]
    assert names(client.get(MERCHANTS, {"serves": world.pingjiang.pk})) == ["马记清真拉面馆"]
    assert names(client.get(MERCHANTS, {"q": "道前街"})) == ["苏城家电维修部"]
    assert names(client.get(MERCHANTS, {"q": "拉面"})) == ["马记清真拉面馆"]
    assert names(client.get(MERCHANTS, {"archived": "on"})) == []
    # values that do not fit are dropped, never an error page
    for bad in (
        {"area": "99999999999999999999"},
        {"category": "x"},
        {"q": "\x00"},
        {"serves": "１"},
        {"page": "９９"},
    ):
        assert client.get(MERCHANTS, bad).status_code == 200


def test_a_filter_cannot_reach_outside_the_users_areas(world, partners, login):
    client = login(world.pingjiang_staff)
    response = client.get(MERCHANTS, {"area": world.canglang.pk})
    assert names(response) == ["马记清真拉面馆"]  # the foreign area is dropped


def test_merchant_list_counts_only_agreements_in_force(world, partners, login):
    page = login(world.pingjiang_staff).get(MERCHANTS).context["page"]
    assert {m.name: m.agreements_in_force for m in page} == {"马记清真拉面馆": 1}
    # a community sees its street office's merchant with the agreement it can open
    page = login(world.pingjianglu_liaison).get(MERCHANTS).context["page"]
    assert {m.name: m.agreements_in_force for m in page} == {"马记清真拉面馆": 1}


def test_agreement_filters(world, partners, login):
    client = login(world.bureau)
    assert numbers(client.get(AGREEMENTS)) == ["CL-2026-02", "PJ-2024-03", "PJ-2026-01"]
    assert numbers(client.get(AGREEMENTS, {"status": "in_force"})) == ["CL-2026-02", "PJ-2026-01"]
    assert numbers(client.get(AGREEMENTS, {"status": "expired"})) == ["PJ-2024-03"]
    assert numbers(client.get(AGREEMENTS, {"status": "expiring"})) == []
    assert numbers(client.get(AGREEMENTS, {"category": "appliance"})) == ["CL-2026-02"]
    assert numbers(client.get(AGREEMENTS, {"category": "halal_food"})) == [
        "PJ-2024-03",
        "PJ-2026-01",
    ]
    assert numbers(client.get(AGREEMENTS, {"merchant": partners.repair.pk})) == ["CL-2026-02"]
    assert numbers(client.get(AGREEMENTS, {"area": world.pingjiang.pk})) == [
        "PJ-2024-03",
        "PJ-2026-01",
    ]
    partners.lamian_agreement.valid_to = timezone.localdate() + datetime.timedelta(days=5)
    partners.lamian_agreement.save()
    assert numbers(client.get(AGREEMENTS, {"status": "expiring"})) == ["PJ-2026-01"]
    draft = Agreement.objects.create(
        merchant=partners.lamian,
        area=world.pingjiang,
        number="PJ-草稿",
        valid_from=timezone.localdate(),
        valid_to=timezone.localdate() + datetime.timedelta(days=30),
    )
    assert numbers(client.get(AGREEMENTS, {"status": "draft"})) == [draft.number]
    for bad in ({"status": "x"}, {"merchant": "99999999999999999999"}, {"area": "\x00"}):
        assert client.get(AGREEMENTS, bad).status_code == 200


def grow(world, n: int, start: int = 0):
    """``n`` more merchants, each with areas served and an agreement with two items, some
    due for renewal."""
    today = timezone.localdate()
    for i in range(start, start + n):
        m = Merchant.objects.create(
            area=world.pingjiang if i % 2 else world.pingjianglu,
            name=f"测试商户{i:03d}",
            category=ServiceCategory.HOUSEKEEPING,
            address=f"干将路{i}号",
        )
        m.serves.set([world.pingjianglu, world.ganjiang])
        a = Agreement.objects.create(
            merchant=m,
            area=m.area,
            number=f"T-{i:03d}",
            signed_on=today - datetime.timedelta(days=40),
            valid_from=today - datetime.timedelta(days=30),
            valid_to=today + datetime.timedelta(days=(i % 3) * RENEWAL_DAYS),
            status=AgreementStatus.SIGNED,
        )
        for description in ("保洁", "保姆"):
            AgreementItem.objects.create(
                agreement=a,
                category=ServiceCategory.HOUSEKEEPING,
                description=description,
                benefit_kind=BenefitKind.FREE,
            )


@pytest.mark.parametrize("url", [MERCHANTS, AGREEMENTS, RENEWALS])
def test_lists_use_the_same_number_of_queries_at_two_sizes(world, partners, login, url):
    client = login(world.pingjiang_staff)
    grow(world, 3)
    client.get(url)  # warm the session
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    grow(world, 30, start=3)
    with CaptureQueriesContext(connection) as large:
        response = client.get(url)
    assert len(response.context["page"]) > 10
    assert len(large) == len(small), [q["sql"] for q in large]


def test_merchant_export_is_logged_and_follows_the_filters(world, partners, login):
    client = login(world.pingjiang_staff)
    response = client.get(reverse("services:merchant-export"), {"category": "halal_food"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][0] == "马记清真拉面馆"
    assert "平江路社区、干将社区" in rows[1]
    assert len(rows) == 2
    log = ExportLog.objects.get()
    assert (log.user, log.exporter, log.row_count) == (
        world.pingjiang_staff,
        "services.merchants",
        1,
    )
    assert log.filters["category"] == "halal_food"


def test_agreement_export_is_logged(world, partners, login):
    client = login(world.bureau)
    response = client.get(reverse("services:agreement-export"), {"status": "in_force"})
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))[1:]
    assert sorted(r[1] for r in rows) == ["CL-2026-02", "PJ-2026-01"]
    lamian = next(r for r in rows if r[1] == "PJ-2026-01")
    assert lamian[8] == 3 and "清真牛肉面" in lamian[9]
    log = ExportLog.objects.get()
    assert (log.exporter, log.row_count) == ("services.agreements", 2)


def test_a_formula_in_a_name_is_exported_as_text(world, partners, login):
    partners.lamian.name = '=HYPERLINK("http://x")'
    partners.lamian.save()
    response = login(world.pingjiang_staff).get(reverse("services:merchant-export"))
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert not str(sheet["A2"].value).startswith("=")


def test_export_needs_the_export_permission(world, partners, login):
    client = login(world.pingjianglu_liaison)
    assert client.get(reverse("services:merchant-export")).status_code == 403
    assert client.get(reverse("services:agreement-export")).status_code == 403
    assert not ExportLog.objects.exists()
