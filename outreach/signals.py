"""Outreach records keep a copy of their household's community for scoping; when the
register moves or hands over a household, the copies follow (the register cannot know
about outreach: dependencies point one way)."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from residents.models import Household


@receiver(post_save, sender=Household, dispatch_uid="outreach_follow_household")
def follow_household(sender, instance, raw=False, **kwargs):
    if raw:
        return
    from outreach.models import Pairing, Visit

    for model in (Visit, Pairing):
        model.objects.filter(household=instance).exclude(community_id=instance.community_id).update(
            community_id=instance.community_id
        )
