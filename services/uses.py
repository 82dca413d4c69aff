"""Recording a use of a service card (一人次), at the desk or at a merchant's till, and the
refusals: an unknown, lost, revoked or expired card, or a service that is not in the
merchant's agreement in force that day. A refused use records nothing."""

import datetime
import uuid
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from services.cards import typed_card_number
from services.models import (
    AgreementItem,
    CardStatus,
    CardUse,
    Merchant,
    MerchantAccount,
    ServiceCard,
    UseChannel,
)


def merchant_of(user) -> Merchant | None:
    """The merchant a till login belongs to, or None (not a merchant login, the account or
    the merchant archived or switched off)."""
    if not user.is_authenticated or not user.is_active:
        return None
    account = (
        MerchantAccount.objects.select_related("merchant")
        .filter(user=user, is_active=True, merchant__archived_at__isnull=True)
        .first()
    )
    return account.merchant if account else None


def card_by_number(raw) -> ServiceCard:
    """The card with the typed number, or a ValidationError saying why there is none."""
    number = typed_card_number(raw)
    card = ServiceCard.objects.select_related("holder").filter(number=number).first()
    if card is None:
        raise ValidationError(_("No card has this number."))
    return card


def refuse_card(card: ServiceCard, on: datetime.date) -> None:
    """Raise why ``card`` cannot be used on ``on``, if it cannot."""
    number = card.display_number
    if card.status == CardStatus.LOST:
        raise ValidationError(
            _("Card %(number)s was reported lost; it cannot be used.") % {"number": number}
        )
    if card.status == CardStatus.REVOKED:
        raise ValidationError(
            _("Card %(number)s has been revoked; it cannot be used.") % {"number": number}
        )
    if card.valid_until < on:
        raise ValidationError(
            _("Card %(number)s expired on %(date)s.")
            % {"number": number, "date": card.valid_until.isoformat()}
        )
    if card.issued_on > on:
        raise ValidationError(
            _("Card %(number)s was issued only on %(date)s.")
            % {"number": number, "date": card.issued_on.isoformat()}
        )


def usable_items(merchant: Merchant, on: datetime.date):
    """The services ``merchant`` offers card holders on ``on``: items of its signed,
    unarchived agreements in force that day."""
    return (
        AgreementItem.objects.filter(
            agreement__merchant=merchant,
            agreement__status="signed",
            agreement__archived_at__isnull=True,
            agreement__valid_from__lte=on,
            agreement__valid_to__gte=on,
            is_withdrawn=False,
        )
        .select_related("agreement")
        .order_by("category", "description", "id")
    )


def refuse_item(item: AgreementItem, merchant: Merchant, on: datetime.date) -> None:
    agreement = item.agreement
    if agreement.merchant_id != merchant.pk:
        raise ValidationError(
            _("This service is not in an agreement of %(merchant)s.") % {"merchant": merchant.name}
        )
    if merchant.is_archived:
        raise ValidationError(
            _("%(merchant)s is no longer a partner merchant.") % {"merchant": merchant.name}
        )
    if item.is_withdrawn:
        raise ValidationError(_("This service has been withdrawn from the agreement."))
    if not agreement.in_force_on(on):
        if agreement.status == "signed" and on > agreement.valid_to:
            raise ValidationError(
                _("The agreement expired on %(date)s: no uses are accepted after it.")
                % {"date": agreement.valid_to.isoformat()}
            )
        raise ValidationError(
            _("The agreement is not in force on %(date)s.") % {"date": on.isoformat()}
        )


def record_use(
    *,
    card: ServiceCard,
    merchant: Merchant,
    item: AgreementItem,
    value_before: Decimal,
    user,
    used_on: datetime.date | None = None,
    value_after: Decimal | None = None,
    channel: str = UseChannel.DESK,
    note: str = "",
    submission_key: uuid.UUID | None = None,
) -> tuple[CardUse, bool]:
    """Record one use; ``(use, created)``. A second submission of the same form (same
    ``submission_key``) returns the use already recorded. Raises ValidationError, recording
    nothing, when the card or the service may not be used."""
    today = timezone.localdate()
    used_on = used_on or today
    if submission_key is not None:
        earlier = CardUse.objects.filter(submission_key=submission_key).first()
        if earlier is not None:
            return earlier, False
    if used_on > today:
        raise ValidationError(_("This date is in the future."))
    refuse_card(card, used_on)
    refuse_item(item, merchant, used_on)
    if value_before is None or value_before < 0:
        raise ValidationError(_("Type the value of the service in yuan."))
    if value_after is None:
        value_after = item.price_after(value_before)
    if value_after < 0 or value_after > value_before:
        raise ValidationError(_("What was paid cannot exceed the value."))
    use = CardUse(
        card=card,
        merchant=merchant,
        item=item,
        used_on=used_on,
        value_before=value_before,
        value_after=value_after,
        channel=channel,
        note=note,
        recorded_by=user,
    )
    if submission_key is not None:
        use.submission_key = submission_key
    try:
        with transaction.atomic():
            use.save()
    except IntegrityError:
        earlier = CardUse.objects.filter(submission_key=use.submission_key).first()
        if earlier is None:
            raise
        return earlier, False
    return use, True
