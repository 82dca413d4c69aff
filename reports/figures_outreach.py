"""Figures of the network's work (outreach): meetings held against those due, visits,
festival and hardship visits, activities, consultations, pairings and assistance.

Meetings and activities belong to the area that held them (``area``: a sub-district's own
meeting counts for the sub-district, in none of its communities' rows); visits, consultations
and pairings to their community; assistance to its visit's community. Archived records never
count.

What is *due* — meetings the recurring obligations require, households to visit for a
festival — comes from ``outreach.compliance``, the one definition the compliance table uses:
only the obligation periods lying wholly in the report period that have ended count, and a
festival once its week of grace has passed. Those figures are worked out together for all the
rows of a table (one context and one query per obligation or set of households due) and cached
under the compliance data version (``outreach.compliance_cache``), so the several figures read
from one computation cost one query each after the first, and are never stale.
"""

from __future__ import annotations

import datetime
import hashlib

from django.core.cache import cache
from django.db.models import F, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from network.models import Area
from outreach import compliance, compliance_cache
from outreach.models import (
    Assistance,
    Consultation,
    ConsultationStatus,
    Meeting,
    MeetingKind,
    Obligation,
    ObligationKind,
    Pairing,
    Topic,
    Visit,
    VisitKind,
    current_q,
)
from outreach.models import Period as ObligationPeriod
from outreach.selectors_meetings import with_attendee_counts
from reports.catalogue import (
    CUSTOM,
    MEDIAN,
    SHARE,
    SUM,
    Figure,
    Section,
    register,
    shared,
    top_area,
)
from reports.figures_register import HOUSEHOLDS, minority_households
from reports.periods import Period
from residents.models import Household

# Activities (活动开展, seed 003: 座谈会, 茶话会, 宣传, 节庆, 参观, 联谊, 培训): events held for
# and with residents. The other kinds (zone-head, liaison and leadership-group meetings, study
# sessions) are the network's working meetings, the ones the obligations require.
ACTIVITY_KINDS = (
    MeetingKind.SYMPOSIUM,
    MeetingKind.TEA_PARTY,
    MeetingKind.PUBLICITY,
    MeetingKind.FESTIVAL,
    MeetingKind.OUTING,
    MeetingKind.EXCHANGE,
    MeetingKind.TRAINING,
)
WORKING_KINDS = tuple(kind for kind in MeetingKind if kind not in ACTIVITY_KINDS)

# units, as the summary writes them after a number (场, 次, 起, 对, 人次, 元, 天)
MEETINGS, TIMES, CASES, PAIRS = _("meetings"), _("times"), _("cases"), _("pairs")
PERSON_TIMES, YUAN, DAYS = _("person-times"), _("yuan"), _("days")
CACHE_PREFIX = "reports:outreach:"


# ---------------------------------------------------------------- meetings and activities


def meetings_held(area: Area, period: Period):
    """Meetings and activities (not archived) held in the period by the area or any area or
    liaison group under it."""
    return Meeting.objects.filter(
        archived_at__isnull=True,
        held_on__gte=period.start,
        held_on__lte=period.end,
        area__path__startswith=area.path,
    )


def _meetings_of(*kinds):
    def records(area: Area, period: Period):
        return meetings_held(area, period).filter(kind__in=kinds)

    return records


def activities(area: Area, period: Period):
    """The activities held, each with its participants (``attendee_total``: staff, liaisons
    and residents attending, and other attendees)."""
    return with_attendee_counts(_meetings_of(*ACTIVITY_KINDS)(area, period))


def activity_participants(areas: list[Area], period: Period) -> dict[int, int]:
    """The participants (人次) of the activities, in one GROUP BY the holding area's path."""
    rows = (
        activities(top_area(areas), period)
        .order_by()
        .values(path=F("area__path"))
        .annotate(n=Sum("attendee_total"))
        .values_list("path", "n")
    )
    return _by_path(rows, areas)


def _by_path(rows, areas: list[Area]) -> dict[int, int]:
    """Each area's total of ``(area path, number)`` rows in its subtree."""
    totals = {a.pk: 0 for a in areas}
    for path, n in rows:
        for a in areas:
            if path.startswith(a.path):
                totals[a.pk] += n or 0
    return totals


# ---------------------------------------------------------------- visits


def visits(area: Area, period: Period):
    return Visit.objects.filter(
        archived_at__isnull=True,
        visited_on__gte=period.start,
        visited_on__lte=period.end,
        community__path__startswith=area.path,
    )


def visited_q(period: Period) -> Q:
    """A household with at least one visit (not archived) in the period: a semi-join the
    index ``visit_current_day_idx`` answers alone."""
    visited = Visit.objects.filter(
        archived_at__isnull=True, visited_on__gte=period.start, visited_on__lte=period.end
    )
    return Q(pk__in=visited.order_by().values("household_id"))


def households_visited(area: Area, period: Period):
    return Household.objects.filter(
        visited_q(period), archived_at__isnull=True, community__path__startswith=area.path
    )


def minority_households_visited(area: Area, period: Period):
    return minority_households(area, period).filter(visited_q(period))


# ---------------------------------------------------------------- what is due (compliance)


# outreach.compliance scopes what it reads by a user; the catalogue works for areas its
# callers have already checked, so it reads as a user who sees everything (a superuser's
# scope, worked out by ``network.access.compute_scope`` without a query).
class _EveryArea:
    is_authenticated = True
    is_active = True
    is_superuser = True


EVERY_AREA = _EveryArea()


def _span(period: Period, today: datetime.date) -> compliance.Span:
    return compliance.report_span(today, date_from=period.start, date_to=period.end)


def _quarterly_hardship_visits() -> Obligation:
    """Compliance's hardship rule (a visit of any kind, not archived) per calendar quarter."""
    return Obligation(kind=ObligationKind.HARDSHIP_VISITS, period=ObligationPeriod.QUARTER, times=1)


def ended_quarters(period: Period) -> list[compliance.Occasion]:
    """The calendar quarters lying wholly in the period that have ended."""
    today = timezone.localdate()
    judged, _current = compliance.occasions(
        _quarterly_hardship_visits(), _span(period, today), today
    )
    return judged


def hardship_households_due(area: Area, period: Period):
    """Hardship households (compliance's definition: active, with a hardship flag or note), when
    at least one quarter of the period has ended; none otherwise."""
    if not ended_quarters(period):
        return Household.objects.none()
    return compliance.hardship_households(EVERY_AREA, area)


def hardship_households_visited_each_quarter(area: Area, period: Period):
    quarters = ended_quarters(period)
    if not quarters:
        return Household.objects.none()
    obligation = _quarterly_hardship_visits()
    households = compliance.hardship_households(EVERY_AREA, area)
    for quarter in quarters:
        households = households.filter(compliance._visited(obligation, quarter))
    return households


COMPLIANCE_KEYS = (
    "meetings_due",
    *[f"meetings_due_{kind.value}" for kind in WORKING_KINDS],
    "festival_households_due",
    "festival_households_visited",
)


@shared
def compliance_values(areas: list[Area], period: Period) -> dict[str, dict[int, int]]:
    """``COMPLIANCE_KEYS`` → area pk → value: the compliance figures of every meeting and
    festival-visit obligation, added up over the units (sub-districts, zones, communities,
    liaison groups) in each area's subtree. Cached under the data version, read first."""
    today = timezone.localdate()
    version = compliance_cache.current_version()
    key = None
    if version is not None:
        raw = "|".join(
            str(part)
            for part in (
                sorted(a.pk for a in areas),
                period.start,
                period.end,
                today,
                version,
            )
        )
        key = CACHE_PREFIX + hashlib.sha256(raw.encode()).hexdigest()
        found = cache.get(key)
        if found is not None:
            return found
    values = _compliance_values(areas, period, today)
    if key is not None:
        cache.set(key, values, compliance_cache.TIMEOUT)
    return values


def _compliance_values(areas, period, today) -> dict[str, dict[int, int]]:
    values = {key: {a.pk: 0 for a in areas} for key in COMPLIANCE_KEYS}
    span = _span(period, today)
    if span.is_empty:
        return values
    context = compliance.build_context(EVERY_AREA, area=top_area(areas), span=span, today=today)
    kinds = (ObligationKind.MEETING, ObligationKind.FESTIVAL_VISITS)
    obligations = [o for o in context.obligations if o.kind in kinds]
    households = compliance.household_counts(
        context, [o for o in obligations if o.kind == ObligationKind.FESTIVAL_VISITS]
    )
    for obligation in obligations:
        for figure in compliance.figures_for(context, obligation, households):
            if obligation.kind == ObligationKind.MEETING:
                parts = [("meetings_due", figure.due)]
                if obligation.meeting_kind in WORKING_KINDS:
                    parts.append((f"meetings_due_{obligation.meeting_kind}", figure.due))
            else:
                parts = [
                    ("festival_households_due", figure.due),
                    ("festival_households_visited", figure.done),
                ]
            for a in areas:
                if figure.unit.path.startswith(a.path):
                    for name, n in parts:
                        values[name][a.pk] += n
    return values


def _compliance(key: str):
    def compute(areas: list[Area], period: Period) -> dict[int, int]:
        return compliance_values(areas, period)[key]

    return compute


# ---------------------------------------------------------------- consultations


def _received_in(period: Period) -> Q:
    """Received on a day of the period (local time), as a range the index
    ``consultation_area_idx`` serves."""
    start = datetime.datetime.combine(period.start, datetime.time.min)
    end = datetime.datetime.combine(period.end + datetime.timedelta(days=1), datetime.time.min)
    return Q(received_at__gte=timezone.make_aware(start), received_at__lt=timezone.make_aware(end))


def consultations(area: Area, period: Period):
    return Consultation.objects.filter(
        _received_in(period), archived_at__isnull=True, community__path__startswith=area.path
    )


def consultations_resolved(area: Area, period: Period):
    """Resolved or referred (closed) in the period, with ``days`` from the day received."""
    return Consultation.objects.filter(
        archived_at__isnull=True,
        status__in=[ConsultationStatus.RESOLVED, ConsultationStatus.REFERRED],
        closed_on__gte=period.start,
        closed_on__lte=period.end,
        community__path__startswith=area.path,
    ).annotate(days=F("closed_on") - TruncDate("received_at"))


# ---------------------------------------------------------------- pairings and assistance


def pairings_active(area: Area, period: Period):
    """Pairings (not archived) in force on the period's last day."""
    return Pairing.objects.filter(
        current_q(period.end), archived_at__isnull=True, community__path__startswith=area.path
    )


def assistance(area: Area, period: Period):
    """Assistance given on visits (not archived) in the period."""
    return Assistance.objects.filter(
        visit__archived_at__isnull=True,
        visit__visited_on__gte=period.start,
        visit__visited_on__lte=period.end,
        visit__community__path__startswith=area.path,
    )


# ---------------------------------------------------------------- the figures

HELD_OF_KIND = _("Meetings of this kind (not archived) held in the period.")
DUE_OF_KIND = _(
    "Meetings of this kind the recurring obligations require over the period (only periods "
    "that have ended count, as in the compliance table)."
)


def _meeting_kind_figures(kinds, *, with_due: bool) -> list[Figure]:
    figures = []
    for kind in kinds:
        figures.append(
            Figure(
                key=f"meetings_{kind.value}",
                label=format_lazy(_("{}: {}"), _("Meetings held"), kind.label),
                unit=MEETINGS,
                definition=HELD_OF_KIND,
                section=Section.ACTIVITIES,
                split_of="meetings_held",
                split_field="kind",
                split_value=kind.value,
            )
        )
        if with_due:
            figures.append(
                Figure(
                    key=f"meetings_due_{kind.value}",
                    label=format_lazy(_("{}: {}"), _("Meetings due"), kind.label),
                    unit=MEETINGS,
                    definition=DUE_OF_KIND,
                    section=Section.ACTIVITIES,
                    measure=CUSTOM,
                    elsewhere="outreach:compliance",
                    compute_fn=_compliance(f"meetings_due_{kind.value}"),
                )
            )
    return figures


FIGURES = [
    Figure(
        key="meetings_held",
        label=_("Meetings and activities held"),
        unit=MEETINGS,
        definition=_(
            "Meetings and activities (not archived) held in the period by the area, or by an "
            "area or liaison group under it."
        ),
        section=Section.ACTIVITIES,
        records=meetings_held,
        area_field="area",
        record_model="outreach.Meeting",
    ),
    Figure(
        key="meetings_due",
        label=_("Meetings due"),
        unit=MEETINGS,
        definition=_(
            "Meetings the recurring obligations require over the period: the times per period "
            "for each month, quarter, half year or year lying wholly in the period. As in the "
            "compliance table, only periods that have ended count."
        ),
        section=Section.ACTIVITIES,
        measure=CUSTOM,
        elsewhere="outreach:compliance",
        compute_fn=_compliance("meetings_due"),
    ),
    *_meeting_kind_figures(WORKING_KINDS, with_due=True),
    Figure(
        key="activities_held",
        label=_("Activities held"),
        unit=MEETINGS,
        definition=_(
            "Symposiums, tea parties, policy publicity, festival celebrations, outings, "
            "exchange meetings and trainings (not archived) held in the period."
        ),
        section=Section.ACTIVITIES,
        records=_meetings_of(*ACTIVITY_KINDS),
        area_field="area",
        record_model="outreach.Meeting",
    ),
    Figure(
        key="activity_participants",
        label=_("Activity participants"),
        unit=PERSON_TIMES,
        definition=_(
            "The participants of those activities added up: staff, liaisons and residents "
            "recorded as attending, and other attendees."
        ),
        section=Section.ACTIVITIES,
        measure=CUSTOM,
        compute_fn=activity_participants,
        records=activities,
        area_field="area",
        value_field="attendee_total",
        record_model="outreach.Meeting",
    ),
    Figure(
        key="activity_cost",
        label=_("Cost of meetings and activities"),
        unit=YUAN,
        definition=_("The costs recorded for the meetings and activities held in the period."),
        section=Section.ACTIVITIES,
        measure=SUM,
        records=meetings_held,
        area_field="area",
        value_field="cost",
        record_model="outreach.Meeting",
    ),
    *_meeting_kind_figures(ACTIVITY_KINDS, with_due=False),
    Figure(
        key="visits",
        label=_("Visits"),
        unit=TIMES,
        definition=_("Visits to households (not archived) in the period."),
        section=Section.ACTIVITIES,
        records=visits,
        record_model="outreach.Visit",
    ),
    *[
        Figure(
            key=f"visits_{kind.value}",
            label=format_lazy(_("{}: {}"), _("Visits"), kind.label),
            unit=TIMES,
            definition=_("Visits of this kind (not archived) in the period."),
            section=Section.ACTIVITIES,
            split_of="visits",
            split_field="kind",
            split_value=kind.value,
            record_model="outreach.Visit",
        )
        for kind in VisitKind
    ],
    Figure(
        key="households_visited",
        label=_("Households visited"),
        unit=HOUSEHOLDS,
        definition=_("Households with at least one visit (not archived) in the period."),
        section=Section.ACTIVITIES,
        records=households_visited,
        record_model="residents.Household",
    ),
    Figure(
        key="minority_households_visited",
        label=_("Minority households visited"),
        unit=HOUSEHOLDS,
        definition=_(
            "Minority households (on the register at the end of the period) with at least one "
            "visit in the period."
        ),
        section=Section.ACTIVITIES,
        records=minority_households_visited,
        record_model="residents.Household",
    ),
    Figure(
        key="households_visited_share",
        label=_("Share of minority households visited"),
        unit="%",
        definition=_("Minority households visited as a share of the minority households."),
        section=Section.ACTIVITIES,
        measure=SHARE,
        numerator="minority_households_visited",
        denominator="minority_households",
    ),
    Figure(
        key="festival_households_due",
        label=_("Festival visits due"),
        unit=HOUSEHOLDS,
        definition=_(
            "Households to visit for the festivals of the festival-visit obligations that fell "
            "in the period, a household counted once per festival (four festivals × 30 "
            "households = 120); a festival counts once its week of grace has passed."
        ),
        section=Section.ACTIVITIES,
        measure=CUSTOM,
        elsewhere="outreach:compliance",
        compute_fn=_compliance("festival_households_due"),
    ),
    Figure(
        key="festival_households_visited",
        label=_("Festival visits made"),
        unit=HOUSEHOLDS,
        definition=_(
            "Of those, the households visited for the festival within 30 days of it, once per "
            "festival."
        ),
        section=Section.ACTIVITIES,
        measure=CUSTOM,
        elsewhere="outreach:compliance",
        compute_fn=_compliance("festival_households_visited"),
    ),
    Figure(
        key="festival_visit_coverage",
        label=_("Festival-visit coverage"),
        unit="%",
        definition=_("Festival visits made as a share of festival visits due."),
        section=Section.ACTIVITIES,
        measure=SHARE,
        numerator="festival_households_visited",
        denominator="festival_households_due",
    ),
    Figure(
        key="hardship_households_due",
        label=_("Hardship households due a visit each quarter"),
        unit=HOUSEHOLDS,
        definition=_(
            "Active hardship households (dibao, low income, disability, elderly living alone, "
            "serious illness or another hardship noted), when a calendar quarter of the period "
            "has ended."
        ),
        section=Section.ACTIVITIES,
        records=hardship_households_due,
        record_model="residents.Household",
    ),
    Figure(
        key="hardship_households_visited_each_quarter",
        label=_("Hardship households visited each quarter"),
        unit=HOUSEHOLDS,
        definition=_(
            "Hardship households with a visit of any kind (not archived) in every calendar "
            "quarter of the period that has ended."
        ),
        section=Section.ACTIVITIES,
        records=hardship_households_visited_each_quarter,
        record_model="residents.Household",
    ),
    Figure(
        key="hardship_visit_coverage",
        label=_("Share of hardship households visited each quarter"),
        unit="%",
        definition=_(
            "Hardship households visited each quarter as a share of the hardship households due."
        ),
        section=Section.ACTIVITIES,
        measure=SHARE,
        numerator="hardship_households_visited_each_quarter",
        denominator="hardship_households_due",
    ),
    Figure(
        key="consultations",
        label=_("Consultations received"),
        unit=CASES,
        definition=_(
            "Walk-ins, hotline calls, reception-window visits and other requests (not archived) "
            "received in the period."
        ),
        section=Section.SERVICE,
        records=consultations,
        record_model="outreach.Consultation",
    ),
    Figure(
        key="consultations_resolved",
        label=_("Consultations resolved"),
        unit=CASES,
        definition=_("Consultations resolved or referred in the period."),
        section=Section.SERVICE,
        records=consultations_resolved,
        record_model="outreach.Consultation",
    ),
    Figure(
        key="consultation_median_days",
        label=_("Median days to resolve"),
        unit=DAYS,
        definition=_(
            "The median number of days from the day a consultation was received to the day it "
            "was resolved or referred, over the consultations closed in the period."
        ),
        section=Section.SERVICE,
        measure=MEDIAN,
        records=consultations_resolved,
        value_field="days",
        record_model="outreach.Consultation",
    ),
    *[
        Figure(
            key=f"consultations_{topic.value}",
            label=format_lazy(_("{}: {}"), _("Consultations received"), topic.label),
            unit=CASES,
            definition=_("Consultations on this topic received in the period."),
            section=Section.SERVICE,
            split_of="consultations",
            split_field="topic",
            split_value=topic.value,
            record_model="outreach.Consultation",
        )
        for topic in Topic
    ],
    Figure(
        key="pairings_active",
        label=_("Active pairings"),
        unit=PAIRS,
        definition=_(
            "Pairings (friendship, assistance and study-grant; not archived) in force on the "
            "last day of the period."
        ),
        section=Section.HARDSHIP,
        records=pairings_active,
        record_model="outreach.Pairing",
    ),
    Figure(
        key="assistance_value",
        label=_("Value of assistance given"),
        unit=YUAN,
        definition=_("Cash, goods and services given on visits in the period, valued in yuan."),
        section=Section.HARDSHIP,
        measure=SUM,
        records=assistance,
        area_field="visit__community",
        value_field="value",
        record_model="outreach.Assistance",
    ),
    Figure(
        key="assistance_given",
        label=_("Assistance given"),
        unit=TIMES,
        definition=_("The items of assistance given on visits in the period."),
        section=Section.HARDSHIP,
        records=assistance,
        area_field="visit__community",
        record_model="outreach.Assistance",
    ),
]
register(*FIGURES)
KEYS = [f.key for f in FIGURES]
