"""ID numbers, ethnicity look-up, pinyin and the register's scoping."""

import datetime

import pytest

from residents.ethnicity import EthnicityNotFound, find_ethnicity
from residents.id_numbers import IdNumberError, mask_id_number, parse_id_number
from residents.models import Household, Person
from tests.factories import valid_id_number


def test_valid_number_gives_birth_date_and_sex():
    parsed = parse_id_number("11010519491231002X")
    assert parsed.birth_date == datetime.date(1949, 12, 31)
    assert parsed.sex == "F"
    assert parsed.warnings == []


@pytest.mark.parametrize(
    "typed",
    [
        "11010519491231002x",
        " 11010519491231002X ",
        "１１０１０５１９４９１２３１００２ｘ",
        "110105 19491231 002X",
    ],
)
def test_full_width_lower_x_and_spaces_are_normalised(typed):
    assert parse_id_number(typed).number == "11010519491231002X"


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("110105194912310021", "check digit"),
        ("110105194902300025", "does not exist"),  # 30 February
        ("11010519491231002", "18"),
        ("1101051949123100XX", "digits"),
        ("110105210001010012", "impossible"),  # born in 2100
    ],
)
def test_wrong_numbers_are_refused_with_the_reason(typed, reason, settings):
    settings.LANGUAGE_CODE = "en"
    from django.utils import translation

    with translation.override("en"), pytest.raises(IdNumberError) as excinfo:
        parse_id_number(typed)
    assert reason in str(excinfo.value)


def test_fifteen_digit_number_is_converted():
    parsed = parse_id_number("110105491231002")
    assert parsed.number == "11010519491231002X"
    assert parsed.warnings


def test_unknown_region_is_a_warning_not_an_error():
    parsed = parse_id_number(valid_id_number(region="999999"))
    assert parsed.warnings


def test_masking_hides_the_birth_date():
    assert mask_id_number("32050819840714135X") == "320508********135X"


@pytest.mark.django_db
@pytest.mark.parametrize("typed", ["回", "回族", "03", "3", "Hui", "HU", " 回族 "])
def test_hui_is_found_however_it_is_typed(typed):
    assert find_ethnicity(typed).code == "03"


@pytest.mark.django_db
def test_aliases_and_extension_codes():
    assert find_ethnicity("毛难族").name == "毛南族"
    assert find_ethnicity("崩龙族").name == "德昂族"
    assert find_ethnicity("其它").code == "97"
    assert find_ethnicity("98").code == "98"


@pytest.mark.django_db
def test_unknown_group_is_an_error_not_a_new_group():
    from residents.models import Ethnicity

    with pytest.raises(EthnicityNotFound):
        find_ethnicity("拉牯族")
    assert Ethnicity.objects.count() == 58


def test_person_gets_pinyin_and_community_from_household(register):
    ma = register.ma_xiaodong
    assert (ma.name_pinyin, ma.name_initials) == ("maxiaodong", "mxd")
    assert ma.community == register.ma_household.community


def test_register_is_scoped_like_areas(world, register):
    def names(user):
        return sorted(p.name for p in Person.objects.visible_to(user))

    assert names(world.pingjianglu_liaison) == ["哈丽娜", "马晓东"]
    assert names(world.pingjiang_staff) == ["哈丽娜", "白兰", "马晓东"]
    assert names(world.daoqian_liaison) == ["阿依吐尔逊"]
    assert names(world.no_post) == []
    assert Household.objects.visible_to(world.bureau).count() == 3


def test_id_number_is_unique_among_active_persons(register):
    from django.core.exceptions import ValidationError

    twin = Person(
        household=register.bai_household,
        name="马晓东",
        sex="M",
        ethnicity=register.ma_xiaodong.ethnicity,
        id_number=register.ma_xiaodong.id_number,
    )
    with pytest.raises(ValidationError):
        twin.validate_constraints()


def test_even_the_bureau_moves_across_sub_districts_only_by_handover(world, register):
    from django.core.exceptions import ValidationError

    from residents.operations import household_move

    with pytest.raises(ValidationError):
        household_move(by=world.bureau, household=register.ma_household, community=world.daoqian)
    register.ma_household.refresh_from_db()
    assert register.ma_household.community == world.pingjianglu
    household_move(by=world.bureau, household=register.ma_household, community=world.ganjiang)
    register.ma_xiaodong.refresh_from_db()
    assert register.ma_xiaodong.community == world.ganjiang


def test_unicode_digits_other_than_ascii_are_not_id_digits():
    with pytest.raises(IdNumberError):
        parse_id_number("١١٠١٠٥١٩٤٩١٢٣١٠٠٢X")  # Arabic-Indic digits
