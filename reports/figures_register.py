"""Figures read from the register (residents), the area tables and the liaison network
(network, outreach's liaisons): the minority population, its households and groups, its share
of the population, where it lives; the organisation (communities, liaison groups, liaisons,
volunteers), the honours (model families, featured buildings) and hardship (hardship and dibao
households, the minority dibao supplement).

"On the register at the end of the period": a person not archived, of an ethnic group other
than Han (GB/T 3304 code 01), born by the period's end (or of unknown birth date), still
active — or whose move-away or death was recorded after the period ended — in a household
that had moved in by the period's end (or whose moving-in date is unknown) and is still
active, or moved out or closed after the period ended (the household form marks a household
moved away without touching its members' own status, as compliance and the dibao roster
also count active households only).
"""

from collections import defaultdict
from decimal import Decimal

from django.db.models import Prefetch, Q
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from network.models import Area, AreaLevel, AreaPopulation, LiaisonGroup
from outreach.compliance import HARDSHIP_Q
from outreach.models import GroupMembership, Liaison, current_q
from reports.catalogue import COUNT, CUSTOM, DISTINCT, SHARE, Figure, Section, register, top_area
from reports.periods import Period
from residents import dibao
from residents.models import (
    Ethnicity,
    Honour,
    HonourKind,
    Household,
    HouseholdStatus,
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
        & (Q(**{f"{p}birth_date__isnull": True}) | Q(**{f"{p}birth_date__lte": period.end}))
        & (
            Q(**{f"{p}status": PersonStatus.ACTIVE})
            | Q(**{f"{p}status_changed_on__gt": period.end})
        )
        & (
            Q(**{f"{p}household__moved_in_on__isnull": True})
            | Q(**{f"{p}household__moved_in_on__lte": period.end})
        )
        & (
            Q(**{f"{p}household__status": HouseholdStatus.ACTIVE})
            | Q(**{f"{p}household__moved_out_on__gt": period.end})
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


def registered_minority_persons(area: Area, period: Period):
    """Minority residents of households registered here (户籍): seed 003's 户籍少数民族, the
    part of the registered population the minority share takes."""
    return minority_persons(area, period).filter(
        household__registration_kind=RegistrationKind.REGISTERED
    )


def floating_minority_persons(area: Area, period: Period):
    return minority_persons(area, period).filter(
        household__registration_kind__in=[RegistrationKind.FLOATING, RegistrationKind.TEMPORARY]
    )


def ethnic_groups(area: Area, period: Period):
    """The ethnic groups of the minority persons on the register."""
    return Ethnicity.objects.filter(
        pk__in=minority_persons(area, period).order_by().values("ethnicity_id")
    )


def counted_paths(path: str, paths) -> list[str]:
    """Of the area paths ``paths`` that have a population row, those an area (``path``) adds
    up: its own, when it has one, else the nearest below it (no row between them and it)."""
    if path in paths:
        return [path]
    below = [p for p in paths if p.startswith(path) and p != path]
    return [p for p in below if not any(q != p and p.startswith(q) for q in below)]


def population_rows(area: Area, period: Period):
    """The yearly population rows the population figures add up for ``area``
    (``counted_paths``): its own row of the period's year, or failing that the nearest rows
    below it. Two queries."""
    rows = dict(
        AreaPopulation.objects.filter(
            year=period.year, area__path__startswith=area.path
        ).values_list("area__path", "pk")
    )
    counted = [rows[path] for path in counted_paths(area.path, rows)]
    return AreaPopulation.objects.filter(pk__in=counted).select_related("area")


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
        counted = counted_paths(path, rows)
        return sum(rows[p] for p in counted) if counted else None

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
        key="registered_minority_persons",
        label=_("Registered minority residents"),
        unit=PERSONS,
        definition=_(
            "Minority residents of households with registered (户籍) residence, on the "
            "register at the end of the period."
        ),
        section=Section.BASIC,
        records=registered_minority_persons,
        record_model="residents.Person",
    ),
    Figure(
        key="minority_share",
        label=_("Minority share of the registered population"),
        unit="%",
        definition=_(
            "Registered minority residents as a share of the registered population (floating "
            "residents are in neither)."
        ),
        section=Section.BASIC,
        measure=SHARE,
        numerator="registered_minority_persons",
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
            label=format_lazy(_("{}: {}"), _("Minority residents"), kind.label),
            unit=PERSONS,
            definition=_("Minority residents whose household lives in this kind of place."),
            section=Section.BASIC,
            split_of="minority_persons",
            split_field="household__residence_kind",
            split_value=kind.value,
        )
        for kind in ResidenceKind
    ],
)


# ---------------------------------------------------------------- organisation (组织建设)


def communities(area: Area, period: Period):
    """The active communities in the area (the area itself when it is one). The area tree
    keeps no history, so the period plays no part."""
    return Area.objects.filter(
        path__startswith=area.path, level=AreaLevel.COMMUNITY, is_active=True
    )


def liaison_groups(area: Area, period: Period):
    """Liaison groups of the area's communities that are active and were set up by the end
    of the period (or whose founding date is unknown)."""
    return LiaisonGroup.objects.filter(
        Q(established_on__isnull=True) | Q(established_on__lte=period.end),
        community__path__startswith=area.path,
        is_active=True,
    )


def serving_memberships(period: Period):
    """Memberships current at the end of the period in a liaison group counted by
    ``liaison_groups`` (active, set up by then)."""
    return GroupMembership.objects.filter(
        current_q(period.end),
        Q(group__established_on__isnull=True) | Q(group__established_on__lte=period.end),
        group__is_active=True,
    )


def liaisons(area: Area, period: Period):
    """Liaisons of the area's communities, not archived, serving in a liaison group at the
    end of the period (counted where the liaison belongs, whichever community's group)."""
    return Liaison.objects.filter(
        archived_at__isnull=True,
        community__path__startswith=area.path,
        pk__in=serving_memberships(period).order_by().values("liaison_id"),
    )


def secretary_liaison_communities(area: Area, period: Period):
    """Communities whose committee secretary is a serving liaison (seed 003: 均由书记担任统战
    联络员)."""
    secretaries = liaisons(area, period).filter(is_committee_secretary=True)
    return communities(area, period).filter(pk__in=secretaries.order_by().values("community_id"))


def volunteers(area: Area, period: Period):
    return minority_persons(area, period).filter(is_volunteer=True)


# ---------------------------------------------------------------- honours (共建与荣誉)


def _honours(kind: str, period: Period):
    """Honours of ``kind`` awarded in one of the period's years (honours are yearly) to a
    household that is not archived."""
    return Honour.objects.filter(
        kind=kind,
        year__gte=period.start.year,
        year__lte=period.end.year,
        household__archived_at__isnull=True,
    )


def model_families(area: Area, period: Period):
    """Minority households of the area (``minority_households``) named ethnic-unity model
    families (民族团结文明家庭) in one of the period's years; a household honoured in two of
    them counts once. Seed 003 gives them as a share of the minority households, so only
    those count."""
    return minority_households(area, period).filter(
        pk__in=_honours(HonourKind.MODEL_FAMILY, period).order_by().values("household_id"),
    )


def featured_buildings(area: Area, period: Period):
    """Featured-building honours (特色楼组) awarded in one of the period's years, each
    recorded on the household that stands for its building."""
    return _honours(HonourKind.FEATURED_BUILDING, period).filter(
        household__community__path__startswith=area.path
    )


# ---------------------------------------------------------------- hardship (帮困)


def hardship_households(area: Area, period: Period):
    """Minority households with a hardship flag (dibao, low income, disability, elderly
    living alone, serious illness, other): outreach's ``HARDSHIP_Q``."""
    return minority_households(area, period).filter(HARDSHIP_Q)


def dibao_households(area: Area, period: Period):
    return minority_households(area, period).filter(is_dibao=True)


def paid_months(period: Period) -> dict[int, int]:
    """How many monthly supplements a period holds, by year: the months whose first day lies
    in the period (so consecutive periods never pay a month twice)."""
    months = defaultdict(int)
    for first in period.months():
        if first >= period.start:
            months[first.year] += 1
    return dict(months)


def _supplements(area: Area, period: Period) -> list[tuple[Household, Decimal | None]]:
    households = list(
        dibao_households(area, period)
        .select_related("community")
        .prefetch_related(
            Prefetch(
                "members",
                queryset=Person.objects.filter(on_register_q(period)).order_by("pk"),
                to_attr="active_members",  # what dibao.covered_persons reads
            )
        )
    )
    months = paid_months(period)
    communities_of = {h.community_id: h.community for h in households}
    standards = {year: dibao.standards_for_areas(communities_of.values(), year) for year in months}
    found = []
    for household in households:
        persons = dibao.covered_persons(household)
        total = Decimal("0.00")
        for year, count in months.items():
            standard = standards[year][household.community_id]
            if standard is None:
                total = None
                break
            total += dibao.supplement_amount(standard, persons) * count
        found.append((household, total))
    return found


def dibao_supplements(area: Area, period: Period) -> dict[int, Decimal | None]:
    """Household pk → the minority supplement of the period's months for each of the area's
    dibao households (``dibao_households``), by ``residents.dibao``'s rule: the standard of the
    month's year × covered persons × rate, rounded to the fen, each month; ``None`` when a
    month has no standard. Covered persons are as recorded, or else the members on the
    register at the period's end. Three queries, plus one per year of the period."""
    return {household.pk: amount for household, amount in _supplements(area, period)}


def dibao_supplement_by_area(areas: list[Area], period: Period) -> dict[int, Decimal | None]:
    """``dibao_supplements`` added up over each area's subtree; ``None`` where one of the
    households has no standard to be paid by."""
    supplements = _supplements(top_area(areas), period)
    values = {}
    for area in areas:
        total = Decimal("0.00")
        for household, amount in supplements:
            if not household.community.path.startswith(area.path):
                continue
            if amount is None:
                total = None
                break
            total += amount
        values[area.pk] = total
    return values


COMMUNITIES = _("communities")
YUAN = _("yuan")

register(
    Figure(
        key="communities",
        label=_("Communities"),
        unit=COMMUNITIES,
        definition=_("Active communities (residents' committees) in the area."),
        section=Section.ORGANISATION,
        records=communities,
        area_field="pk",
        record_model="network.Area",
    ),
    Figure(
        key="liaison_groups",
        label=_("Liaison groups"),
        unit=_("groups"),
        definition=_(
            "Active minority liaison groups of the area's communities set up by the end of "
            "the period."
        ),
        section=Section.ORGANISATION,
        records=liaison_groups,
        record_model="network.LiaisonGroup",
    ),
    Figure(
        key="liaisons",
        label=_("Liaisons"),
        unit=PERSONS,
        definition=_(
            "Liaisons of the area's communities serving in an active liaison group at the end "
            "of the period."
        ),
        section=Section.ORGANISATION,
        records=liaisons,
        record_model="outreach.Liaison",
    ),
    Figure(
        key="secretary_liaison_communities",
        label=_("Communities whose committee secretary is a liaison"),
        unit=COMMUNITIES,
        definition=_("Active communities with a serving liaison who is the committee's secretary."),
        section=Section.ORGANISATION,
        records=secretary_liaison_communities,
        area_field="pk",
        record_model="network.Area",
    ),
    Figure(
        key="volunteers",
        label=_("Minority volunteers"),
        unit=PERSONS,
        definition=_("Minority residents on the register who are volunteers."),
        section=Section.ORGANISATION,
        records=volunteers,
        record_model="residents.Person",
    ),
    Figure(
        key="volunteer_share",
        label=_("Volunteers' share of minority residents"),
        unit="%",
        definition=_("Minority volunteers as a share of the minority residents."),
        section=Section.ORGANISATION,
        measure=SHARE,
        numerator="volunteers",
        denominator="minority_persons",
    ),
    Figure(
        key="hardship_households",
        label=_("Hardship households"),
        unit=HOUSEHOLDS,
        definition=_(
            "Minority households marked dibao, low income, disability, elderly living alone, "
            "serious illness or another hardship."
        ),
        section=Section.HARDSHIP,
        records=hardship_households,
        record_model="residents.Household",
    ),
    Figure(
        key="dibao_households",
        label=_("Dibao households"),
        unit=HOUSEHOLDS,
        definition=_("Minority households receiving the minimum living allowance (低保)."),
        section=Section.HARDSHIP,
        records=dibao_households,
        record_model="residents.Household",
    ),
    Figure(
        key="dibao_supplement",
        label=_("Minority dibao supplement"),
        unit=YUAN,
        definition=_(
            "The minority supplement due to the dibao households for the months of the "
            "period: the local standard × covered persons × the supplement rate, each month."
        ),
        section=Section.HARDSHIP,
        measure=CUSTOM,
        money=True,
        compute_fn=dibao_supplement_by_area,
        records=dibao_households,
        record_model="residents.Household",
    ),
    Figure(
        key="model_families",
        label=_("Ethnic-unity model families"),
        unit=HOUSEHOLDS,
        definition=_(
            "Minority households on the register named ethnic-unity model families "
            "(民族团结文明家庭) in the period's year(s)."
        ),
        section=Section.UNITY,
        records=model_families,
        record_model="residents.Household",
    ),
    Figure(
        key="model_family_share",
        label=_("Model families' share of minority households"),
        unit="%",
        definition=_("Model families as a share of the minority households."),
        section=Section.UNITY,
        measure=SHARE,
        numerator="model_families",
        denominator="minority_households",
    ),
    Figure(
        key="featured_buildings",
        label=_("Featured buildings"),
        unit=_("buildings"),
        definition=_("Featured-building honours (特色楼组) awarded in the period's year(s)."),
        section=Section.UNITY,
        records=featured_buildings,
        area_field="household__community",
        record_model="residents.Honour",
    ),
)
