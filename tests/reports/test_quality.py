"""Data-quality checks before submitting, counted by hand on a small register of 平江街道
(and 沧浪街道 beside it, which must never show)."""

import datetime
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from network.models import AreaPopulation
from outreach.models import FollowUp, FollowUpStatus, Visit, VisitKind
from reports.periods import parse_period
from reports.quality import quality_checks
from residents.id_numbers import check_digit
from residents.models import Person
from tests.factories import HouseholdFactory, PersonFactory, _ethnicity, valid_id_number
from tests.residents.conftest import register  # noqa: F401  (the register fixture)
from tests.residents.test_template_strings import untranslated

PERIOD = parse_period("2025")
TODAY = timezone.localdate()
FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def ending_in_x(birth="19900101") -> str:
    """A valid number whose check character is X, written with a lower-case x."""
    for sequence in range(1000):
        first17 = f"320508{birth}{sequence:03d}"
        if check_digit(first17) == "X":
            return first17 + "x"
    raise AssertionError("no sequence gives X")


def visit(household, on, archived=False):
    return Visit.objects.create(
        household=household,
        kind=VisitKind.CARE,
        visited_on=on,
        archived_at=timezone.now() if archived else None,
    )


@dataclass
class Fixture:
    ding: Person  # no visit in 2025
    wrong_digit: Person
    shared_a: Person
    shared_b: Person


@pytest.fixture
def data(world, register):  # noqa: F811
    # households: 马晓东's is visited in 2025; 白兰's only by an archived visit and in 2024
    ma_visit = visit(register.ma_household, datetime.date(2025, 3, 8))
    visit(register.bai_household, datetime.date(2025, 4, 1), archived=True)
    visit(register.bai_household, datetime.date(2024, 11, 11))
    ding_home = HouseholdFactory(community=world.ganjiang, address="干将东路90号")
    ding = PersonFactory(household=ding_home, name="丁德明", id_number="")
    han_home = HouseholdFactory(community=world.ganjiang, address="干将东路92号")
    PersonFactory(household=han_home, name="王志强", ethnicity=_ethnicity("01"))  # not minority

    # ID numbers: lower-case x is valid; a wrong check digit is not; one number twice
    PersonFactory(household=ding_home, name="丁桂芳", sex="F", id_number=ending_in_x())
    good = valid_id_number(birth="19880808", sequence="357")
    wrong = good[:17] + str((int(good[17]) + 1) % 10 if good[17] != "X" else 0)
    han = _ethnicity("01")  # the ID checks cover every resident, not only minorities
    wrong_digit = PersonFactory(
        household=han_home, name="王海燕", sex="F", ethnicity=han, id_number=wrong
    )
    shared = valid_id_number(birth="19751212", sequence="111")
    shared_a = PersonFactory(household=ding_home, name="丁永祥", id_number=shared)
    shared_b = PersonFactory(
        household=han_home, name="王永祥", ethnicity=han, id_number=shared.translate(FULL_WIDTH)
    )
    PersonFactory(  # archived: not checked
        household=han_home, name="王秀英", id_number="12345", archived_at=timezone.now()
    )
    PersonFactory(  # another sub-district: not this one's to fix
        household=register.daoqian_household, name="马玉兰", id_number="320508199"
    )

    # follow-ups: one overdue; one not yet due, one done, one on an archived visit
    FollowUp.objects.create(
        visit=ma_visit, action="协助办理低保复审", due_on=TODAY - datetime.timedelta(days=3)
    )
    FollowUp.objects.create(
        visit=ma_visit, action="回访", due_on=TODAY + datetime.timedelta(days=3)
    )
    FollowUp.objects.create(
        visit=ma_visit,
        action="送米面油",
        due_on=TODAY - datetime.timedelta(days=30),
        status=FollowUpStatus.DONE,
    )
    old = visit(register.bai_household, datetime.date(2025, 1, 5), archived=True)
    FollowUp.objects.create(visit=old, action="联系社保", due_on=TODAY - datetime.timedelta(days=9))
    dq = visit(register.daoqian_household, datetime.date(2024, 12, 2))
    FollowUp.objects.create(visit=dq, action="翻译协助", due_on=TODAY - datetime.timedelta(days=9))

    # population: 平江路社区 has its row for 2025; 干将社区 only for 2024; 平江街道 none
    AreaPopulation.objects.create(area=world.pingjianglu, year=2025, registered=5200)
    AreaPopulation.objects.create(area=world.ganjiang, year=2024, registered=4800)
    return Fixture(ding=ding, wrong_digit=wrong_digit, shared_a=shared_a, shared_b=shared_b)


def by_key(checks):
    return {check.key: check for check in checks}


def test_each_check_counts_what_was_counted_by_hand(world, data):
    checks = by_key(quality_checks(world.pingjiang_staff, world.pingjiang, PERIOD))

    assert {key: check.count for key, check in checks.items()} == {
        "unvisited_households": 2,  # 白兰's and 丁德明's
        "invalid_id_numbers": 1,  # 王海燕's wrong check digit; the lower-case x is valid
        "duplicate_id_numbers": 2,  # 丁永祥 and 王永祥 (full-width digits)
        "overdue_follow_ups": 1,
        "missing_population": 2,  # 平江街道 itself and 干将社区
    }


def test_examples_are_masked_names_with_their_pages(world, data, register):  # noqa: F811
    checks = by_key(quality_checks(world.pingjiang_staff, world.pingjiang, PERIOD))

    assert sorted(checks["unvisited_households"].examples) == ["丁*明", "白*"]
    assert checks["invalid_id_numbers"].examples == ["王*燕"]
    assert checks["invalid_id_numbers"].links == [
        ("王*燕", reverse("residents:household-detail", args=[data.wrong_digit.household_id]))
    ]
    assert checks["duplicate_id_numbers"].examples == ["丁*祥", "王*祥"]
    assert checks["overdue_follow_ups"].examples[0].startswith("马*东")
    assert checks["missing_population"].examples == ["平江街道", "干将社区"]
    shown = " ".join(e for c in checks.values() for e in c.examples)
    assert "白兰" not in shown and "王海燕" not in shown


def test_each_check_links_to_a_page_that_opens(world, data, login):
    client = login(world.pingjiang_staff)
    checks = quality_checks(world.pingjiang_staff, world.pingjiang, PERIOD)

    urls = [check.url for check in checks] + [url for c in checks for _t, url in c.links]
    assert all(urls)
    for url in set(urls):
        assert client.get(url).status_code == 200, url
    overdue = by_key(checks)["overdue_follow_ups"]
    page = client.get(overdue.url)
    assert "协助办理低保复审" in page.content.decode()


def test_a_community_sees_only_its_own(world, data):
    checks = by_key(quality_checks(world.pingjianglu_staff, world.pingjianglu, PERIOD))

    assert checks["unvisited_households"].count == 0  # 马晓东's was visited
    assert checks["invalid_id_numbers"].count == 0
    assert checks["duplicate_id_numbers"].count == 0
    assert checks["overdue_follow_ups"].count == 1
    assert checks["missing_population"].count == 0


def test_the_other_sub_district_has_its_own_findings(world, data):
    checks = by_key(quality_checks(world.canglang_staff, world.canglang, PERIOD))

    assert checks["unvisited_households"].count == 1  # 道前街45号
    assert checks["invalid_id_numbers"].examples == ["马*兰"]
    assert checks["overdue_follow_ups"].count == 1
    assert checks["missing_population"].examples == ["沧浪街道", "道前社区"]


def test_a_visit_in_the_period_clears_the_household(world, data, register):  # noqa: F811
    visit(register.bai_household, datetime.date(2025, 12, 31))

    checks = by_key(quality_checks(world.pingjiang_staff, world.pingjiang, PERIOD))

    assert checks["unvisited_households"].examples == ["丁*明"]
    q1 = by_key(quality_checks(world.pingjiang_staff, world.pingjiang, parse_period("2025-Q1")))
    assert sorted(q1["unvisited_households"].examples) == ["丁*明", "白*"]  # 白兰's is later


def test_queries_do_not_grow_with_the_records(world, data, register):  # noqa: F811
    quality_checks(world.pingjiang_staff, world.pingjiang, PERIOD)  # the scope and permissions
    with CaptureQueriesContext(connection) as few:
        quality_checks(world.pingjiang_staff, world.pingjiang, PERIOD)
    for n in range(15):
        home = HouseholdFactory(community=world.ganjiang)
        PersonFactory(household=home, id_number=f"32050819{n:02d}0101001X"[:18])
        made = visit(home, datetime.date(2024, 1, 1))
        FollowUp.objects.create(visit=made, action="回访", due_on=datetime.date(2024, 2, 1))
    with CaptureQueriesContext(connection) as many:
        checks = by_key(quality_checks(world.pingjiang_staff, world.pingjiang, PERIOD))

    assert checks["unvisited_households"].count == 17
    assert checks["overdue_follow_ups"].count == 16
    assert len(many) == len(few)


# ---------------------------------------------------------------- the page


def test_the_page_shows_the_checks_for_an_area_and_period(world, data, login):
    page = login(world.pingjiang_staff).get(
        reverse("reports:quality"), {"area": world.pingjiang.pk, "period": "2025"}
    )

    assert page.status_code == 200
    text = page.content.decode()
    assert "丁*明" in text and "王*燕" in text and "干将社区" in text
    assert "丁德明" not in text


def test_the_page_defaults_to_the_users_own_area(world, data, login):
    page = login(world.pingjianglu_staff).get(reverse("reports:quality"))

    assert page.context["area"] == world.pingjianglu
    assert page.context["period"].key == str(TODAY.year)


@pytest.mark.parametrize("area", ["pingjiang", "pingjianglu", "district"])
def test_another_sub_districts_area_is_not_found(world, login, area):
    response = login(world.canglang_staff).get(
        reverse("reports:quality"), {"area": getattr(world, area).pk}
    )

    assert response.status_code == 404


@pytest.mark.parametrize("raw", ["abc", "-1", "99999999999999999999999", "１２x"])
def test_a_garbled_area_is_not_found(world, login, raw):
    assert (
        login(world.pingjiang_staff).get(reverse("reports:quality"), {"area": raw}).status_code
        == 404
    )


@pytest.mark.parametrize("raw", ["2025-13", "abc", "1800"])
def test_a_bad_period_is_said_and_nothing_checked(world, data, login, raw):
    page = login(world.pingjiang_staff).get(
        reverse("reports:quality"), {"area": world.pingjiang.pk, "period": raw}
    )

    assert page.status_code == 200
    assert page.context["checks"] == []
    assert page.context["error"] in page.content.decode()


@pytest.mark.parametrize("who", ["pingjianglu_liaison", "daoqian_liaison", "no_post", "ended_post"])
def test_liaisons_and_users_without_a_post_are_refused(world, login, who):
    assert login(getattr(world, who)).get(reverse("reports:quality")).status_code == 403


def test_the_pages_translate_every_shown_word():
    root = Path(__file__).resolve().parents[2] / "templates" / "reports"
    mine = [
        root / "quality.html",
        root / "budget_list.html",
        root / "budget_form.html",
        root / "includes" / "figure_flags.html",
        root / "includes" / "quality_checks.html",
        root / "includes" / "budget_summary.html",
    ]
    assert {p.name: untranslated(p.read_text(encoding="utf-8")) for p in mine} == {
        p.name: [] for p in mine
    }
