"""Finding a person who is already in the register (by ID number, or by name and birth date),
so entry and import show the existing record instead of creating a second one; and listing
the duplicates already in the register, for review and merging (``merging.py``)."""

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q

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


# ---------------------------------------------------------------- review of existing duplicates


@dataclass
class DuplicatePair:
    """Two records of the register that are probably the same resident (``first`` is the
    older record)."""

    first: Person
    second: Person

    @property
    def same_id_number(self) -> bool:
        return bool(self.first.id_number) and self.first.id_number == self.second.id_number

    @property
    def same_name_and_birth_date(self) -> bool:
        return (
            self.first.birth_date is not None
            and self.first.name == self.second.name
            and self.first.birth_date == self.second.birth_date
        )

    @property
    def same_household(self) -> bool:
        return self.first.household_id == self.second.household_id


def _twin_q() -> Q:
    """Same ID number, or same name and birth date, as the outer person."""
    return (Q(id_number=OuterRef("id_number")) & ~Q(id_number="")) | Q(
        name=OuterRef("name"), birth_date=OuterRef("birth_date"), birth_date__isnull=False
    )


def later_duplicates(user):
    """Current persons the user may see that have an older visible twin: one row per later
    record, found with a correlated self-join, so the list pages in SQL."""
    visible = Person.objects.visible_to(user).current()
    older_twins = visible.filter(_twin_q(), pk__lt=OuterRef("pk"))
    return visible.filter(Exists(older_twins)).order_by("pk")


def pairs_for(user, later: list[Person]) -> list[DuplicatePair]:
    """The pairs of one page of ``later_duplicates``: one more query for all older twins."""
    if not later:
        return []
    id_numbers = {p.id_number for p in later if p.id_number}
    names = {p.name for p in later if p.birth_date}
    dates = {p.birth_date for p in later if p.birth_date}
    candidates = list(
        Person.objects.visible_to(user)
        .current()
        .filter(
            Q(id_number__in=id_numbers) | Q(name__in=names, birth_date__in=dates),
            pk__lt=max(p.pk for p in later),
        )
        .select_related("household", "community", "ethnicity")
        .order_by("pk")
    )
    pairs = []
    for person in later:
        for older in candidates:
            if older.pk >= person.pk:
                break
            pair = DuplicatePair(first=older, second=person)
            if pair.same_id_number or pair.same_name_and_birth_date:
                pairs.append(pair)
    return pairs
