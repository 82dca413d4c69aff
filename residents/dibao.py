"""The minority dibao supplement (seed 000): Suzhou pays minority dibao households a share
(by default 20%) above the local dibao standard.

``DibaoStandard`` holds the standard (yuan per person per month) and the supplement rate per
area and year; the nearest area up the tree with a standard for the year applies. The monthly
roster lists the minority dibao households of an area for the civil affairs department.
"""

import datetime
import io
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Exists, OuterRef, Prefetch
from django.utils.translation import gettext as _

from network.models import Area
from residents.models import DibaoStandard, Household, HouseholdStatus, Person, PersonStatus
from residents.typed_input import without_control_characters

CENT = Decimal("0.01")
HAN = "01"


def _nearest(area_ids: list[int], by_area: dict[int, DibaoStandard]) -> DibaoStandard | None:
    for area_id in reversed(area_ids):  # the area itself first, then up the tree
        if area_id in by_area:
            return by_area[area_id]
    return None


def standard_for(area: Area, year: int) -> DibaoStandard | None:
    """The standard of the nearest area up the tree (the area itself first) for the year."""
    ids = area.ancestor_ids()
    by_area = {s.area_id: s for s in DibaoStandard.objects.filter(area_id__in=ids, year=year)}
    return _nearest(ids, by_area)


def standards_for_areas(areas, year: int) -> dict[int, DibaoStandard | None]:
    """``standard_for`` of many areas at once, in one query."""
    areas = list(areas)
    wanted = {i for area in areas for i in area.ancestor_ids()}
    by_area = {s.area_id: s for s in DibaoStandard.objects.filter(area_id__in=wanted, year=year)}
    return {area.pk: _nearest(area.ancestor_ids(), by_area) for area in areas}


def active_members_of(household: Household):
    """Active, non-archived members (prefetched as ``active_members`` on roster pages)."""
    prefetched = getattr(household, "active_members", None)
    if prefetched is not None:
        return prefetched
    return list(household.members.filter(archived_at__isnull=True, status=PersonStatus.ACTIVE))


def covered_persons(household: Household) -> int:
    """Persons the dibao covers: as recorded, or every active member when left empty."""
    if household.dibao_persons is not None:
        return household.dibao_persons
    return len(active_members_of(household))


def supplement_amount(standard: DibaoStandard, persons: int) -> Decimal:
    """standard × persons × rate, in yuan rounded half up to the fen."""
    amount = standard.monthly_standard * persons * standard.supplement_rate
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def monthly_supplement(household: Household, year: int) -> Decimal | None:
    """The household's monthly supplement, or None when no standard applies for the year."""
    standard = standard_for(household.community, year)
    if standard is None:
        return None
    return supplement_amount(standard, covered_persons(household))


# ---------------------------------------------------------------- the monthly roster


def parse_month(text: str) -> datetime.date | None:
    """ "2026-05" (or 2026/5, 2026年5月) as the first day of the month; None if not a month."""
    match = re.fullmatch(r"\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?\s*", text or "")
    if not match:
        return None
    year, month = (int(part) for part in match.groups())
    if not (1 <= month <= 12 and 1949 <= year <= 2100):
        return None
    return datetime.date(year, month, 1)


@dataclass
class RosterRow:
    household: Household
    members: list[Person]
    persons: int
    standard: DibaoStandard | None

    @property
    def base(self) -> Decimal | None:
        if self.standard is None:
            return None
        return (self.standard.monthly_standard * self.persons).quantize(CENT, ROUND_HALF_UP)

    @property
    def supplement(self) -> Decimal | None:
        if self.standard is None:
            return None
        return supplement_amount(self.standard, self.persons)

    @property
    def total(self) -> Decimal | None:
        if self.standard is None:
            return None
        return self.base + self.supplement


@dataclass
class Roster:
    area: Area
    month: datetime.date
    rows: list[RosterRow] = field(default_factory=list)  # with a standard
    problems: list[RosterRow] = field(default_factory=list)  # no standard for the year

    @property
    def total_persons(self) -> int:
        return sum(r.persons for r in self.rows)

    @property
    def total_base(self) -> Decimal:
        return sum((r.base for r in self.rows), Decimal("0.00"))

    @property
    def total_supplement(self) -> Decimal:
        return sum((r.supplement for r in self.rows), Decimal("0.00"))

    @property
    def total(self) -> Decimal:
        return sum((r.total for r in self.rows), Decimal("0.00"))

    @property
    def household_count(self) -> int:
        return len(self.rows) + len(self.problems)


def minority_dibao_households(user, area: Area):
    """Active dibao households under ``area`` the user may see with at least one active
    minority member; members prefetched, so the roster is three queries in all."""
    minority_member = Person.objects.filter(
        household=OuterRef("pk"), archived_at__isnull=True, status=PersonStatus.ACTIVE
    ).exclude(ethnicity__code=HAN)
    return (
        Household.objects.visible_to(user)
        .current()
        .filter(community__path__startswith=area.path, is_dibao=True, status=HouseholdStatus.ACTIVE)
        .filter(Exists(minority_member))
        .select_related("community")
        .prefetch_related(
            Prefetch(
                "members",
                queryset=Person.objects.filter(
                    archived_at__isnull=True, status=PersonStatus.ACTIVE
                ).order_by("pk"),
                to_attr="active_members",
            )
        )
        .order_by("community__path", "address", "pk")
    )


def build_roster(user, area: Area, month: datetime.date) -> Roster:
    households = list(minority_dibao_households(user, area))
    communities = {h.community_id: h.community for h in households}
    standards = standards_for_areas(communities.values(), month.year)
    roster = Roster(area=area, month=month)
    for household in households:
        row = RosterRow(
            household=household,
            members=household.active_members,
            persons=covered_persons(household),
            standard=standards[household.community_id],
        )
        (roster.rows if row.standard else roster.problems).append(row)
    return roster


FORMULA_START = ("=", "+", "-", "@")


def _put(sheet, row: int, column: int, value):
    """Write a cell; text that Excel would run as a formula stays text, and control
    characters (which an xlsx cannot hold) are dropped first."""
    if isinstance(value, str):
        value = without_control_characters(value)
    cell = sheet.cell(row=row, column=column, value=value)
    if isinstance(value, str) and value.startswith(FORMULA_START):
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell


def roster_xlsx(roster: Roster) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = roster.month.strftime("%Y-%m")
    headers = [
        _("Community"),
        _("Household number"),
        _("Address"),
        _("Members"),
        _("Covered persons"),
        _("Standard (yuan per person per month)"),
        _("Supplement rate"),
        _("Standard × persons"),
        _("Supplement"),
        _("Total"),
        _("Problem"),
    ]
    _put(
        sheet,
        1,
        1,
        _("Minority dibao supplement roster, %(area)s, %(month)s")
        % {"area": roster.area.name, "month": roster.month.strftime("%Y-%m")},
    )
    for column, header in enumerate(headers, start=1):
        _put(sheet, 2, column, header)
    line = 3
    for item in [*roster.rows, *roster.problems]:
        household = item.household
        values = [
            household.community.name,
            household.ledger_number,
            household.address,
            "、".join(m.name for m in item.members),
            item.persons,
        ]
        if item.standard:
            values += [
                item.standard.monthly_standard,
                item.standard.supplement_rate,
                item.base,
                item.supplement,
                item.total,
                "",
            ]
        else:
            values += [None, None, None, None, None, _("No dibao standard for this year")]
        for column, value in enumerate(values, start=1):
            _put(sheet, line, column, value)
        line += 1
    totals = [_("Total"), "", "", "", roster.total_persons, None, None]
    totals += [roster.total_base, roster.total_supplement, roster.total, ""]
    for column, value in enumerate(totals, start=1):
        _put(sheet, line, column, value)
    for column, width in zip(
        "ABCDEFGHIJK", (14, 12, 28, 24, 8, 12, 8, 12, 12, 12, 20), strict=True
    ):
        sheet.column_dimensions[column].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
