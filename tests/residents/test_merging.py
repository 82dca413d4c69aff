"""Merging duplicate persons and households: nothing deleted, everything pointing at the
archived record moved, both histories kept."""

import datetime

import pytest
from django.urls import reverse

from residents.merging import related_links
from residents.models import Honour, Household, IdNumberReveal, Person


@pytest.fixture
def twin(register):
    """马晓东 registered a second time in 干将社区 (old record moved away), with a mobile the
    kept record lacks, and an ID reveal pointing at it."""
    person = Person.objects.create(
        household=register.bai_household,
        name="马晓东",
        sex="M",
        ethnicity=register.ma_xiaodong.ethnicity,
        id_number=register.ma_xiaodong.id_number,
        birth_date=datetime.date(1984, 7, 14),
        mobile="13912345678",
        workplace="苏州回民饭店",
        status="moved_away",
    )
    return person


def merge_url(a, b):
    return reverse("residents:person-merge", args=[a.pk, b.pk])


def household_merge_url(a, b):
    return reverse("residents:household-merge", args=[a.pk, b.pk])


def test_related_objects_are_discovered_from_the_models():
    assert (IdNumberReveal, "person") in related_links(Person)
    assert (Person, "household") in related_links(Household)
    assert (Honour, "household") in related_links(Household)


def test_preview_shows_the_gaps_to_fill_and_changes_nothing(world, register, twin, login):
    register.ma_xiaodong.workplace = "观前街派出所"
    register.ma_xiaodong.save()
    client = login(world.pingjiang_staff)
    response = client.get(merge_url(register.ma_xiaodong, twin), {"keep": register.ma_xiaodong.pk})
    assert response.status_code == 200
    plan = response.context["plan"]
    assert [(f.name, f.value) for f in plan.fills] == [("mobile", "13912345678")]
    assert "13912345678" in response.content.decode()
    twin.refresh_from_db()
    register.ma_xiaodong.refresh_from_db()
    assert twin.archived_at is None
    assert register.ma_xiaodong.mobile == ""


def test_person_merge_fills_gaps_repoints_and_archives(world, register, twin, login):
    kept = register.ma_xiaodong
    reveal = IdNumberReveal.objects.create(person=twin, user=world.pingjiang_staff)
    twin_history_before = twin.history.count()
    client = login(world.pingjiang_staff)
    response = client.post(merge_url(kept, twin), {"keep": kept.pk})
    assert response.status_code == 302
    twin.refresh_from_db()
    kept.refresh_from_db()
    reveal.refresh_from_db()
    assert twin.archived_at is not None
    assert twin.history.first().history_change_reason == f"merged into #{kept.pk}"
    assert twin.history.count() == twin_history_before + 1
    assert kept.mobile == "13912345678"
    assert kept.workplace == "苏州回民饭店"
    assert kept.household == register.ma_household
    assert reveal.person == kept
    assert Person.objects.filter(pk=twin.pk).exists()
    assert kept.history.first().history_change_reason == f"merged #{twin.pk} into this record"


def test_keeping_the_newer_record_archives_the_older(world, register, twin, login):
    client = login(world.pingjiang_staff)
    client.post(merge_url(register.ma_xiaodong, twin), {"keep": twin.pk})
    register.ma_xiaodong.refresh_from_db()
    twin.refresh_from_db()
    assert register.ma_xiaodong.archived_at is not None
    assert twin.archived_at is None


def test_keep_must_be_one_of_the_two(world, register, twin, login):
    client = login(world.pingjiang_staff)
    response = client.post(merge_url(register.ma_xiaodong, twin), {"keep": register.bai_lan.pk})
    assert response.status_code == 200
    assert response.context["form"].errors
    response = client.post(merge_url(register.ma_xiaodong, twin), {"keep": "马"})
    assert response.status_code == 200
    assert not Person.objects.filter(archived_at__isnull=False).exists()


def test_a_record_cannot_be_merged_with_itself(world, register, login):
    client = login(world.pingjiang_staff)
    person = register.ma_xiaodong
    response = client.post(merge_url(person, person), {"keep": person.pk})
    assert response.status_code == 200
    person.refresh_from_db()
    assert person.archived_at is None


def test_archived_records_cannot_be_merged(world, register, twin, login):
    from django.utils import timezone

    twin.archived_at = timezone.now()
    twin.save()
    client = login(world.pingjiang_staff)
    response = client.post(merge_url(register.ma_xiaodong, twin), {"keep": register.ma_xiaodong.pk})
    assert response.status_code == 200
    register.ma_xiaodong.refresh_from_db()
    assert register.ma_xiaodong.mobile == ""


@pytest.mark.parametrize("who", ["pingjianglu_liaison", "pingjianglu_staff"])
def test_merging_needs_the_merge_permission(world, register, twin, login, who):
    client = login(getattr(world, who))
    assert client.get(merge_url(register.ma_xiaodong, twin)).status_code == 403
    assert client.post(merge_url(register.ma_xiaodong, twin), {"keep": twin.pk}).status_code == 403
    twin.refresh_from_db()
    assert twin.archived_at is None


def test_other_sub_district_cannot_merge(world, register, twin, login):
    client = login(world.canglang_staff)
    response = client.post(merge_url(register.ma_xiaodong, twin), {"keep": twin.pk})
    assert response.status_code == 404
    twin.refresh_from_db()
    assert twin.archived_at is None


def test_both_records_must_be_changeable(world, register, login):
    client = login(world.pingjiang_staff)
    response = client.get(merge_url(register.ma_xiaodong, register.aytursun))
    assert response.status_code == 404
    assert client.get(reverse("residents:person-merge", args=[987654, 1])).status_code == 404


# ---------------------------------------------------------------- households


@pytest.fixture
def second_household(register):
    """The 马 family entered again as a second household in 平江路社区, with a son and an honour."""
    household = Household.objects.create(
        community=register.ma_household.community,
        address="平江路112号3幢201室（重复）",
        phone="0512-67776543",
    )
    son = Person.objects.create(
        household=household,
        name="马小龙",
        sex="M",
        ethnicity=register.ma_xiaodong.ethnicity,
        relation="child",
        birth_date=datetime.date(2012, 9, 1),
    )
    Honour.objects.create(household=household, year=2023, kind="model_family")
    return household, son


def test_household_merge_moves_members_and_honours(world, register, second_household, login):
    other, son = second_household
    kept = register.ma_household
    Honour.objects.create(household=kept, year=2024, kind="model_family")
    clash = Honour.objects.create(household=other, year=2024, kind="model_family")
    client = login(world.pingjiang_staff)
    response = client.post(household_merge_url(kept, other), {"keep": kept.pk})
    assert response.status_code == 302
    son.refresh_from_db()
    other.refresh_from_db()
    kept.refresh_from_db()
    clash.refresh_from_db()
    assert son.household == kept
    assert son.history.first().history_change_reason.startswith(f"moved from #{other.pk}")
    assert other.archived_at is not None
    assert other.history.first().history_change_reason == f"merged into #{kept.pk}"
    assert sorted(kept.honours.values_list("year", flat=True)) == [2023, 2024]
    assert clash.household == other  # the kept household already has this honour
    assert kept.phone != "0512-67776543"  # the kept household had a phone already
    assert set(kept.members.values_list("name", flat=True)) == {"马晓东", "哈丽娜", "马小龙"}


def test_household_merge_across_communities_moves_members_community(world, register, login):
    kept, other = register.ma_household, register.bai_household
    client = login(world.pingjiang_staff)
    client.post(household_merge_url(kept, other), {"keep": kept.pk})
    register.bai_lan.refresh_from_db()
    assert register.bai_lan.household == kept
    assert register.bai_lan.community == world.pingjianglu


def test_household_preview_lists_what_moves(world, register, second_household, login):
    other, _son = second_household
    client = login(world.pingjiang_staff)
    response = client.get(
        household_merge_url(register.ma_household, other), {"keep": register.ma_household.pk}
    )
    plan = response.context["plan"]
    assert sum(plan.moves.values()) == 2  # the son and the honour
    other.refresh_from_db()
    assert other.archived_at is None


def test_household_with_pending_handover_cannot_be_merged(world, register, second_household, login):
    other, son = second_household
    other.handover_to = world.daoqian
    other.save()
    client = login(world.pingjiang_staff)
    response = client.post(household_merge_url(register.ma_household, other), {"keep": other.pk})
    assert response.status_code == 200
    register.ma_household.refresh_from_db()
    assert register.ma_household.archived_at is None


@pytest.mark.parametrize(("who", "status"), [("pingjianglu_staff", 403), ("canglang_staff", 404)])
def test_household_merge_denied(world, register, second_household, login, who, status):
    other, son = second_household
    client = login(getattr(world, who))
    url = household_merge_url(register.ma_household, other)
    assert client.post(url, {"keep": other.pk}).status_code == status
    son.refresh_from_db()
    assert son.household == other


def test_household_in_other_sub_district_gives_404(world, register, login):
    client = login(world.pingjiang_staff)
    url = household_merge_url(register.ma_household, register.daoqian_household)
    assert client.get(url).status_code == 404


def test_merge_page_shows_both_records_before_a_choice(world, register, twin, login):
    response = login(world.pingjiang_staff).get(merge_url(register.ma_xiaodong, twin))
    assert response.status_code == 200
    assert response.context["plan"] is None
    page = response.content.decode()
    assert "平江路112号3幢201室" in page and "干将东路88号" in page
