"""Compliance figures on a small register whose answer is counted by hand.

The books (fixture ``books``), judged on 2025-07-20 over 2025-01-01..2025-07-20:

平江街道 (sub-district; 北片 zone > 平江路社区, and 干将社区)
  平江路社区
    马晓东's household (平江路112号): 马晓东, 哈丽娜 — 回族; dibao              → minority, hardship
    周's household (平江路200号): 周桂芳 — 汉族; elderly living alone            → hardship only
  干将社区
    白兰's household (干将东路88号): 白兰 — 满族                                 → minority
    沙's household (干将西路5号): 沙永祥 — 回族; dibao; moved away              → nothing
沧浪街道 > 道前社区: 阿依吐尔逊's household — 维吾尔族 (other sub-district)

Meetings
  liaison (联络员会议, quarterly per sub-district, default):
    平江街道 2025-03-10 (Q1); 平江路社区 2025-05-08 ARCHIVED; 平江街道 2025-07-05 (Q3);
    沧浪街道 2025-05-09.
    → 平江街道: Q1 and Q2 ended: due 2, done 1, overdue 1 (Q2); Q3 under way: 1 of 1.
  zone-head (联络片组长会议, twice a year per sub-district): 北片 2025-04-10 (inside 平江街道)
    → the year is under way: nothing due; 1 of 2 so far.
  study (联络员学习活动, twice a month per liaison group):
    平江路 group 2025-01-08, 2025-01-22, 2025-02-12; a tea party 2025-03-05 (other kind).
    → 平江路 group: Jan–Jun ended: due 12, done 3, overdue 5 (Feb–Jun); July 0 of 2.
    → 干将 group: due 12, done 0, overdue 6.

Festival visits (元宵节 2025-02-12 and 七一 2025-07-01 judged; 中秋, 国庆 not yet in the span).
  Due: households with an active minority member: 马 (平江路), 白 (干将). 周 is Han only; 沙
  moved away.
  马: 元宵 visit 2025-02-10 ✓; 七一 visit 2025-06-28 ✓.
  白: 元宵 visit 2025-03-20 — 36 days after, outside the ±30-day window ✗; a care visit on
      2025-07-01 ✗ (not a festival visit); a 中秋 visit on 2025-07-02 ✗ (another festival).
  → 元宵节: 平江路 1/1/0, 干将 1/0/1.  七一: 平江路 1/1/0, 干将 1/0/1.

Hardship visits (困难户走访, quarterly per community): 平江路 has 马 (dibao) and 周 (elderly).
  马: visits 2025-02-10 (Q1), 2025-06-28 (Q2) — any kind counts.
  周: hardship visit 2025-03-15 (Q1); an ARCHIVED visit 2025-05-05 (Q2) does not count.
  → 平江路: Q1 2 of 2, Q2 1 of 2: due 4, done 3, overdue 1 (周 in Q2); Q3 0 of 2 so far.
  → 干将: 沙 moved away: due 0.
"""

import datetime
from dataclasses import dataclass

import pytest
from django.utils import timezone

from outreach import compliance
from outreach.models import Festival, Meeting, Obligation, Visit
from residents.models import Household
from tests.factories import HouseholdFactory, PersonFactory, _ethnicity

D = datetime.date
TODAY = D(2025, 7, 20)


@dataclass
class Books:
    zhou: Household
    sha: Household


def visit(household, day, kind="care", festival=None, **extra):
    return Visit.objects.create(
        household=household, visited_on=day, kind=kind, festival=festival, **extra
    )


def meeting(kind, day, area=None, group=None, **extra):
    return Meeting.objects.create(
        kind=kind, held_on=day, area=area or group.community, liaison_group=group, **extra
    )


@pytest.fixture
def books(world, register) -> Books:
    zhou = HouseholdFactory(
        community=world.pingjianglu, address="平江路200号", is_elderly_alone=True
    )
    PersonFactory(household=zhou, name="周桂芳", sex="F", ethnicity=_ethnicity("01"))
    sha = HouseholdFactory(
        community=world.ganjiang, address="干将西路5号", is_dibao=True, status="moved_away"
    )
    PersonFactory(household=sha, name="沙永祥")
    fest = {f.name: f for f in Festival.objects.all()}
    ma, bai = register.ma_household, register.bai_household
    archived = timezone.now()

    meeting("liaison", D(2025, 3, 10), area=world.pingjiang)
    meeting("liaison", D(2025, 5, 8), area=world.pingjianglu, archived_at=archived)
    meeting("liaison", D(2025, 7, 5), area=world.pingjiang)
    meeting("liaison", D(2025, 5, 9), area=world.canglang)
    meeting("zone_head", D(2025, 4, 10), area=world.north_zone)
    for day in (D(2025, 1, 8), D(2025, 1, 22), D(2025, 2, 12)):
        meeting("study", day, group=world.pingjianglu_group)
    meeting("tea_party", D(2025, 3, 5), group=world.pingjianglu_group)

    visit(ma, D(2025, 2, 10), "festival", fest["元宵节"])
    visit(ma, D(2025, 6, 28), "festival", fest["七一建党节"])
    visit(bai, D(2025, 3, 20), "festival", fest["元宵节"])
    visit(bai, D(2025, 7, 1), "care")
    visit(bai, D(2025, 7, 2), "festival", fest["中秋节"])
    visit(zhou, D(2025, 3, 15), "hardship")
    visit(zhou, D(2025, 5, 5), "hardship", archived_at=archived)
    visit(register.daoqian_household, D(2025, 2, 12), "festival", fest["元宵节"])
    return Books(zhou=zhou, sha=sha)


def context_for(user, area=None, today=TODAY, **span):
    return compliance.build_context(
        user, area=area, span=compliance.report_span(today, **span), today=today
    )


def table(context):
    """(obligation name, unit name) → (due, done, overdue, current done, current due)."""
    return {
        (f.obligation.name, f.unit.name): (
            f.due,
            f.done,
            f.overdue,
            f.current_done if f.current else None,
            f.current_due if f.current else None,
        )
        for f in compliance.compliance_report(context).figures
    }


def test_figures_counted_by_hand(world, books):
    got = table(context_for(world.pingjiang_staff))
    pjl_group = world.pingjianglu_group.name
    gj_group = world.ganjiang_group.name
    assert got[("联络员会议", "平江街道")] == (2, 1, 1, 1, 1)
    assert got[("联络片组长会议", "平江街道")] == (0, 0, 0, 1, 2)
    assert got[("联络员学习活动", pjl_group)] == (12, 3, 5, 0, 2)
    assert got[("联络员学习活动", gj_group)] == (12, 0, 6, 0, 2)
    assert got[("节庆走访：元宵节", "平江路社区")] == (1, 1, 0, None, None)
    assert got[("节庆走访：元宵节", "干将社区")] == (1, 0, 1, None, None)
    assert got[("节庆走访：七一建党节", "平江路社区")] == (1, 1, 0, None, None)
    assert got[("节庆走访：七一建党节", "干将社区")] == (1, 0, 1, None, None)
    assert got[("节庆走访：中秋节", "平江路社区")] == (0, 0, 0, None, None)
    assert got[("困难户走访", "平江路社区")] == (4, 3, 1, 0, 2)
    assert got[("困难户走访", "干将社区")] == (0, 0, 0, 0, 0)
    # nothing of the other sub-district
    assert not [key for key in got if "沧浪" in key[1] or "道前" in key[1]]


def test_sections_and_totals(world, books):
    report = compliance.compliance_report(context_for(world.pingjiang_staff))
    assert [s.kind for s in report.sections] == ["subdistrict", "community", "liaison_group"]
    community = report.sections[1]
    assert [r.unit.name for r in community.rows] == ["平江路社区", "干将社区"]
    # festivals in the order they fall in 2025 (中秋 is on 6 October that year)
    assert [c.name for c in community.columns] == [
        "节庆走访：元宵节",
        "节庆走访：七一建党节",
        "节庆走访：国庆节",
        "节庆走访：中秋节",
        "困难户走访",
    ]
    totals = {c.name: (c.totals.due, c.totals.done, c.totals.overdue) for c in community.columns}
    assert totals["节庆走访：元宵节"] == (2, 1, 1)
    assert totals["困难户走访"] == (4, 3, 1)
    pingjianglu = community.rows[0].totals
    assert (pingjianglu.due, pingjianglu.done, pingjianglu.overdue) == (6, 5, 1)
    groups = report.sections[2]
    assert [(r.totals.due, r.totals.overdue) for r in groups.rows] == [(12, 5), (12, 6)]
    # overdue: liaison 1 + study 5 + 6 + festival 1 + 1 + hardship 1
    assert report.overdue == 15


def test_a_festival_is_judged_a_week_after_it(world, books):
    """On 2025-07-05 七一 is still in its grace week: under way, not overdue."""
    got = table(context_for(world.pingjiang_staff, today=D(2025, 7, 5)))
    assert got[("节庆走访：七一建党节", "干将社区")] == (0, 0, 0, 0, 1)
    assert got[("节庆走访：七一建党节", "平江路社区")] == (0, 0, 0, 1, 1)
    got = table(context_for(world.pingjiang_staff, today=D(2025, 7, 9)))
    assert got[("节庆走访：七一建党节", "干将社区")] == (1, 0, 1, None, None)


def test_a_past_quarter(world, books):
    got = table(context_for(world.pingjiang_staff, year=2025, quarter=2))
    assert got[("联络员会议", "平江街道")] == (1, 0, 1, None, None)
    assert got[("困难户走访", "平江路社区")] == (2, 1, 1, None, None)
    assert got[("联络员学习活动", world.pingjianglu_group.name)] == (
        6,
        0,
        3,
        None,
        None,
    )
    # 元宵 is in Q1: nothing due for it in Q2
    assert got[("节庆走访：元宵节", "干将社区")] == (0, 0, 0, None, None)


def test_drill_down_rows_match_the_figures(world, books):
    context = context_for(world.pingjiang_staff)
    for figure in compliance.compliance_report(context).figures:
        ob, units, judged = figure.obligation, [figure.unit], figure.judged
        for which in compliance.WHICH:
            number = getattr(figure, which)
            if figure.is_meeting:
                if which == "done":
                    rows = compliance.meetings_counted(context, ob, units, judged)
                else:
                    rows = compliance.meeting_periods(context, ob, units, judged, which)
            else:
                rows = compliance.household_rows(context, ob, units, judged, which)
            assert len(list(rows)) == number, (ob.name, figure.unit.name, which)


def test_drill_down_names_the_households_and_periods(world, books, register):
    context = context_for(world.pingjiang_staff)
    hardship = Obligation.objects.get(name="困难户走访", area=None)
    unit = context.unit(hardship, f"area:{world.pingjianglu.pk}")
    judged, current = compliance.occasions(hardship, context.span, TODAY)
    assert [o.key for o in judged] == ["2025-Q1", "2025-Q2"] and current.key == "2025-Q3"
    overdue = list(compliance.household_rows(context, hardship, [unit], judged, "overdue"))
    assert [(judged[r["occasion_index"]].key, r["address"]) for r in overdue] == [
        ("2025-Q2", "平江路200号")
    ]
    lantern = Obligation.objects.get(name="节庆走访：元宵节")
    gj = context.unit(lantern, f"area:{world.ganjiang.pk}")
    judged, _ = compliance.occasions(lantern, context.span, TODAY)
    rows = list(compliance.household_rows(context, lantern, [gj], judged, "overdue"))
    assert [r["id"] for r in rows] == [register.bai_household.pk]

    study = Obligation.objects.get(name="联络员学习活动")
    group = context.unit(study, f"group:{world.pingjianglu_group.pk}")
    judged, _ = compliance.occasions(study, context.span, TODAY)
    short = compliance.meeting_periods(context, study, [group], judged, "overdue")
    assert [(r.occasion.key, r.held) for r in short] == [
        ("2025-02", 1),
        ("2025-03", 0),
        ("2025-04", 0),
        ("2025-05", 0),
        ("2025-06", 0),
    ]
    due = compliance.meeting_periods(context, study, [group], judged, "due")
    assert sum(r.filled for r in due) == 3
    held = compliance.meetings_counted(context, study, [group], judged)
    assert [m.held_on for m in held] == [D(2025, 1, 8), D(2025, 1, 22), D(2025, 2, 12)]


def test_an_area_rule_replaces_the_default_of_the_same_name(world, books):
    """沧浪街道 holds its liaison meeting every month: the bureau sees both rules at work."""
    Obligation.objects.create(
        name="联络员会议",
        kind="meeting",
        meeting_kind="liaison",
        unit="subdistrict",
        period="month",
        times=1,
        area=world.canglang,
    )
    got = table(context_for(world.bureau))
    assert got[("联络员会议", "平江街道")] == (2, 1, 1, 1, 1)
    assert got[("联络员会议", "沧浪街道")] == (6, 1, 5, 0, 1)
    report = compliance.compliance_report(context_for(world.bureau))
    column = next(c for c in report.sections[0].columns if c.name == "联络员会议")
    assert [p.obligation.area_id for p in column.parts] == [None, world.canglang.pk]


def test_an_area_rule_can_ask_more_and_needs_a_unit_of_its_kind(world, books):
    """平江路社区 wants two visits a quarter to each hardship household: 马 and 周 had one
    each in Q1 and 马 one in Q2, so nothing is done; 干将社区 keeps the default."""
    Obligation.objects.create(
        name="困难户走访",
        kind="hardship_visits",
        unit="community",
        period="quarter",
        times=2,
        area=world.pingjianglu,
    )
    got = table(context_for(world.pingjiang_staff))
    assert got[("困难户走访", "平江路社区")] == (4, 0, 4, 0, 2)
    assert got[("困难户走访", "干将社区")] == (0, 0, 0, 0, 0)
    visit(books.zhou, D(2025, 3, 16), "care")
    got = table(context_for(world.pingjiang_staff))
    assert got[("困难户走访", "平江路社区")] == (4, 1, 3, 0, 2)


def test_an_ethnic_festival_is_due_only_to_households_of_its_groups(world, books, register):
    """开斋节 2025-03-30 (Umm al-Qura): 马's household is Hui, 白兰's is Manchu, 阿依吐尔逊's
    is Uyghur (沧浪)."""
    eid = Festival.objects.get(name="开斋节")
    Obligation.objects.create(
        name="节庆走访：开斋节",
        kind="festival_visits",
        festival=eid,
        unit="community",
        period="year",
    )
    visit(register.daoqian_household, D(2025, 3, 28), "festival", eid)
    got = table(context_for(world.bureau))
    assert got[("节庆走访：开斋节", "平江路社区")] == (1, 0, 1, None, None)
    assert got[("节庆走访：开斋节", "干将社区")] == (0, 0, 0, None, None)
    assert got[("节庆走访：开斋节", "道前社区")] == (1, 1, 0, None, None)


def test_inactive_obligations_and_festivals_are_left_out(world, books):
    Obligation.objects.filter(name="联络员会议").update(is_active=False)
    Festival.objects.filter(name="元宵节").update(is_active=False)
    names = {key[0] for key in table(context_for(world.pingjiang_staff))}
    assert "联络员会议" not in names and "节庆走访：元宵节" not in names
    assert "节庆走访：七一建党节" in names


def test_scope_follows_the_user_and_the_chosen_area(world, books):
    got = table(context_for(world.canglang_staff))
    assert {unit for _, unit in got} == {
        "沧浪街道",
        "道前社区",
        world.daoqian_group.name,
    }
    assert got[("节庆走访：元宵节", "道前社区")] == (1, 1, 0, None, None)
    got = table(context_for(world.pingjiang_staff, area=world.ganjiang))
    assert {unit for _, unit in got} == {"干将社区", world.ganjiang_group.name}
    # a community's staff do not see the sub-district's meetings
    got = table(context_for(world.pingjianglu_staff))
    assert "平江街道" not in {unit for _, unit in got}


def test_report_span():
    today = D(2025, 7, 20)
    span = compliance.report_span(today)
    assert (span.start, span.end) == (D(2025, 1, 1), today)
    span = compliance.report_span(today, year=2024)
    assert (span.start, span.end) == (D(2024, 1, 1), D(2024, 12, 31))
    span = compliance.report_span(today, year=2025, quarter=3)
    assert (span.start, span.end) == (D(2025, 7, 1), today)
    span = compliance.report_span(today, date_from=D(2024, 11, 1))
    assert (span.start, span.end) == (D(2024, 11, 1), today)
    assert compliance.report_span(today, year=2026).is_empty
