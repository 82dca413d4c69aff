"""Timeline entries of visits for the household page (see residents.timeline): the
household's visits the user may see, newest first, in one query."""

from decimal import Decimal
from functools import cache
from urllib.parse import urlencode

from django.db.models import Min, OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from network.access import can_change_area, scope_for
from outreach.common import default_group, may_record_in
from outreach.models import FollowUp, FollowUpStatus, Visit, VisitKind
from outreach.selectors_visits import assistance_total, open_follow_ups_count
from residents.timeline import TimelineEntry, detail_url, shorten

KIND_RANK = 1  # within a day: after pairings (0), before consultations and assistance
LEARNED_CHARS = 60


@cache
def _figures() -> dict:
    """The annotations of a visit's figures, built once (Django copies an expression when a
    query uses it): open follow-ups, the earliest due date among them, assistance given."""
    return {
        "open_follow_ups": open_follow_ups_count(),
        "first_open_due": _first_open_due(),
        "assistance_total": assistance_total(),
    }


def _first_open_due():
    """The earliest due date of the visit's open follow-ups: one has passed exactly when
    ``selectors_visits.overdue_follow_ups`` holds. A scalar subquery probes the follow-ups
    of the page's visits by index; the ``EXISTS`` there is hashed over every overdue
    follow-up of the district instead."""
    return Subquery(
        FollowUp.objects.filter(visit=OuterRef("pk"), status=FollowUpStatus.OPEN)
        .order_by()
        .values("visit")
        .annotate(first=Min("due_on"))
        .values("first")
    )


def entries(household, user, *, before=None, limit=21) -> list[TimelineEntry]:
    if not user.has_perm("outreach.view_visit"):
        return []
    wanted = {"household": household, "archived_at__isnull": True}
    if before is not None:
        wanted["visited_on__lt"] = before
    rows = (
        Visit.objects.visible_to(user)
        .filter(**wanted)
        .annotate(**_figures())
        .order_by("-visited_on", "-id")
        .values_list(
            "pk",
            "visited_on",
            "kind",
            "festival__name",
            "learned",
            "open_follow_ups",
            "first_open_due",
            "assistance_total",
        )[:limit]
    )
    today = timezone.localdate()
    kinds = {value: str(label) for value, label in VisitKind.choices}
    kind_label, overdue = _("Visit"), _("overdue")
    url = detail_url("outreach:visit-detail")
    result = []
    for pk, on, kind, festival, learned, open_count, first_due, assistance in rows:
        title = kinds.get(kind, kind)
        if festival is not None:
            title = f"{title} · {festival}"
        detail = [shorten(learned.strip(), LEARNED_CHARS)] if learned else []
        if assistance:
            detail.append(
                _("assistance ¥%(total)s") % {"total": assistance.quantize(Decimal("0.01"))}
            )
        badges = []
        if open_count:
            badges.append(
                ngettext("%(n)s open follow-up", "%(n)s open follow-ups", open_count)
                % {"n": open_count}
            )
        if first_due is not None and first_due < today:
            badges.append(overdue)
        result.append(
            TimelineEntry(
                on=on,
                sort_key=(on, KIND_RANK, pk),
                kind=kind_label,
                title=title,
                detail=" · ".join(detail),
                url=url(pk),
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
