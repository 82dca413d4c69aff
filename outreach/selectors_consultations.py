"""Reading consultations (来访、热线、接待窗口) the way a user may: the filtered list, what
counts as overdue, how long one took, the status history and the persons offered in the
form's person box."""

import datetime
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from outreach.common import filter_by_area_group_dates
from outreach.models import Consultation, ConsultationStatus
from outreach.selectors_visits import visible_by_area_ids
from residents.models import Person
from residents.selectors import Viewer, search_persons

# A consultation still open this many days after it came in is overdue: the sub-district's
# own rule of thumb, as for letters and visits (信访), is a reply within 15 days.
OVERDUE_DAYS = 15
OPEN_STATUSES = (ConsultationStatus.OPEN, ConsultationStatus.IN_PROGRESS)
REFERRED = ConsultationStatus.REFERRED
CLOSED_STATUSES = (ConsultationStatus.RESOLVED, REFERRED)
PERSON_CHOICES = 20  # persons offered after a search in the form
# No consultation is received outside these years (the form refuses them), so a bound typed
# beyond them (year 1, year 9999) is moved to them: it selects the same, and stays within
# what a datetime in UTC can hold.
EARLIEST_DAY = datetime.date(1900, 1, 1)
LATEST_DAY = datetime.date(9000, 1, 1)


def start_of_day(day: datetime.date, *, days_after: int = 0) -> datetime.datetime:
    """Midnight at the start of ``day`` (``days_after`` days later) in the local time zone,
    aware; the day is first brought within ``EARLIEST_DAY`` .. ``LATEST_DAY``."""
    day = min(max(day, EARLIEST_DAY), LATEST_DAY) + datetime.timedelta(days=days_after)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def consultations_for(user, areas=None):
    """Consultations a user may see, with what a row shows, newest first."""
    return (
        visible_by_area_ids(Consultation.objects.all(), user, areas)
        .select_related("person", "community", "handler")
        .order_by("-received_at", "-id")
    )


def filter_consultations(records, filters: dict, *, today: datetime.date | None = None):
    """Apply the list's filters (already validated by the filter form) to ``records``.

    Dates bound ``received_at`` by local midnights, so the (community, received_at) index
    serves the range and a day given as "to" is included whole."""
    dates = {}
    if filters.get("date_from"):
        dates["date_from"] = start_of_day(filters["date_from"])
    if filters.get("date_to"):
        dates["date_to"] = start_of_day(filters["date_to"], days_after=1)
    shared = {k: v for k, v in filters.items() if k not in ("date_from", "date_to")}
    records = filter_by_area_group_dates(
        records, shared, area_field="community", date_field="received_at", group_field=None
    )
    if "date_from" in dates:
        records = records.filter(received_at__gte=dates["date_from"])
    if "date_to" in dates:
        records = records.filter(received_at__lt=dates["date_to"])
    for name in ("channel", "topic", "status", "handler"):
        if filters.get(name):
            records = records.filter(**{name: filters[name]})
    state = filters.get("state")
    if state == "open":
        records = records.filter(status__in=OPEN_STATUSES)
    elif state == "overdue":
        records = records.filter(overdue_q(today))
    text = filters.get("q")
    if text:
        records = records.filter(Q(person__name__contains=text) | Q(visitor__contains=text))
    return records


def overdue_q(today: datetime.date | None = None) -> Q:
    """Still open (or in progress) more than ``OVERDUE_DAYS`` days after it came in."""
    today = today or timezone.localdate()
    limit = start_of_day(today - datetime.timedelta(days=OVERDUE_DAYS))
    return Q(status__in=OPEN_STATUSES, received_at__lt=limit)


def received_on(consultation: Consultation) -> datetime.date:
    return timezone.localtime(consultation.received_at).date()


def days_open(consultation: Consultation, today: datetime.date | None = None) -> int | None:
    """Days since it came in, while it is not yet resolved or referred."""
    if consultation.status in CLOSED_STATUSES:
        return None
    today = today or timezone.localdate()
    return max((today - received_on(consultation)).days, 0)


def who_came(consultation: Consultation) -> str:
    """The person from the register, else the visitor as described."""
    if consultation.person_id:
        return consultation.person.name
    return consultation.visitor


# ---------------------------------------------------------------- the status history


@dataclass
class StatusChange:
    at: datetime.datetime
    user: object  # the account that made the change, or None (a script, the shell)
    status: str  # the status value after the change
    status_label: str
    referred_to: str = ""
    reason: str = ""  # "archived", "restored" ... as recorded with the change


def status_history(consultation: Consultation) -> list[StatusChange]:
    """Each change of status (and each archiving or restoring), oldest first: who moved it
    to "resolved", and when. One query over the history rows."""
    labels = dict(ConsultationStatus.choices)
    changes: list[StatusChange] = []
    previous_status = None
    previous_archived = None
    rows = consultation.history.select_related("history_user").order_by("history_date", "pk")
    for row in rows:
        archived = row.archived_at is not None
        moved = row.status != previous_status
        archiving = previous_archived is not None and archived != previous_archived
        if moved or archiving:
            changes.append(
                StatusChange(
                    at=row.history_date,
                    user=row.history_user,
                    status=row.status,
                    status_label=str(labels.get(row.status, row.status)),
                    referred_to=row.referred_to
                    if row.status == ConsultationStatus.REFERRED
                    else "",
                    reason=row.history_change_reason or "",
                )
            )
        previous_status, previous_archived = row.status, archived
    return changes


# ---------------------------------------------------------------- persons for the form


def person_label(person: Person) -> str:
    """Name, community and address: enough to tell two 马晓东 apart, no ID number."""
    return f"{person.name} · {person.community.name} · {person.household.address}"


def persons_found(user, text: str) -> list[Person]:
    """Current persons the user may see whom the search box finds (name, pinyin or its
    initials, address), at most ``PERSON_CHOICES``."""
    if not text:
        return []
    persons = (
        Person.objects.visible_to(user)
        .current()
        .select_related("household", "community")
        .order_by("name", "pk")
    )
    return list(
        search_persons(persons, text, Viewer.of(user), limit=PERSON_CHOICES)[:PERSON_CHOICES]
    )
