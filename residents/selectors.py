"""Reading the register the way each role may see it: the filters and search of the registry
list, the page window, the rows as shown (masked per role) and a household's history.

The page, the print view and the export all build their rows with ``Presenter``, so what a
role sees is the same wherever the data goes.
"""

import datetime
import re
import unicodedata
from dataclasses import dataclass, field

from django.db import connections
from django.db.models import Exists, F, Func, OuterRef, Q, TextField, Value
from django.db.models.expressions import RawSQL
from django.db.models.lookups import Contains
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from network.access import scope_for
from residents.id_numbers import mask_id_number, normalise_id_number
from residents.models import (
    Honour,
    HonourKind,
    Household,
    Person,
    PersonStatus,
    RegistrationKind,
    Relation,
    Sex,
    age_in_years,
)
from residents.typed_input import whole_number

MASK = "—"
PER_PAGE = 50
MAX_PAGE = 10_000  # beyond this a filter is the better tool; keeps OFFSET bounded

HARDSHIP_FLAGS = {
    "dibao": "is_dibao",
    "low_income": "is_low_income",
    "disability": "has_disability",
    "elderly_alone": "is_elderly_alone",
    "serious_illness": "has_serious_illness",
}
HONOUR_FILTERS = (HonourKind.MODEL_FAMILY, HonourKind.FEATURED_BUILDING)
AGE_BANDS = {
    "0-17": (0, 17),
    "18-34": (18, 34),
    "35-59": (35, 59),
    "60-79": (60, 79),
    "80+": (80, None),
}
AGE_BAND_LABELS = {
    "0-17": gettext_lazy("Under 18"),
    "18-34": gettext_lazy("18 to 34"),
    "35-59": gettext_lazy("35 to 59"),
    "60-79": gettext_lazy("60 to 79"),
    "80+": gettext_lazy("80 and over"),
}
ANY_STATUS = "all"

_ID_TAIL = re.compile(r"\d{4,18}|\d{1,17}X")
_PINYIN = re.compile(r"[a-z]+")


@dataclass(frozen=True)
class Viewer:
    """What one user may see of a person; computed once per request."""

    sensitive: bool  # ethnicity, ID digits, hardship, income
    full_id: bool  # may reveal full ID numbers (each reveal logged)
    staff: bool  # changes the register: sees archived records

    @classmethod
    def of(cls, user) -> "Viewer":
        return cls(
            sensitive=user.has_perm("residents.view_sensitive"),
            full_id=user.has_perm("residents.view_full_id_number"),
            staff=user.has_perm("residents.change_household"),
        )


# ---------------------------------------------------------------- masking


def shown_ethnicity(person: Person, viewer: Viewer) -> str:
    return person.ethnicity.name if viewer.sensitive else MASK


def shown_id_number(number: str, viewer: Viewer) -> str:
    """Masked (region and last four) for sensitive viewers, no digit at all otherwise. Full
    numbers are never part of a page or a file: they are revealed one at a time, logged."""
    if not number:
        return ""
    return mask_id_number(number) if viewer.sensitive else "*" * len(number)


HARDSHIP_FIELDS = (
    "is_dibao",
    "is_low_income",
    "has_disability",
    "is_elderly_alone",
    "has_serious_illness",
)


@dataclass
class PersonRow:
    """One person as the viewer may see them (page, print and export)."""

    person: Person
    name: str
    sex: str
    age: int | None
    ethnicity: str
    id_number: str
    relation: str
    address: str
    community: str
    household_number: str
    registration: str
    status: str
    flags: list[str] = field(default_factory=list)
    archived: bool = False
    pk: int = 0
    household_id: int = 0
    person_status: str = ""  # the stored value ("active"), beside its label in ``status``


def _labels(choices) -> dict[str, str]:
    return {value: str(label) for value, label in choices}


class Presenter:
    """Turns persons into rows the way one viewer may see them. Labels are translated once
    here, not per row: an export of 100,000 rows would otherwise spend its time in gettext."""

    def __init__(self, viewer: Viewer, today: datetime.date):
        def verbose(model, name):
            return str(model._meta.get_field(name).verbose_name)

        self.viewer = viewer
        self.today = today
        self.sex = _labels(Sex.choices)
        self.relation = _labels(Relation.choices)
        self.registration = _labels(RegistrationKind.choices)
        self.status = _labels(PersonStatus.choices)
        self.hardship = [(name, verbose(Household, name)) for name in HARDSHIP_FIELDS]
        self.key_person = verbose(Person, "is_key_person")
        self.volunteer = verbose(Person, "is_volunteer")
        self.model_family = str(HonourKind.MODEL_FAMILY.label)
        self.featured_building = str(HonourKind.FEATURED_BUILDING.label)

    def hardship_of(self, household: Household) -> list[str]:
        return self._hardship(household, "")

    def _hardship(self, record, prefix: str) -> list[str]:
        if not self.viewer.sensitive:
            return []
        labels = [label for name, label in self.hardship if getattr(record, prefix + name)]
        other = getattr(record, prefix + "other_hardship")
        if other:
            labels.append(other)
        return labels

    def _flags(self, hardship: list[str], person) -> list[str]:
        flags = hardship
        if self.viewer.sensitive and person.is_key_person:
            flags.append(self.key_person)
        if getattr(person, "has_model_family", False):
            flags.append(self.model_family)
        if getattr(person, "has_featured_building", False):
            flags.append(self.featured_building)
        if person.is_volunteer:
            flags.append(self.volunteer)
        return flags

    def row(self, person: Person) -> PersonRow:
        """The row of a person model instance (with its household and community)."""
        household = person.household
        return PersonRow(
            person=person,
            pk=person.pk,
            household_id=person.household_id,
            person_status=person.status,
            name=person.name,
            sex=self.sex.get(person.sex, person.sex),
            age=person.age_on(self.today),
            ethnicity=shown_ethnicity(person, self.viewer),
            id_number=shown_id_number(person.id_number, self.viewer),
            relation=self.relation.get(person.relation, person.relation),
            address=household.address,
            community=person.community.name,
            household_number=household.ledger_number,
            registration=self.registration.get(
                household.registration_kind, household.registration_kind
            ),
            status=self.status.get(person.status, person.status),
            flags=self._flags(self.hardship_of(household), person),
            archived=person.is_archived or household.is_archived,
        )

    def flat_row(self, person) -> PersonRow:
        """The row of one of ``flat_persons``' tuples: the list and the export read tens of
        thousands of rows, and building four model instances per row was most of the time
        a page spent in Python (bench/registry_bench.py)."""
        registration = person.household__registration_kind
        return PersonRow(
            person=None,
            pk=person.id,
            household_id=person.household_id,
            person_status=person.status,
            name=person.name,
            sex=self.sex.get(person.sex, person.sex),
            age=age_in_years(person.birth_date, self.today),
            ethnicity=person.ethnicity__name if self.viewer.sensitive else MASK,
            id_number=shown_id_number(person.id_number, self.viewer),
            relation=self.relation.get(person.relation, person.relation),
            address=person.household__address,
            community=person.community__name,
            household_number=person.household__ledger_number,
            registration=self.registration.get(registration, registration),
            status=self.status.get(person.status, person.status),
            flags=self._flags(self._hardship(person, "household__"), person),
            archived=person.archived_at is not None or person.household__archived_at is not None,
        )


def present_persons(persons, viewer: Viewer, today: datetime.date) -> list[PersonRow]:
    presenter = Presenter(viewer, today)
    return [presenter.row(p) for p in persons]


# ---------------------------------------------------------------- the registry list


def with_honour_flags(persons):
    """Two EXISTS columns instead of prefetching honours: one query whatever the size."""
    return persons.annotate(
        has_model_family=Exists(
            Honour.objects.filter(
                household_id=OuterRef("household_id"), kind=HonourKind.MODEL_FAMILY
            )
        ),
        has_featured_building=Exists(
            Honour.objects.filter(
                household_id=OuterRef("household_id"), kind=HonourKind.FEATURED_BUILDING
            )
        ),
    )


ROW_FIELDS = [
    "name",
    "sex",
    "relation",
    "birth_date",
    "id_number",
    "status",
    "archived_at",
    "is_key_person",
    "is_volunteer",
    "household__address",
    "household__ledger_number",
    "household__registration_kind",
    "household__archived_at",
    "household__other_hardship",
    *(f"household__{name}" for name in HARDSHIP_FIELDS),
    "community__name",
    "ethnicity__name",
    "ethnicity__code",
]


def register_persons(user):
    """The persons a user may see, with what a row needs (and no more: an export reads
    100,000 of them), in a stable indexed order."""
    persons = (
        Person.objects.visible_to(user)
        .select_related("household", "community", "ethnicity")
        .only(*ROW_FIELDS)
    )
    return with_honour_flags(persons).order_by("household_id", "id")


# The lowest household id of any person in the given areas: one probe per community of
# person_community_household_idx (PostgreSQL's LATERAL), a few hundredths of a millisecond.
_FIRST_HOUSEHOLD_SQL = """(
    SELECT MIN(first.household_id) FROM network_area community
    CROSS JOIN LATERAL (
        SELECT p.household_id FROM residents_person p WHERE p.community_id = community.id
        ORDER BY p.household_id LIMIT 1
    ) first
    WHERE community.path LIKE ANY(%s)
)"""


def from_scope_start(persons, user, area=None):
    """``persons`` (from ``register_persons``, read with ``flat_persons``, which joins the
    households the bound is also put on) from where the register's (household, id)
    order starts for the user's areas (or the area chosen in the filter): a lower bound
    PostgreSQL starts its index scans at. Without it, a sub-district whose households were
    registered after the others' had its first page found by walking (and discarding) every
    person before them: 70,000 rows, 40–60 ms at 100,000 persons. Only a bound: the scope
    itself is still filtered by ``visible_to``."""
    if connections["default"].vendor != "postgresql":
        return persons
    scope = scope_for(user)
    if area is not None:
        paths = [area.path]
    elif scope.everything or not scope.visible_paths:
        return persons
    else:
        paths = list(scope.visible_paths)
    # Area paths are digits and slashes only: nothing to escape in LIKE.
    patterns = [f"{path}%" for path in paths]
    return persons.filter(household_id__gte=RawSQL(_FIRST_HOUSEHOLD_SQL, (patterns,))).extra(
        # The same bound on the households' side of the join (Django would write
        # ``household__id`` as the person's column): their scan starts there too.
        where=[f'"residents_household"."id" >= {_FIRST_HOUSEHOLD_SQL}'],
        params=[patterns],
    )


def flat_persons(persons):
    """``persons`` (from ``register_persons``) as named tuples of what a row needs."""
    return persons.values_list(
        "id", "household_id", *ROW_FIELDS, "has_model_family", "has_featured_building", named=True
    )


def years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a common year
        return day.replace(year=day.year - years, day=28)


def age_band_q(band: str, today: datetime.date) -> Q:
    """Born so that the age today lies in the band (ages as ``Person.age_on`` counts them)."""
    low, high = AGE_BANDS[band]
    q = Q(birth_date__lte=years_before(today, low))
    if high is not None:
        q &= Q(birth_date__gt=years_before(today, high + 1))
    return q


def search_kind(text: str, viewer: Viewer) -> tuple[str, str]:
    """What the one search box was given, and the value to search for.

    - digits (4 or more, or ending in X) → ``("id", reversed digits)``: the end of the ID
      number, as a prefix of the stored reversed number (an indexable ``LIKE 'x%'``). Only
      for viewers who see ID digits at all; without the right to full numbers only the last
      four (which the masked number shows anyway) or a complete number (which the user
      already knows), so searching cannot read hidden digits one at a time;
    - Latin letters → ``("pinyin", letters)``: the start of the full pinyin or of the
      initials (马晓东: maxiaodong, mxd);
    - anything else → ``("text", text)``: part of the name or of the address.
    """
    text = unicodedata.normalize("NFKC", text or "").strip()
    if not text:
        return "", ""
    compact = normalise_id_number(text)
    may_search_id = viewer.full_id or len(compact) <= 4 or len(compact) == 18
    if viewer.sensitive and _ID_TAIL.fullmatch(compact) and may_search_id:
        return "id", compact[::-1]
    letters = re.sub(r"[\s'’·]", "", text).lower().replace("ü", "v")
    if _PINYIN.fullmatch(letters):
        return "pinyin", letters
    return "text", text


def search_persons(persons, text: str, viewer: Viewer, *, limit: int | None = None):
    """Narrow ``persons`` (already filtered and ordered) to those the search box finds.

    A name-or-address search joins two tables, and an OR across a join can use no index.
    When only the first ``limit`` rows are wanted (a page), each half is searched on its own
    (name through the trigram index on persons, address through the one on households),
    cut at ``limit`` in the list's order, and the two cut lists are united: the first
    ``limit`` rows of the whole lie in them, so the cost follows the page, not the table.
    """
    kind, value = search_kind(text, viewer)
    if kind == "id":
        return persons.filter(id_number_reversed__startswith=value)
    if kind == "pinyin":
        return persons.filter(Q(name_pinyin__startswith=value) | Q(name_initials__startswith=value))
    if kind == "text":
        connection = connections[persons.db]
        if limit and connection.features.supports_slicing_ordering_in_compound:
            in_names = _contains_q("name", value, connection)
            in_addresses = _contains_q("household__address", value, connection)
            names = persons.filter(in_names).values("pk")[:limit]
            addresses = persons.filter(in_addresses).values("pk")[:limit]
            return persons.filter(pk__in=names.union(addresses))
        return persons.filter(Q(name__contains=value) | Q(household__address__contains=value))
    return persons


def _doubled(field_name: str) -> Func:
    """Every character of a column doubled, as the indexes of migration 0006 hold it."""
    return Func(
        F(field_name),
        Value("(.)"),
        Value(r"\1\1"),
        Value("g"),
        function="regexp_replace",
        output_field=TextField(),
    )


def _contains_q(field_name: str, value: str, connection) -> Q:
    """``field contains value``. On PostgreSQL a two-character value asks the doubled column
    instead (it has an index a trigram can use, see migration 0006). That test is exact on its
    own: "马马晓晓" lies in a doubled string only where "马晓" lies in the original, since the
    doubled pairs start at even offsets. With a plain ``LIKE`` beside it PostgreSQL multiplied
    two guesses into one expected row and probed the areas once per candidate: the name
    search took 0.26 of the admin's time, 0.24 without (bench/registry_bench.py)."""
    if connection.vendor == "postgresql" and len(value) == 2:
        doubled = "".join(character * 2 for character in value)
        return Q(Contains(_doubled(field_name), doubled))
    return Q(**{f"{field_name}__contains": value})


def filter_persons(
    persons,
    filters: dict,
    viewer: Viewer,
    today: datetime.date | None = None,
    *,
    limit: int | None = None,
):
    """Apply the cleaned filters of ``RegisterFilterForm``; empty values are no filter.
    ``limit``: only that many first rows will be read (a page), which lets search be quick.

    Filters on sensitive data (ethnicity, hardship) are ignored for viewers who may not see
    it, so a count of results cannot reveal it either."""
    today = today or timezone.localdate()
    area = filters.get("community")
    if area is not None:
        persons = persons.filter(community__path__startswith=area.path)
    if viewer.sensitive and filters.get("ethnicity"):
        persons = persons.filter(ethnicity__code=filters["ethnicity"])
    if filters.get("registration"):
        persons = persons.filter(household__registration_kind=filters["registration"])
    if viewer.sensitive and filters.get("hardship") in HARDSHIP_FLAGS:
        persons = persons.filter(**{f"household__{HARDSHIP_FLAGS[filters['hardship']]}": True})
    if filters.get("honour"):
        persons = persons.filter(
            Exists(
                Honour.objects.filter(household_id=OuterRef("household_id"), kind=filters["honour"])
            )
        )
    if filters.get("age") in AGE_BANDS:
        persons = persons.filter(age_band_q(filters["age"], today))
    status = filters.get("status") or PersonStatus.ACTIVE
    if status != ANY_STATUS:
        persons = persons.filter(status=status)
    if not (viewer.staff and filters.get("archived")):
        persons = persons.filter(archived_at__isnull=True, household__archived_at__isnull=True)
    return search_persons(persons, filters.get("q", ""), viewer, limit=limit)


@dataclass
class PageWindow:
    """One page of a list without counting the whole table: fetch one row more than shown
    to know whether another page follows. Next and previous continue from the edge row of
    this page (keyset), so a page deep in the register costs what the first one does."""

    number: int
    rows: list
    has_next: bool
    per_page: int = PER_PAGE
    has_previous_rows: bool | None = None

    @property
    def has_previous(self) -> bool:
        if self.has_previous_rows is not None:
            return self.has_previous_rows and self.number > 1
        return self.number > 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def start_index(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.rows else 0

    @property
    def end_index(self) -> int:
        return (self.number - 1) * self.per_page + len(self.rows)

    @property
    def next_cursor(self) -> str:
        return cursor_of(self.rows[-1]) if self.rows else ""

    @property
    def previous_cursor(self) -> str:
        return cursor_of(self.rows[0]) if self.rows else ""


def cursor_of(person) -> str:
    return f"{person.household_id}.{person.id}"


_CURSOR = re.compile(r"(\d{1,18})\.(\d{1,18})")


def parse_cursor(raw) -> tuple[int, int] | None:
    """A cursor from the URL (``household_id.person_id``), or None for anything else."""
    match = _CURSOR.fullmatch(str(raw or ""))
    if not match:
        return None
    household_id, person_id = int(match[1]), int(match[2])
    if household_id > 2**62 or person_id > 2**62:
        return None
    return household_id, person_id


def page_number(raw) -> int:
    number = whole_number(raw)
    return 1 if number is None else min(max(number, 1), MAX_PAGE)


def keyset_q(*, after=None, before=None) -> Q:
    """Rows after (or before) a cursor in the register's (household, id) order. The extra
    range on household_id lets the index bound the scan."""
    if after:
        household_id, person_id = after
        return Q(household_id__gte=household_id) & (
            Q(household_id__gt=household_id) | Q(id__gt=person_id)
        )
    if before:
        household_id, person_id = before
        return Q(household_id__lte=household_id) & (
            Q(household_id__lt=household_id) | Q(id__lt=person_id)
        )
    return Q()


def page_window(
    queryset, number: int, per_page: int = PER_PAGE, *, after=None, before=None
) -> PageWindow:
    """Page ``number`` of ``queryset`` (ordered by household, id). With a cursor the
    queryset is already cut at it (``keyset_q``); without one the page is found by offset."""
    if after:
        rows = list(queryset[: per_page + 1])
        return PageWindow(
            number=number,
            rows=rows[:per_page],
            has_next=len(rows) > per_page,
            per_page=per_page,
            has_previous_rows=True,
        )
    if before:
        rows = list(queryset.reverse()[: per_page + 1])
        return PageWindow(
            number=number,
            rows=list(reversed(rows[:per_page])),
            has_next=True,
            per_page=per_page,
            has_previous_rows=len(rows) > per_page,
        )
    offset = (number - 1) * per_page
    rows = list(queryset[offset : offset + per_page + 1])
    return PageWindow(
        number=number, rows=rows[:per_page], has_next=len(rows) > per_page, per_page=per_page
    )


# ---------------------------------------------------------------- a household's history


HISTORY_LIMIT = 100


@dataclass
class HistoryEntry:
    at: datetime.datetime
    user: object
    model: str  # "household", "person" or "honour"
    subject: str  # the household, a member's name, or an honour
    kind: str  # "+", "~" or "-"
    fields: list[str]
    reason: str


_REASONS = [
    (
        re.compile(r"moved from #(?P<old>\d+), merged into #(?P<new>\d+)"),
        lambda m: _("moved from #%(old)s, merged into #%(new)s") % m.groupdict(),
    ),
    (re.compile(r"merged into #(?P<new>\d+)"), lambda m: _("merged into #%(new)s") % m.groupdict()),
    (
        re.compile(r"merged #(?P<old>\d+) into this record"),
        lambda m: _("merged #%(old)s into this record") % m.groupdict(),
    ),
    (
        re.compile(r"handover sent to (?P<new>.+)", re.S),
        lambda m: _("handover sent to %(new)s") % m.groupdict(),
    ),
    (
        re.compile(r"handover to (?P<new>.+?) declined: (?P<why>.*)", re.S),
        lambda m: _("handover to %(new)s declined: %(why)s") % m.groupdict(),
    ),
    (
        re.compile(r"handover to (?P<new>.+) cancelled", re.S),
        lambda m: _("handover to %(new)s cancelled") % m.groupdict(),
    ),
    (
        re.compile(r"handed over from (?P<old>.+) to (?P<new>.+)", re.S),
        lambda m: _("handed over from %(old)s to %(new)s") % m.groupdict(),
    ),
    (
        re.compile(r"moved from (?P<old>.+) to (?P<new>.+)", re.S),
        lambda m: _("moved from %(old)s to %(new)s") % m.groupdict(),
    ),
    (
        re.compile(r"ledger import (?P<file>.+)", re.S),
        lambda m: _("ledger import %(file)s") % m.groupdict(),
    ),
]


def reason_text(reason: str) -> str:
    """The change reasons ``operations``, ``handover``, ``merging`` and ``ledger_import``
    record (in English, in the database), in the user's language; others as stored."""
    known = {
        "archived": _("archived"),
        "restored": _("restored"),
        "archived with household": _("archived with the household"),
        "restored with household": _("restored with the household"),
    }
    if reason in known:
        return known[reason]
    for pattern, text in _REASONS:
        match = pattern.fullmatch(reason)
        if match:
            return text(match)
    return reason


# Fields whose change alone would tell a viewer without residents.view_sensitive what the
# pages hide from them (hardship, income, ethnicity, ID number, key person).
SENSITIVE_HISTORY_FIELDS = {
    "household": {*HARDSHIP_FIELDS, "dibao_persons", "other_hardship", "income_band"},
    "person": {"ethnicity", "id_number", "is_key_person"},
}


def _entries(records, subject_of, hidden=frozenset()) -> list[HistoryEntry]:
    """Turn history records (newest first) into entries listing the changed fields, diffing
    each record against the previous one of the same object fetched in the same query.
    Changes of ``hidden`` fields are left out (an entry with nothing else goes)."""
    previous: dict[int, object] = {}
    entries = []
    for record in sorted(records, key=lambda r: (r.history_date, r.history_id)):
        before = previous.get(record.id)
        changed: list[str] = []
        if before is not None and record.history_type == "~":
            delta = record.diff_against(before)
            changed = [
                str(record.instance_type._meta.get_field(c.field).verbose_name)
                for c in delta.changes
                if c.field not in hidden
            ]
        previous[record.id] = record
        unchanged = before is not None and record.history_type == "~" and not changed
        if unchanged and not record.history_change_reason:
            continue  # saved without a change worth showing
        entries.append(
            HistoryEntry(
                at=record.history_date,
                user=record.history_user,
                model=record.instance_type._meta.model_name,
                subject=subject_of(record),
                kind=record.history_type,
                fields=changed,
                reason=reason_text(record.history_change_reason or ""),
            )
        )
    return entries


def household_history(
    household: Household, viewer: Viewer, limit: int = HISTORY_LIMIT
) -> list[HistoryEntry]:
    """Who changed what and when, for the household, its members and honours (three queries).
    A viewer who may not see sensitive data is not told that it changed either."""
    house = Household.history.filter(id=household.pk).select_related("history_user")
    members = Person.history.filter(household_id=household.pk).select_related("history_user")
    honours = Honour.history.filter(household_id=household.pk).select_related("history_user")
    hidden = {} if viewer.sensitive else SENSITIVE_HISTORY_FIELDS
    entries = [
        *_entries(
            house.order_by("-history_date")[:limit],
            lambda r: _("Household"),
            hidden.get("household", frozenset()),
        ),
        *_entries(
            members.order_by("-history_date")[:limit],
            lambda r: r.name,
            hidden.get("person", frozenset()),
        ),
        *_entries(
            honours.order_by("-history_date")[:limit],
            lambda r: f"{r.year} {r.get_kind_display()}",
        ),
    ]
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]
