"""Timeline entries of visits for the household page (see residents.timeline): the
household's visits the user may see, newest first, in one query."""

from decimal import Decimal
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from network.access import can_change_area, scope_for
from outreach.common import default_group, may_record_in
from outreach.models import Visit
from outreach.selectors_visits import with_figures
from residents.timeline import TimelineEntry

KIND_RANK = 1  # within a day: after pairings (0), before consultations and assistance
LEARNED_CHARS = 60


def entries(household, user, *, before=None, limit=21) -> list[TimelineEntry]:
    if not user.has_perm("outreach.view_visit"):
        return []
    visits = Visit.objects.visible_to(user).filter(household=household, archived_at__isnull=True)
    if before is not None:
        visits = visits.filter(visited_on__lt=before)
    visits = (
        with_figures(visits, timezone.localdate())
        .select_related("festival")
        .order_by("-visited_on", "-id")[:limit]
    )
    result = []
    for visit in visits:
        title = visit.get_kind_display()
        if visit.festival is not None:
            title = f"{title} · {visit.festival.name}"
        detail = [Truncator(visit.learned.strip()).chars(LEARNED_CHARS)] if visit.learned else []
        if visit.assistance_total:
            detail.append(
                _("assistance ¥%(total)s")
                % {"total": visit.assistance_total.quantize(Decimal("0.01"))}
            )
        badges = []
        if visit.open_follow_ups:
            badges.append(
                ngettext("%(n)s open follow-up", "%(n)s open follow-ups", visit.open_follow_ups)
                % {"n": visit.open_follow_ups}
            )
        if visit.has_overdue:
            badges.append(_("overdue"))
        result.append(
            TimelineEntry(
                on=visit.visited_on,
                sort_key=(visit.visited_on, KIND_RANK, visit.pk),
                kind=_("Visit"),
                title=title,
                detail=" · ".join(detail),
                url=reverse("outreach:visit-detail", kwargs={"pk": visit.pk}),
                badges=badges,
            )
        )
    return result


def actions(household, user) -> list[tuple[str, str]]:
    """ "Record a visit" for users who may record one in the household's community."""
    if not user.has_perm("outreach.add_visit") or getattr(household, "is_archived", False):
        return []
    community = household.community
    if not can_change_area(user, community):
        if not scope_for(user).group_ids:
            return []
        if not may_record_in(user, community, default_group(user)):
            return []
    url = reverse("outreach:visit-create") + "?" + urlencode({"household": household.pk})
    return [(_("Record a visit"), url)]
