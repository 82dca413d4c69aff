"""The annual summary's figures in hand-written SQL, for ``bench/reports_bench.py``.

What a person who knows the schema would write without the catalogue: one statement per group
of figures that read the same tables, each aggregating its table once for every row of the
summary at the same time. The rows (the area's child areas and the area itself) are passed as
two arrays, ``row_area(id, path)``; a record counts for a row when its area lies in the row's
subtree (``area.path LIKE row.path || '%'``), so the records are first grouped by their own
area and the groups then added up per row (``row_subtree``). Figures that do not add up over
areas (a median, merchants serving several areas) are worked out per row directly.

The definitions are the catalogue's (``reports/figures_*.py``, ``reports/budget.py``,
``outreach/compliance.py``, ``services/figures.py``, ``residents/dibao.py``), written again
from their docstrings and code: the benchmark asserts both give the same number for every
figure, row and period. Four things are not SQL: a share (a percentage of two other figures,
to one decimal, half to even as Python's ``Decimal.quantize``) is worked out from its parts;
the budget's spending adds two sums that two statements read anyway (``SUMS``); the dates
festivals fall on (lunar and Islamic calendars: ``outreach.festivals``) are passed in as
parameters, read from the festival table in one query; the period arithmetic (previous year,
the year before) is ``reports.periods``'.

``GROUPS`` lists the statements and the figure keys each computes; ``covered_keys()`` is every
key this module computes; ``summary()`` computes a summary table's figures (the rows in the
period, the area alone in the previous period and the year before).
"""

from __future__ import annotations

import datetime
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal

from outreach.models import MeetingKind, Topic, VisitKind  # (imported once Django is set up)
from residents.models import ResidenceKind
from services.models import ServiceCategory

TIME_ZONE = "Asia/Shanghai"  # settings.TIME_ZONE: a consultation's day is its local day
# the kinds the figures are broken down by, from the schema's choices
RESIDENCE_KINDS = tuple(k.value for k in ResidenceKind)
VISIT_KINDS = tuple(k.value for k in VisitKind)
MEETING_KINDS = tuple(k.value for k in MeetingKind)
# reports/figures_outreach.ACTIVITY_KINDS: events held for and with residents; the others are
# the network's working meetings, the ones the obligations require
ACTIVITY_KINDS = (
    "symposium",
    "tea_party",
    "publicity",
    "festival",
    "outing",
    "exchange",
    "training",
)
WORKING_KINDS = tuple(k for k in MEETING_KINDS if k not in ACTIVITY_KINDS)
TOPICS = tuple(t.value for t in Topic)
CATEGORIES = tuple(c.value for c in ServiceCategory)
GRACE_DAYS, WINDOW_DAYS = 7, 30  # outreach.compliance: a festival's grace and visit window


@dataclass(frozen=True)
class Scope:
    """The rows of a table (pks and paths; the top area among them) and a period."""

    ids: tuple[int, ...]
    paths: tuple[str, ...]
    start: datetime.date
    end: datetime.date
    today: datetime.date
    festival_days: tuple[tuple[int, datetime.date], ...] = field(default=())

    @property
    def top_path(self) -> str:
        return min(self.paths, key=len)

    def params(self, **more) -> dict:
        return {
            "ids": list(self.ids),
            "paths": list(self.paths),
            "top": self.top_path,
            "start": self.start,
            "end": self.end,
            "first_year": self.start.year,
            "last_year": self.end.year,
            "year": self.end.year,
            "today": self.today,
            # compliance's report span ends today at the latest
            "span_end": min(self.end, self.today),
            "tz": TIME_ZONE,
            **more,
        }


Values = dict[str, dict[int, object]]  # figure key → area pk → value


@dataclass(frozen=True)
class Group:
    name: str
    keys: tuple[str, ...]
    run: Callable[[object, Scope], Values]


# The row areas, and each row with the areas of its subtree (itself included).
ROWS = """
row_area AS (SELECT * FROM unnest(%(ids)s::int[], %(paths)s::text[]) AS t(id, path)),
row_subtree AS (
    SELECT r.id AS row_id, a.id AS area_id
    FROM row_area r JOIN network_area a ON a.path LIKE r.path || '%%'
)"""

IN_TOP = "LIKE %(top)s || '%%'"
HAN_IDS = "(SELECT id FROM residents_ethnicity WHERE code = '01')"

# A person ``p`` on the register at the end of the period (figures_register.on_register_q):
# not archived, born by then, active or gone only after it, in a household ``h`` that had
# moved in by then and is active or moved out only after it.
ON_REGISTER = """
    p.archived_at IS NULL
    AND (p.birth_date IS NULL OR p.birth_date <= %(end)s)
    AND (p.status = 'active' OR p.status_changed_on > %(end)s)
    AND (h.moved_in_on IS NULL OR h.moved_in_on <= %(end)s)
    AND (h.status = 'active' OR h.moved_out_on > %(end)s)"""
# ... of an ethnic group other than Han, in the top area's subtree (``c``: their community).
MINORITY_PERSON = f"""{ON_REGISTER}
    AND p.ethnicity_id NOT IN {HAN_IDS}
    AND c.path {IN_TOP}"""
# The households with a minority person on the register (a hashed semi-join).
MINORITY_HOUSEHOLD_IDS = f"""(
    SELECT p.household_id FROM residents_person p
    JOIN residents_household h ON h.id = p.household_id
    JOIN network_area c ON c.id = p.community_id
    WHERE {MINORITY_PERSON})"""
# A household ``hh`` with a hardship flag or note (outreach.compliance.HARDSHIP_Q).
HARDSHIP = """(hh.is_dibao OR hh.is_low_income OR hh.has_disability OR hh.is_elderly_alone
    OR hh.has_serious_illness OR hh.other_hardship <> '')"""
# A liaison serving at the end of the period in an active liaison group set up by then.
SERVING_LIAISON_IDS = """(
    SELECT gm.liaison_id FROM outreach_groupmembership gm
    JOIN network_liaisongroup g ON g.id = gm.group_id
    WHERE gm.start_date <= %(end)s AND (gm.end_date IS NULL OR gm.end_date >= %(end)s)
      AND (g.established_on IS NULL OR g.established_on <= %(end)s) AND g.is_active)"""


def _wide(cursor, sql: str, params: dict, keys: list[str], zero=0) -> Values:
    """Run a statement whose rows are (row id, value of keys[0], value of keys[1], ...);
    ``zero`` for a row without records (``None``: keep ``NULL``)."""
    cursor.execute(sql, params)
    found: Values = {key: {} for key in keys}
    for row in cursor.fetchall():
        for key, value in zip(keys, row[1:], strict=True):
            found[key][row[0]] = zero if value is None and zero is not None else value
    return found


def _long(cursor, sql: str, params: dict, scope: Scope, keys: list[str]) -> Values:
    """Run a statement whose rows are (row id, key, value); 0 where a row has none."""
    cursor.execute(sql, params)
    found: Values = {key: dict.fromkeys(scope.ids, 0) for key in keys}
    for row_id, key, value in cursor.fetchall():
        found[key][row_id] = value
    return found


def _additive(
    cursor, scope: Scope, groups_sql: str, keys: list[str], zero=0, ctes: str = ""
) -> Values:
    """Records grouped by their area in ``groups_sql`` (columns ``area_id`` then one per
    key, in the CTE ``g``; ``ctes``: more common table expressions before it), added up
    over each row's subtree."""
    sums = ", ".join(f"sum(g.{key})" for key in keys)
    sql = f"""
    WITH {ROWS},{ctes}
    g AS MATERIALIZED ({groups_sql})
    SELECT s.row_id, {sums}
    FROM row_subtree s LEFT JOIN g ON g.area_id = s.area_id
    GROUP BY s.row_id
    """
    return _wide(cursor, sql, scope.params(), keys, zero)


# ---------------------------------------------------------------- the register


def minority_persons(cursor, scope: Scope) -> Values:
    """Minority residents on the register at the end of the period (by their community);
    those of registered (户籍) households, and of floating or temporary ones; by the kind of
    place the household lives in; the volunteers among them; and the distinct ethnic groups:
    one pass over the persons, grouped by community and ethnic group."""
    kinds = ",\n".join(
        f"count(*) FILTER (WHERE h.residence_kind = '{kind}') AS r_{kind}"
        for kind in RESIDENCE_KINDS
    )
    sums = ", ".join(f"sum(g.r_{kind})" for kind in RESIDENCE_KINDS)
    sql = f"""
    WITH {ROWS},
    g AS MATERIALIZED (
        SELECT p.community_id, p.ethnicity_id, count(*) AS persons,
               count(*) FILTER (WHERE h.registration_kind = 'registered') AS registered,
               count(*) FILTER (
                   WHERE h.registration_kind IN ('floating', 'temporary')) AS floating,
               count(*) FILTER (WHERE p.is_volunteer) AS volunteers,
               {kinds}
        FROM residents_person p
        JOIN residents_household h ON h.id = p.household_id
        JOIN network_area c ON c.id = p.community_id
        WHERE {MINORITY_PERSON}
        GROUP BY p.community_id, p.ethnicity_id
    )
    SELECT s.row_id, sum(g.persons), sum(g.registered), sum(g.floating), sum(g.volunteers),
           count(DISTINCT g.ethnicity_id), {sums}
    FROM row_subtree s LEFT JOIN g ON g.community_id = s.area_id
    GROUP BY s.row_id
    """
    keys = [
        "minority_persons",
        "registered_minority_persons",
        "floating_minority_persons",
        "volunteers",
        "ethnic_groups",
        *[f"minority_persons_{kind}" for kind in RESIDENCE_KINDS],
    ]
    return _wide(cursor, sql, scope.params(), keys)


def households(cursor, scope: Scope) -> Values:
    """One pass over the households (not archived, by their community): those with a
    minority resident on the register; of those, the hardship (any flag or note) and dibao
    ones, those visited in the period and the ethnic-unity model families of the period's
    years; and every household visited in the period (a visit not archived)."""
    flagged = f"""
    flagged AS MATERIALIZED (
        SELECT hh.*,
            hh.id IN {MINORITY_HOUSEHOLD_IDS} AS minority,
            hh.id IN (
                SELECT v.household_id FROM outreach_visit v
                WHERE v.archived_at IS NULL
                  AND v.visited_on BETWEEN %(start)s AND %(end)s) AS visited,
            hh.id IN (
                SELECT ho.household_id FROM residents_honour ho
                WHERE ho.kind = 'model_family'
                  AND ho.year BETWEEN %(first_year)s AND %(last_year)s) AS model_family
        FROM residents_household hh JOIN network_area c ON c.id = hh.community_id
        WHERE hh.archived_at IS NULL AND c.path {IN_TOP}
    ),"""
    groups = f"""
        SELECT hh.community_id AS area_id,
               count(*) FILTER (WHERE hh.minority) AS minority_households,
               count(*) FILTER (WHERE hh.minority AND {HARDSHIP}) AS hardship_households,
               count(*) FILTER (WHERE hh.minority AND hh.is_dibao) AS dibao_households,
               count(*) FILTER (WHERE hh.minority AND hh.visited) AS minority_households_visited,
               count(*) FILTER (WHERE hh.visited) AS households_visited,
               count(*) FILTER (WHERE hh.minority AND hh.model_family) AS model_families
        FROM flagged hh
        GROUP BY hh.community_id"""
    keys = [
        "minority_households",
        "hardship_households",
        "dibao_households",
        "minority_households_visited",
        "households_visited",
        "model_families",
    ]
    return _additive(cursor, scope, groups, keys, ctes=flagged)


def _own_or_below(cursor, scope: Scope, rows_sql: str, columns: list[str], keys: list[str]):
    """Yearly figures of an area table (``rows_sql``: a path and ``columns`` per row): a
    row's own value, or else the sum of the nearest rows below it (those with no row between
    them and the row's area); nothing when no area below has one."""
    values = ",\n        ".join(f"COALESCE(own.{c}, below.{c})" for c in columns)
    sums = ", ".join(f"sum(q.{c}) AS {c}" for c in columns)
    sql = f"""
    WITH row_area AS (SELECT * FROM unnest(%(ids)s::int[], %(paths)s::text[]) AS t(id, path)),
    yearly AS MATERIALIZED ({rows_sql})
    SELECT r.id,
        {values}
    FROM row_area r
    LEFT JOIN yearly own ON own.path = r.path
    LEFT JOIN LATERAL (
        SELECT {sums}
        FROM yearly q
        WHERE q.path LIKE r.path || '%%' AND q.path <> r.path
          AND NOT EXISTS (
              SELECT 1 FROM yearly m
              WHERE m.path <> q.path AND m.path LIKE r.path || '%%' AND m.path <> r.path
                AND q.path LIKE m.path || '%%')
    ) below ON true
    """
    return _wide(cursor, sql, scope.params(), keys, zero=None)


def population(cursor, scope: Scope) -> Values:
    """Registered and floating population in the period's year, from the yearly population
    rows (``_own_or_below``)."""
    rows = f"""
        SELECT a.path, ap.registered, ap.floating
        FROM network_areapopulation ap JOIN network_area a ON a.id = ap.area_id
        WHERE ap.year = %(year)s AND a.path {IN_TOP}"""
    return _own_or_below(
        cursor,
        scope,
        rows,
        ["registered", "floating"],
        ["registered_population", "floating_population"],
    )


def budget(cursor, scope: Scope) -> Values:
    """The budget (经费) of the period's year (``_own_or_below``)."""
    rows = f"""
        SELECT a.path, b.amount
        FROM reports_budget b JOIN network_area a ON a.id = b.area_id
        WHERE b.year = %(year)s AND a.path {IN_TOP}"""
    return _own_or_below(cursor, scope, rows, ["amount"], ["budget"])


def organisation(cursor, scope: Scope) -> Values:
    """Small counts in one statement, each grouped by its area: active communities; active
    liaison groups set up by the end of the period; liaisons (not archived) serving then in
    such a group (by their own community); active communities with such a liaison who is the
    committee's secretary; featured-building honours of the period's years on households not
    archived; pairings (not archived) in force on the period's last day."""
    sql = f"""
    WITH {ROWS},
    serving AS MATERIALIZED (
        SELECT l.community_id, l.is_committee_secretary
        FROM outreach_liaison l JOIN network_area c ON c.id = l.community_id
        WHERE l.archived_at IS NULL AND c.path {IN_TOP} AND l.id IN {SERVING_LIAISON_IDS}
    ),
    g AS MATERIALIZED (
        SELECT a.id AS area_id, 'communities' AS key, count(*) AS n
        FROM network_area a
        WHERE a.path {IN_TOP} AND a.level = 'community' AND a.is_active
        GROUP BY a.id
        UNION ALL
        SELECT lg.community_id, 'liaison_groups', count(*)
        FROM network_liaisongroup lg JOIN network_area c ON c.id = lg.community_id
        WHERE lg.is_active AND (lg.established_on IS NULL OR lg.established_on <= %(end)s)
          AND c.path {IN_TOP}
        GROUP BY lg.community_id
        UNION ALL
        SELECT community_id, 'liaisons', count(*) FROM serving GROUP BY community_id
        UNION ALL
        SELECT a.id, 'secretary_liaison_communities', count(*)
        FROM network_area a
        WHERE a.path {IN_TOP} AND a.level = 'community' AND a.is_active
          AND a.id IN (SELECT community_id FROM serving WHERE is_committee_secretary)
        GROUP BY a.id
        UNION ALL
        SELECT hh.community_id, 'featured_buildings', count(*)
        FROM residents_honour ho
        JOIN residents_household hh ON hh.id = ho.household_id
        JOIN network_area c ON c.id = hh.community_id
        WHERE ho.kind = 'featured_building' AND ho.year BETWEEN %(first_year)s AND %(last_year)s
          AND hh.archived_at IS NULL AND c.path {IN_TOP}
        GROUP BY hh.community_id
        UNION ALL
        SELECT pa.community_id, 'pairings_active', count(*)
        FROM outreach_pairing pa JOIN network_area c ON c.id = pa.community_id
        WHERE pa.archived_at IS NULL AND pa.start_date <= %(end)s
          AND (pa.end_date IS NULL OR pa.end_date >= %(end)s) AND c.path {IN_TOP}
        GROUP BY pa.community_id
    )
    SELECT s.row_id, g.key, sum(g.n)
    FROM row_subtree s JOIN g ON g.area_id = s.area_id
    GROUP BY s.row_id, g.key
    """
    keys = [
        "communities",
        "liaison_groups",
        "liaisons",
        "secretary_liaison_communities",
        "featured_buildings",
        "pairings_active",
    ]
    return _long(cursor, sql, scope.params(), scope, keys)


def dibao_supplement(cursor, scope: Scope) -> Values:
    """The minority dibao supplement of the period's months (each month whose first day lies
    in the period) for the minority dibao households (not archived): for each month, the
    standard of the nearest area up the tree from the household's community with one for the
    month's year × covered persons (as recorded, else the members on the register at the
    period's end) × the rate, rounded half up to the fen. ``NULL`` for a row when one of its
    households has a month without a standard."""
    sql = f"""
    WITH {ROWS},
    months AS MATERIALIZED (
        SELECT extract(year FROM m)::int AS year, count(*) AS n
        FROM generate_series(
            date_trunc('month', %(start)s::date), %(end)s::date, interval '1 month') m
        WHERE m >= %(start)s
        GROUP BY 1
    ),
    covered AS MATERIALIZED (
        SELECT hh.id, hh.community_id, c.path,
            COALESCE(hh.dibao_persons, (
                SELECT count(*) FROM residents_person p
                JOIN residents_household h ON h.id = p.household_id
                WHERE p.household_id = hh.id AND {ON_REGISTER})) AS persons
        FROM residents_household hh JOIN network_area c ON c.id = hh.community_id
        WHERE hh.archived_at IS NULL AND hh.is_dibao AND c.path {IN_TOP}
          AND hh.id IN {MINORITY_HOUSEHOLD_IDS}
    ),
    amounts AS MATERIALIZED (
        SELECT cv.id, cv.community_id,
            CASE WHEN bool_and(s.monthly_standard IS NOT NULL)
                 THEN sum(round(s.monthly_standard * cv.persons * s.supplement_rate, 2) * mo.n)
            END AS amount
        FROM covered cv CROSS JOIN months mo
        LEFT JOIN LATERAL (
            SELECT ds.monthly_standard, ds.supplement_rate
            FROM residents_dibaostandard ds JOIN network_area sa ON sa.id = ds.area_id
            WHERE ds.year = mo.year AND cv.path LIKE sa.path || '%%'
            ORDER BY length(sa.path) DESC LIMIT 1
        ) s ON true
        GROUP BY cv.id, cv.community_id
    )
    SELECT s.row_id,
        CASE WHEN bool_or(a.id IS NOT NULL AND a.amount IS NULL) THEN NULL
             ELSE COALESCE(sum(a.amount), 0) END
    FROM row_subtree s LEFT JOIN amounts a ON a.community_id = s.area_id
    GROUP BY s.row_id
    """
    return _wide(cursor, sql, scope.params(), ["dibao_supplement"], zero=None)


# ---------------------------------------------------------------- outreach


# The period, and the whole year it ends in (the budget's spending is the year's): the
# statements that feed both read the rows of either once, and count each where it belongs.
IN_PERIOD_OR_YEAR = """BETWEEN LEAST(%(start)s, make_date(%(year)s, 1, 1))
              AND GREATEST(%(end)s, make_date(%(year)s, 12, 31))"""


def meetings(cursor, scope: Scope) -> Values:
    """Meetings and activities (not archived) held in the period, by the area that held
    them: in all, of each kind, the activities, their participants (staff, liaisons and
    residents attending, and other attendees) and the cost of all of them; and the cost of
    those held in the period's year, for the budget's spending."""
    p = "m.held_on BETWEEN %(start)s AND %(end)s"
    kinds = ",\n".join(
        f"count(*) FILTER (WHERE {p} AND m.kind = '{kind}') AS meetings_{kind}"
        for kind in MEETING_KINDS
    )
    activity = "m.kind IN (" + ", ".join(f"'{k}'" for k in ACTIVITY_KINDS) + ")"
    groups = f"""
        SELECT m.area_id,
            count(*) FILTER (WHERE {p}) AS meetings_held,
            {kinds},
            count(*) FILTER (WHERE {p} AND {activity}) AS activities_held,
            sum(m.other_attendees
                + (SELECT count(*) FROM outreach_meeting_attending_users t
                   WHERE t.meeting_id = m.id)
                + (SELECT count(*) FROM outreach_meeting_attending_liaisons t
                   WHERE t.meeting_id = m.id)
                + (SELECT count(*) FROM outreach_meeting_attending_persons t
                   WHERE t.meeting_id = m.id)
            ) FILTER (WHERE {p} AND {activity}) AS activity_participants,
            sum(m.cost) FILTER (WHERE {p}) AS activity_cost,
            sum(m.cost) FILTER (WHERE extract(year FROM m.held_on) = %(year)s)
                AS _meeting_costs_of_year
        FROM outreach_meeting m JOIN network_area a ON a.id = m.area_id
        WHERE m.archived_at IS NULL AND m.held_on {IN_PERIOD_OR_YEAR}
          AND a.path {IN_TOP}
        GROUP BY m.area_id"""
    keys = [
        "meetings_held",
        *[f"meetings_{kind}" for kind in MEETING_KINDS],
        "activities_held",
        "activity_participants",
        "activity_cost",
        "_meeting_costs_of_year",
    ]
    return _additive(cursor, scope, groups, keys)


def visits(cursor, scope: Scope) -> Values:
    """Visits (not archived) in the period by the visit's community, in all and by kind."""
    kinds = ",\n".join(
        f"count(*) FILTER (WHERE v.kind = '{kind}') AS visits_{kind}" for kind in VISIT_KINDS
    )
    groups = f"""
        SELECT v.community_id AS area_id, count(*) AS visits, {kinds}
        FROM outreach_visit v JOIN network_area c ON c.id = v.community_id
        WHERE v.archived_at IS NULL AND v.visited_on BETWEEN %(start)s AND %(end)s
          AND c.path {IN_TOP}
        GROUP BY v.community_id"""
    return _additive(cursor, scope, groups, ["visits", *[f"visits_{kind}" for kind in VISIT_KINDS]])


def assistance(cursor, scope: Scope) -> Values:
    """Assistance given on visits (not archived) in the period, by the visit's community:
    how many items and their value; and the cash and goods (not services) given in the
    period's year, for the budget's spending."""
    p = "v.visited_on BETWEEN %(start)s AND %(end)s"
    groups = f"""
        SELECT v.community_id AS area_id,
               count(*) FILTER (WHERE {p}) AS assistance_given,
               sum(x.value) FILTER (WHERE {p}) AS assistance_value,
               sum(x.value) FILTER (
                   WHERE x.kind IN ('cash', 'goods')
                     AND extract(year FROM v.visited_on) = %(year)s
               ) AS _assistance_spent_of_year
        FROM outreach_assistance x
        JOIN outreach_visit v ON v.id = x.visit_id
        JOIN network_area c ON c.id = v.community_id
        WHERE v.archived_at IS NULL AND v.visited_on {IN_PERIOD_OR_YEAR}
          AND c.path {IN_TOP}
        GROUP BY v.community_id"""
    keys = ["assistance_given", "assistance_value", "_assistance_spent_of_year"]
    return _additive(cursor, scope, groups, keys)


def consultations(cursor, scope: Scope) -> Values:
    """Consultations (not archived) received on a day of the period (local time), by their
    community, in all and by topic."""
    topics = ",\n".join(
        f"count(*) FILTER (WHERE x.topic = '{topic}') AS consultations_{topic}" for topic in TOPICS
    )
    groups = f"""
        SELECT x.community_id AS area_id, count(*) AS consultations, {topics}
        FROM outreach_consultation x JOIN network_area c ON c.id = x.community_id
        WHERE x.archived_at IS NULL
          AND x.received_at >= (%(start)s::date)::timestamp AT TIME ZONE %(tz)s
          AND x.received_at < (%(end)s::date + 1)::timestamp AT TIME ZONE %(tz)s
          AND c.path {IN_TOP}
        GROUP BY x.community_id"""
    return _additive(
        cursor, scope, groups, ["consultations", *[f"consultations_{t}" for t in TOPICS]]
    )


def consultations_closed(cursor, scope: Scope) -> Values:
    """Consultations (not archived) resolved or referred in the period, and the median of the
    days from the (local) day each was received to the day it was closed, per row (a median
    does not add up)."""
    sql = f"""
    WITH {ROWS},
    closed AS MATERIALIZED (
        SELECT x.community_id,
               x.closed_on - (x.received_at AT TIME ZONE %(tz)s)::date AS days
        FROM outreach_consultation x JOIN network_area c ON c.id = x.community_id
        WHERE x.archived_at IS NULL AND x.status IN ('resolved', 'referred')
          AND x.closed_on BETWEEN %(start)s AND %(end)s AND c.path {IN_TOP}
    )
    SELECT s.row_id, count(x.days),
           round((percentile_cont(0.5) WITHIN GROUP (ORDER BY x.days))::numeric, 1)
    FROM row_subtree s LEFT JOIN closed x ON x.community_id = s.area_id
    GROUP BY s.row_id
    """
    found = _wide(
        cursor, sql, scope.params(), ["consultations_resolved", "consultation_median_days"], None
    )
    found["consultations_resolved"] = {
        pk: n or 0 for pk, n in found["consultations_resolved"].items()
    }
    return found


def hardship_quarters(cursor, scope: Scope) -> Values:
    """Hardship households (active, not archived, with a hardship flag or note) when a
    calendar quarter lying wholly in the period has ended (none otherwise), and of those the
    ones with a visit (any kind, not archived) in every such quarter, by their community."""
    groups = f"""
        WITH quarters AS (
            SELECT q::date AS first, (q + interval '3 months' - interval '1 day')::date AS last
            FROM generate_series(
                date_trunc('quarter', %(start)s::date), %(span_end)s::date, interval '3 months') q
            WHERE q >= %(start)s
              AND (q + interval '3 months' - interval '1 day')::date <= %(span_end)s
              AND (q + interval '3 months' - interval '1 day')::date < %(today)s
        ),
        hh AS (
            SELECT hh.id, hh.community_id FROM residents_household hh
            JOIN network_area c ON c.id = hh.community_id
            WHERE hh.status = 'active' AND hh.archived_at IS NULL AND {HARDSHIP}
              AND c.path {IN_TOP}
        ),
        visited AS (
            SELECT v.household_id, count(DISTINCT q.first) AS n
            FROM outreach_visit v JOIN quarters q ON v.visited_on BETWEEN q.first AND q.last
            WHERE v.archived_at IS NULL AND v.visited_on BETWEEN %(start)s AND %(span_end)s
              AND v.household_id IN (SELECT id FROM hh)
            GROUP BY v.household_id
        )
        SELECT hh.community_id AS area_id,
               count(*) FILTER (WHERE k.n > 0) AS hardship_households_due,
               count(*) FILTER (WHERE k.n > 0 AND vi.n = k.n)
                   AS hardship_households_visited_each_quarter
        FROM hh LEFT JOIN visited vi ON vi.household_id = hh.id
        CROSS JOIN (SELECT count(*) AS n FROM quarters) k
        GROUP BY hh.community_id"""
    return _additive(
        cursor,
        scope,
        groups,
        ["hardship_households_due", "hardship_households_visited_each_quarter"],
    )


def compliance(cursor, scope: Scope) -> Values:
    """What the recurring obligations require (``outreach.compliance``), per unit then per
    row: the units are the active sub-districts, zones and communities and the active liaison
    groups (of active communities) in the top area; each obligation name applies to a unit by
    the obligation of the deepest area above it, else the district-wide default, when usable
    and set for that kind of unit (a household obligation set per liaison group is counted
    per community).

    - Meetings due: times × the obligation's periods lying wholly in the span (the period,
      ending today at the latest) that have ended; in all, and for each working kind.
    - Festival households due: the active households (not archived) of the unit's communities
      with an active minority member (of the festival's groups, if it has any), once per
      festival date in the span whose week of grace has passed; visited: those with a
      festival visit (not archived) for that festival within 30 days of the date."""
    fest_ids = [f for f, _day in scope.festival_days]
    fest_days = [day for _f, day in scope.festival_days]
    kind_dues = ",\n".join(
        f"(SELECT sum(md.due) FROM meetings_due md WHERE md.unit_path LIKE r.path || '%%'"
        f" AND md.meeting_kind = '{kind}')"
        for kind in WORKING_KINDS
    )
    sql = f"""
    WITH {ROWS},
    units AS MATERIALIZED (
        SELECT a.level AS kind, a.id AS unit_id, a.path FROM network_area a
        WHERE a.path {IN_TOP} AND a.is_active AND a.level IN ('subdistrict', 'zone', 'community')
        UNION ALL
        SELECT 'liaison_group', g.id, c.path
        FROM network_liaisongroup g JOIN network_area c ON c.id = g.community_id
        WHERE g.is_active AND c.is_active AND c.path {IN_TOP}
    ),
    best AS MATERIALIZED (
        SELECT DISTINCT ON (u.kind, u.unit_id, o.name)
            u.kind AS unit_kind, u.path AS unit_path, o.kind, o.meeting_kind, o.festival_id,
            o.unit, o.period, o.times, f.is_active AS festival_active
        FROM units u
        JOIN outreach_obligation o ON o.is_active
        LEFT JOIN network_area oa ON oa.id = o.area_id
        LEFT JOIN outreach_festival f ON f.id = o.festival_id
        WHERE o.area_id IS NULL OR u.path LIKE oa.path || '%%'
        ORDER BY u.kind, u.unit_id, o.name,
                 CASE WHEN o.area_id IS NULL THEN 0 ELSE length(oa.path) END DESC, o.kind, o.id
    ),
    applied AS MATERIALIZED (
        SELECT * FROM best
        WHERE CASE WHEN kind IN ('festival_visits', 'hardship_visits') AND unit = 'liaison_group'
                   THEN 'community' ELSE unit END = unit_kind
          AND CASE kind WHEN 'meeting' THEN meeting_kind <> ''
                        WHEN 'festival_visits' THEN festival_id IS NOT NULL AND festival_active
                        ELSE kind = 'hardship_visits' END
    ),
    ended AS MATERIALIZED (
        SELECT p.period, count(*) AS n
        FROM (VALUES ('month', 1), ('quarter', 3), ('half_year', 6), ('year', 12))
             AS p(period, months)
        JOIN generate_series(
            date_trunc('month', %(start)s::date), %(span_end)s::date, interval '1 month'
        ) s(first) ON (extract(month FROM s.first)::int - 1) %% p.months = 0
        WHERE s.first >= %(start)s
          AND (s.first + p.months * interval '1 month' - interval '1 day')::date <= %(span_end)s
          AND (s.first + p.months * interval '1 month' - interval '1 day')::date < %(today)s
        GROUP BY p.period
    ),
    meetings_due AS MATERIALIZED (
        SELECT a.unit_path, a.meeting_kind, a.times * COALESCE(e.n, 0) AS due
        FROM applied a LEFT JOIN ended e ON e.period = a.period
        WHERE a.kind = 'meeting'
    ),
    festival_days AS (
        SELECT * FROM unnest(%(fest_ids)s::int[], %(fest_days)s::date[]) AS t(festival_id, day)
    ),
    festivals AS MATERIALIZED (
        SELECT a.unit_path, a.festival_id,
               (SELECT count(*) FROM festival_days d WHERE d.festival_id = a.festival_id) AS days,
               EXISTS (SELECT 1 FROM outreach_festival_ethnicities fe
                       WHERE fe.festival_id = a.festival_id) AS of_groups
        FROM applied a WHERE a.kind = 'festival_visits'
    ),
    -- households with an active minority member, and with one of a festival's groups
    any_minority AS MATERIALIZED (
        SELECT h.id, h.community_id FROM residents_household h
        WHERE h.status = 'active' AND h.archived_at IS NULL
          AND h.id IN (
              SELECT m.household_id FROM residents_person m
              WHERE m.status = 'active' AND m.archived_at IS NULL
                AND m.ethnicity_id NOT IN {HAN_IDS})
    ),
    of_group AS MATERIALIZED (
        SELECT DISTINCT fe.festival_id, h.id, h.community_id
        FROM residents_person m
        JOIN outreach_festival_ethnicities fe ON fe.ethnicity_id = m.ethnicity_id
        JOIN residents_household h ON h.id = m.household_id
        WHERE m.status = 'active' AND m.archived_at IS NULL
          AND h.status = 'active' AND h.archived_at IS NULL
          AND fe.festival_id IN (SELECT festival_id FROM festivals WHERE of_groups AND days > 0)
    ),
    -- (festival, household, judged dates it was visited for within the window)
    festival_visited AS MATERIALIZED (
        SELECT fv.festival_id, fv.household_id, count(*) AS days
        FROM (
            SELECT DISTINCT fd.festival_id, fd.day, v.household_id
            FROM festival_days fd JOIN outreach_visit v
              ON v.festival_id = fd.festival_id AND v.kind = 'festival'
             AND v.archived_at IS NULL
             AND v.visited_on BETWEEN fd.day - {WINDOW_DAYS} AND fd.day + {WINDOW_DAYS}
        ) fv
        GROUP BY fv.festival_id, fv.household_id
    ),
    -- per community: households due (festival NULL: any minority) and visits made
    eligible AS MATERIALIZED (
        SELECT NULL::bigint AS festival_id, community_id, count(*) AS n
        FROM any_minority GROUP BY community_id
        UNION ALL
        SELECT festival_id, community_id, count(*) FROM of_group GROUP BY 1, 2
    ),
    visited AS MATERIALIZED (
        SELECT fv.festival_id, h.community_id, sum(fv.days) AS n
        FROM festival_visited fv JOIN any_minority h ON h.id = fv.household_id
        WHERE fv.festival_id IN (SELECT festival_id FROM festivals WHERE NOT of_groups)
        GROUP BY 1, 2
        UNION ALL
        SELECT fv.festival_id, g.community_id, sum(fv.days)
        FROM festival_visited fv
        JOIN of_group g ON g.festival_id = fv.festival_id AND g.id = fv.household_id
        GROUP BY 1, 2
    ),
    festival_figures AS MATERIALIZED (
        SELECT f.unit_path, f.days * e.n AS due, COALESCE(v.n, 0) AS visited
        FROM festivals f
        JOIN network_area c ON c.path LIKE f.unit_path || '%%' AND c.level = 'community'
        JOIN eligible e ON e.community_id = c.id
         AND e.festival_id IS NOT DISTINCT FROM (CASE WHEN f.of_groups THEN f.festival_id END)
        LEFT JOIN visited v ON v.festival_id = f.festival_id AND v.community_id = c.id
        WHERE f.days > 0
    )
    SELECT r.id,
        (SELECT sum(md.due) FROM meetings_due md WHERE md.unit_path LIKE r.path || '%%'),
        {kind_dues},
        (SELECT sum(ff.due) FROM festival_figures ff WHERE ff.unit_path LIKE r.path || '%%'),
        (SELECT sum(ff.visited) FROM festival_figures ff WHERE ff.unit_path LIKE r.path || '%%')
    FROM row_area r
    """
    keys = [
        "meetings_due",
        *[f"meetings_due_{kind}" for kind in WORKING_KINDS],
        "festival_households_due",
        "festival_households_visited",
    ]
    return _wide(cursor, sql, scope.params(fest_ids=fest_ids, fest_days=fest_days), keys)


# ---------------------------------------------------------------- services


def merchants(cursor, scope: Scope) -> Values:
    """Per row (they do not add up): partner merchants (not archived) managed in the row's
    subtree, or serving an area in it or above it — as they are now; and the signed
    agreements (not archived) of those merchants in force at the end of the period, in all
    and those offering a service (not withdrawn) of each category."""
    categories = ",\n".join(
        f"count(ag.id) FILTER (WHERE '{cat}' = ANY(ag.categories))" for cat in CATEGORIES
    )
    sql = f"""
    WITH row_area AS (SELECT * FROM unnest(%(ids)s::int[], %(paths)s::text[]) AS t(id, path)),
    counted AS MATERIALIZED (
        SELECT r.id AS row_id, m.id AS merchant_id
        FROM row_area r
        JOIN services_merchant m ON m.archived_at IS NULL
        JOIN network_area ma ON ma.id = m.area_id
        WHERE ma.path LIKE r.path || '%%'
           OR m.id IN (
               SELECT sv.merchant_id FROM services_merchant_serves sv
               JOIN network_area sa ON sa.id = sv.area_id
               WHERE sa.path LIKE r.path || '%%' OR r.path LIKE sa.path || '%%')
    ),
    ag AS MATERIALIZED (
        SELECT a.id, a.merchant_id,
               ARRAY(SELECT i.category FROM services_agreementitem i
                     WHERE i.agreement_id = a.id AND NOT i.is_withdrawn) AS categories
        FROM services_agreement a JOIN services_merchant m ON m.id = a.merchant_id
        WHERE a.status = 'signed' AND a.archived_at IS NULL AND m.archived_at IS NULL
          AND a.valid_from <= %(end)s AND a.valid_to >= %(end)s
    )
    SELECT r.id, count(DISTINCT counted.merchant_id), count(ag.id), {categories}
    FROM row_area r
    LEFT JOIN counted ON counted.row_id = r.id
    LEFT JOIN ag ON ag.merchant_id = counted.merchant_id
    GROUP BY r.id
    """
    keys = [
        "merchants",
        "agreements_in_force",
        *[f"agreements_in_force_{cat}" for cat in CATEGORIES],
    ]
    return _wide(cursor, sql, scope.params(), keys)


def cards(cursor, scope: Scope) -> Values:
    """By the holder's community: cards issued in the period (whatever their status now);
    cards active at its end (status active, issued by then, valid until then or later); the
    card uses in the period (not voided), the holders they served (a holder belongs to one
    community, so these add up) and the value of the benefits (value less paid)."""
    groups = f"""
        SELECT s.area_id, cd.cards_issued, cd.cards_active,
               u.card_uses, u.card_holders_served, u.benefit_value
        FROM (SELECT id AS area_id FROM network_area WHERE path {IN_TOP}) s
        LEFT JOIN (
            SELECT p.community_id,
                   count(*) FILTER (
                       WHERE sc.issued_on BETWEEN %(start)s AND %(end)s) AS cards_issued,
                   count(*) FILTER (
                       WHERE sc.status = 'active' AND sc.issued_on <= %(end)s
                         AND sc.valid_until >= %(end)s) AS cards_active
            FROM services_servicecard sc JOIN residents_person p ON p.id = sc.holder_id
            GROUP BY p.community_id
        ) cd ON cd.community_id = s.area_id
        LEFT JOIN (
            SELECT p.community_id, count(*) AS card_uses,
                   count(DISTINCT sc.holder_id) AS card_holders_served,
                   sum(u.value_before - u.value_after) AS benefit_value
            FROM services_carduse u
            JOIN services_servicecard sc ON sc.id = u.card_id
            JOIN residents_person p ON p.id = sc.holder_id
            WHERE u.archived_at IS NULL AND u.used_on BETWEEN %(start)s AND %(end)s
            GROUP BY p.community_id
        ) u ON u.community_id = s.area_id"""
    keys = ["cards_issued", "cards_active", "card_uses", "card_holders_served", "benefit_value"]
    return _additive(cursor, scope, groups, keys)


GROUPS: list[Group] = [
    Group(
        "register: minority persons",
        (
            "minority_persons",
            "registered_minority_persons",
            "floating_minority_persons",
            "volunteers",
            "ethnic_groups",
            *[f"minority_persons_{kind}" for kind in RESIDENCE_KINDS],
        ),
        minority_persons,
    ),
    Group(
        "register: households (minority, hardship, dibao, visited, model families)",
        (
            "minority_households",
            "hardship_households",
            "dibao_households",
            "minority_households_visited",
            "households_visited",
            "model_families",
        ),
        households,
    ),
    Group("register: population", ("registered_population", "floating_population"), population),
    Group("budget", ("budget",), budget),
    Group(
        "organisation, featured buildings, pairings",
        (
            "communities",
            "liaison_groups",
            "liaisons",
            "secretary_liaison_communities",
            "featured_buildings",
            "pairings_active",
        ),
        organisation,
    ),
    Group("dibao supplement", ("dibao_supplement",), dibao_supplement),
    Group(
        "meetings and activities",
        (
            "meetings_held",
            *[f"meetings_{kind}" for kind in MEETING_KINDS],
            "activities_held",
            "activity_participants",
            "activity_cost",
            "_meeting_costs_of_year",
        ),
        meetings,
    ),
    Group(
        "compliance: meetings due, festival visits",
        (
            "meetings_due",
            *[f"meetings_due_{kind}" for kind in WORKING_KINDS],
            "festival_households_due",
            "festival_households_visited",
        ),
        compliance,
    ),
    Group(
        "hardship households visited each quarter",
        ("hardship_households_due", "hardship_households_visited_each_quarter"),
        hardship_quarters,
    ),
    Group("visits", ("visits", *[f"visits_{kind}" for kind in VISIT_KINDS]), visits),
    Group(
        "assistance",
        ("assistance_given", "assistance_value", "_assistance_spent_of_year"),
        assistance,
    ),
    Group(
        "consultations received",
        ("consultations", *[f"consultations_{topic}" for topic in TOPICS]),
        consultations,
    ),
    Group(
        "consultations closed, median days",
        ("consultations_resolved", "consultation_median_days"),
        consultations_closed,
    ),
    Group(
        "merchants and agreements",
        ("merchants", "agreements_in_force", *[f"agreements_in_force_{c}" for c in CATEGORIES]),
        merchants,
    ),
    Group(
        "cards and card uses",
        ("cards_issued", "cards_active", "card_uses", "card_holders_served", "benefit_value"),
        cards,
    ),
]

# share key → (numerator, denominator)
SHARES: dict[str, tuple[str, str]] = {
    "minority_share": ("registered_minority_persons", "registered_population"),
    "volunteer_share": ("volunteers", "minority_persons"),
    "households_visited_share": ("minority_households_visited", "minority_households"),
    "festival_visit_coverage": ("festival_households_visited", "festival_households_due"),
    "hardship_visit_coverage": (
        "hardship_households_visited_each_quarter",
        "hardship_households_due",
    ),
    "model_family_share": ("model_families", "minority_households"),
    "budget_spent_share": ("budget_spent", "budget"),
}

# figure key → the parts it adds up (read by two statements that read those rows anyway):
# spent in the year = meeting and activity costs + cash and goods given (reports.budget)
SUMS: dict[str, tuple[str, ...]] = {
    "budget_spent": ("_meeting_costs_of_year", "_assistance_spent_of_year"),
}

# Groups whose statement needs the festivals' dates.
NEEDS_FESTIVALS = {"compliance: meetings due, festival visits"}


# ---------------------------------------------------------------- running them


def covered_keys() -> set[str]:
    keys = {key for group in GROUPS for key in group.keys if not key.startswith("_")}
    return keys | set(SHARES) | set(SUMS)


def share(part, whole) -> Decimal | None:
    """``part`` as a percentage of ``whole`` to one decimal (half to even); nothing when
    ``whole`` is nothing."""
    if part is None or not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_EVEN)


def _parts(key: str) -> set[str]:
    """The keys a figure is worked out from (itself, or its parts, theirs included)."""
    if key in SHARES:
        return set().union(*(_parts(k) for k in SHARES[key]))
    if key in SUMS:
        return set(SUMS[key])
    return {key}


def _groups_for(keys) -> list[Group]:
    wanted = set().union(*(_parts(k) | {k} for k in keys)) if keys else set()
    return [g for g in GROUPS if wanted & set(g.keys)]


def compute(cursor, scope: Scope, keys) -> Values:
    """The figures ``keys`` for every row of ``scope``."""
    found: Values = {}
    for group in _groups_for(keys):
        found.update(group.run(cursor, scope))
    for key, parts in SUMS.items():
        if all(part in found for part in parts):
            found[key] = {pk: sum(found[part][pk] for part in parts) for pk in scope.ids}
    for key in keys:
        if key in SHARES:
            numerator, denominator = SHARES[key]
            found[key] = {
                pk: share(found[numerator].get(pk), found[denominator].get(pk)) for pk in scope.ids
            }
    return {key: found[key] for key in keys if key in found}


def rows_of(cursor, area_pk: int) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """The table's rows: the area's active child areas, then the area."""
    cursor.execute(
        """
        SELECT id, path FROM network_area WHERE parent_id = %(pk)s AND is_active
        UNION ALL
        SELECT id, path FROM network_area WHERE id = %(pk)s
        """,
        {"pk": area_pk},
    )
    rows = cursor.fetchall()
    return tuple(r[0] for r in rows), tuple(r[1] for r in rows)


def festival_days(cursor, periods, today: datetime.date) -> dict:
    """For each period: (festival pk, date) of the active festivals' dates in the period's
    compliance span (ending today at the latest) whose week of grace has passed: one query
    for the festivals, then the calendars (``outreach.festivals``)."""
    from outreach.festivals import dates_for

    cursor.execute("SELECT id, calendar, month, day FROM outreach_festival WHERE is_active")
    festivals = cursor.fetchall()
    found = {}
    for period in periods:
        end = min(period.end, today)
        days = []
        for pk, calendar, month, day in festivals:
            for year in range(period.start.year, end.year + 1):
                for date in dates_for(calendar, month, day, year):
                    if (
                        period.start <= date <= end
                        and date + datetime.timedelta(days=GRACE_DAYS) < today
                    ):
                        days.append((pk, date))
        found[period] = tuple(days)
    return found


def _scopes(cursor, area_pk: int, period, keys) -> list[tuple[str, Scope]]:
    from django.utils import timezone

    today = timezone.localdate()
    ids, paths = rows_of(cursor, area_pk)
    top = ids.index(area_pk)
    periods = [
        ("current", period, ids, paths),
        ("previous", period.previous(), (ids[top],), (paths[top],)),
        ("year_before", period.year_before(), (ids[top],), (paths[top],)),
    ]
    needs = any(g.name in NEEDS_FESTIVALS for g in _groups_for(keys))
    days = festival_days(cursor, [p for _n, p, _i, _p in periods], today) if needs else {}
    return [
        (name, Scope(row_ids, row_paths, p.start, p.end, today, days.get(p, ())))
        for name, p, row_ids, row_paths in periods
    ]


def summary(connection, area_pk: int, period, keys) -> dict[str, Values]:
    """A summary table's figures: every row in ``period``, and the area alone in the previous
    period and the same period a year earlier."""
    keys = [k for k in keys if k in covered_keys()]
    with connection.cursor() as cursor:
        return {
            name: compute(cursor, scope, keys)
            for name, scope in _scopes(cursor, area_pk, period, keys)
        }


def time_groups(connection, area_pk: int, period, keys, runs: int = 3) -> list[dict]:
    """Each statement on its own, the three periods as ``summary`` runs them: the median of
    ``runs`` in ms."""
    keys = set(keys)
    found = []
    with connection.cursor() as cursor:
        scopes = [scope for _name, scope in _scopes(cursor, area_pk, period, keys)]
        for group in _groups_for(keys):
            times = []
            for _ in range(runs):
                started = time.perf_counter()
                for scope in scopes:
                    group.run(cursor, scope)
                times.append((time.perf_counter() - started) * 1000)
            found.append(
                {
                    "name": group.name,
                    "figures": len(set(group.keys) & keys),
                    "ms": statistics.median(times),
                }
            )
    found.sort(key=lambda row: -row["ms"])
    return found
