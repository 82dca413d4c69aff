"""The settlement of a partner merchant for a period: what the street office reviews with
the merchant at renewal (issue 5 §4) — uses (人次), distinct holders, the value of the
services before the benefit, what the holders paid, and the value of the benefits given,
per agreement item and per month, with a total.

One definition for both the staff page and the merchant's till, so the two cannot disagree.
A voided (archived) use does not count. The settlement is the merchant's: it counts every
use recorded at the merchant, whichever community the holder lives in, and shows figures
only, never a holder. Three queries whatever the number of uses.
"""

import dataclasses
import datetime
from decimal import Decimal

from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from services.models import AgreementItem, CardUse, Merchant

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
MAX_PERIOD_DAYS = 366 * 10  # a longer range is a typo, not a settlement


# ---------------------------------------------------------------- periods


@dataclasses.dataclass(frozen=True)
class Period:
    """From ``start`` to ``end``, both included."""

    start: datetime.date
    end: datetime.date

    @property
    def label(self) -> str:
        return f"{self.start:%Y-%m-%d} – {self.end:%Y-%m-%d}"

    def months(self) -> list[datetime.date]:
        """The first day of each month the period touches."""
        first = self.start.replace(day=1)
        months = []
        while first <= self.end:
            months.append(first)
            first = _next_month(first)
        return months


def _next_month(first: datetime.date) -> datetime.date:
    if first.month == 12:
        return first.replace(year=first.year + 1, month=1)
    return first.replace(month=first.month + 1)


def month_period(year: int, month: int) -> Period:
    start = datetime.date(year, month, 1)
    return Period(start, _next_month(start) - datetime.timedelta(days=1))


def quarter_period(year: int, quarter: int) -> Period:
    first_month = 3 * (quarter - 1) + 1
    start = datetime.date(year, first_month, 1)
    end = month_period(year, first_month + 2).end
    return Period(start, end)


def year_period(year: int) -> Period:
    return Period(datetime.date(year, 1, 1), datetime.date(year, 12, 31))


def quarter_of(day: datetime.date) -> int:
    return (day.month - 1) // 3 + 1


def current_quarter(today: datetime.date) -> Period:
    """The default period: the quarter ``today`` falls in (settlements are quarterly)."""
    return quarter_period(today.year, quarter_of(today))


def period_shortcuts(today: datetime.date) -> list[tuple[str, str]]:
    """Links (label, query) to the usual periods: this and last quarter, this month, this
    and last year."""
    quarter = quarter_of(today)
    last_year, last_quarter = (today.year, quarter - 1) if quarter > 1 else (today.year - 1, 4)
    return [
        (_("This quarter"), f"year={today.year}&quarter={quarter}"),
        (_("Last quarter"), f"year={last_year}&quarter={last_quarter}"),
        (_("This month"), f"year={today.year}&month={today.month}"),
        (_("This year"), f"year={today.year}"),
        (_("Last year"), f"year={today.year - 1}"),
    ]


# ---------------------------------------------------------------- figures


@dataclasses.dataclass
class Figures:
    """One row of a settlement: a total, an agreement item or a month."""

    label: str = ""
    uses: int = 0
    holders: int = 0
    value_before: Decimal = ZERO
    paid: Decimal = ZERO
    detail: str = ""  # the item's benefit and agreement, the month's dates
    key: object = None  # the item's id, the month's first day

    @property
    def benefit(self) -> Decimal:
        """The value of the benefits given: what the services were worth minus what was paid."""
        return self.value_before - self.paid


@dataclasses.dataclass
class Settlement:
    merchant: Merchant
    period: Period
    total: Figures
    by_item: list[Figures]
    by_month: list[Figures]


def settled_uses(merchant: Merchant, period: Period):
    """The uses a settlement counts: recorded at ``merchant`` in ``period``, not voided."""
    return CardUse.objects.filter(
        merchant=merchant,
        used_on__gte=period.start,
        used_on__lte=period.end,
        archived_at__isnull=True,
    )


FIGURES = {
    "uses": Count("pk"),
    "holders": Count("card__holder", distinct=True),
    "before_sum": Sum("value_before"),
    "paid_sum": Sum("value_after"),
}


def yuan(total) -> Decimal:
    """A sum of yuan as the pages show it: two decimals (SQLite sums ``60.00`` to ``60``)."""
    return (total or ZERO).quantize(CENT)


def _figures(row: dict, **extra) -> Figures:
    return Figures(
        uses=row["uses"] or 0,
        holders=row["holders"] or 0,
        value_before=yuan(row["before_sum"]),
        paid=yuan(row["paid_sum"]),
        **extra,
    )


def merchant_settlement(merchant: Merchant, period: Period) -> Settlement:
    """The settlement of ``merchant`` for ``period``: total, per agreement item (those with
    uses), per month (every month of the period, a month without uses as zeros)."""
    uses = settled_uses(merchant, period)
    total = _figures(uses.aggregate(**FIGURES), label=_("Total"))

    item_rows = (
        uses.values(
            "item_id",
            "item__description",
            "item__benefit_kind",
            "item__percent_off",
            "item__fixed_price",
            "item__agreement__number",
            "item__agreement__valid_from",
            "item__agreement__valid_to",
        )
        .annotate(**FIGURES)
        .order_by("item__description", "item_id")
    )
    by_item = []
    for row in item_rows:
        terms = AgreementItem(
            benefit_kind=row["item__benefit_kind"],
            percent_off=row["item__percent_off"],
            fixed_price=row["item__fixed_price"],
        )
        agreement = row["item__agreement__number"] or (
            f"{row['item__agreement__valid_from']:%Y-%m-%d}–"
            f"{row['item__agreement__valid_to']:%Y-%m-%d}"
        )
        by_item.append(
            _figures(
                row,
                label=row["item__description"],
                detail=f"{terms.benefit_text} · {agreement}",
                key=row["item_id"],
            )
        )

    month_rows = (
        uses.annotate(month=TruncMonth("used_on")).values("month").annotate(**FIGURES).order_by()
    )
    counted = {_first_day(row["month"]): row for row in month_rows}
    by_month = []
    for first in period.months():
        row = counted.get(first)
        label = f"{first:%Y-%m}"
        by_month.append(_figures(row, label=label, key=first) if row else Figures(label, key=first))
    return Settlement(merchant, period, total, by_item, by_month)


def settlement_page(merchant: Merchant, form, today: datetime.date | None = None) -> dict:
    """What the staff page and the till's page show of ``merchant``'s settlement: the
    period chosen in ``form`` (a ``forms_uses.PeriodForm``), its figures and the shortcuts."""
    today = today or timezone.localdate()
    period = form.period(today)
    return {
        "merchant": merchant,
        "form": form,
        "period": period,
        "settlement": merchant_settlement(merchant, period),
        "shortcuts": period_shortcuts(today),
    }


def _first_day(value) -> datetime.date:
    if isinstance(value, datetime.datetime):
        value = value.date()
    return value.replace(day=1)


def settlement_sheet_rows(settlement: Settlement) -> list[list]:
    """The settlement as spreadsheet rows under ``SHEET_HEADER``: the items, the total, then
    the months."""
    rows = []
    for section, lines in (
        (_("Service"), settlement.by_item),
        (_("Total"), [settlement.total]),
        (_("Month"), settlement.by_month),
    ):
        for line in lines:
            rows.append(
                [
                    str(section),
                    line.label,
                    line.detail,
                    line.uses,
                    line.holders,
                    line.value_before,
                    line.paid,
                    line.benefit,
                ]
            )
    return rows


def sheet_header() -> list[str]:
    return [
        _("Section"),
        _("Service or month"),
        _("Benefit and agreement"),
        _("Uses"),
        _("Holders"),
        _("Value before the benefit (yuan)"),
        _("Paid (yuan)"),
        _("Value of benefits given (yuan)"),
    ]
