"""Writes of the phone-first log: a quick visit (with its follow-up and assistance) or a
quick meeting, each in one transaction, each once per submission key."""

import uuid

from django.db import transaction

from outreach.models import Assistance, FollowUp, Meeting, Visit
from outreach.selectors_pairings import pairings_of


def pairing_for_visit(*, by, household, day):
    """The pairing under which ``by`` visits ``household``: one of theirs in force that
    day (the oldest first), so the visit counts towards the rhythm it keeps."""
    return pairings_of(by, day).filter(household=household).order_by("start_date", "id").first()


def quick_visit_record(*, data: dict, by, key: uuid.UUID | None) -> Visit:
    """Record a visit from the quick form's cleaned ``data``: ``by`` among the visitors,
    one follow-up and one assistance when given."""
    household = data["household"]
    with transaction.atomic():
        visit = Visit(
            household=household,
            liaison_group=data.get("liaison_group"),
            visited_on=data["visited_on"],
            kind=data["kind"],
            festival=data.get("festival"),
            learned=data.get("learned", ""),
            needs=data.get("needs", ""),
            pairing=pairing_for_visit(by=by, household=household, day=data["visited_on"]),
            created_by=by,
            submission_key=key or uuid.uuid4(),
        )
        visit.save()
        visit.visitors.add(by)
        action = (data.get("follow_up_action") or "").strip()
        if action:
            FollowUp.objects.create(visit=visit, action=action, due_on=data["follow_up_due_on"])
        if data.get("assistance_kind"):
            Assistance.objects.create(
                visit=visit,
                kind=data["assistance_kind"],
                value=data["assistance_value"],
                description=(data.get("assistance_description") or "").strip(),
            )
    return visit


def quick_meeting_record(*, data: dict, by, key: uuid.UUID | None) -> Meeting:
    """Record a meeting from the quick form's cleaned ``data``."""
    with transaction.atomic():
        meeting = Meeting(
            kind=data["kind"],
            area=data["area"],
            liaison_group=data.get("liaison_group"),
            held_on=data["held_on"],
            venue=(data.get("venue") or "").strip(),
            other_attendees=data.get("other_attendees") or 0,
            minutes=data.get("minutes", ""),
            created_by=by,
            submission_key=key or uuid.uuid4(),
        )
        meeting.save()
        if data.get("attending_liaisons"):
            meeting.attending_liaisons.set(data["attending_liaisons"])
        if data.get("me"):
            meeting.attending_users.add(by)
    return meeting
