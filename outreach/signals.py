"""Outreach records keep a copy of their household's community for scoping; when the
register moves or hands over a household, the copies follow (the register cannot know
about outreach: dependencies point one way)."""

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from residents.models import Household


@receiver(post_save, sender=Household, dispatch_uid="outreach_follow_household")
def follow_household(sender, instance, raw=False, using=None, **kwargs):
    """Visits, pairings and the photos of visits move with the household, all or none: a
    photo left behind would stay visible to the old community and hidden from the new."""
    if raw:
        return
    from outreach.models import Pairing, Photo, Visit

    community_id = instance.community_id
    with transaction.atomic(using=using):
        for records in (
            Visit.objects.filter(household=instance),
            Pairing.objects.filter(household=instance),
            Photo.objects.filter(visit__household=instance),
        ):
            records.using(using).exclude(community_id=community_id).update(
                community_id=community_id
            )
