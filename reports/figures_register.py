"""Figures read from the register (residents) and the area tables (network): the minority
population, its households and groups, its share of the population, where it lives.

"On the register at the end of the period": a person not archived, of an ethnic group other
than Han (GB/T 3304 code 01), still active — or whose move-away or death was recorded after
the period ended — in a household that had moved in by the period's end (or whose moving-in
date is unknown).
"""

from django.db.models import Q
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from network.models import Area, AreaPopulation
from reports.catalogue import COUNT, CUSTOM, DISTINCT, SHARE, Figure, Section, register
from reports.periods import Period
from residents.models import (
    Ethnicity,
    Household,
    Person,
    PersonStatus,
    RegistrationKind,
    ResidenceKind,
)

HAN = "01"
PERSONS, HOUSEHOLDS = _("persons"), _("households")


def on_register_q(period: Period, prefix: str = "") -> Q:
    """A person (reached through ``prefix``) on the register at the end of ``period``."""
    p = prefix
    return (
        Q(**{f"{p}archived_at__isnull": True})
        & (
            Q(**{f"{p}status": PersonStatus.ACTIVE})
            | Q(**{f"{p}status_changed_on__gt": period.end})
        )
        & (
            Q(**{f"{p}household__moved_in_on__isnull": True})
            | Q(**{f"{p}household__moved_in_on__lte": period.end})
        )
    )


def minority_persons(area: Area, period: Period):
    return (
        Person.objects.filter(on_register_q(period), community__path__startswith=area.path)
        .exclude(ethnicity__code=HAN)
        .exclude(ethnicity__isnull=True)
    )


def minority_households(area: Area, period: Period):
    """Households with at least one minority person on the register."""
    return Household.objects.filter(
        archived_at__isnull=True,
        pk__in=minority_persons(area, period).order_by().values("household_id"),
    )


def floating_minority_persons(area: Area, period: Period):
    return minority_persons(area, period).filter(
        household__registration_kind__in=[RegistrationKind.FLOATING, RegistrationKind.TEMPORARY]
    )


def _residing(kind: str):
    def records(area: Area, period: Period):
        return minority_persons(area, period).filter(household__residence_kind=kind)

    return records


def ethnic_groups(area: Area, period: Period):
    """The ethnic groups of the minority persons on the register."""
    return Ethnicity.objects.filter(
        pk__in=minority_persons(area, period).order_by().values("ethnicity_id")
    )


def population_rows(area: Area, period: Period):
    """The yearly population rows a figure adds up: for each area, its own row of the year,
    or failing that the rows of the areas below it (``population_by_area``)."""
    return AreaPopulation.objects.filter(
        year=period.year, area__path__startswith=area.path
    ).select_related("area")


def population_by_area(areas: list[Area], period: Period, field: str) -> dict[int, int | None]:
    """An area's population in the period's year: its own row when it has one, else the sum
    of the nearest rows below it; ``None`` when nothing below it has a row."""
    top = min(areas, key=lambda a: len(a.path))
    rows = {
        row.area.path: getattr(row, field)
        for row in AreaPopulation.objects.filter(
            year=period.year, area__path__startswith=top.path
        ).select_related("area")
    }

    def of(path: str) -> int | None:
        if path in rows:
            return rows[path]
        # the nearest rows below: those with no row between them and ``path``
        nearest = [
            p
            for p in rows
            if p.startswith(path)
            and p != path
            and not any(q != p and q.startswith(path) and p.startswith(q) for q in rows)
        ]
        return sum(rows[p] for p in nearest) if nearest else None

    return {a.pk: of(a.path) for a in areas}


register(
    Figure(
        key="minority_persons",
        label=_("Minority residents"),
        unit=PERSONS,
        definition=_(
            "Persons of an ethnic group other than Han on the register at the end of the period."
        ),
        section=Section.BASIC,
        records=minority_persons,
        record_model="residents.Person",
    ),
    Figure(
        key="minority_households",
        label=_("Minority households"),
        unit=HOUSEHOLDS,
        definition=_("Households with at least one minority resident on the register."),
        section=Section.BASIC,
        records=minority_households,
        record_model="residents.Household",
    ),
    Figure(
        key="ethnic_groups",
        label=_("Ethnic groups present"),
        unit=_("groups"),
        definition=_("Ethnic groups other than Han among the minority residents."),
        section=Section.BASIC,
        measure=DISTINCT,
        records=minority_persons,
        value_field="ethnicity_id",
        list_records=ethnic_groups,
        record_model="residents.Ethnicity",
    ),
    Figure(
        key="registered_population",
        label=_("Registered population"),
        unit=PERSONS,
        definition=_(
            "The area's registered (户籍) population in the period's year, from the "
            "population table (an area without its own row adds up the areas below it)."
        ),
        section=Section.BASIC,
        measure=CUSTOM,
        compute_fn=lambda areas, period: population_by_area(areas, period, "registered"),
        records=population_rows,
        record_model="network.AreaPopulation",
    ),
    Figure(
        key="floating_population",
        label=_("Floating population"),
        unit=PERSONS,
        definition=_("The area's floating (流动) population in the period's year."),
        section=Section.BASIC,
        measure=CUSTOM,
        compute_fn=lambda areas, period: population_by_area(areas, period, "floating"),
        records=population_rows,
        record_model="network.AreaPopulation",
    ),
    Figure(
        key="minority_share",
        label=_("Minority share of the registered population"),
        unit="%",
        definition=_("Minority residents as a share of the registered population."),
        section=Section.BASIC,
        measure=SHARE,
        numerator="minority_persons",
        denominator="registered_population",
    ),
    Figure(
        key="floating_minority_persons",
        label=_("Floating minority residents"),
        unit=PERSONS,
        definition=_(
            "Minority residents of households registered as floating or temporary residents."
        ),
        section=Section.BASIC,
        measure=COUNT,
        records=floating_minority_persons,
        record_model="residents.Person",
    ),
    *[
        Figure(
            key=f"minority_persons_{kind.value}",
            label=format_lazy("{}: {}", _("Minority residents"), kind.label),
            unit=PERSONS,
            definition=_("Minority residents whose household lives in this kind of place."),
            section=Section.BASIC,
            records=_residing(kind.value),
            record_model="residents.Person",
        )
        for kind in ResidenceKind
    ],
)
