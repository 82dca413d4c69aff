"""The home page panel of a user's own outreach work (issue 4 §6): follow-ups due, visits
due under their pairings, consultations they handle, and how many items are overdue.

Everything is read through ``visible_to``: a record in a community the user can no longer
see is not listed. A constant number of queries whatever the amount of work."""

from django.db.models import Count, Q
from django.utils import timezone

from outreach.models import Consultation, ConsultationStatus, FollowUp, FollowUpStatus
from outreach.selectors_pairings import visits_due

SHOWN = 10  # rows of each list on the home page; the rest are counted
OUTREACH_VIEW = (
    "outreach.view_followup",
    "outreach.view_pairing",
    "outreach.view_consultation",
    "outreach.add_visit",
)


def my_follow_ups(user):
    """Open follow-ups that are the user's: assigned to them, or unassigned on a visit they
    recorded; of visits not archived, in communities they see; soonest due first."""
    mine = Q(assignee=user) | Q(assignee__isnull=True, visit__created_by=user)
    return FollowUp.objects.visible_to(user).filter(
        mine, status=FollowUpStatus.OPEN, visit__archived_at__isnull=True
    )


def my_consultations(user):
    """Consultations the user handles that are open or in progress, oldest first."""
    return (
        Consultation.objects.visible_to(user)
        .current()
        .filter(handler=user, status__in=[ConsultationStatus.OPEN, ConsultationStatus.IN_PROGRESS])
    )


def my_work(request):
    """``("outreach/home/my_work.html", context)``, or None for a user without outreach
    permissions."""
    user = request.user
    if not any(user.has_perm(p) for p in OUTREACH_VIEW):
        return None
    today = timezone.localdate()
    panel = {"today": today, "overdue": 0, "may_log": user.has_perm("outreach.add_visit")}

    if user.has_perm("outreach.view_followup"):
        follow_ups = my_follow_ups(user)
        counts = follow_ups.aggregate(
            total=Count("pk"), overdue=Count("pk", filter=Q(due_on__lt=today))
        )
        rows = list(
            follow_ups.select_related("visit__household", "visit__community").order_by(
                "due_on", "id"
            )[:SHOWN]
        )
        for follow_up in rows:
            follow_up.overdue = follow_up.due_on < today
        panel.update(
            show_follow_ups=True,
            follow_ups=rows,
            follow_ups_total=counts["total"],
            follow_ups_overdue=counts["overdue"],
        )
        panel["overdue"] += counts["overdue"]

    if user.has_perm("outreach.view_pairing"):
        due = visits_due(user, today)  # the user's own pairings: one query, a short list
        panel.update(
            show_pairings=True,
            visits_due=[
                {"pairing": p, "expected": expected, "done": done, "missing": expected - done}
                for p, expected, done in due[:SHOWN]
            ],
            visits_due_total=len(due),
        )
        panel["overdue"] += len(due)

    if user.has_perm("outreach.view_consultation"):
        consultations = my_consultations(user)
        total = consultations.count()
        rows = list(
            consultations.select_related("person", "community").order_by("received_at", "id")[
                :SHOWN
            ]
        )
        for consultation in rows:
            received = timezone.localtime(consultation.received_at).date()
            consultation.days_open = max((today - received).days, 0)
        panel.update(show_consultations=True, consultations=rows, consultations_total=total)

    return "outreach/home/my_work.html", panel
