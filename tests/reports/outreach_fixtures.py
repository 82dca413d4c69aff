"""A year of outreach work in the world's areas, counted by hand (fixture ``outreach_books``).

A test module uses it by naming the three fixtures in its namespace
(``outreach_books = outreach_fixtures.outreach_books``, and ``register``, ``liaisons``).
Dates are in 2024 and 2025, all past, so every obligation period and festival of 2025 has
been judged.

Households (register + two more)
  平江路社区 (in 北片 of 平江街道)
    马晓东's household (平江路112号3幢201室): 马晓东, 哈丽娜 — 回族; dibao → minority, hardship
    周's household (平江路200号): 周桂芳 — 汉族; elderly living alone     → hardship, not minority
  干将社区 (平江街道)
    白兰's household (干将东路88号) — 满族                                → minority
    哈德明's household (干将西路20号) — 回族, never visited               → minority
  道前社区 (沧浪街道): 阿依吐尔逊's household (道前街45号) — 维吾尔族     → minority

Visits (2025 unless said)
  马   02-10 festival 元宵节 · 03-30 festival 开斋节 (goods ¥300.00) · 05-06 pairing ·
       09-10 care · 10-08 festival 国庆节 · 2024-12-20 care
       → twice in Q1, once in every quarter of 2025
  周   03-15 hardship (cash ¥500.00) · 05-05 hardship ARCHIVED (cash ¥1000.00) ·
       08-12 hardship · 11-10 hardship          → no visit in Q2: not visited each quarter
  白   03-20 festival 元宵节 (36 days after it: outside the ±30-day window) ·
       09-28 festival 中秋节 (2025-10-06)
  阿依吐尔逊  04-02 festival 开斋节 (3 days after it; goods ¥200.00)
  2025: 11 visits — festival 6, hardship 3, pairing 1, care 1; 平江路 8, 干将 2, 道前 1.

Festival visits due (obligations 元宵, 七一, 中秋, 国庆 by default; 开斋节 added here, for the
Muslim minorities only): 马 5, 白 4, 哈 5, 阿依吐尔逊 5 = 19; made: 马 3 (元宵, 开斋, 国庆),
白 1 (中秋), 阿依吐尔逊 1 (开斋) = 5.

Meetings (2025 unless said)
  平江街道 itself: liaison 03-10 (¥120.00), 06-12, 09-15; zone-head 11-20;
                   symposium 06-18 (白兰 + 20 others = 21 participants, ¥1500.00)
  北片: zone-head 04-10
  平江路 (its group): study 01-08, 01-22, 02-12; tea party 03-05 (周晓红; liaisons 白梅,
                   马晓东; residents 马晓东, 哈丽娜; 6 others = 11 participants, ¥800.00);
                   liaison 05-08 ARCHIVED
  沧浪街道 itself: liaison 05-09
  道前: publicity 09-20 (40 others, ¥300.50)
  干将: festival celebration 2024-09-17 (30 others, ¥600.00)

Consultations
  马晓东 (平江路) policy, received 2025-03-03 09:30, resolved 2025-03-10       → 7 days
  张先生 (干将) halal food, hotline 2025-04-01 20:00, referred 2025-04-04      → 3 days
  干将 housing, received 2024-12-30, resolved 2025-01-02                     → 3 days
  平江街道's hotline, employment, 2025-01-01 00:10 (still 2024 in UTC), open
  道前 papers, received 2025-11-28, resolved 2026-01-05 (closed the next year)
  平江路 legal, 2025-05-05, ARCHIVED

Pairings
  马 — liaison 白梅, friendship (f4), from 2024-03-01, open
  周 — 周晓红, assistance, 2025-02-01 to 2025-06-30
  白 — volunteer 马晓东 (f5), from 2025-05-01
  阿依吐尔逊 — liaison 马建华, from 2025-01-01, ARCHIVED
"""

import datetime
from dataclasses import dataclass

import pytest
from django.utils import timezone

from outreach.models import (
    Assistance,
    Consultation,
    Festival,
    Meeting,
    Obligation,
    Pairing,
    Visit,
)
from residents.models import Household
from tests.factories import HouseholdFactory, PersonFactory, _ethnicity
from tests.outreach.conftest import liaisons  # noqa: F401  (the liaisons fixture)
from tests.residents.conftest import register  # noqa: F401  (the register fixture)

D = datetime.date


@dataclass
class OutreachBooks:
    zhou: Household
    ha: Household
    ma_visits_q1: list[Visit]
    archived_visit: Visit
    tea_party: Meeting


def at(year, month, day, hour=12, minute=0):
    """A moment in Suzhou's time."""
    return timezone.make_aware(datetime.datetime(year, month, day, hour, minute))


def visit(household, day, kind, festival=None, **extra):
    return Visit.objects.create(
        household=household, visited_on=day, kind=kind, festival=festival, **extra
    )


def meeting(kind, day, area, group=None, **extra):
    return Meeting.objects.create(kind=kind, held_on=day, area=area, liaison_group=group, **extra)


@pytest.fixture
def outreach_books(world, register, liaisons) -> OutreachBooks:  # noqa: F811
    fest = {f.name: f for f in Festival.objects.all()}
    archived = timezone.now()
    Obligation.objects.create(
        name="节庆走访：开斋节",
        kind="festival_visits",
        festival=fest["开斋节"],
        unit="community",
        period="year",
    )

    zhou = HouseholdFactory(
        community=world.pingjianglu, address="平江路200号", is_elderly_alone=True
    )
    PersonFactory(household=zhou, name="周桂芳", sex="F", ethnicity=_ethnicity("01"))
    ha = HouseholdFactory(community=world.ganjiang, address="干将西路20号")
    PersonFactory(household=ha, name="哈德明")

    ma, bai, dq = register.ma_household, register.bai_household, register.daoqian_household
    ma_q1 = [
        visit(ma, D(2025, 2, 10), "festival", fest["元宵节"]),
        visit(ma, D(2025, 3, 30), "festival", fest["开斋节"]),
    ]
    Assistance.objects.create(visit=ma_q1[1], kind="goods", description="牛肉、食用油", value=300)
    visit(ma, D(2025, 5, 6), "pairing")
    visit(ma, D(2025, 9, 10), "care")
    visit(ma, D(2025, 10, 8), "festival", fest["国庆节"])
    visit(ma, D(2024, 12, 20), "care")
    Assistance.objects.create(visit=visit(zhou, D(2025, 3, 15), "hardship"), kind="cash", value=500)
    archived_visit = visit(zhou, D(2025, 5, 5), "hardship", archived_at=archived)
    Assistance.objects.create(visit=archived_visit, kind="cash", value=1000)
    visit(zhou, D(2025, 8, 12), "hardship")
    visit(zhou, D(2025, 11, 10), "hardship")
    visit(bai, D(2025, 3, 20), "festival", fest["元宵节"])
    visit(bai, D(2025, 9, 28), "festival", fest["中秋节"])
    Assistance.objects.create(
        visit=visit(dq, D(2025, 4, 2), "festival", fest["开斋节"]),
        kind="goods",
        description="清真月饼",
        value=200,
    )

    pj, group = world.pingjiang, world.pingjianglu_group
    meeting("liaison", D(2025, 3, 10), pj, cost=120, title="第一季度联络员会议")
    meeting("liaison", D(2025, 6, 12), pj)
    meeting("liaison", D(2025, 9, 15), pj)
    meeting("zone_head", D(2025, 11, 20), pj)
    symposium = meeting("symposium", D(2025, 6, 18), pj, other_attendees=20, cost=1500)
    symposium.attending_persons.add(register.bai_lan)
    meeting("zone_head", D(2025, 4, 10), world.north_zone)
    for day in (D(2025, 1, 8), D(2025, 1, 22), D(2025, 2, 12)):
        meeting("study", day, world.pingjianglu, group)
    tea_party = meeting(
        "tea_party", D(2025, 3, 5), world.pingjianglu, group, other_attendees=6, cost=800
    )
    tea_party.attending_users.add(world.pingjianglu_staff)
    tea_party.attending_liaisons.add(liaisons.bai_mei, liaisons.ma_xiaodong)
    tea_party.attending_persons.add(register.ma_xiaodong, register.ma_wife)
    meeting("liaison", D(2025, 5, 8), world.pingjianglu, archived_at=archived)
    meeting("liaison", D(2025, 5, 9), world.canglang)
    meeting("publicity", D(2025, 9, 20), world.daoqian, other_attendees=40, cost="300.50")
    meeting("festival", D(2024, 9, 17), world.ganjiang, other_attendees=30, cost=600)

    def consultation(community, received, topic, status="open", closed_on=None, **extra):
        return Consultation.objects.create(
            community=community,
            channel=extra.pop("channel", "walk_in"),
            topic=topic,
            received_at=received,
            summary=extra.pop("summary", "咨询"),
            status=status,
            closed_on=closed_on,
            **extra,
        )

    consultation(
        world.pingjianglu,
        at(2025, 3, 3, 9, 30),
        "policy",
        "resolved",
        D(2025, 3, 10),
        person=register.ma_xiaodong,
        summary="咨询少数民族子女中考加分政策",
    )
    consultation(
        world.ganjiang,
        at(2025, 4, 1, 20),
        "halal_food",
        "referred",
        D(2025, 4, 4),
        channel="hotline",
        visitor="张先生",
        referred_to="姑苏区市场监管局",
        summary="反映某超市清真食品标识不规范",
    )
    consultation(world.ganjiang, at(2024, 12, 30), "housing", "resolved", D(2025, 1, 2))
    consultation(world.pingjiang, at(2025, 1, 1, 0, 10), "employment", channel="hotline")
    consultation(world.daoqian, at(2025, 11, 28), "papers", "resolved", D(2026, 1, 5))
    consultation(world.pingjianglu, at(2025, 5, 5), "legal", archived_at=archived)

    Pairing.objects.create(
        household=ma, kind="f4", partner_liaison=liaisons.bai_mei, start_date=D(2024, 3, 1)
    )
    Pairing.objects.create(
        household=zhou,
        kind="assistance",
        partner_user=world.pingjianglu_staff,
        start_date=D(2025, 2, 1),
        end_date=D(2025, 6, 30),
    )
    Pairing.objects.create(
        household=bai, kind="f5", partner_person=register.ma_xiaodong, start_date=D(2025, 5, 1)
    )
    Pairing.objects.create(
        household=dq,
        kind="f4",
        partner_liaison=liaisons.ma_jianhua,
        start_date=D(2025, 1, 1),
        archived_at=archived,
    )
    return OutreachBooks(
        zhou=zhou, ha=ha, ma_visits_q1=ma_q1, archived_visit=archived_visit, tea_party=tea_party
    )
