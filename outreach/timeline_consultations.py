"""Timeline entries of consultations for the household page (see residents.timeline).

A consultation is on a household's timeline when the person who came or called is one of
its members. Consultations are staff work: users without the permission (liaisons) see
none of them, and are offered no button to record one."""

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from network.access import can_change_area
from outreach.models import Consultation, ConsultationStatus, Topic
from outreach.selectors_consultations import start_of_day
from residents.models import Relation
from residents.timeline import TimelineEntry, current_members, detail_url, shorten

KIND_RANK = 3  # order within a day: visits, pairings, then consultations
DETAIL_CHARS = 80


def entries(household, user, *, before=None, limit=21) -> list:
    """At most ``limit`` current consultations of the household's members that ``user``
    may see, received before the day ``before``, newest first: one query."""
    if not user.has_perm("outreach.view_consultation"):
        return []
    wanted = {"archived_at__isnull": True, "person__household": household}
    if before is not None:
        wanted["received_at__lt"] = start_of_day(before)
    records = Consultation.objects.visible_to(user).filter(**wanted).order_by("-received_at", "-id")
    kind = _("Consultation")
    topics = {value: str(label) for value, label in Topic.choices}
    statuses = {value: str(label) for value, label in ConsultationStatus.choices}
    url = detail_url("outreach:consultation-detail")
    zone = timezone.get_current_timezone()
    result = []
    rows = records.values_list("pk", "received_at", "topic", "status", "summary")[:limit]
    for pk, received_at, topic, status, summary in rows:
        day = timezone.localtime(received_at, zone).date()
        result.append(
            TimelineEntry(
                on=day,
                sort_key=(day, KIND_RANK, pk),
                kind=kind,
                title=f"{topics.get(topic, topic)} · {statuses.get(status, status)}",
                detail=shorten(summary, DETAIL_CHARS),
                url=url(pk),
            )
        )
    return result


def actions(household, user) -> list:
    """A button to record a consultation with the head of the household (or its first
    member) chosen, for staff who may record consultations in the household's community."""
    if not user.has_perm("outreach.add_consultation"):
        return []
    if not can_change_area(user, household.community):
        return []
    members = current_members(household)  # read once for the page's buttons
    heads = [p.pk for p in members if p.relation == Relation.HEAD]
    member = (heads or [p.pk for p in members] or [None])[0]
    url = reverse("outreach:consultation-create")
    if member is not None:
        url = f"{url}?person={member}"
    return [(_("Record a consultation"), url)]
