"""Reads behind the pages of card uses: the desk's list (scoped to the holders the user may
see) with its filters and totals, a use's history, and the till's own figures (one merchant,
holders' names masked)."""

import dataclasses
import datetime
from decimal import Decimal

from django.db.models import Count, DecimalField, F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from network.models import Post
from residents.names import masked_name
from residents.pages import history_entries
from residents.selectors import reason_text
from services.models import AgreementItem, CardUse, Merchant, ServiceCard
from services.selectors_cards import resident_area_q
from services.settlement import yuan
from services.uses import usable_items

TILL_RECENT = 8  # uses listed on the till's home page
VOID_PREFIX = "voided: "  # the change reason of a void, followed by the reason typed

BENEFIT = Sum(F("value_before") - F("value_after"), output_field=DecimalField(max_digits=14))


# ---------------------------------------------------------------- the desk


def uses_for(user):
    """The uses ``user`` may see (by the holder's community), with what the list shows."""
    return CardUse.objects.filter(resident_area_q(user, "card__holder__community")).select_related(
        "card__holder__community", "merchant", "item__agreement", "recorded_by"
    )


def holds_a_post(user) -> bool:
    """Staff accounts (with a post, past, current or future) never become till logins: a
    till login must see nothing but its merchant."""
    return user.is_superuser or Post.objects.filter(user=user).exists()


def desk_merchants(user):
    """Merchants a user may record a use at: those they may see, still partners."""
    return Merchant.objects.visible_to(user).current().order_by("name", "id")


def filter_uses(records, filters: dict):
    """Apply the list's filters to an already scoped queryset of uses."""
    if filters.get("area") is not None:
        records = records.filter(card__holder__community__path__startswith=filters["area"].path)
    if filters.get("merchant") is not None:
        records = records.filter(merchant=filters["merchant"])
    if filters.get("category"):
        records = records.filter(item__category=filters["category"])
    if filters.get("channel"):
        records = records.filter(channel=filters["channel"])
    if filters.get("date_from"):
        records = records.filter(used_on__gte=filters["date_from"])
    if filters.get("date_to"):
        records = records.filter(used_on__lte=filters["date_to"])
    return records.filter(archived_at__isnull=not filters.get("archived"))


def use_totals(records) -> dict:
    """Uses and the sums over ``records`` in one query: value, paid, benefit."""
    sums = records.order_by().aggregate(
        uses=Count("pk"),
        before_sum=Sum("value_before"),
        paid_sum=Sum("value_after"),
        benefit_sum=BENEFIT,
    )
    return {
        "uses": sums["uses"],
        "value_before": yuan(sums["before_sum"]),
        "paid": yuan(sums["paid_sum"]),
        "benefit": yuan(sums["benefit_sum"]),
    }


def reason_of_change(reason: str) -> str:
    """A use's change reasons in the user's language: a void carries the reason typed."""
    if reason.startswith(VOID_PREFIX):
        return _("voided: %(reason)s") % {"reason": reason[len(VOID_PREFIX) :]}
    return reason_text(reason)


def use_history(use: CardUse):
    return history_entries(use.history.select_related("history_user"), reason_of=reason_of_change)


def item_label(item: AgreementItem) -> str:
    """A service as the desk chooses it: what, the benefit, and the usual price."""
    label = f"{item.description} · {item.benefit_text}"
    if item.usual_price is not None:
        label += " · " + _("usually ¥%(price)s") % {"price": item.usual_price}
    return label


def service_choices(merchant: Merchant | None, day: datetime.date | None) -> list:
    """The services the desk may choose: ``merchant``'s usable items on ``day``."""
    if merchant is None or day is None:
        return []
    return [(item.pk, item_label(item)) for item in usable_items(merchant, day)]


# ---------------------------------------------------------------- the till


@dataclasses.dataclass(frozen=True)
class TillCard:
    """What a till may know of a card: its number, validity and the holder's masked name —
    nothing else of the register."""

    number: str
    display_number: str
    holder: str  # masked
    valid_until: datetime.date
    status: str  # active, lost, revoked, expired
    status_label: str

    @classmethod
    def of(cls, card: ServiceCard, today: datetime.date) -> "TillCard":
        return cls(
            number=card.number,
            display_number=card.display_number,
            holder=masked_name(card.holder.name),
            valid_until=card.valid_until,
            status=card.effective_status(today),
            status_label=card.shown_status(today),
        )


@dataclasses.dataclass(frozen=True)
class TillUse:
    """A use as the till lists it."""

    card_number: str
    holder: str  # masked
    service: str
    recorded_at: datetime.datetime
    used_on: datetime.date
    value_before: Decimal
    paid: Decimal

    @property
    def benefit(self) -> Decimal:
        return self.value_before - self.paid


def till_uses(merchant: Merchant):
    """The merchant's own uses that count (not voided)."""
    return CardUse.objects.filter(merchant=merchant, archived_at__isnull=True)


def till_today(merchant: Merchant, today: datetime.date) -> dict:
    """Today's uses at the merchant: how many, and the value of the benefits given."""
    sums = (
        till_uses(merchant).filter(used_on=today).aggregate(uses=Count("pk"), benefit_sum=BENEFIT)
    )
    return {"uses": sums["uses"], "benefit": yuan(sums["benefit_sum"])}


def till_recent(merchant: Merchant, limit: int = TILL_RECENT) -> list[TillUse]:
    """The merchant's last uses, newest first, holders' names masked."""
    records = (
        till_uses(merchant)
        .select_related("card__holder", "item")
        .order_by("-used_on", "-created_at", "-id")[:limit]
    )
    return [
        TillUse(
            card_number=use.card.display_number,
            holder=masked_name(use.card.holder.name),
            service=use.item.description,
            recorded_at=timezone.localtime(use.created_at),
            used_on=use.used_on,
            value_before=use.value_before,
            paid=use.value_after,
        )
        for use in records
    ]
