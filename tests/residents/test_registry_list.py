"""The registry list: who sees whom, the one search box, the filters, masking per role, and
a page that costs the same number of queries whatever the size of the register."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from residents.id_numbers import check_digit
from residents.models import Honour, HonourKind, Person
from tests.factories import HouseholdFactory, PersonFactory, _ethnicity, valid_id_number

LIST = reverse("residents:person-list")


def names(response):
    assert response.status_code == 200
    return sorted(row.name for row in response.context["rows"])


def id_ending_in_x(birth="19900101"):
    for n in range(1000):
        first17 = f"320508{birth}{n:03d}"
        if check_digit(first17) == "X":
            return first17 + "X"
    raise AssertionError("no sequence gives X")


# ---------------------------------------------------------------- scope


def test_each_role_lists_only_its_own_part_of_the_district(world, register, login):
    assert names(login(world.pingjianglu_liaison).get(LIST)) == ["哈丽娜", "马晓东"]
    assert names(login(world.pingjianglu_staff).get(LIST)) == ["哈丽娜", "马晓东"]
    assert names(login(world.pingjiang_staff).get(LIST)) == ["哈丽娜", "白兰", "马晓东"]
    assert names(login(world.canglang_staff).get(LIST)) == ["阿依吐尔逊"]
    assert len(names(login(world.bureau).get(LIST))) == 4


@pytest.mark.parametrize("who", ["no_post", "ended_post", "future_post"])
def test_users_without_a_current_post_get_no_list(world, register, login, who):
    assert login(getattr(world, who)).get(LIST).status_code == 403


def test_filtering_on_a_community_outside_scope_reveals_nothing(world, register, login):
    response = login(world.pingjiang_staff).get(LIST, {"community": world.daoqian.pk})
    assert "阿依吐尔逊" not in names(response)
    assert "阿依吐尔逊" not in response.content.decode()


# ---------------------------------------------------------------- search


@pytest.mark.parametrize("typed", ["马晓", "晓东", "maxiaodong", "maxiao", "mxd", "MXD", "ｍｘｄ"])
def test_search_finds_a_person_by_name_pinyin_or_initials(world, register, login, typed):
    assert names(login(world.pingjiang_staff).get(LIST, {"q": typed})) == ["马晓东"]


def test_search_by_address_finds_the_whole_household(world, register, login):
    response = login(world.pingjiang_staff).get(LIST, {"q": "平江路112号"})
    assert names(response) == ["哈丽娜", "马晓东"]


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("干将", ["白兰"]),  # two characters of an address
        ("2号", ["哈丽娜", "马晓东"]),  # a digit and a character
        ("晓马", []),  # the same characters in another order are not a match
        ("%号", []),  # a LIKE wildcard is a plain character
    ],
)
def test_two_character_searches(world, register, login, typed, expected):
    """Two characters hold no trigram; PostgreSQL answers them from the doubled-character
    index (migration 0006), which must find exactly what a plain substring search finds."""
    assert names(login(world.pingjiang_staff).get(LIST, {"q": typed})) == expected


def test_search_by_the_last_digits_of_the_id_number(world, register, login):
    client = login(world.pingjiang_staff)
    number = register.ma_xiaodong.id_number
    assert names(client.get(LIST, {"q": number[-4:]})) == ["马晓东"]
    assert names(client.get(LIST, {"q": number[-8:]})) == ["马晓东"]
    assert names(client.get(LIST, {"q": number})) == ["马晓东"]


def test_search_by_id_tail_accepts_full_width_digits_and_lower_case_x(world, register, login):
    PersonFactory(household=register.bai_household, name="金海燕", id_number=id_ending_in_x())
    client = login(world.pingjiang_staff)
    tail = id_ending_in_x()[-5:].lower()
    assert names(client.get(LIST, {"q": tail})) == ["金海燕"]
    full_width = register.ma_wife.id_number[-4:].translate(
        {ord(d): 0xFF10 + int(d) for d in "0123456789"}
    )
    assert names(client.get(LIST, {"q": full_width})) == ["哈丽娜"]


def test_community_staff_search_only_the_visible_tail_or_a_whole_number(world, register, login):
    """Without the right to full numbers, searching cannot read hidden digits one by one."""
    client = login(world.pingjianglu_staff)
    number = register.ma_xiaodong.id_number
    assert names(client.get(LIST, {"q": number[-4:]})) == ["马晓东"]
    assert names(client.get(LIST, {"q": number})) == ["马晓东"]
    assert names(client.get(LIST, {"q": number[-8:]})) == []


def test_liaisons_cannot_search_by_id_number(world, register, login):
    number = register.ma_xiaodong.id_number
    assert names(login(world.pingjianglu_liaison).get(LIST, {"q": number[-4:]})) == []


def test_search_never_reaches_outside_scope(world, register, login):
    assert names(login(world.pingjianglu_staff).get(LIST, {"q": "白兰"})) == []
    assert names(login(world.pingjianglu_staff).get(LIST, {"q": "道前街"})) == []


# ---------------------------------------------------------------- filters


def test_filter_on_a_zone_or_sub_district_takes_everything_under_it(world, register, login):
    client = login(world.pingjiang_staff)
    assert names(client.get(LIST, {"community": world.north_zone.pk})) == ["哈丽娜", "马晓东"]
    assert names(client.get(LIST, {"community": world.ganjiang.pk})) == ["白兰"]
    client = login(world.bureau)
    assert names(client.get(LIST, {"community": world.canglang.pk})) == ["阿依吐尔逊"]


def test_filter_by_ethnicity_registration_hardship_and_honour(world, register, login):
    Honour.objects.create(household=register.bai_household, year=2025, kind=HonourKind.MODEL_FAMILY)
    client = login(world.bureau)
    assert names(client.get(LIST, {"ethnicity": "11"})) == ["白兰"]
    assert names(client.get(LIST, {"ethnicity": "05"})) == ["阿依吐尔逊"]
    assert names(client.get(LIST, {"registration": "floating"})) == ["阿依吐尔逊"]
    assert names(client.get(LIST, {"hardship": "dibao"})) == ["哈丽娜", "马晓东"]
    assert names(client.get(LIST, {"honour": "model_family"})) == ["白兰"]
    assert names(client.get(LIST, {"honour": "featured_building"})) == []


def test_filter_by_age_band(world, register, login):
    today = timezone.localdate()
    child = PersonFactory(
        household=register.ma_household,
        name="马小宝",
        relation="child",
        birth_date=today - datetime.timedelta(days=365 * 6),
    )
    elder = PersonFactory(
        household=register.ma_household,
        name="马老太",
        relation="parent",
        sex="F",
        birth_date=today.replace(year=today.year - 85),
    )
    client = login(world.pingjianglu_staff)
    assert names(client.get(LIST, {"age": "0-17"})) == [child.name]
    assert names(client.get(LIST, {"age": "80+"})) == [elder.name]
    assert names(client.get(LIST, {"age": "35-59"})) == ["哈丽娜", "马晓东"]


def test_persons_who_left_or_died_are_listed_only_when_asked_for(world, register, login):
    register.ma_wife.status = "moved_away"
    register.ma_wife.save()
    client = login(world.pingjianglu_staff)
    assert names(client.get(LIST)) == ["马晓东"]
    assert names(client.get(LIST, {"status": "moved_away"})) == ["哈丽娜"]
    assert names(client.get(LIST, {"status": "all"})) == ["哈丽娜", "马晓东"]


def test_archived_persons_are_shown_to_staff_only_when_asked(world, register, login):
    register.ma_wife.archived_at = timezone.now()
    register.ma_wife.save()
    staff = login(world.pingjianglu_staff)
    assert names(staff.get(LIST)) == ["马晓东"]
    assert names(staff.get(LIST, {"archived": "1"})) == ["哈丽娜", "马晓东"]
    liaison = login(world.pingjianglu_liaison)
    assert names(liaison.get(LIST, {"archived": "1"})) == ["马晓东"]


@pytest.mark.parametrize(
    "params",
    [
        {"community": "abc"},
        {"community": "987654"},
        {"ethnicity": "拉牯"},
        {"age": "200-300"},
        {"status": "nonsense"},
        {"page": "-3"},
        {"page": "x"},
        {"page": "99999999999"},
        {"q": "%_\\'\"<script>"},
    ],
)
def test_nonsense_in_the_address_bar_is_ignored_not_an_error(world, register, login, params):
    assert login(world.pingjiang_staff).get(LIST, params).status_code == 200


# ---------------------------------------------------------------- masking


def test_liaison_sees_no_ethnicity_and_no_id_digit(world, register, login):
    response = login(world.pingjianglu_liaison).get(LIST)
    page = response.content.decode()
    for row in response.context["rows"]:
        assert not any(c.isdigit() for c in row.id_number)
        assert row.ethnicity == "—"
    assert "回族" not in page
    assert register.ma_xiaodong.id_number[:6] not in page
    assert register.ma_xiaodong.id_number[-4:] not in page


def test_liaison_cannot_filter_on_ethnicity_or_hardship(world, register, login):
    """A count of results would reveal who is Uyghur or on dibao."""
    client = login(world.pingjianglu_liaison)
    response = client.get(LIST, {"ethnicity": "05", "hardship": "dibao"})
    assert names(response) == ["哈丽娜", "马晓东"]
    assert 'name="ethnicity"' not in response.content.decode()
    assert 'name="hardship"' not in response.content.decode()


def test_community_staff_see_ethnicity_and_masked_id_numbers(world, register, login):
    page = login(world.pingjianglu_staff).get(LIST).content.decode()
    number = register.ma_xiaodong.id_number
    assert "回族" in page
    assert f"{number[:6]}********{number[-4:]}" in page
    assert number not in page


def test_full_numbers_never_appear_in_the_list_even_for_sub_district_staff(world, register, login):
    page = login(world.pingjiang_staff).get(LIST).content.decode()
    assert register.ma_xiaodong.id_number not in page
    assert register.bai_lan.id_number not in page


# ---------------------------------------------------------------- pages and queries


def _fill(community, households, members=2):
    for h in range(households):
        household = HouseholdFactory(community=community, address=f"平江路{200 + h}号")
        if h % 3 == 0:
            Honour.objects.create(household=household, year=2024, kind=HonourKind.MODEL_FAMILY)
        for m in range(members):
            PersonFactory(
                household=household,
                ethnicity=_ethnicity("05" if m else "03"),
                id_number=valid_id_number(birth="19800101", sequence=f"{h * 10 + m:03d}"),
            )


def test_pages_of_fifty_without_counting_the_table(world, register, login):
    _fill(world.pingjianglu, 30)  # 60 + 2 persons
    client = login(world.pingjianglu_staff)
    with CaptureQueriesContext(connection) as queries:
        first = client.get(LIST)
    assert len(first.context["rows"]) == 50
    assert first.context["page"].has_next
    assert not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)
    second = client.get(LIST, {"page": 2})
    assert len(second.context["rows"]) == 12
    assert not second.context["page"].has_next
    seen = {r.pk for r in first.context["rows"]} | {r.pk for r in second.context["rows"]}
    assert len(seen) == 62
    assert client.get(LIST, {"page": 50}).context["rows"] == []


@pytest.mark.parametrize("who", ["pingjiang_staff", "pingjianglu_liaison"])
def test_list_costs_the_same_queries_at_two_sizes(world, register, login, who):
    client = login(getattr(world, who))
    url = LIST + "?q=&community=&honour=&age="
    client.get(url)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    small = count()
    _fill(world.pingjianglu, 40)
    large = count()
    assert large == small
    assert Person.objects.count() > 80


def test_addresses_and_flags_are_shown_as_text_never_as_markup(world, register, login):
    """The rows are built in Python (templatetags/register_rows.py): every value escaped."""
    household = register.bai_household
    household.address = '干将东路<img src=x onerror="alert(1)">88号'
    household.other_hardship = "<b>失业</b>"
    household.save()
    page = login(world.pingjiang_staff).get(LIST).content.decode()
    assert "<img src=x" not in page and "<b>失业</b>" not in page
    assert "干将东路&lt;img src=x onerror=&quot;alert(1)&quot;&gt;88号" in page
    assert "&lt;b&gt;失业&lt;/b&gt;" in page
