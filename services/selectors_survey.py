"""Reading two-way service surveys (双向服务意向调查表) the way a user may: the filtered list,
the households a user may survey, a survey's history, and the summary per area that shows
staff which merchants to sign next (seed 000: streets first hand out the survey, then sign
the 三优 services residents asked for)."""

import datetime
from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, Subquery

from network.access import scope_for
from network.models import Area, AreaLevel
from residents.models import Household, Person, PersonStatus
from residents.pages import HistoryEntry, history_entries
from residents.selectors import Viewer, search_kind
from residents.typed_input import typed_text
from services.figures import merchants_offering
from services.models import ServiceCategory, Survey, SurveyAnswer, SurveyDirection

HOUSEHOLD_CHOICES = 30  # households offered when choosing whom to survey
WANTS, OFFERS = SurveyDirection.WANTS, SurveyDirection.OFFERS


# ---------------------------------------------------------------- the list


def _ordered_answers():
    return Prefetch("answers", queryset=SurveyAnswer.objects.order_by("direction", "category"))


def surveys_for(user):
    """Surveys a user may see, with what a row shows, newest first."""
    return (
        Survey.objects.visible_to(user)
        .select_related("household__community", "respondent", "recorded_by")
        .prefetch_related(_ordered_answers())
        .order_by("-surveyed_on", "-id")
    )


def _answered(direction: str, category: str):
    return Exists(
        SurveyAnswer.objects.filter(survey=OuterRef("pk"), direction=direction, category=category)
    )


def filter_surveys(records, filters: dict):
    """Apply the list's filters (already validated by the filter form) to ``records``."""
    if filters.get("area") is not None:
        records = records.filter(household__community__path__startswith=filters["area"].path)
    if filters.get("date_from"):
        records = records.filter(surveyed_on__gte=filters["date_from"])
    if filters.get("date_to"):
        records = records.filter(surveyed_on__lte=filters["date_to"])
    if filters.get("wants"):
        records = records.filter(_answered(WANTS, filters["wants"]))
    if filters.get("offers"):
        records = records.filter(_answered(OFFERS, filters["offers"]))
    text = filters.get("q")
    if text:
        records = records.filter(
            Q(household__address__contains=text) | Q(respondent__name__contains=text)
        )
    return records.filter(archived_at__isnull=not filters.get("archived"))


def answers_of(survey: Survey, direction: str) -> list[SurveyAnswer]:
    """The survey's answers of one direction, from the prefetched answers."""
    return [a for a in survey.answers.all() if a.direction == direction]


def answer_text(answer: SurveyAnswer) -> str:
    label = answer.get_category_display()
    return f"{label}（{answer.detail}）" if answer.detail else str(label)


# ---------------------------------------------------------------- whom a user may survey


def recordable_households(user):
    """Current households for which ``user`` may record a survey: the rule of
    ``Survey.objects.changeable_by`` (staff where they manage; a liaison in their own
    community), applied to the household's community."""
    return (
        Household.objects.changeable_by(user)
        .filter(archived_at__isnull=True)
        .select_related("community")
    )


# A household search reads no ID numbers: digits are part of an address.
_NO_ID_SEARCH = Viewer(sensitive=False, full_id=False, staff=False)


def search_households(households, text: str, limit: int = HOUSEHOLD_CHOICES) -> list[Household]:
    """The first ``limit`` of ``households`` the search box finds: part of the address,
    part of a current member's name, or the start of its pinyin or initials (马晓东: mxd).
    With the current members' names, in two queries."""
    kind, value = search_kind(typed_text(text, 50), _NO_ID_SEARCH)
    if kind == "pinyin":
        names = Q(name_pinyin__startswith=value) | Q(name_initials__startswith=value)
    else:
        names = Q(name__contains=value)
    if kind:
        members = Person.objects.filter(names, household=OuterRef("pk"), archived_at__isnull=True)
        households = households.filter(Q(address__contains=value) | Exists(members))
    members = Prefetch(
        "members",
        queryset=Person.objects.filter(archived_at__isnull=True).order_by("pk"),
        to_attr="current_members",
    )
    return list(households.prefetch_related(members).order_by("address", "pk")[:limit])


def respondents(household: Household, *, including: int | None = None):
    """Who may answer for the household: its current members still living there."""
    q = Q(household=household, archived_at__isnull=True, status=PersonStatus.ACTIVE)
    if including is not None:
        q |= Q(pk=including)
    return Person.objects.filter(q).order_by("pk")


# ---------------------------------------------------------------- history


def survey_history(survey: Survey) -> list[HistoryEntry]:
    """Who changed what and when: the survey and its answers, newest first (two queries)."""
    own = survey.history.select_related("history_user")
    answers = SurveyAnswer.history.filter(survey_id=survey.pk).select_related("history_user")
    directions = dict(SurveyDirection.choices)
    categories = dict(ServiceCategory.choices)

    def subject(row) -> str:
        return f"{directions.get(row.direction, row.direction)} · " + str(
            categories.get(row.category, row.category)
        )

    entries = history_entries(own) + history_entries(answers, subject_of=subject)
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries


# ---------------------------------------------------------------- the summary per area


def default_area(user, areas) -> Area | None:
    """The area a user's summary opens on: the area of their own first post, else the
    highest area they may see."""
    own = set(scope_for(user).area_ids)
    areas = list(areas)
    mine = [a for a in areas if a.pk in own]
    if mine:
        return mine[0]
    return min(areas, key=lambda a: (a.path.count("/"), a.path), default=None)


def counted_surveys(user, area: Area, start: datetime.date, end: datetime.date):
    """The surveys the summary counts: in the period, of current households in ``area``
    that the user may see, and of each household only its latest survey in the period
    (a household surveyed twice counts once, with what it said last)."""
    in_period = Q(archived_at__isnull=True, surveyed_on__gte=start, surveyed_on__lte=end)
    latest = (
        Survey.objects.filter(in_period, household=OuterRef("household"))
        .order_by("-surveyed_on", "-pk")
        .values("pk")[:1]
    )
    return (
        Survey.objects.visible_to(user)
        .filter(
            in_period,
            household__community__path__startswith=area.path,
            household__archived_at__isnull=True,
        )
        .filter(pk=Subquery(latest))
    )


@dataclass
class Cell:
    wants: int = 0
    offers: int = 0
    merchants: int = 0

    @property
    def gap(self) -> bool:
        """Wanted, and no merchant offers it there: a merchant to sign next."""
        return self.wants > 0 and self.merchants == 0


@dataclass
class SummaryRow:
    area: Area
    households: int = 0  # households surveyed (their latest survey in the period)
    cells: dict[str, Cell] = field(default_factory=dict)

    def cell(self, category: str) -> Cell:
        return self.cells.setdefault(category, Cell())


@dataclass
class Summary:
    area: Area
    start: datetime.date
    end: datetime.date
    merchants_on: datetime.date  # agreements in force on this day are counted
    rows: list[SummaryRow]
    total: SummaryRow
    categories: list[tuple[str, str]]  # (value, label) of the columns shown

    @property
    def gaps(self) -> list[tuple[str, str]]:
        """Categories wanted in the area with no merchant offering them there."""
        return [(v, label) for v, label in self.categories if self.total.cell(v).gap]

    def by_category(self) -> list[tuple[str, Cell]]:
        """(label, cell of the whole area) of each shown category."""
        return [(label, self.total.cell(v)) for v, label in self.categories]

    def table(self):
        """(row, [cell of each shown category]) for the template, total last."""
        return [
            (row, [row.cell(v) for v, _label in self.categories])
            for row in [*self.rows, self.total]
        ]


def row_areas(area: Area) -> list[Area]:
    """The rows of an area's summary: its active child areas (a community: itself)."""
    if area.level == AreaLevel.COMMUNITY:
        return [area]
    children = area.children.filter(is_active=True)
    # zones (which have no code) first, then by division code
    return sorted(children, key=lambda a: (a.code is not None, a.code or "", a.name, a.pk))


def survey_summary(
    user, area: Area, start: datetime.date, end: datetime.date, today: datetime.date
) -> Summary:
    """Per child area of ``area``: the households surveyed, and for each service category
    how many households want it, how many offer it, and how many merchants with an
    agreement in force offer it there (``figures.merchants_offering``, on the period's last
    day or today if that is earlier). Three queries whatever the number of surveys."""
    rows = [SummaryRow(area=a) for a in row_areas(area)]
    total = SummaryRow(area=area)
    everyone = [total, *rows]

    def inside(row: SummaryRow, prefix: str) -> Q:
        return Q(**{f"{prefix}household__community__path__startswith": row.area.path})

    surveys = counted_surveys(user, area, start, end)
    households = surveys.aggregate(
        **{f"r{i}": Count("pk", filter=inside(row, "")) for i, row in enumerate(everyone)}
    )
    answers = (
        SurveyAnswer.objects.filter(survey__in=surveys)
        .values("direction", "category")
        .annotate(
            **{
                f"r{i}": Count("pk", filter=inside(row, "survey__"))
                for i, row in enumerate(everyone)
            }
        )
        .order_by()
    )
    for i, row in enumerate(everyone):
        row.households = households[f"r{i}"]
    for answer in answers:
        for i, row in enumerate(everyone):
            cell = row.cell(answer["category"])
            if answer["direction"] == WANTS:
                cell.wants = answer[f"r{i}"]
            else:
                cell.offers = answer[f"r{i}"]
    merchants_on = min(end, today)
    offered = merchants_offering([row.area for row in everyone], merchants_on)
    for row in everyone:
        for category, count in offered.get(row.area.pk, {}).items():
            row.cell(category).merchants = count
    shown = [
        (value, str(label))
        for value, label in ServiceCategory.choices
        if value in total.cells
        and (total.cells[value].wants or total.cells[value].offers or total.cells[value].merchants)
    ]
    return Summary(
        area=area,
        start=start,
        end=end,
        merchants_on=merchants_on,
        rows=rows,
        total=total,
        categories=shown,
    )
