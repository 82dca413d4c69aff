"""The review list of records already in the register twice."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from residents.duplicates import find_existing_person, later_duplicates, pairs_for
from tests.factories import HouseholdFactory, PersonFactory

URL = reverse("residents:duplicate-list")


def pair_ids(user):
    return {(p.first.pk, p.second.pk) for p in pairs_for(user, list(later_duplicates(user)))}


@pytest.fixture
def moved_twin(register):
    """马晓东 registered again in 干将社区 with the same ID number (the old record moved away)."""
    return PersonFactory(
        household=register.bai_household,
        name="马晓东",
        id_number=register.ma_xiaodong.id_number,
        birth_date=datetime.date(1984, 7, 14),
        status="moved_away",
    )


@pytest.fixture
def name_twin(register):
    """哈丽娜 entered a second time in 平江路社区 without an ID number."""
    return PersonFactory(
        household=HouseholdFactory(community=register.ma_household.community, address="平江路7号"),
        name="哈丽娜",
        sex="F",
        id_number="",
        birth_date=datetime.date(1986, 3, 2),
    )


def test_same_id_number_is_a_pair(world, register, moved_twin):
    assert pair_ids(world.pingjiang_staff) == {(register.ma_xiaodong.pk, moved_twin.pk)}


def test_same_name_and_birth_date_is_a_pair(world, register, name_twin):
    assert pair_ids(world.pingjianglu_staff) == {(register.ma_wife.pk, name_twin.pk)}


def test_same_name_with_another_birth_date_is_no_pair(world, register):
    PersonFactory(
        household=register.ma_household, name="马晓东", birth_date=datetime.date(1990, 1, 1)
    )
    assert pair_ids(world.pingjiang_staff) == set()


def test_pair_is_listed_only_when_both_records_are_visible(world, register, moved_twin):
    # 平江路社区 and 干将社区: the sub-district sees both, the community only one of them.
    assert pair_ids(world.pingjiang_staff)
    assert pair_ids(world.pingjianglu_staff) == set()
    assert pair_ids(world.canglang_staff) == set()


def test_pair_across_sub_districts_is_for_the_bureau_only(world, register):
    twin = PersonFactory(
        household=register.daoqian_household,
        name="白兰",
        sex="F",
        id_number=register.bai_lan.id_number,
        birth_date=datetime.date(1970, 1, 1),
        status="deceased",
    )
    assert pair_ids(world.bureau) == {(register.bai_lan.pk, twin.pk)}
    assert pair_ids(world.pingjiang_staff) == set()
    assert pair_ids(world.canglang_staff) == set()


def test_archived_records_are_no_duplicates(world, register, moved_twin):
    moved_twin.archived_at = timezone.now()
    moved_twin.save()
    assert pair_ids(world.pingjiang_staff) == set()


def test_three_records_give_three_pairs(world, register, moved_twin):
    third = PersonFactory(
        household=register.bai_household,
        name="马晓东",
        id_number="",
        birth_date=datetime.date(1984, 7, 14),
    )
    ma = register.ma_xiaodong.pk
    assert pair_ids(world.pingjiang_staff) == {
        (ma, moved_twin.pk),
        (ma, third.pk),
        (moved_twin.pk, third.pk),
    }


def test_staff_see_the_pair_with_a_merge_link(world, register, moved_twin, login):
    response = login(world.pingjiang_staff).get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert "干将东路88号" in page and "平江路112号3幢201室" in page
    assert reverse("residents:person-merge", args=[register.ma_xiaodong.pk, moved_twin.pk]) in page
    assert (
        reverse(
            "residents:household-merge", args=[register.ma_household.pk, register.bai_household.pk]
        )
        in page
    )
    assert register.ma_xiaodong.masked_id_number in page


def test_liaison_sees_pairs_without_id_numbers_or_merge_link(world, register, name_twin, login):
    page = login(world.pingjianglu_liaison).get(URL).content.decode()
    assert "平江路7号" in page
    assert register.ma_wife.masked_id_number not in page
    assert "/merge/" not in page


def test_community_staff_cannot_merge_from_the_list(world, register, name_twin, login):
    page = login(world.pingjianglu_staff).get(URL).content.decode()
    assert "平江路7号" in page
    assert "/merge/" not in page


def test_other_sub_district_sees_an_empty_list(world, register, moved_twin, login):
    response = login(world.canglang_staff).get(URL)
    assert response.status_code == 200
    assert response.context["pairs"] == []


def test_list_pages_in_constant_queries(world, register, login, django_assert_max_num_queries):
    client = login(world.pingjiang_staff)

    def add_pairs(start, count):
        for n in range(start, start + count):
            household = HouseholdFactory(community=world.ganjiang, address=f"干将西路{n}号")
            for _copy in range(2):
                PersonFactory(
                    household=household,
                    name=f"马{n}号",
                    id_number="",
                    birth_date=datetime.date(1980, 1, 1) + datetime.timedelta(days=n),
                )

    add_pairs(0, 2)
    with django_assert_max_num_queries(8):
        assert len(client.get(URL).context["pairs"]) == 2
    add_pairs(2, 40)
    with django_assert_max_num_queries(8):
        response = client.get(URL)
    assert len(response.context["pairs"]) == 25
    assert len(client.get(URL, {"page": 2}).context["pairs"]) == 17


def test_find_existing_person_still_looks_district_wide(world, register):
    found = find_existing_person(id_number=register.aytursun.id_number)
    assert found == register.aytursun
