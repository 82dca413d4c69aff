"""Timeline entries of pairings for the household page (see residents.timeline)."""

from functools import cache

from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils.translation import gettext as _

from network.access import can_change_area
from network.models import User
from outreach.models import Pairing, PairingKind
from residents.models import Person
from residents.timeline import TimelineEntry, detail_url

KIND_RANK = 2  # within a day: after visits, before consultations


@cache
def _names() -> dict:
    """The paired person's and the volunteer's names, by scalar subquery: joining the
    register's persons (a table with many indexes) twice costs PostgreSQL more to plan than
    to run. Built once (Django copies an expression when a query uses it)."""
    return {
        alias: Subquery(Person.objects.filter(pk=OuterRef(field)).order_by().values("name")[:1])
        for alias, field in (("person_name", "person_id"), ("volunteer", "partner_person_id"))
    }


def _partner(user_id, username, real_name, first_name, last_name, liaison, volunteer) -> str:
    """As ``selectors_pairings.partner_name``, from the columns of one row: the official
    (by ``User.display_name``), else the liaison, else the volunteer."""
    if user_id:
        return User(
            username=username, real_name=real_name, first_name=first_name, last_name=last_name
        ).display_name
    return liaison or volunteer or ""


def entries(household, user, *, before=None, limit=21) -> list:
    """The household's pairings the user may see (archived ones left out), newest first by
    start date, started strictly before ``before``: one query."""
    if not user.has_perm("outreach.view_pairing"):
        return []
    wanted = {"household": household, "archived_at__isnull": True}
    if before is not None:
        wanted["start_date__lt"] = before
    rows = (
        Pairing.objects.visible_to(user)
        .filter(**wanted)
        .annotate(**_names())
        .order_by("-start_date", "-id")
        .values_list(
            "pk",
            "start_date",
            "end_date",
            "kind",
            "person_name",
            "partner_user_id",
            "partner_user__username",
            "partner_user__real_name",
            "partner_user__first_name",
            "partner_user__last_name",
            "partner_liaison__name",
            "volunteer",
        )[:limit]
    )
    url = detail_url("outreach:pairing-detail")
    label = _("Pairing")
    kinds = {value: str(label) for value, label in PairingKind.choices}
    found = []
    for pk, start, end, kind, person_name, *partner in rows:
        detail = []
        if person_name is not None:
            detail.append(_("with %(name)s") % {"name": person_name})
        if end:
            detail.append(_("until %(date)s") % {"date": end.isoformat()})
        found.append(
            TimelineEntry(
                on=start,
                sort_key=(start, KIND_RANK, pk),
                kind=label,
                title=f"{kinds.get(kind, kind)} · {_partner(*partner)}",
                detail=" · ".join(detail),
                url=url(pk),
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
