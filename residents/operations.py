"""Writes to the register that touch several rows or need a rule: archive, restore, move.

Each is atomic and leaves history (django-simple-history records who and when; the change
reason says what)."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from network.access import can_change_area
from network.models import Area, AreaLevel
from residents.models import Household, Person


def _reason(obj, text: str):
    obj._change_reason = text


def household_archive(*, by, household: Household) -> Household:
    """Archive a household and its members; nothing is deleted."""
    if not can_change_area(by, household.community):
        raise ValidationError(_("This household is outside the areas you manage."))
    now = timezone.now()
    with transaction.atomic():
        for person in household.members.filter(archived_at__isnull=True):
            person.archived_at = now
            _reason(person, "archived with household")
            person.save()
        household.archived_at = now
        _reason(household, "archived")
        household.save()
    return household


def household_restore(*, by, household: Household) -> Household:
    """Bring an archived household and the members archived with it back."""
    if not can_change_area(by, household.community):
        raise ValidationError(_("This household is outside the areas you manage."))
    with transaction.atomic():
        for person in household.members.filter(archived_at=household.archived_at):
            person.archived_at = None
            _reason(person, "restored with household")
            person.full_clean(exclude=["household", "community", "ethnicity"])
            person.save()
        household.archived_at = None
        _reason(household, "restored")
        household.save()
    return household


def household_move(*, by, household: Household, community: Area) -> Household:
    """Move a household to another community of the same sub-district; members follow, and
    the history of both stays. Moving to another sub-district is a handover instead."""
    if community.level != AreaLevel.COMMUNITY:
        raise ValidationError(_("A household can only move to a community."))
    if not (can_change_area(by, household.community) and can_change_area(by, community)):
        raise ValidationError(
            _(
                "You can move households only between communities you manage; hand it over to "
                "another sub-district instead."
            )
        )
    if household.community.subdistrict() != community.subdistrict():
        raise ValidationError(
            _("This community is in another sub-district: hand the household over instead.")
        )
    old = household.community
    with transaction.atomic():
        household.community = community
        _reason(household, f"moved from {old.name} to {community.name}")
        household.save()
        for person in household.members.all():
            _reason(person, f"moved from {old.name} to {community.name}")
            person.save()  # Person.save copies the household's community
    return household


def person_archive(*, by, person: Person) -> Person:
    if not can_change_area(by, person.community):
        raise ValidationError(_("This person is outside the areas you manage."))
    person.archived_at = timezone.now()
    _reason(person, "archived")
    person.save()
    return person


def person_restore(*, by, person: Person) -> Person:
    if not can_change_area(by, person.community):
        raise ValidationError(_("This person is outside the areas you manage."))
    person.archived_at = None
    person.validate_constraints()
    _reason(person, "restored")
    person.save()
    return person
