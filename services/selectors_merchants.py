"""Reading merchants and agreements the way a user may: the filtered lists (a constant
number of queries whatever their length), what "in force", "expiring soon" and "due for
renewal" mean, and the histories the detail pages show."""

import datetime

from django.db.models import Count, Exists, OuterRef, Prefetch, Q

from network.models import Area
from residents.pages import history_entries
from services.models import (
    RENEWAL_DAYS,
    Agreement,
    AgreementItem,
    AgreementStatus,
    Merchant,
    MerchantAccount,
)

# An agreement that expired this many days ago or less, with nothing newer for its
# merchant, is still listed for renewal.
EXPIRED_RENEWAL_DAYS = 90


# ---------------------------------------------------------------- what the statuses mean


def in_force_q(today: datetime.date, prefix: str = "") -> Q:
    """Signed, not archived, and ``today`` within its validity (Agreement.in_force_on)."""
    return Q(
        **{
            f"{prefix}status": AgreementStatus.SIGNED,
            f"{prefix}archived_at__isnull": True,
            f"{prefix}valid_from__lte": today,
            f"{prefix}valid_to__gte": today,
        }
    )


def expiring_q(today: datetime.date) -> Q:
    """In force and ending within ``RENEWAL_DAYS`` days."""
    return in_force_q(today) & Q(valid_to__lte=today + datetime.timedelta(days=RENEWAL_DAYS))


def status_q(status: str, today: datetime.date) -> Q:
    signed = Q(status=AgreementStatus.SIGNED)
    return {
        "in_force": in_force_q(today),
        "expiring": expiring_q(today),
        "not_yet": signed & Q(valid_from__gt=today),
        "expired": signed & Q(valid_to__lt=today),
        "draft": Q(status=AgreementStatus.DRAFT),
        "terminated": Q(status=AgreementStatus.TERMINATED),
    }.get(status, Q())


def with_shown_status(agreements, today: datetime.date):
    """Set ``status_shown`` (and ``status_key`` for the badge) on each agreement."""
    for agreement in agreements:
        agreement.status_shown = agreement.shown_status(today)
        agreement.status_key = status_key(agreement, today)
    return agreements


def status_key(agreement: Agreement, today: datetime.date) -> str:
    if agreement.status != AgreementStatus.SIGNED:
        return agreement.status
    if today < agreement.valid_from:
        return "not_yet"
    if today > agreement.valid_to:
        return "expired"
    if agreement.valid_to <= today + datetime.timedelta(days=RENEWAL_DAYS):
        return "expiring"
    return "in_force"


# ---------------------------------------------------------------- merchants


def merchants_for(user, today: datetime.date):
    """Merchants a user may see, with what a row shows: the managing area, the areas
    served (one query for the page) and the agreements in force that the user may see."""
    return (
        Merchant.objects.visible_to(user)
        .select_related("area")
        .prefetch_related(Prefetch("serves", queryset=Area.objects.order_by("path")))
        .annotate(
            agreements_in_force=Count(
                "agreements",
                # visible_to, not the user's own areas: a community sees its street
                # office's agreements too
                filter=in_force_q(today, "agreements__")
                & Q(agreements__in=Agreement.objects.visible_to(user).values("pk")),
                distinct=True,
            )
        )
        .order_by("name", "id")
    )


def filter_merchants(records, filters: dict):
    """Apply the list's filters (validated by MerchantFilterForm) to ``records``."""
    if filters.get("area") is not None:
        records = records.filter(area__path__startswith=filters["area"].path)
    if filters.get("category"):
        records = records.filter(category=filters["category"])
    if filters.get("serves") is not None:
        served = Merchant.serves.through.objects.filter(
            area__path__startswith=filters["serves"].path
        ).values("merchant_id")
        records = records.filter(pk__in=served)
    text = filters.get("q")
    if text:
        records = records.filter(Q(name__icontains=text) | Q(address__icontains=text))
    return records.filter(archived_at__isnull=not filters.get("archived"))


def merchant_agreements(user, merchant: Merchant, today: datetime.date) -> list[Agreement]:
    """The merchant's agreements the user may see, newest first, with their items."""
    agreements = (
        Agreement.objects.visible_to(user)
        .filter(merchant=merchant)
        .select_related("area")
        .annotate(item_count=Count("items", filter=Q(items__is_withdrawn=False)))
        .order_by("-valid_to", "-id")
    )
    return with_shown_status(list(agreements), today)


def merchant_accounts(user, merchant: Merchant):
    return (
        MerchantAccount.objects.visible_to(user)
        .filter(merchant=merchant)
        .select_related("user")
        .order_by("-is_active", "created_at", "id")
    )


def merchant_history(merchant: Merchant):
    rows = merchant.history.select_related("history_user")
    return history_entries(rows)


# ---------------------------------------------------------------- agreements


def newer_agreement_exists(user):
    """An annotation: the merchant has another agreement (one the user may see, not
    archived, not a terminated one) that ends later."""
    newer = (
        Agreement.objects.visible_to(user)
        .filter(
            merchant=OuterRef("merchant"),
            archived_at__isnull=True,
            valid_to__gt=OuterRef("valid_to"),
        )
        .exclude(status=AgreementStatus.TERMINATED)
        .exclude(pk=OuterRef("pk"))
    )
    return Exists(newer)


def agreements_for(user):
    """Agreements a user may see, with what a row shows."""
    return (
        Agreement.objects.visible_to(user)
        .select_related("merchant", "area")
        .annotate(item_count=Count("items", filter=Q(items__is_withdrawn=False)))
        .order_by("-valid_to", "-id")
    )


def filter_agreements(records, filters: dict, *, today: datetime.date):
    """Apply the list's filters (validated by AgreementFilterForm) to ``records``."""
    if filters.get("status"):
        records = records.filter(status_q(filters["status"], today))
    if filters.get("area") is not None:
        records = records.filter(area__path__startswith=filters["area"].path)
    if filters.get("category"):
        offered = AgreementItem.objects.filter(
            agreement=OuterRef("pk"), category=filters["category"]
        )
        records = records.filter(Exists(offered))
    if filters.get("merchant") is not None:
        records = records.filter(merchant=filters["merchant"])
    return records.filter(archived_at__isnull=not filters.get("archived"))


def renewals_for(user, today: datetime.date):
    """What is due for renewal: agreements in force that end within ``RENEWAL_DAYS`` days,
    and those that expired in the last ``EXPIRED_RENEWAL_DAYS`` days with no newer
    agreement for their merchant. Soonest ending first."""
    recently_expired = Q(
        status=AgreementStatus.SIGNED,
        archived_at__isnull=True,
        valid_to__lt=today,
        valid_to__gte=today - datetime.timedelta(days=EXPIRED_RENEWAL_DAYS),
        has_newer=False,
    )
    return (
        agreements_for(user)
        .filter(merchant__archived_at__isnull=True)
        .annotate(has_newer=newer_agreement_exists(user))
        .filter(expiring_q(today) | recently_expired)
        .order_by("valid_to", "id")
    )


def agreement_items(agreement: Agreement):
    """The agreement's items with how many uses (not voided) each has had: one query."""
    return agreement.items.annotate(
        use_count=Count("uses", filter=Q(uses__archived_at__isnull=True))
    ).order_by("is_withdrawn", "id")


def agreement_history(agreement: Agreement):
    """The agreement's changes and its items', newest first."""
    entries = history_entries(agreement.history.select_related("history_user"))
    item_rows = AgreementItem.history.filter(agreement_id=agreement.pk).select_related(
        "history_user"
    )
    entries += history_entries(item_rows, subject_of=lambda row: row.description)
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries
