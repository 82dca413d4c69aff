"""Shared pieces of the visit tests: a festival, visits made directly, and the POST data
of the one-page entry form (the visit with its follow-up and assistance formsets)."""

import datetime
import uuid
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from outreach.models import Assistance, Festival, FollowUp, Visit, VisitKind

CREATE = "outreach:visit-create"


def url(name, *args):
    return reverse(f"outreach:{name}", args=args)


def mid_autumn():
    """中秋节 (seeded by the festivals migration; created when a test database lacks it)."""
    festival, _ = Festival.objects.get_or_create(
        name="中秋节", defaults={"calendar": "lunar", "month": 8, "day": 15}
    )
    return festival


def make_visit(household, *, group=None, by=None, days_ago=3, **fields):
    """A visit recorded straight in the database (not through the form)."""
    fields.setdefault("kind", VisitKind.CARE)
    fields.setdefault("learned", "家中老人腿脚不便，希望社区帮忙申请助行器。")
    visit = Visit.objects.create(
        household=household,
        liaison_group=group,
        visited_on=timezone.localdate() - datetime.timedelta(days=days_ago),
        created_by=by,
        **fields,
    )
    if by is not None:
        visit.visitors.add(by)
    return visit


def add_follow_up(visit, *, due_in=7, **fields):
    fields.setdefault("action", "联系民政科办理助行器申请")
    return FollowUp.objects.create(
        visit=visit, due_on=timezone.localdate() + datetime.timedelta(days=due_in), **fields
    )


def add_assistance(visit, value="200", kind="cash", description="慰问金"):
    return Assistance.objects.create(
        visit=visit, kind=kind, value=Decimal(value), description=description
    )


def management(prefix, total, initial=0):
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "30",
    }


def entry_data(household, *, follow_ups=(), assistance=(), key=None, **fields):
    """POST data of the entry form. ``follow_ups``: dicts with action, due_on, assignee;
    ``assistance``: dicts with kind, description, value."""
    data = {
        "household": str(household.pk),
        "visited_on": timezone.localdate().isoformat(),
        "kind": VisitKind.CARE,
        "festival": "",
        "pairing": "",
        "liaison_group": "",
        "other_visitors": "",
        "learned": "马师傅刚做完手术，在家休养。",
        "needs": "希望了解大病救助政策。",
        "submission_key": str(key or uuid.uuid4()),
    }
    data.update(management("follow_ups", len(follow_ups)))
    for i, row in enumerate(follow_ups):
        data.update({f"follow_ups-{i}-{k}": str(v) for k, v in row.items()})
    data.update(management("assistance", len(assistance)))
    for i, row in enumerate(assistance):
        data.update({f"assistance-{i}-{k}": str(v) for k, v in row.items()})
    for name, value in fields.items():
        data[name] = value
    return {k: v for k, v in data.items() if v is not None}
