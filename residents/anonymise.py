"""Anonymising persons and households that left the register long ago (minimum retention,
Personal Information Protection Law art. 19 and 47).

Who qualifies, for a cut-off date (today less ``settings.ANONYMISE_AFTER_YEARS`` years):

- a person not yet anonymised who moved away or died (``status``) with ``status_changed_on``
  before the cut-off, or whose household moved away or closed with ``moved_out_on`` before
  it. A move-away or death without a date never qualifies (nobody knows when it was);
- a household not yet anonymised that moved away or closed with ``moved_out_on`` before the
  cut-off and has no member left who neither is nor will be anonymised.

What is removed: a person's name (→ ``已匿名-<hex of the id>``, so lists keep one line per
person and search keys follow it), ID number and its reversed search key, mobile, workplace,
notes and residence-permit number; the day and month of the birth date (→ 1 July of the
birth year: ages stay right within half a year, and every annual figure stays the same); a
household's address (→ ``（已匿名-<hex>）`` and the community's name), phone, notes and
ledger number. The same fields are overwritten in every historical record of those persons
and households (django-simple-history), and in the audit log the events about them (their
``changes`` and their label) are scrubbed. Where the notes of a household that stays on the
register (other members still there) name an anonymised member, the name is replaced there
too, and in that household's history and audit events. Free text of other records (a visit's
notes, a consultation) is not searched.

What is kept, so counts stay: sex, ethnicity, birth year, education, status and its date,
the volunteer, key-person and association flags, the household's community, registration,
residence kind, hardship flags and income band, and every date. Reports already submitted
keep their frozen snapshots; live figures for past periods stay the same.

Nothing here is undone: the data is overwritten, not hidden. One ANONYMISE audit event says
who did it, when, with which cut-off, and how many persons and households.
"""

import datetime
import json
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Case, Count, F, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_update_with_history

from network import audit
from network.access import scope_for
from network.models import Area, AuditEvent, AuditKind, Role
from residents.models import Household, HouseholdStatus, Person, PersonStatus

ANONYMISED = "已匿名"
SCRUBBED = "（已匿名）"
CHANGE_REASON = "anonymised"
BATCH_SIZE = 500
CASE_BATCH = 100  # objects per CASE … WHEN statement (SQLite allows 999 parameters)

DEPARTED_PERSON = (PersonStatus.MOVED_AWAY, PersonStatus.DECEASED)
DEPARTED_HOUSEHOLD = (HouseholdStatus.MOVED_AWAY, HouseholdStatus.CLOSED)

# Fields overwritten on the record and in its history; the audit log loses them too.
PERSON_FIELDS = (
    "name",
    "name_pinyin",
    "name_initials",
    "id_number",
    "id_number_reversed",
    "birth_date",
    "mobile",
    "workplace",
    "notes",
    "residence_permit_number",
)
HOUSEHOLD_FIELDS = ("address", "phone", "notes", "ledger_number")


class AnonymiseError(ValueError):
    """A request to anonymise that is refused (a cut-off too recent)."""


@dataclass
class CommunityCount:
    community: Area
    persons: int = 0
    households: int = 0


@dataclass
class Result:
    cutoff: datetime.date
    persons: int = 0
    households: int = 0
    by_community: list[CommunityCount] = field(default_factory=list)
    undated: int = 0  # moved away or deceased without a date: never qualify


# ---------------------------------------------------------------- who may, and when


def may_anonymise(user) -> bool:
    """Superusers and district bureau staff holding a current post. There is no permission
    of its own (adding one needs a migration): the district role decides."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or Role.DISTRICT in scope_for(user).roles


def years_after() -> int:
    return max(int(getattr(settings, "ANONYMISE_AFTER_YEARS", 3)), 1)


def default_cutoff(today: datetime.date | None = None, years: int | None = None) -> datetime.date:
    """Today (or ``today``) less ``years`` (default: the setting) years; 29 February → 28."""
    today = today or timezone.localdate()
    years = years_after() if years is None else years
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return today.replace(year=today.year - years, day=28)


# ---------------------------------------------------------------- who qualifies


def _person_departed_q(cutoff: datetime.date, prefix: str = "") -> Q:
    p = prefix
    return Q(**{f"{p}status__in": DEPARTED_PERSON, f"{p}status_changed_on__lt": cutoff}) | Q(
        **{
            f"{p}household__status__in": DEPARTED_HOUSEHOLD,
            f"{p}household__moved_out_on__lt": cutoff,
        }
    )


def persons_due(user, cutoff: datetime.date):
    """Persons the user may change who qualify for anonymising at ``cutoff``."""
    return (
        Person.objects.changeable_by(user)
        .filter(anonymised_at__isnull=True)
        .filter(_person_departed_q(cutoff))
    )


def households_due(user, cutoff: datetime.date):
    """Households the user may change that qualify: gone before ``cutoff``, and every member
    anonymised already or due now."""
    staying = (
        Person.objects.filter(anonymised_at__isnull=True)
        .exclude(_person_departed_q(cutoff))
        .values("household_id")
    )
    return (
        Household.objects.changeable_by(user)
        .filter(
            anonymised_at__isnull=True,
            status__in=DEPARTED_HOUSEHOLD,
            moved_out_on__lt=cutoff,
        )
        .exclude(pk__in=staying)
    )


def preview(user, cutoff: datetime.date) -> Result:
    """How many persons and households qualify, by community (three queries and one for the
    communities' names); nothing is written."""
    persons = dict(
        persons_due(user, cutoff)
        .order_by()
        .values_list("community_id")
        .annotate(n=Count("pk"))
        .values_list("community_id", "n")
    )
    households = dict(
        households_due(user, cutoff)
        .order_by()
        .values_list("community_id")
        .annotate(n=Count("pk"))
        .values_list("community_id", "n")
    )
    undated = (
        Person.objects.changeable_by(user)
        .filter(anonymised_at__isnull=True, status__in=DEPARTED_PERSON, status_changed_on=None)
        .count()
    )
    areas = Area.objects.filter(pk__in=set(persons) | set(households)).order_by("path")
    rows = [
        CommunityCount(area, persons.get(area.pk, 0), households.get(area.pk, 0)) for area in areas
    ]
    return Result(
        cutoff=cutoff,
        persons=sum(persons.values()),
        households=sum(households.values()),
        by_community=rows,
        undated=undated,
    )


# ---------------------------------------------------------------- the new values


def anonymised_name(pk: int) -> str:
    """已匿名-3F2A: short, stable, and different for every person."""
    return f"{ANONYMISED}-{pk:X}"


def anonymised_address(pk: int, community_name: str) -> str:
    return f"（{ANONYMISED}-{pk:X}）{community_name}"


def anonymised_birth_date(birth_date: datetime.date | None) -> datetime.date | None:
    """1 July of the birth year: the year stays (ages, age bands, annual figures)."""
    return birth_date.replace(month=7, day=1) if birth_date else None


def _person_values(person: Person) -> dict:
    blank = Person(name=anonymised_name(person.pk))
    blank.fill_search_fields()
    return {
        "name": blank.name,
        "name_pinyin": blank.name_pinyin,
        "name_initials": blank.name_initials,
        "id_number": "",
        "id_number_reversed": "",
        "birth_date": anonymised_birth_date(person.birth_date),
        "mobile": "",
        "workplace": "",
        "notes": "",
        "residence_permit_number": "",
    }


def _household_values(household: Household) -> dict:
    return {
        "address": anonymised_address(household.pk, household.community.name),
        "phone": "",
        "notes": "",
        "ledger_number": "",
    }


# ---------------------------------------------------------------- writing


def _overwrite_history(model, values: dict[int, dict]) -> int:
    """Overwrite ``values`` ({pk: {field: value}}) in every historical record of those
    objects: one UPDATE … CASE per hundred objects. Returns the rows changed."""
    history_model = model.history.model
    pk_name = model._meta.pk.attname
    changed = 0
    pks = sorted(values)
    for start in range(0, len(pks), CASE_BATCH):
        batch = pks[start : start + CASE_BATCH]
        fields = values[batch[0]].keys()
        updates = {}
        for name in fields:
            output = history_model._meta.get_field(name)
            distinct = {values[pk][name] for pk in batch}
            if len(distinct) == 1:
                updates[name] = Value(distinct.pop(), output_field=output)
            else:
                updates[name] = Case(
                    *[
                        When(**{pk_name: pk}, then=Value(values[pk][name], output_field=output))
                        for pk in batch
                    ],
                    default=F(name),
                    output_field=output,
                )
        changed += history_model.objects.filter(**{f"{pk_name}__in": batch}).update(**updates)
    return changed


def _scrub_changes(changes, fields) -> dict:
    """``changes`` ({field: [old, new]}) with the values of ``fields`` replaced."""
    if not isinstance(changes, dict):
        return {}
    scrubbed = {}
    for name, value in changes.items():
        if name in fields or name.split(".")[0] in fields:
            if isinstance(value, list):
                value = [SCRUBBED if item not in (None, "") else item for item in value]
            elif value not in (None, ""):
                value = SCRUBBED
        scrubbed[name] = value
    return scrubbed


def _scrub_audit(model, labels: dict[int, str], fields) -> int:
    """Scrub the audit events whose object is one of ``labels``' objects: their ``changes``
    lose ``fields``, their label becomes the anonymised one. ``bulk_update`` writes without
    ``save()``, so the append-only guard (a pre_save receiver) stays for everyone else."""
    object_type = model._meta.label_lower
    scrubbed = 0
    pks = sorted(labels)
    for start in range(0, len(pks), BATCH_SIZE):
        batch = {str(pk): labels[pk] for pk in pks[start : start + BATCH_SIZE]}
        events = list(
            AuditEvent.objects.filter(object_type=object_type, object_id__in=list(batch)).only(
                "pk", "object_id", "changes", "object_label"
            )
        )
        for event in events:
            event.changes = _scrub_changes(event.changes, fields)
            event.object_label = batch[event.object_id][:200]
        AuditEvent.objects.bulk_update(events, ["changes", "object_label"], batch_size=BATCH_SIZE)
        scrubbed += len(events)
    return scrubbed


def _scrub_labels_of_other_records(replacements: dict[str, str]) -> int:
    """Audit events of other records name the person or household in their label (a visit:
    "2023-10-25 · 平江路12号", a consent: "马晓东 · 2023-10-25"): the old name or address
    there is replaced by the anonymised one too. Names of one character are left alone,
    they would match too much."""
    replacements = {old: new for old, new in replacements.items() if len(old) >= 2}
    if not replacements:
        return 0
    changed = []
    names = sorted(replacements)
    for start in range(0, len(names), BATCH_SIZE):
        mentions = Q()
        for old in names[start : start + BATCH_SIZE]:
            mentions |= Q(object_label__contains=old)
        for event in AuditEvent.objects.filter(mentions).only("pk", "object_label"):
            label = event.object_label
            for old, new in replacements.items():
                label = label.replace(old, new)
            if label != event.object_label:
                event.object_label = label[:200]
                changed.append(event)
    AuditEvent.objects.bulk_update(changed, ["object_label"], batch_size=BATCH_SIZE)
    return len(changed)


def _scrub_names_in_household_notes(persons, household_values, names, history) -> int:
    """An anonymised person's name in the notes of a household that stays (其他成员仍在册):
    replaced by the anonymised name, on the household and in its historical records."""
    by_household: dict[int, dict[str, str]] = {}
    for person in persons:
        old = names[person.pk]
        if person.household_id not in household_values and len(old) >= 2:
            by_household.setdefault(person.household_id, {})[old] = person.name
    if not by_household:
        return 0

    def scrubbed(text: str, pairs: dict[str, str]) -> str:
        for old, new in pairs.items():
            text = text.replace(old, new)
        return text

    mentions = Q()
    for pairs in by_household.values():
        for old in pairs:
            mentions |= Q(notes__contains=old)
    changed = []
    for household in Household.objects.filter(mentions, pk__in=list(by_household)):
        notes = scrubbed(household.notes, by_household[household.pk])
        if notes != household.notes:
            household.notes = notes
            household.updated_at = history["default_date"]
            household.version = (household.version or 0) + 1
            changed.append(household)
    if changed:
        bulk_update_with_history(
            changed, Household, ["notes", "updated_at", "version"], batch_size=BATCH_SIZE, **history
        )
    rows = []
    for row in Household.history.filter(mentions, id__in=list(by_household)):
        notes = scrubbed(row.notes, by_household[row.id])
        if notes != row.notes:
            row.notes = notes
            rows.append(row)
    Household.history.model.objects.bulk_update(rows, ["notes"], batch_size=BATCH_SIZE)
    events = []
    for event in AuditEvent.objects.filter(
        object_type=Household._meta.label_lower,
        object_id__in=[str(pk) for pk in by_household],
    ).only("pk", "object_id", "changes"):
        text = json.dumps(event.changes, ensure_ascii=False)
        cleaned = scrubbed(text, by_household[int(event.object_id)])
        if cleaned != text:
            event.changes = json.loads(cleaned)
            events.append(event)
    AuditEvent.objects.bulk_update(events, ["changes"], batch_size=BATCH_SIZE)
    return len(changed)


def _audit_area(user) -> Area | None:
    scope = scope_for(user)
    if scope.everything or len(scope.area_ids) != 1:
        return None
    return Area.objects.filter(pk=scope.area_ids[0]).first()


def persons_anonymise(*, user, cutoff: datetime.date, request=None) -> Result:
    """Anonymise every person and household the user may change that qualifies at ``cutoff``
    (see the module's docstring), in one transaction, and record one ANONYMISE audit event.
    Refused (``PermissionDenied``) for anyone but district bureau staff and superusers, and
    (``AnonymiseError``) for a cut-off later than the setting allows."""
    if not may_anonymise(user):
        raise PermissionDenied(_("Only district bureau staff may anonymise personal data."))
    latest = default_cutoff()
    if cutoff > latest:
        raise AnonymiseError(
            _(
                "The cut-off may not be later than %(date)s: personal data is kept "
                "%(years)s years after a person moved away or died."
            )
            % {"date": latest.isoformat(), "years": years_after()}
        )
    now = timezone.now()
    history = {
        "default_user": user,
        "default_change_reason": CHANGE_REASON,
        "default_date": now,
    }
    with transaction.atomic():
        counted = preview(user, cutoff)
        persons = list(persons_due(user, cutoff).order_by("pk"))
        households = list(households_due(user, cutoff).select_related("community").order_by("pk"))

        person_values = {}
        old_names = {person.pk: person.name for person in persons}
        for person in persons:
            values = _person_values(person)
            person_values[person.pk] = values
            for name, value in values.items():
                setattr(person, name, value)
            person.anonymised_at = now
            person.updated_at = now
            person.version = (person.version or 0) + 1
        household_values = {}
        old_addresses = {household.pk: household.address for household in households}
        for household in households:
            values = _household_values(household)
            household_values[household.pk] = values
            for name, value in values.items():
                setattr(household, name, value)
            household.anonymised_at = now
            household.updated_at = now
            household.version = (household.version or 0) + 1

        bookkeeping = ["anonymised_at", "updated_at", "version"]
        if persons:
            bulk_update_with_history(
                persons,
                Person,
                [*PERSON_FIELDS, *bookkeeping],
                batch_size=BATCH_SIZE,
                **history,
            )
            _overwrite_history(Person, person_values)
            _scrub_audit(Person, {pk: v["name"] for pk, v in person_values.items()}, PERSON_FIELDS)
        if households:
            bulk_update_with_history(
                households,
                Household,
                [*HOUSEHOLD_FIELDS, *bookkeeping],
                batch_size=BATCH_SIZE,
                **history,
            )
            _overwrite_history(Household, household_values)
            _scrub_audit(
                Household,
                {pk: v["address"] for pk, v in household_values.items()},
                HOUSEHOLD_FIELDS,
            )
        _scrub_names_in_household_notes(persons, household_values, old_names, history)
        _scrub_labels_of_other_records(
            {old_names[p.pk]: p.name for p in persons}
            | {old_addresses[h.pk]: h.address for h in households}
        )
        audit.record(
            AuditKind.ANONYMISE,
            request=request,
            user=user,
            area=_audit_area(user),
            changes={
                "cutoff": cutoff.isoformat(),
                "after_years": years_after(),
                "persons": len(persons),
                "households": len(households),
            },
            note=_("Anonymised %(persons)s persons and %(households)s households.")
            % {"persons": len(persons), "households": len(households)},
        )
    counted.persons, counted.households = len(persons), len(households)
    return counted


__all__ = [
    "AnonymiseError",
    "Result",
    "default_cutoff",
    "households_due",
    "may_anonymise",
    "persons_anonymise",
    "persons_due",
    "preview",
]
