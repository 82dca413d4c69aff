"""Finding a person who is already in the register (by ID number, or by name and birth date),
so entry and import show the existing record instead of creating a second one."""

from django.db.models import Q

from residents.models import Person


def find_existing_person(*, id_number: str = "", name: str = "", birth_date=None, exclude_pk=None):
    """The registered person (archived or not) this entry most likely is, or None.

    Looks across the whole district, not only the user's scope: a duplicate must be found
    even when it sits in another community (the caller decides what to show of it)."""
    match = Q(pk__in=[])
    if id_number:
        match |= Q(id_number=id_number)
    if name and birth_date:
        match |= Q(name=name.strip(), birth_date=birth_date)
    qs = Person.objects.filter(match).select_related("household", "community")
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    return qs.order_by("archived_at", "-status", "pk").first()
