"""Writes to the register that touch several rows or need a rule: saving an edited
household with its members, archive, restore, move.

Each is atomic and leaves history (django-simple-history records who and when; the change
reason says what). Every save raises the record's ``version`` (``network.versioning``): an
edit form loaded before is then stale, and its save is refused with what changed."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from network import versioning
from network.access import can_change_area
from network.models import Area, AreaLevel
from network.versioning import Conflict, StaleEdit
from residents.models import Household, Person
from residents.selectors import SENSITIVE_HISTORY_FIELDS, Viewer, shown_id_number
from residents.typed_input import MAX_ID, whole_number


def _reason(obj, text: str):
    obj._change_reason = text


# ---------------------------------------------------------------- editing (optimistic locking)


def _person_masks(viewer: Viewer) -> dict:
    """ID numbers in a list of changes as the register shows them to ``viewer``."""
    return {"id_number": lambda number: shown_id_number(number, viewer)}


def _hidden(viewer: Viewer, kind: str):
    return () if viewer.sensitive else SENSITIVE_HISTORY_FIELDS[kind]


def _posted_pk(form) -> int | None:
    number = whole_number(form.data.get(form.add_prefix("id")))
    return number if number is not None and 0 < number <= MAX_ID else None


def household_edit_conflicts(
    *, household: Household, form, formset, viewer: Viewer, lock: bool = False
) -> list[Conflict]:
    """The household and each member card of the posted edit page whose record changed
    since the page was loaded (or whose version is missing or bad). ``lock`` (inside the
    saving transaction) keeps their rows locked until it ends."""
    conflicts = []
    found = versioning.check(
        household,
        form.loaded_version,
        subject=_("this household"),
        lock=lock,
        hidden=_hidden(viewer, "household"),
    )
    if found is not None:
        conflicts.append(found)
    for card in formset.initial_forms:
        loaded = versioning.parse_version(card.data.get(card.add_prefix(versioning.FIELD)))
        person = card.instance if card.instance.pk is not None else None
        if person is None:
            # A member archived (or merged away) since: the card's record is not offered.
            pk = _posted_pk(card)
            person = Person.objects.filter(household=household, pk=pk).first() if pk else None
        if person is None:
            conflicts.append(Conflict(subject=_("a member of this household"), invalid=True))
            continue
        found = versioning.check(
            person,
            loaded,
            subject=person.name,
            lock=lock,
            masks=_person_masks(viewer),
            hidden=_hidden(viewer, "person"),
        )
        if found is not None:
            conflicts.append(found)
    return conflicts


def household_save_edit(*, household: Household, form, formset, viewer: Viewer) -> Household:
    """Save an edited household and its member cards (valid ``form`` and ``formset``) in
    one transaction, each with the next version; ``StaleEdit`` and nothing written when any
    of them changed since the page was loaded."""
    with transaction.atomic():
        conflicts = household_edit_conflicts(
            household=household, form=form, formset=formset, viewer=viewer, lock=True
        )
        if conflicts:
            raise StaleEdit(conflicts)
        # An unchanged household is not saved again: its version stays, so a page open on
        # it is not made stale by an edit of one member.
        saved = form.save() if form.has_changed() else household
        formset.instance = saved
        formset.save()
    return saved


# ---------------------------------------------------------------- archive, restore, move


def household_archive(*, by, household: Household) -> Household:
    """Archive a household and its members; nothing is deleted."""
    if not can_change_area(by, household.community):
        raise ValidationError(_("This household is outside the areas you manage."))
    now = timezone.now()
    with transaction.atomic():
        versioning.lock_fresh(household)
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
        versioning.lock_fresh(household)
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
    with transaction.atomic():
        versioning.lock_fresh(household)
        old = household.community
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
    with transaction.atomic():
        versioning.lock_fresh(person)
        person.archived_at = timezone.now()
        _reason(person, "archived")
        person.save()
    return person


def person_restore(*, by, person: Person) -> Person:
    if not can_change_area(by, person.community):
        raise ValidationError(_("This person is outside the areas you manage."))
    with transaction.atomic():
        versioning.lock_fresh(person)
        person.archived_at = None
        person.validate_constraints()
        _reason(person, "restored")
        person.save()
    return person
