"""Writes to pairings (结对): record, change, end, archive, restore, and hand over to a
successor when the partner has left.

Each function is keyword-only and atomic, checks that ``by`` manages the household's
community, and leaves a change reason in the history (in English, shown translated by
``selectors_pairings.reason_text``). Dates are inclusive: a pairing handed over on a day
ends the day before, and its successor starts that day.
"""

import datetime

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from network.access import can_change_area
from outreach.models import Liaison, Pairing
from outreach.selectors_pairings import (
    check_pairing,
    find_duplicate,
    has_ended,
    partner_name,
    successor_liaisons,
    successor_users,
)
from residents.archiving import set_archived
from residents.models import Household


def _reason(obj, text: str) -> None:
    obj._change_reason = text


def _require_change(by, pairing: Pairing) -> None:
    if not can_change_area(by, pairing.community):
        raise ValidationError(_("This pairing is outside the areas you manage."))


def _lock_household(household_id: int) -> None:
    """Serialise writes to one household's pairings, so that two desks saving the same
    pairing at the same moment cannot both pass the duplicate check."""
    Household.objects.select_for_update().filter(pk=household_id).first()


def pairing_create(*, by, pairing: Pairing, today: datetime.date | None = None) -> Pairing:
    """Record a new pairing (household, person, kind, partner, dates already set)."""
    if pairing.pk:
        raise ValueError("pairing_create records a new pairing")
    pairing.community_id = pairing.household.community_id
    if not can_change_area(by, pairing.household.community):
        raise ValidationError(_("This household is outside the areas you manage."))
    with transaction.atomic():
        _lock_household(pairing.household_id)
        check_pairing(pairing, today)
        _reason(pairing, "created")
        pairing.save()
    return pairing


def pairing_update(*, by, pairing: Pairing, today: datetime.date | None = None) -> Pairing:
    """Save changes to a pairing (a form has set them on ``pairing``)."""
    _require_change(by, pairing)
    if pairing.is_archived:
        raise ValidationError(_("Restore the pairing before changing it."))
    with transaction.atomic():
        _lock_household(pairing.household_id)
        check_pairing(pairing, today)
        pairing.save()
    return pairing


def pairing_end(*, by, pairing: Pairing, on: datetime.date) -> Pairing:
    """End a pairing: ``on`` is its last day."""
    _require_change(by, pairing)
    if pairing.is_archived:
        raise ValidationError(_("Restore the pairing before ending it."))
    if pairing.end_date is not None:
        raise ValidationError(
            _("This pairing already ended on %(date)s.") % {"date": pairing.end_date.isoformat()}
        )
    if on < pairing.start_date:
        raise ValidationError(
            _("A pairing cannot end before it began (%(date)s).")
            % {"date": pairing.start_date.isoformat()}
        )
    if on > timezone.localdate():
        raise ValidationError(_("Record the end of a pairing when it has ended."))
    with transaction.atomic():
        pairing.end_date = on
        _reason(pairing, "ended")
        pairing.save(update_fields=["end_date", "updated_at"])
    return pairing


def pairing_archive(*, by, pairing: Pairing) -> Pairing:
    _require_change(by, pairing)
    if pairing.is_archived:
        return pairing
    with transaction.atomic():
        set_archived(pairing, True)
    return pairing


def pairing_restore(*, by, pairing: Pairing, today: datetime.date | None = None) -> Pairing:
    """Bring an archived pairing back, unless the same partner has since been paired with
    the household again."""
    _require_change(by, pairing)
    if not pairing.is_archived:
        return pairing
    with transaction.atomic():
        _lock_household(pairing.household_id)
        if not has_ended(pairing, today):
            duplicate = find_duplicate(pairing, today)
            if duplicate is not None:
                raise ValidationError(
                    _(
                        "It cannot be restored: %(partner)s has been paired with this household "
                        "again since %(date)s."
                    )
                    % {"partner": partner_name(pairing), "date": duplicate.start_date.isoformat()}
                )
        set_archived(pairing, False)
    return pairing


def pairing_hand_over(
    *,
    by,
    pairing: Pairing,
    successor_user=None,
    successor_liaison: Liaison | None = None,
    on: datetime.date,
) -> Pairing:
    """Hand a pairing over to a successor: in one transaction the pairing ends the day
    before ``on`` ("handed over to …") and a new one with the same household, person, kind
    and rhythm starts on ``on`` with the successor as partner and ``succeeds`` pointing
    back. The successor is an official ``by`` may see with a current post covering the
    household's community, or a liaison record ``by`` may see. Returns the new pairing."""
    today = timezone.localdate()
    _require_change(by, pairing)
    if (successor_user is None) == (successor_liaison is None):
        raise ValidationError(
            {NON_FIELD_ERRORS: [_("Choose one successor: an official or a liaison.")]}
        )
    if successor_user is not None:
        allowed = successor_users(by, pairing, today).filter(pk=successor_user.pk).exists()
        if not allowed:
            raise ValidationError(
                {
                    "successor_user": [
                        _(
                            "%(name)s holds no current post covering %(community)s, or is "
                            "outside your areas."
                        )
                        % {"name": successor_user.display_name, "community": pairing.community}
                    ]
                }
            )
    else:
        allowed = successor_liaisons(by, pairing).filter(pk=successor_liaison.pk).exists()
        if not allowed:
            raise ValidationError(
                {"successor_liaison": [_("Choose a current liaison within your areas.")]}
            )
    if on > today:
        raise ValidationError({"on": [_("A handover is recorded when it happens, not before.")]})
    if on <= pairing.start_date:
        raise ValidationError(
            {
                "on": [
                    _("The handover must come after the pairing began (%(date)s).")
                    % {"date": pairing.start_date.isoformat()}
                ]
            }
        )
    with transaction.atomic():
        _lock_household(pairing.household_id)
        old = Pairing.objects.select_for_update().select_related("community").get(pk=pairing.pk)
        if old.is_archived:
            raise ValidationError(_("An archived pairing cannot be handed over."))
        if old.end_date is not None and old.end_date < on:
            raise ValidationError(
                _("This pairing already ended on %(date)s.") % {"date": old.end_date.isoformat()}
            )
        successor = Pairing(
            household_id=old.household_id,
            community_id=old.community_id,
            person_id=old.person_id,
            kind=old.kind,
            partner_user=successor_user,
            partner_liaison=successor_liaison,
            visits_per_year=old.visits_per_year,
            start_date=on,
            succeeds=old,
            note=old.note,
        )
        if find_duplicate(successor, on) is not None:
            raise ValidationError(
                _("%(partner)s is already paired with this household.")
                % {"partner": partner_name(successor)}
            )
        old.end_date = on - datetime.timedelta(days=1)
        _reason(old, f"handed over to {partner_name(successor)}")
        old.save(update_fields=["end_date", "updated_at"])
        _reason(successor, f"handed over from {partner_name(pairing)}")
        successor.save()
    pairing.refresh_from_db()
    return successor
