"""Handing a household over to another sub-district (跨街道移交).

The old sub-district sends the household to a community of another sub-district; until the
receiving side accepts, the household stays where it is (the old side still sees it and may
cancel). Accepting moves the household and its members; declining or cancelling clears the
handover. Every step is atomic and leaves history on the same rows, so the history moves with
the household. Within one sub-district a household is moved, not handed over
(``operations.household_move``).
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from network.access import area_q, can_change_area
from network.models import Area, AreaLevel
from residents.models import Household


def _subdistrict_id(area: Area) -> int | None:
    sub = area.subdistrict()
    return sub.pk if sub else None


def target_communities(household: Household):
    """Every active community of the district outside the household's sub-district. The target
    is by definition outside the sender's scope, so this is not scoped; pages show only names
    and codes."""
    communities = Area.objects.filter(level=AreaLevel.COMMUNITY, is_active=True)
    sub = household.community.subdistrict()
    if sub is not None:
        communities = communities.exclude(path__startswith=sub.path)
    return communities.order_by("path")


def incoming_households(user):
    """Households sent to a community the user may change (not otherwise visible to them)."""
    return Household.objects.filter(
        area_q(user, "handover_to", for_change=True),
        handover_to__isnull=False,
        archived_at__isnull=True,
    )


def get_incoming_or_404(user, pk) -> Household:
    try:
        return incoming_households(user).select_related("community", "handover_to").get(pk=pk)
    except (Household.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def handover_send(*, by, household: Household, community: Area) -> Household:
    if not can_change_area(by, household.community):
        raise ValidationError(_("This household is outside the areas you manage."))
    if household.archived_at:
        raise ValidationError(_("An archived household cannot be handed over."))
    if household.handover_to_id:
        raise ValidationError(
            _("This household is already being handed over to %(c)s.")
            % {"c": household.handover_to.name}
        )
    if community.level != AreaLevel.COMMUNITY or not community.is_active:
        raise ValidationError(_("A household can only be handed over to an active community."))
    if _subdistrict_id(community) == _subdistrict_id(household.community):
        raise ValidationError(
            _("%(c)s is in the same sub-district: move the household instead.")
            % {"c": community.name}
        )
    with transaction.atomic():
        locked = Household.objects.select_for_update().get(pk=household.pk)
        if locked.handover_to_id:  # sent by someone else a moment ago
            raise ValidationError(_("This household is already being handed over."))
        household.handover_to = community
        household.handover_sent_at = timezone.now()
        household._change_reason = f"handover sent to {community.name}"
        household.save()
    return household


def handover_cancel(*, by, household: Household) -> Household:
    if not can_change_area(by, household.community):
        raise ValidationError(_("This household is outside the areas you manage."))
    if not household.handover_to_id:
        raise ValidationError(_("This household is not being handed over."))
    target = household.handover_to.name
    household.handover_to = None
    household.handover_sent_at = None
    household._change_reason = f"handover to {target} cancelled"
    household.save()
    return household


def handover_accept(*, by, household: Household) -> Household:
    """Move the household and all its members into the target community."""
    target = household.handover_to
    if target is None:
        raise ValidationError(_("This household is not being handed over."))
    if not can_change_area(by, target):
        raise ValidationError(_("Only the receiving side can accept a handover."))
    if not target.is_active:
        raise ValidationError(_("The receiving community is no longer active; decline instead."))
    old = household.community
    reason = f"handed over from {old.name} to {target.name}"
    with transaction.atomic():
        household.community = target
        household.handover_to = None
        household.handover_sent_at = None
        household._change_reason = reason
        household.save()
        for person in household.members.all():
            person._change_reason = reason
            person.save()  # Person.save copies the household's community
    return household


def handover_decline(*, by, household: Household, reason: str) -> Household:
    target = household.handover_to
    if target is None:
        raise ValidationError(_("This household is not being handed over."))
    if not can_change_area(by, target):
        raise ValidationError(_("Only the receiving side can decline a handover."))
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("Say why the handover is declined."))
    household.handover_to = None
    household.handover_sent_at = None
    household._change_reason = f"handover to {target.name} declined: {reason}"
    household.save()
    return household


def outgoing_households(user):
    """Households the user may change that wait for the other side."""
    return Household.objects.changeable_by(user).filter(
        handover_to__isnull=False, archived_at__isnull=True
    )
