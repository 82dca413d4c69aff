"""Residence permits (居住证) of floating residents: which expire soon, which have expired, so
the community can remind the holder before services stop."""

import datetime

from django.utils import timezone

from residents.models import Person, PersonStatus
from residents.typed_input import whole_number

DEFAULT_DAYS = 60
MAX_DAYS = 3660


def parse_days(text) -> int | None:
    """The ``?days=`` window: a whole number of days from 0 to ten years, or None."""
    days = whole_number(text)
    if days is None or not 0 <= days <= MAX_DAYS:
        return None
    return days


def expiring_permits(user, days: int, today: datetime.date | None = None):
    """Active, current persons the user may see whose permit expires within ``days`` days or
    has expired, soonest (longest expired) first."""
    today = today or timezone.localdate()
    return (
        Person.objects.visible_to(user)
        .current()
        .filter(
            status=PersonStatus.ACTIVE,
            residence_permit_expires_on__lte=today + datetime.timedelta(days=days),
        )
        .select_related("household", "community", "ethnicity")
        .order_by("residence_permit_expires_on", "pk")
    )


def days_left(person: Person, today: datetime.date | None = None) -> int:
    today = today or timezone.localdate()
    return (person.residence_permit_expires_on - today).days


def mask_permit_number(number: str) -> str:
    """Keep the issuing prefix and the last three characters."""
    if len(number) <= 5:
        return "*" * len(number)
    return number[:2] + "*" * (len(number) - 5) + number[-3:]
