"""Residence permits expiring soon or already expired."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import HouseholdFactory, PersonFactory, _ethnicity

URL = reverse("residents:permit-list")


def in_days(n):
    return timezone.localdate() + datetime.timedelta(days=n)


@pytest.fixture
def floating(world, register):
    """Floating residents of 干将社区 with permits expiring at various times."""
    household = HouseholdFactory(
        community=world.ganjiang, address="干将西路16号", registration_kind="floating"
    )

    def person(name, days, **extra):
        return PersonFactory(
            household=household,
            name=name,
            ethnicity=_ethnicity("05"),
            residence_permit_number=f"苏居3205080{abs(days or 0):03d}",
            residence_permit_expires_on=in_days(days) if days is not None else None,
            **extra,
        )

    return {
        "soon": person("买买提", 10),
        "later": person("古丽", 100),
        "expired": person("热依拉", -5),
        "none": person("艾力", None),
        "moved": person("努尔", 3, status="moved_away"),
        "archived": person("阿迪力", 4, archived_at=timezone.now()),
    }


def names(response):
    return [p.name for p in response.context["page"]]


def test_default_window_lists_expired_first_then_soon(world, floating, login):
    response = login(world.pingjiang_staff).get(URL)
    assert response.status_code == 200
    assert names(response) == ["热依拉", "买买提"]
    assert response.context["days"] == 60


def test_wider_window(world, floating, login):
    response = login(world.pingjiang_staff).get(URL, {"days": "120"})
    assert names(response) == ["热依拉", "买买提", "古丽"]


def test_zero_days_lists_only_expired_and_today(world, floating, login):
    response = login(world.pingjiang_staff).get(URL, {"days": "0"})
    assert names(response) == ["热依拉"]


@pytest.mark.parametrize("typed", ["abc", "-5", "99999", "1.5"])
def test_bad_window_falls_back_to_default_with_a_message(world, floating, login, typed):
    response = login(world.pingjiang_staff).get(URL, {"days": typed})
    assert response.status_code == 200
    assert response.context["days"] == 60
    assert list(response.context["messages"])


def test_other_sub_district_is_not_listed(world, register, floating, login):
    register.aytursun.residence_permit_expires_on = in_days(20)
    register.aytursun.save()
    assert names(login(world.pingjiang_staff).get(URL)) == ["热依拉", "买买提"]
    assert names(login(world.canglang_staff).get(URL)) == ["阿依吐尔逊"]


def test_community_sees_only_its_own(world, floating, login):
    assert names(login(world.pingjianglu_staff).get(URL)) == []


def test_liaison_sees_masked_permit_numbers_and_no_ethnicity(world, register, login):
    aytursun = register.aytursun
    aytursun.residence_permit_expires_on = in_days(30)
    aytursun.save()
    page = login(world.daoqian_liaison).get(URL).content.decode()
    assert "阿依吐尔逊" in page
    assert "苏居320508123" not in page
    assert "苏居******123" in page
    assert "维吾尔族" not in page
    staff_page = login(world.canglang_staff).get(URL).content.decode()
    assert "苏居320508123" in staff_page
    assert "维吾尔族" in staff_page


def test_list_in_constant_queries(world, login, django_assert_max_num_queries):
    client = login(world.pingjiang_staff)

    def add(count, start):
        household = HouseholdFactory(community=world.ganjiang, address=f"干将西路{start}号")
        for n in range(start, start + count):
            PersonFactory(
                household=household, name=f"古丽{n}", residence_permit_expires_on=in_days(n % 50)
            )

    add(2, 0)
    with django_assert_max_num_queries(9):
        assert len(client.get(URL).context["page"]) == 2
    add(60, 2)
    with django_assert_max_num_queries(9):
        assert len(client.get(URL).context["page"]) == 50
