"""The settlement of a merchant on a hand-counted set of uses: uses, holders, value, paid and
benefits, per item, per month and in total; a voided use, a use outside the period and a
use at another merchant do not count. The staff page, the till and the export show the same
figures, at a constant number of queries."""

import datetime
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from network.models import ExportLog
from services.forms_uses import PeriodForm
from services.models import CardUse
from services.settlement import (
    Period,
    current_quarter,
    merchant_settlement,
    month_period,
    quarter_period,
    year_period,
)

pytestmark = pytest.mark.django_db

Q2 = {"year": "2025", "quarter": "2"}
D = datetime.date


def settle(partners, card, item, day, value, paid, *, merchant=None, voided=False):
    """A use as it stands in the books (the rules that let it in are tested elsewhere)."""
    return CardUse.objects.create(
        card=card,
        merchant=merchant or partners.lamian,
        item=item,
        used_on=day,
        value_before=Decimal(value),
        value_after=Decimal(paid),
        archived_at=timezone.now() if voided else None,
    )


@pytest.fixture
def books(partners):
    """Q2 2025 at 马记清真拉面馆, counted by hand:

    | date  | holder  | service  | value | paid | benefit |
    | 04-03 | 马晓东  | 牛肉面   | 30    | 24   | 6       |
    | 04-20 | 阿依吐尔逊 | 牛肉面 | 40    | 32   | 8       |
    | 05-10 | 马晓东  | 家常菜   | 25    | 15   | 10      |
    | 05-15 | 阿依吐尔逊 | 家常菜 | 25    | 15   | voided  |
    | 06-01 | 白兰 (lost card) | 牛肉面 | 30 | 24 | 6     |
    | 06-02 | 白兰 (new card)  | 家常菜 | 25 | 15 | 10    |
    | 06-30 | 马晓东  | 送餐     | 5     | 0    | 5       |
    and, not counted: 07-01 马晓东 牛肉面 (next quarter), 05-05 上门维修 at another merchant.
    """
    p = partners
    settle(p, p.ma_card, p.noodles, D(2025, 4, 3), "30", "24")
    settle(p, p.ayt_card, p.noodles, D(2025, 4, 20), "40", "32")
    settle(p, p.ma_card, p.home_cooking, D(2025, 5, 10), "25", "15")
    settle(p, p.ayt_card, p.home_cooking, D(2025, 5, 15), "25", "15", voided=True)
    settle(p, p.bai_lost, p.noodles, D(2025, 6, 1), "30", "24")
    settle(p, p.bai_card, p.home_cooking, D(2025, 6, 2), "25", "15")
    settle(p, p.ma_card, p.delivery, D(2025, 6, 30), "5", "0")
    settle(p, p.ma_card, p.noodles, D(2025, 7, 1), "30", "24")
    settle(p, p.ayt_card, p.repair_visit, D(2025, 5, 5), "80", "56", merchant=p.repair)
    return p


def figures(row):
    return (row.uses, row.holders, row.value_before, row.paid, row.benefit)


def yuan(*values):
    return tuple(Decimal(v).quantize(Decimal("0.01")) for v in values)


def test_the_hand_counted_quarter(books):
    result = merchant_settlement(books.lamian, quarter_period(2025, 2))
    assert figures(result.total) == (6, 3, *yuan(155, 110, 45))
    by_item = {row.key: figures(row) for row in result.by_item}
    assert by_item == {
        books.noodles.pk: (3, 3, *yuan(100, 80, 20)),
        books.home_cooking.pk: (2, 2, *yuan(50, 30, 20)),
        books.delivery.pk: (1, 1, *yuan(5, 0, 5)),
    }
    assert [(row.label, figures(row)) for row in result.by_month] == [
        ("2025-04", (2, 2, *yuan(70, 56, 14))),
        ("2025-05", (1, 1, *yuan(25, 15, 10))),
        ("2025-06", (3, 2, *yuan(60, 39, 21))),
    ]
    noodles = next(row for row in result.by_item if row.key == books.noodles.pk)
    assert noodles.label == "清真牛肉面" and "PJ-2026-01" in noodles.detail


def test_a_month_without_uses_shows_zeros_and_a_period_without_any_is_empty(books):
    result = merchant_settlement(books.lamian, Period(D(2025, 1, 1), D(2025, 3, 31)))
    assert figures(result.total) == (0, 0, *yuan(0, 0, 0))
    assert result.by_item == []
    assert [row.label for row in result.by_month] == ["2025-01", "2025-02", "2025-03"]
    assert all(row.uses == 0 for row in result.by_month)


def test_the_other_merchant_has_its_own_settlement(books):
    result = merchant_settlement(books.repair, year_period(2025))
    assert figures(result.total) == (1, 1, *yuan(80, 56, 24))


def test_restoring_the_voided_use_makes_it_count(books):
    CardUse.objects.filter(archived_at__isnull=False).update(archived_at=None)
    result = merchant_settlement(books.lamian, quarter_period(2025, 2))
    assert figures(result.total) == (7, 3, *yuan(180, 125, 55))


# ---------------------------------------------------------------- periods


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"year": "2025"}, Period(D(2025, 1, 1), D(2025, 12, 31))),
        ({"year": "2025", "quarter": "4"}, Period(D(2025, 10, 1), D(2025, 12, 31))),
        ({"year": "2024", "month": "2"}, Period(D(2024, 2, 1), D(2024, 2, 29))),
        ({"year": "2024", "quarter": "1", "month": "3"}, Period(D(2024, 3, 1), D(2024, 3, 31))),
        (
            {"date_from": "2025-04-15", "date_to": "2025-05-14"},
            Period(D(2025, 4, 15), D(2025, 5, 14)),
        ),
        ({"date_to": "2025-05-14"}, Period(D(2025, 1, 1), D(2025, 5, 14))),
    ],
)
def test_the_period_form(query, expected):
    assert PeriodForm(query).period() == expected


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"year": "abc"},
        {"year": "99999999999999999999"},
        {"year": "1066"},
        {"quarter": "5", "year": "x"},
        {"month": "2"},  # a month without its year
        {"date_from": "2025-02-30"},
        {"date_from": "\x00"},
        {"date_from": "1800-01-01", "date_to": "1801-01-01"},
    ],
)
def test_a_period_that_does_not_fit_falls_back_to_the_current_quarter(query):
    assert PeriodForm(query or None).period() == current_quarter(timezone.localdate())


def test_a_reversed_range_keeps_only_its_start():
    form = PeriodForm({"date_from": "2025-06-01", "date_to": "2025-01-01"})
    today = timezone.localdate()
    assert form.period(today) == Period(D(2025, 6, 1), max(today, D(2025, 6, 1)))
    assert form.errors["date_to"]


def test_the_shortcut_periods():
    assert month_period(2025, 12) == Period(D(2025, 12, 1), D(2025, 12, 31))
    assert quarter_period(2025, 3) == Period(D(2025, 7, 1), D(2025, 9, 30))
    assert current_quarter(D(2026, 5, 20)) == Period(D(2026, 4, 1), D(2026, 6, 30))


# ---------------------------------------------------------------- the pages


def staff_url(merchant):
    return reverse("services:settlement", args=[merchant.pk])


def test_the_staff_page_shows_the_settlement(world, books, login):
    response = login(world.pingjiang_staff).get(staff_url(books.lamian), Q2)
    assert response.status_code == 200
    assert figures(response.context["settlement"].total) == (6, 3, *yuan(155, 110, 45))
    text = response.content.decode()
    assert "155.00" in text and "45.00" in text
    assert "马晓东" not in text  # figures, never a holder


def test_the_bureau_sees_every_merchants_settlement(world, books, login):
    client = login(world.bureau)
    assert client.get(staff_url(books.lamian), Q2).status_code == 200
    assert client.get(staff_url(books.repair), Q2).status_code == 200


def test_another_subdistrict_gets_404(world, books, login):
    client = login(world.canglang_staff)
    assert client.get(staff_url(books.lamian)).status_code == 404
    export = reverse("services:settlement-export", args=[books.lamian.pk])
    assert client.get(export).status_code == 404
    assert not ExportLog.objects.exists()
    assert client.get(staff_url(books.repair)).status_code == 200


def test_community_staff_see_the_settlement_of_their_subdistricts_merchant(world, books, login):
    client = login(world.pingjianglu_staff)
    response = client.get(staff_url(books.lamian), Q2)
    assert response.status_code == 200
    assert figures(response.context["settlement"].total) == (6, 3, *yuan(155, 110, 45))
    assert client.get(staff_url(books.repair)).status_code == 404
    choose = client.get(reverse("services:settlement-choose")).context["merchants"]
    assert [m.name for m in choose] == ["马记清真拉面馆"]
    assert not choose[0].may_manage_tills  # seen from below, never changed


@pytest.mark.parametrize("who", ["pingjianglu_liaison", "no_post", "ended_post"])
def test_who_may_not_see_settlements_is_refused(world, books, login, who):
    assert login(getattr(world, who)).get(staff_url(books.lamian)).status_code == 403


def test_the_till_sees_its_own_settlement_with_the_same_figures(world, books, login):
    till = login(books.lamian_till)
    response = till.get(reverse("services:till-settlement"), Q2)
    assert response.status_code == 200
    assert response.context["settlement"].merchant == books.lamian
    staff = login(world.pingjiang_staff).get(staff_url(books.lamian), Q2)
    till_figures = response.context["settlement"]
    staff_figures = staff.context["settlement"]
    assert figures(till_figures.total) == figures(staff_figures.total)
    assert [figures(r) for r in till_figures.by_item] == [figures(r) for r in staff_figures.by_item]


def test_the_export_is_the_settlement_and_is_logged(world, books, login):
    url = reverse("services:settlement-export", args=[books.lamian.pk])
    response = login(world.pingjiang_staff).get(url, Q2)
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(book.active.iter_rows(values_only=True))
    totals = [row for row in rows if row[0] == "合计" or row[0] == "Total"]
    assert len(totals) == 1
    assert totals[0][3:] == (6, 3, 155, 110, 45)
    assert len(rows) == 1 + 3 + 1 + 3  # header, items, total, months
    log = ExportLog.objects.get()
    assert log.exporter == "services.settlement"
    assert log.user == world.pingjiang_staff
    assert log.area == books.lamian.area
    assert log.filters["period_from"] == "2025-04-01"
    assert log.filters["period_to"] == "2025-06-30"


def test_the_export_needs_its_permission(world, books, login):
    url = reverse("services:settlement-export", args=[books.lamian.pk])
    assert login(books.lamian_till).get(url).status_code == 403
    assert login(world.pingjianglu_liaison).get(url).status_code == 403
    assert not ExportLog.objects.exists()


def test_choosing_a_merchant(world, books, login):
    client = login(world.pingjiang_staff)
    choose = reverse("services:settlement-choose")
    page = client.get(choose)
    assert [m.name for m in page.context["merchants"]] == ["马记清真拉面馆"]
    assert page.context["merchants"][0].may_manage_tills
    assert client.get(choose, {"merchant": books.lamian.pk})["Location"] == staff_url(books.lamian)
    # a merchant out of sight is not chosen
    assert client.get(choose, {"merchant": books.repair.pk}).status_code == 200
    for garbage in ("\x00", "2" * 30, "-1", "１２"):
        assert client.get(choose, {"merchant": garbage}).status_code == 200, garbage
    assert not login(world.bureau).get(choose).context["merchants"][0].may_manage_tills


def test_the_settlement_costs_the_same_queries_at_any_size(world, partners, login):
    def count(user, url):
        client = login(user)
        client.get(url, Q2)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, Q2)
        assert response.status_code == 200
        return len(queries)

    p = partners
    settle(p, p.ma_card, p.noodles, D(2025, 4, 3), "30", "24")
    small = count(world.pingjiang_staff, staff_url(p.lamian))
    small_till = count(p.lamian_till, reverse("services:till-settlement"))
    for day in range(1, 29):
        for month in (4, 5, 6):
            card = [p.ma_card, p.bai_card, p.ayt_card][day % 3]
            item = [p.noodles, p.home_cooking, p.delivery][month % 3]
            settle(p, card, item, D(2025, month, day), "20", "10", voided=day == 5)
    large = count(world.pingjiang_staff, staff_url(p.lamian))
    large_till = count(p.lamian_till, reverse("services:till-settlement"))
    assert small == large, (small, large)
    assert small_till == large_till, (small_till, large_till)
    print("settlement queries:", small, "till settlement queries:", small_till)
