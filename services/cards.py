"""Service cards: numbers, consent, issue, loss and reissue, revocation, and the signed link
that the printed QR code carries.

A card number is ten digits, printed in groups (``002-000042-7``): the sub-district's
three-digit town code (positions 7–9 of its division code), a six-digit sequence within the
sub-district, and a Luhn check digit, so a number mistyped at a till is caught before any
lookup. Digits only, so a phone offers its number pad.
"""

import datetime
import re
import unicodedata

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum import luhn

from network.models import Area
from residents.models import Person, PersonStatus
from services.models import CardScheme, CardStatus, Consent, ServiceCard

NUMBER_LENGTH = 10
_SEPARATORS = re.compile(r"[\s\-‐‑–—_./·]+")
_SIGNING_SALT = "tongxin.services.card"


def card_digits(raw) -> str:
    """``raw`` as typed or scanned, without the spaces, dashes and dots between digit groups
    and with full-width digits made plain ("００１-０００"→"001000")."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", str(raw or "")))


# ---------------------------------------------------------------- numbers


def card_prefix(subdistrict: Area) -> str:
    """Three digits that name the sub-district within its district."""
    code = subdistrict.code or ""
    if len(code) >= 9 and code[6:9].isdigit():
        return code[6:9]
    if subdistrict.pk < 1000:
        return f"{subdistrict.pk:03d}"
    raise ValidationError(_("The sub-district has no division code to number its cards."))


def with_check_digit(digits: str) -> str:
    return digits + luhn.calc_check_digit(digits)


def typed_card_number(raw) -> str:
    """The card number in ``raw`` as typed or scanned (full-width digits, spaces, dashes),
    or a ValidationError that says what is wrong with it."""
    text = card_digits(raw)
    if not text:
        raise ValidationError(_("Type the card number."))
    if not text.isascii() or not text.isdigit():
        raise ValidationError(_("A card number has digits only."))
    if len(text) != NUMBER_LENGTH:
        raise ValidationError(
            _("A card number has %(length)d digits; this one has %(typed)d.")
            % {"length": NUMBER_LENGTH, "typed": len(text)}
        )
    if not luhn.is_valid(text):
        raise ValidationError(_("This is not a valid card number: check for a mistyped digit."))
    return text


def next_card_number(subdistrict: Area) -> str:
    """The next free number of ``subdistrict``; call inside the issuing transaction (the
    sub-district row is locked, so two desks do not take the same number)."""
    Area.objects.select_for_update().filter(pk=subdistrict.pk).first()
    prefix = card_prefix(subdistrict)
    last = (
        ServiceCard.objects.filter(number__startswith=prefix)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    sequence = int(last[len(prefix) : -1]) + 1 if last else 1
    if sequence >= 10**6:
        raise ValidationError(_("The sub-district has used up its card numbers."))
    return with_check_digit(f"{prefix}{sequence:06d}")


# ---------------------------------------------------------------- consent


def current_consent(person: Person) -> Consent | None:
    return Consent.objects.filter(person=person, withdrawn_on__isnull=True).first()


@transaction.atomic
def record_consent(person: Person, *, given_on: datetime.date, form_reference: str, user):
    if given_on > timezone.localdate():
        raise ValidationError({"given_on": _("This date is in the future.")})
    if current_consent(person) is not None:
        raise ValidationError(_("This person's consent is already recorded."))
    return Consent.objects.create(
        person=person, given_on=given_on, form_reference=form_reference, recorded_by=user
    )


@transaction.atomic
def withdraw_consent(consent: Consent, *, on: datetime.date, user) -> list[ServiceCard]:
    """Withdraw the consent; the person's active cards are revoked (merchants may no longer
    know them). Returns the revoked cards."""
    if consent.withdrawn_on is not None:
        raise ValidationError(_("This consent was already withdrawn."))
    if on < consent.given_on:
        raise ValidationError(_("Consent cannot be withdrawn before it was given."))
    consent.withdrawn_on = on
    consent._change_reason = "withdrawn"
    consent.save(update_fields=["withdrawn_on"])
    revoked = []
    for card in ServiceCard.objects.filter(holder=consent.person, status=CardStatus.ACTIVE):
        revoke_card(card, on=on, reason=_("consent withdrawn"), user=user)
        revoked.append(card)
    return revoked


# ---------------------------------------------------------------- issue, loss, reissue


def default_valid_until(issued_on: datetime.date) -> datetime.date:
    years = getattr(settings, "SERVICE_CARD_YEARS", 3)
    try:
        end = issued_on.replace(year=issued_on.year + years)
    except ValueError:  # 29 February
        end = issued_on.replace(year=issued_on.year + years, day=28)
    return end - datetime.timedelta(days=1)


def refuse_issue(holder: Person, scheme: str) -> None:
    """Raise the reason ``holder`` cannot get a card of ``scheme`` now, if there is one."""
    if holder.status != PersonStatus.ACTIVE or holder.archived_at is not None:
        raise ValidationError(
            _("Cards are issued only to residents who are still in the register.")
        )
    if current_consent(holder) is None:
        raise ValidationError(
            _(
                "Record the resident's consent to be known to partner merchants first: "
                "without it no card is issued."
            )
        )
    held = ServiceCard.objects.filter(holder=holder, scheme=scheme, status=CardStatus.ACTIVE)
    card = held.first()
    if card is not None:
        raise ValidationError(
            _("%(name)s already holds card %(number)s; mark it lost to issue a new one.")
            % {"name": holder.name, "number": card.display_number}
        )


def issue_card(
    holder: Person,
    *,
    user,
    scheme: str = CardScheme.LINGTONG,
    issued_on: datetime.date | None = None,
    valid_until: datetime.date | None = None,
    replaces: ServiceCard | None = None,
) -> ServiceCard:
    issued_on = issued_on or timezone.localdate()
    valid_until = valid_until or default_valid_until(issued_on)
    if valid_until < issued_on:
        raise ValidationError(
            {"valid_until": _("A card must be valid after the day it is issued.")}
        )
    subdistrict = holder.community.subdistrict()
    if subdistrict is None:
        raise ValidationError(_("The resident's community belongs to no sub-district."))
    try:
        with transaction.atomic():
            refuse_issue(holder, scheme)
            return ServiceCard.objects.create(
                number=next_card_number(subdistrict),
                scheme=scheme,
                holder=holder,
                issuing_area=subdistrict,
                issued_on=issued_on,
                valid_until=valid_until,
                replaces=replaces,
                issued_by=user,
            )
    except IntegrityError as exc:  # a second desk issued at the same moment
        raise ValidationError(_("The card was not issued: please try again.")) from exc


@transaction.atomic
def set_card_status(card: ServiceCard, status: str, *, on: datetime.date, reason: str, user):
    if card.status != CardStatus.ACTIVE:
        raise ValidationError(
            _("Card %(number)s is already %(status)s.")
            % {"number": card.display_number, "status": card.get_status_display()}
        )
    card.status = status
    card.status_changed_on = on
    card.status_reason = reason
    card._change_reason = status
    card.save(update_fields=["status", "status_changed_on", "status_reason", "updated_at"])
    return card


def revoke_card(card: ServiceCard, *, on: datetime.date, reason: str, user) -> ServiceCard:
    if not str(reason).strip():
        raise ValidationError({"reason": _("Say why the card is revoked.")})
    return set_card_status(card, CardStatus.REVOKED, on=on, reason=str(reason), user=user)


@transaction.atomic
def reissue_lost_card(
    card: ServiceCard, *, on: datetime.date, user, reason: str = ""
) -> ServiceCard:
    """Mark ``card`` lost and issue its holder a new one that ``replaces`` it; the old card's
    history and uses stay with the old card."""
    set_card_status(card, CardStatus.LOST, on=on, reason=reason or _("reported lost"), user=user)
    return issue_card(card.holder, user=user, scheme=card.scheme, issued_on=on, replaces=card)


# ---------------------------------------------------------------- the QR code's signed link


def verification_token(card: ServiceCard) -> str:
    """A signed token naming the card (its number only: no personal data)."""
    return signing.dumps(card.number, salt=_SIGNING_SALT, compress=False)


def card_from_token(token: str) -> ServiceCard | None:
    """The card a token names, or None when the token is forged, garbled or unknown."""
    try:
        number = signing.loads(str(token), salt=_SIGNING_SALT)
    except signing.BadSignature:
        return None
    # Only this office's key signs tokens, but what one names is still checked before a query.
    if not (isinstance(number, str) and len(number) == NUMBER_LENGTH and number.isascii()):
        return None
    if not number.isdigit():
        return None
    return ServiceCard.objects.filter(number=number).first()


def verification_path(card: ServiceCard) -> str:
    return reverse("services:card-verify", kwargs={"token": verification_token(card)})
