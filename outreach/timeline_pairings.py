"""Timeline entries of pairings for the household page (see residents.timeline)."""

from django.urls import reverse
from django.utils.translation import gettext as _

from network.access import can_change_area
from outreach.models import Pairing
from outreach.selectors_pairings import partner_name
from residents.timeline import TimelineEntry

KIND_RANK = 2  # within a day: after visits, before consultations


def entries(household, user, *, before=None, limit=21) -> list:
    """The household's pairings the user may see (archived ones left out), newest first by
    start date, started strictly before ``before``: one query."""
    if not user.has_perm("outreach.view_pairing"):
        return []
    records = Pairing.objects.visible_to(user).filter(household=household, archived_at__isnull=True)
    if before is not None:
        records = records.filter(start_date__lt=before)
    records = records.select_related("person", "partner_user", "partner_liaison", "partner_person")
    found = []
    for pairing in records.order_by("-start_date", "-id")[:limit]:
        detail = []
        if pairing.person_id:
            detail.append(_("with %(name)s") % {"name": pairing.person.name})
        if pairing.end_date:
            detail.append(_("until %(date)s") % {"date": pairing.end_date.isoformat()})
        found.append(
            TimelineEntry(
                on=pairing.start_date,
                sort_key=(pairing.start_date, KIND_RANK, pairing.id),
                kind=_("Pairing"),
                title=f"{pairing.get_kind_display()} · {partner_name(pairing)}",
                detail=" · ".join(detail),
                url=reverse("outreach:pairing-detail", args=[pairing.pk]),
            )
        )
    return found


def actions(household, user) -> list:
    """ "Pair someone with this household", for those who record pairings there."""
    if getattr(household, "is_archived", False):
        return []
    if not user.has_perm("outreach.add_pairing") or not can_change_area(user, household.community):
        return []
    url = reverse("outreach:pairing-create") + f"?household={household.pk}"
    return [(_("Pair someone with this household"), url)]
