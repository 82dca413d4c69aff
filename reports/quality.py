"""Data-quality checks before a report is submitted (issue 6, section 3): what in the records
behind an area's figures is probably wrong or missing, each with a count, a few examples
(names masked) and a page where it can be put right.

- Households with no visit in the period: minority households on the register at the end of
  the period (the figures' definition, ``figures_register.minority_households``) with no visit
  (not archived) dated in the period.
- Invalid ID numbers: current, active persons whose (non-empty) ID number the register's own
  checker (``residents.id_numbers.parse_id_number``) refuses. A 15-digit legacy number is valid.
- Duplicate ID numbers: two or more current, active persons with the same number once
  normalised (``32050819840714123x`` and ``32050819840714123X``, or full-width digits); the
  database's uniqueness constraint sees only identical text, so these slip past it.
- Overdue follow-ups: open follow-ups of visits not archived, due before today (whatever the
  period: they are overdue now).
- Missing population figures: the area itself and the active communities under it with no
  population row for the period's year (the minority share needs them).

Everything is read through ``visible_to(user)``. Each check costs a fixed number of queries.
The two ID-number checks share one scan: the (pk, ID number) pairs of the area's current,
active persons are fetched in one query and checked in Python (the check digit cannot be
worked out in SQL portably) — for 100,000 persons about 100,000 short tuples and some 20
microseconds of checking each (about two seconds on the development machine, measured), the
price of using the register's own checker rather than a second copy of its rules; then one
more query fetches the names of the few examples shown.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models import Case, Exists, IntegerField, OuterRef, Q, Subquery, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from network.access import may_use_admin
from network.models import Area, AreaLevel, AreaPopulation
from outreach.models import FollowUp, FollowUpStatus, Visit
from reports.figures_register import minority_households
from reports.periods import Period
from residents.id_numbers import IdNumberError, normalise_id_number, parse_id_number
from residents.models import Person, PersonStatus, Relation
from residents.names import masked_name

EXAMPLES = 5


@dataclass
class QualityCheck:
    key: str
    label: str
    count: int
    url: str  # a page where the user can fix it ("" when their role may not open one)
    examples: list[str] = field(default_factory=list)
    # (example, the page of that record) for each example that has one
    links: list[tuple[str, str]] = field(default_factory=list)
    description: str = ""

    @property
    def ok(self) -> bool:
        return self.count == 0


def quality_checks(user, area: Area, period: Period) -> list[QualityCheck]:
    """The data-quality checks of ``area`` (which the user may see) for ``period``."""
    invalid, duplicates = id_number_checks(user, area)
    return [
        unvisited_households(user, area, period),
        invalid,
        duplicates,
        overdue_follow_ups(user, area),
        missing_population(user, area, period),
    ]


# ---------------------------------------------------------------- helpers


def _url(user, permission: str, name: str, *args, query: dict | None = None) -> str:
    """The URL of a page, or "" when the user's role may not open it."""
    if not user.has_perm(permission):
        return ""
    url = reverse(name, args=args)
    return f"{url}?{urlencode(query)}" if query else url


def _area_query(area: Area, key: str = "community") -> dict:
    """A list page's area filter (its choices leave the district out: all they see)."""
    return {} if area.level == AreaLevel.DISTRICT else {key: area.pk}


def _head_name(household_ref: str = "pk"):
    """A household's head (or failing that its first current member), for an example."""
    return Subquery(
        Person.objects.filter(household=OuterRef(household_ref), archived_at__isnull=True)
        .order_by(
            Case(When(relation=Relation.HEAD, then=Value(0)), default=Value(1)),
            "pk",
        )
        .values("name")[:1]
    )


# ---------------------------------------------------------------- the checks


def unvisited_households(user, area: Area, period: Period) -> QualityCheck:
    """Two queries: the count, and the first few households with their head's name."""
    visited = Visit.objects.filter(
        household=OuterRef("pk"),
        archived_at__isnull=True,
        visited_on__gte=period.start,
        visited_on__lte=period.end,
    )
    households = minority_households(area, period).visible_to(user).exclude(Exists(visited))
    count = households.count()
    examples = list(
        households.annotate(head=_head_name()).order_by("community__path", "address", "pk")[
            :EXAMPLES
        ]
        if count
        else []
    )
    links = []
    for household in examples:
        name = masked_name(household.head or "") or _("(no members)")
        links.append(
            (
                name,
                _url(user, "residents.view_household", "residents:household-detail", household.pk),
            )
        )
    return QualityCheck(
        key="unvisited_households",
        label=_("Minority households with no visit in the period"),
        description=_(
            "Minority households on the register at the end of %(period)s that nobody "
            "visited during it."
        )
        % {"period": period.label},
        count=count,
        url=_url(user, "residents.view_person", "residents:person-list", query=_area_query(area)),
        examples=[name for name, _link in links],
        links=links,
    )


def id_number_checks(user, area: Area) -> tuple[QualityCheck, QualityCheck]:
    """Invalid and duplicate ID numbers, from one scan of (pk, ID number) and one query for
    the examples' names."""
    numbers = (
        Person.objects.visible_to(user)
        .filter(
            community__path__startswith=area.path,
            archived_at__isnull=True,
            status=PersonStatus.ACTIVE,
        )
        .exclude(id_number="")
        .order_by("pk")
        .values_list("pk", "id_number")
    )
    invalid: list[int] = []
    holders: dict[str, list[int]] = defaultdict(list)
    for pk, raw in numbers.iterator(chunk_size=5000):
        try:
            number = parse_id_number(raw).number
        except IdNumberError:
            invalid.append(pk)
            number = normalise_id_number(raw)
        holders[number].append(pk)
    shared = [pks for pks in holders.values() if len(pks) > 1]
    shared.sort(key=lambda pks: pks[0])
    shared_pks = [pk for pks in shared for pk in pks]
    wanted = invalid[:EXAMPLES] + shared_pks[:EXAMPLES]
    persons = (
        {p.pk: p for p in Person.objects.filter(pk__in=wanted).only("pk", "name", "household_id")}
        if wanted
        else {}
    )

    def links_of(pks):
        found = []
        for pk in pks:
            person = persons.get(pk)
            if person is not None:
                found.append(
                    (
                        masked_name(person.name),
                        _url(
                            user,
                            "residents.view_household",
                            "residents:household-detail",
                            person.household_id,
                        ),
                    )
                )
        return found

    invalid_links = links_of(invalid[:EXAMPLES])
    shared_links = links_of(shared_pks[:EXAMPLES])
    first_invalid = invalid_links[0][1] if invalid_links else ""
    return (
        QualityCheck(
            key="invalid_id_numbers",
            label=_("Persons with an invalid ID number"),
            description=_(
                "ID numbers with a wrong length, a wrong check digit or an impossible birth "
                "date. Open the person's household to correct the number."
            ),
            count=len(invalid),
            url=first_invalid
            or _url(
                user, "residents.view_person", "residents:person-list", query=_area_query(area)
            ),
            examples=[name for name, _link in invalid_links],
            links=invalid_links,
        ),
        QualityCheck(
            key="duplicate_id_numbers",
            label=_("Persons sharing an ID number with another person"),
            description=_(
                "The same ID number, once written the same way (x or X, full-width digits), "
                "on two or more current residents."
            ),
            count=len(shared_pks),
            # the duplicate list matches identical text only, which the database already
            # refuses among active persons: open the first of them instead
            url=shared_links[0][1]
            if shared_links
            else _url(user, "residents.view_person", "residents:duplicate-list"),
            examples=[name for name, _link in shared_links],
            links=shared_links,
        ),
    )


def overdue_follow_ups(user, area: Area) -> QualityCheck:
    today = timezone.localdate()
    follow_ups = FollowUp.objects.visible_to(user).filter(
        status=FollowUpStatus.OPEN,
        due_on__lt=today,
        visit__archived_at__isnull=True,
        visit__community__path__startswith=area.path,
    )
    count = follow_ups.count()
    examples = (
        list(
            follow_ups.annotate(head=_head_name("visit__household_id"))
            .only("pk", "due_on")
            .order_by("due_on", "pk")[:EXAMPLES]
        )
        if count
        else []
    )
    url = _url(
        user,
        "outreach.view_followup",
        "outreach:followup-list",
        query={"overdue": "on", **_area_query(area, "area")},
    )
    shown = [
        _("%(name)s, due %(date)s")
        % {
            "name": masked_name(f.head or "") or _("(no members)"),
            "date": date_format(f.due_on, "SHORT_DATE_FORMAT"),
        }
        for f in examples
    ]
    return QualityCheck(
        key="overdue_follow_ups",
        label=_("Overdue follow-ups"),
        description=_("Open follow-ups of visits whose due date has passed."),
        count=count,
        url=url,
        examples=shown,
        links=[(text, url) for text in shown] if url else [],
    )


def _population_url(user, area: Area, year: int) -> str:
    """Where the population row of ``area`` for ``year`` is entered: the admin's form, filled
    in, for those who use the admin (district bureau staff); else the area's page, which
    shows the rows there are."""
    if may_use_admin(user) and user.has_perm("network.add_areapopulation"):
        url = reverse("admin:network_areapopulation_add")
        return f"{url}?{urlencode({'area': area.pk, 'year': year})}"
    return _url(user, "network.view_area", "network:area-detail", area.pk)


def missing_population(user, area: Area, period: Period) -> QualityCheck:
    year = period.year
    has_row = AreaPopulation.objects.filter(area=OuterRef("pk"), year=year)
    areas = (
        Area.objects.visible_to(user)
        .filter(path__startswith=area.path)
        .filter(Q(pk=area.pk) | Q(level=AreaLevel.COMMUNITY, is_active=True))
        .exclude(Exists(has_row))
        .annotate(is_top=Case(When(pk=area.pk, then=0), default=1, output_field=IntegerField()))
        .order_by("is_top", "path")
    )
    count = areas.count()
    examples = list(areas[:EXAMPLES]) if count else []
    links = [(a.name, _population_url(user, a, year)) for a in examples]
    return QualityCheck(
        key="missing_population",
        label=_("Areas with no population figure for %(year)s") % {"year": year},
        description=_(
            "The registered population of the year is needed for the minority share; it is "
            "entered in the population table of each area."
        ),
        count=count,
        url=links[0][1] if links else "",
        examples=[a.name for a in examples],
        links=links,
    )
