"""The service-card scheme's figures for an area and a period (seed 000: 签约商户, 服务协议,
发放服务卡 61 张, 200 余人次), for the reports and the survey summary.

Each figure is one function ``figure(area, start, end)`` returning a plain number (or a
dict of numbers), and each has a ``*_records(area, start, end)`` function returning the
queryset it counts: the figure is computed from that very queryset, so a drill-down list
of those records always has as many rows as the figure says.

How an area is matched:

- merchants and agreements: a merchant counts for an area when it is not archived and is
  managed in the area's subtree, or serves an area in the subtree, or serves an area that
  contains the area (a merchant serving the whole sub-district serves each of its
  communities). So a merchant counts in every area whose residents can use it or whose
  office manages it; the counts of sibling areas need not add up to their parent's.
- cards and their uses: by the holder's community (in the area's subtree), wherever the
  card was used; these do add up over the child areas.

``start`` and ``end`` are dates, both included. Nothing here looks at the user: the
caller decides which areas a user may report on.
"""

import datetime
from decimal import Decimal

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, QuerySet, Sum

from network.models import Area
from services.models import (
    Agreement,
    AgreementItem,
    AgreementStatus,
    CardStatus,
    CardUse,
    Merchant,
    ServiceCard,
)

ZERO = Decimal("0.00")


# ---------------------------------------------------------------- which records an area has


def merchant_area_q(area: Area, prefix: str = "") -> Q:
    """The condition "this merchant counts for ``area``" (see the module docstring) on a
    merchant reached through ``prefix`` (``""`` on Merchant, ``"agreement__merchant__"`` on
    AgreementItem ...). No join on the served areas: a subquery, so no row is doubled."""
    served = Merchant.serves.through.objects.filter(
        Q(area__path__startswith=area.path) | Q(area_id__in=area.ancestor_ids())
    ).values("merchant_id")
    return Q(**{f"{prefix}archived_at__isnull": True}) & (
        Q(**{f"{prefix}area__path__startswith": area.path}) | Q(**{f"{prefix}pk__in": served})
    )


def in_force_q(day: datetime.date, prefix: str = "") -> Q:
    """An agreement (reached through ``prefix``) in force on ``day``: signed, not archived,
    its merchant not archived, and ``day`` within its validity. The rule of
    ``Agreement.in_force_on`` and ``services.uses.usable_items``, as a filter."""
    return Q(
        **{
            f"{prefix}status": AgreementStatus.SIGNED,
            f"{prefix}archived_at__isnull": True,
            f"{prefix}merchant__archived_at__isnull": True,
            f"{prefix}valid_from__lte": day,
            f"{prefix}valid_to__gte": day,
        }
    )


def _holder_in(area: Area, prefix: str) -> Q:
    return Q(**{f"{prefix}holder__community__path__startswith": area.path})


# ---------------------------------------------------------------- merchants and agreements


def merchant_records(area: Area, start: datetime.date, end: datetime.date) -> QuerySet:
    """Partner merchants of ``area`` (``merchant_area_q``). The period plays no part:
    merchants are counted as they are now."""
    return Merchant.objects.filter(merchant_area_q(area)).order_by("name", "pk")


def merchants(area: Area, start: datetime.date, end: datetime.date) -> int:
    """签约商户: ``merchant_records`` counted."""
    return merchant_records(area, start, end).count()


def _offered_items(day: datetime.date, category: str | None = None) -> QuerySet:
    """Services (not withdrawn) of agreements in force on ``day``, of ``category`` if given."""
    items = AgreementItem.objects.filter(in_force_q(day, "agreement__"), is_withdrawn=False)
    return items.filter(category=category) if category else items


def _agreements_of(area: Area, end: datetime.date) -> QuerySet:
    return Agreement.objects.filter(in_force_q(end), merchant_area_q(area, "merchant__"))


def agreement_records(
    area: Area, start: datetime.date, end: datetime.date, category: str | None = None
) -> QuerySet:
    """Agreements of the area's merchants (``merchant_area_q``) in force on ``end``; with
    ``category``, only those offering a service (not withdrawn) of that category."""
    records = _agreements_of(area, end)
    if category:
        records = records.filter(pk__in=_offered_items(end, category).values("agreement_id"))
    return records.order_by("merchant__name", "-valid_to", "pk")


def agreements_in_force(area: Area, start: datetime.date, end: datetime.date) -> int:
    """服务协议: ``agreement_records`` counted."""
    return agreement_records(area, start, end).count()


def agreements_by_category(area: Area, start: datetime.date, end: datetime.date) -> dict:
    """``{category: agreement_records(..., category=category) counted}`` in one query; an
    agreement offering two categories counts under both."""
    rows = (
        _offered_items(end)
        .filter(agreement__in=_agreements_of(area, end))
        .values("category")
        .annotate(n=Count("agreement", distinct=True))
        .order_by("category")
    )
    return {row["category"]: row["n"] for row in rows}


def merchant_offering_records(area: Area, day: datetime.date, category: str) -> QuerySet:
    """Merchants of ``area`` (``merchant_area_q``) with an agreement in force on ``day``
    offering a service (not withdrawn) of ``category``."""
    offering = _offered_items(day, category).values("agreement__merchant_id")
    return Merchant.objects.filter(merchant_area_q(area), pk__in=offering).order_by("name", "pk")


def merchants_offering(areas: list[Area], day: datetime.date) -> dict:
    """For each of ``areas``: ``{category: merchant_offering_records(area, day, category)
    counted}``, in one query for all the areas (conditional counts)."""
    if not areas:
        return {}
    counts = {
        f"a{i}": Count(
            "agreement__merchant",
            distinct=True,
            filter=merchant_area_q(area, "agreement__merchant__"),
        )
        for i, area in enumerate(areas)
    }
    rows = _offered_items(day).values("category").annotate(**counts).order_by("category")
    found: dict[int, dict[str, int]] = {area.pk: {} for area in areas}
    for row in rows:
        for i, area in enumerate(areas):
            if row[f"a{i}"]:
                found[area.pk][row["category"]] = row[f"a{i}"]
    return found


# ---------------------------------------------------------------- cards


def issued_card_records(area: Area, start: datetime.date, end: datetime.date) -> QuerySet:
    """Cards issued in the period to residents of the area, whatever their status now (a
    card reissued for a lost one is a card issued)."""
    return ServiceCard.objects.filter(
        _holder_in(area, ""), issued_on__gte=start, issued_on__lte=end
    ).order_by("-issued_on", "-pk")


def cards_issued(area: Area, start: datetime.date, end: datetime.date) -> int:
    """发放服务卡: ``issued_card_records`` counted."""
    return issued_card_records(area, start, end).count()


def active_card_records(area: Area, start: datetime.date, end: datetime.date) -> QuerySet:
    """Cards of residents of the area that are active at the end of the period: status
    active, issued on or before ``end`` and valid until ``end`` or later."""
    return ServiceCard.objects.filter(
        _holder_in(area, ""),
        status=CardStatus.ACTIVE,
        issued_on__lte=end,
        valid_until__gte=end,
    ).order_by("-issued_on", "-pk")


def cards_active(area: Area, start: datetime.date, end: datetime.date) -> int:
    """有效服务卡: ``active_card_records`` counted."""
    return active_card_records(area, start, end).count()


# ---------------------------------------------------------------- uses


def use_records(area: Area, start: datetime.date, end: datetime.date) -> QuerySet:
    """Uses in the period of the cards of residents of the area, voided (archived) uses
    left out."""
    return CardUse.objects.filter(
        _holder_in(area, "card__"),
        archived_at__isnull=True,
        used_on__gte=start,
        used_on__lte=end,
    ).order_by("-used_on", "-pk")


def card_uses(area: Area, start: datetime.date, end: datetime.date) -> int:
    """服务人次: ``use_records`` counted, one use one person-time."""
    return use_records(area, start, end).count()


def card_holders_served(area: Area, start: datetime.date, end: datetime.date) -> int:
    """Distinct residents whose cards were used in the period (``use_records``); a holder
    whose lost card was replaced counts once."""
    return use_records(area, start, end).values("card__holder").distinct().count()


BENEFIT = ExpressionWrapper(
    F("value_before") - F("value_after"), output_field=DecimalField(max_digits=12, decimal_places=2)
)


def benefit_value(area: Area, start: datetime.date, end: datetime.date) -> Decimal:
    """优惠金额: the value of the benefits given in the period, in yuan: the sum of value
    before less value paid over ``use_records``."""
    total = use_records(area, start, end).aggregate(total=Sum(BENEFIT))["total"]
    return (total or ZERO).quantize(Decimal("0.01"))


# ---------------------------------------------------------------- all of them


# key → (figure, records behind it)
FIGURES = {
    "merchants": (merchants, merchant_records),
    "agreements_in_force": (agreements_in_force, agreement_records),
    "cards_issued": (cards_issued, issued_card_records),
    "cards_active": (cards_active, active_card_records),
    "card_uses": (card_uses, use_records),
    "card_holders_served": (card_holders_served, use_records),
    "benefit_value": (benefit_value, use_records),
}


def records(key: str, area: Area, start: datetime.date, end: datetime.date, **options):
    """The queryset behind figure ``key`` (a key of ``FIGURES``; ``agreements_in_force``
    takes ``category=`` for one category of ``agreements_by_category``). For
    ``card_holders_served`` and ``benefit_value`` these are the uses they are computed
    from."""
    if key not in FIGURES:
        raise KeyError(f"No services figure is called {key!r}.")
    return FIGURES[key][1](area, start, end, **options)


def all_figures(area: Area, start: datetime.date, end: datetime.date) -> dict:
    """Every figure of this module for one area and period, by key (plus
    ``agreements_by_category``)."""
    found = {key: figure(area, start, end) for key, (figure, _records) in FIGURES.items()}
    found["agreements_by_category"] = agreements_by_category(area, start, end)
    return found
