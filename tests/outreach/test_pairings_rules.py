"""Recording and changing a pairing: the form's rules, as the street-office desk meets them."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from outreach.models import Pairing, PairingKind
from tests.factories import PersonFactory


def create_url(household):
    return reverse("outreach:pairing-create") + f"?household={household.pk}"


def posted(**values):
    data = {
        "person": "",
        "kind": PairingKind.ASSISTANCE,
        "partner_user": "",
        "partner_liaison": "",
        "partner_person": "",
        "start_date": "2025-03-01",
        "visits_per_year": "4",
        "note": "",
    }
    data.update({k: str(v) for k, v in values.items()})
    return data


def pair(household, **fields):
    fields.setdefault("kind", PairingKind.ASSISTANCE)
    fields.setdefault("start_date", datetime.date(2024, 5, 1))
    return Pairing.objects.create(household=household, **fields)


@pytest.fixture
def volunteer(register):
    """丁海燕, a volunteer in 干将社区 (another household of the same sub-district)."""
    return PersonFactory(
        household=register.bai_household, name="丁海燕", sex="F", is_volunteer=True
    )


def test_staff_records_a_pairing_of_an_official_with_a_key_person(world, register, login):
    client = login(world.pingjiang_staff)
    response = client.post(
        create_url(register.ma_household),
        posted(
            person=register.ma_xiaodong.pk,
            kind=PairingKind.LEADER_KEY_PERSON,
            partner_user=world.pingjianglu_staff.pk,
            visits_per_year=6,
            note="每季度走访一次，节日加访",
        ),
    )
    pairing = Pairing.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("outreach:pairing-detail", args=[pairing.pk])
    assert pairing.household == register.ma_household
    assert pairing.community == world.pingjianglu
    assert pairing.person == register.ma_xiaodong
    assert pairing.partner_user == world.pingjianglu_staff
    assert pairing.visits_per_year == 6
    assert pairing.history.first().history_user == world.pingjiang_staff


def test_a_pairing_needs_a_partner(world, register, login):
    client = login(world.pingjiang_staff)
    response = client.post(create_url(register.ma_household), posted())
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert not Pairing.objects.exists()


def test_a_pairing_has_only_one_partner(world, register, liaisons, login):
    client = login(world.pingjiang_staff)
    response = client.post(
        create_url(register.ma_household),
        posted(partner_user=world.pingjianglu_staff.pk, partner_liaison=liaisons.bai_mei.pk),
    )
    assert response.status_code == 200
    errors = response.context["form"].non_field_errors()
    assert len(errors) == 1  # our message, not the database constraint's as well
    assert not Pairing.objects.exists()


def test_the_volunteer_must_be_registered_as_one(world, register, volunteer, login):
    client = login(world.pingjiang_staff)
    not_a_volunteer = register.bai_lan
    response = client.post(
        create_url(register.ma_household), posted(partner_person=not_a_volunteer.pk)
    )
    assert response.status_code == 200
    assert "partner_person" in response.context["form"].errors
    assert not Pairing.objects.exists()

    response = client.post(create_url(register.ma_household), posted(partner_person=volunteer.pk))
    assert response.status_code == 302
    assert Pairing.objects.get().partner_person == volunteer


def test_volunteers_offered_are_volunteers_only(world, register, volunteer, login):
    client = login(world.pingjiang_staff)
    form = client.get(create_url(register.ma_household)).context["form"]
    offered = {value for value, _label in form.fields["partner_person"].widget.choices if value}
    assert offered == {volunteer.pk}


def test_a_volunteer_is_not_paired_with_their_own_household(world, register, login):
    helper = PersonFactory(household=register.ma_household, name="马海燕", is_volunteer=True)
    client = login(world.pingjiang_staff)
    response = client.post(create_url(register.ma_household), posted(partner_person=helper.pk))
    assert "partner_person" in response.context["form"].errors
    assert not Pairing.objects.exists()


def test_the_paired_person_must_belong_to_the_household(world, register, login):
    client = login(world.pingjiang_staff)
    response = client.post(
        create_url(register.ma_household),
        posted(person=register.bai_lan.pk, partner_user=world.pingjianglu_staff.pk),
    )
    assert response.status_code == 200
    assert "person" in response.context["form"].errors
    assert not Pairing.objects.exists()


def test_the_same_partner_is_not_paired_twice_with_a_household(world, register, login):
    pair(register.ma_household, partner_user=world.pingjianglu_staff)
    client = login(world.pingjiang_staff)
    response = client.post(
        create_url(register.ma_household),
        posted(partner_user=world.pingjianglu_staff.pk, person=register.ma_wife.pk),
    )
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert Pairing.objects.count() == 1


def test_an_ended_pairing_does_not_block_a_new_one(world, register, login):
    pair(
        register.ma_household,
        partner_user=world.pingjianglu_staff,
        start_date=datetime.date(2022, 1, 1),
        end_date=datetime.date(2023, 12, 31),
    )
    client = login(world.pingjiang_staff)
    response = client.post(
        create_url(register.ma_household), posted(partner_user=world.pingjianglu_staff.pk)
    )
    assert response.status_code == 302
    assert Pairing.objects.count() == 2


def test_a_pairing_does_not_start_in_the_future(world, register, login):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    client = login(world.pingjiang_staff)
    response = client.post(
        create_url(register.ma_household),
        posted(partner_user=world.pingjianglu_staff.pk, start_date=tomorrow.isoformat()),
    )
    assert "start_date" in response.context["form"].errors
    assert not Pairing.objects.exists()


@pytest.mark.parametrize(
    "values",
    [
        {"partner_user": "987654"},
        {"partner_liaison": "abc"},
        {"partner_person": "-1"},
        {"person": "1e9", "partner_user": "x"},
        {"visits_per_year": "99999"},
        {"visits_per_year": "-2"},
        {"start_date": "2025-02-30"},
        {"kind": "f9"},
    ],
)
def test_typed_or_foreign_values_give_form_errors(world, register, login, values):
    client = login(world.pingjiang_staff)
    response = client.post(create_url(register.ma_household), posted(**values))
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not Pairing.objects.exists()


def test_officials_and_liaisons_of_another_sub_district_cannot_be_chosen(
    world, register, liaisons, login
):
    client = login(world.pingjiang_staff)
    response = client.post(
        create_url(register.ma_household), posted(partner_user=world.canglang_staff.pk)
    )
    assert "partner_user" in response.context["form"].errors
    response = client.post(
        create_url(register.ma_household), posted(partner_liaison=liaisons.ma_jianhua.pk)
    )
    assert "partner_liaison" in response.context["form"].errors
    assert not Pairing.objects.exists()


def test_a_household_outside_the_users_areas_is_not_found(world, register, login):
    client = login(world.pingjiang_staff)
    assert client.get(create_url(register.daoqian_household)).status_code == 404
    assert client.post(create_url(register.daoqian_household), posted()).status_code == 404
    bad = reverse("outreach:pairing-create") + "?household=abc"
    assert client.get(bad).status_code == 404


def test_community_staff_cannot_pair_with_a_household_of_another_community(world, register, login):
    client = login(world.pingjianglu_staff)
    assert client.get(create_url(register.bai_household)).status_code == 404


def test_the_household_is_found_by_address_or_member_name(world, register, login):
    client = login(world.pingjiang_staff)
    url = reverse("outreach:pairing-create")
    found = client.get(url, {"q": "平江路112"}).context["found"]
    assert found == [register.ma_household]
    found = client.get(url, {"q": "白兰"}).context["found"]
    assert found == [register.bai_household]
    assert client.get(url, {"q": "阿依吐尔逊"}).context["found"] == []  # 道前: not theirs
    assert client.get(url, {"q": "\x00"}).status_code == 200


def test_a_liaison_may_not_record_pairings(world, register, login):
    client = login(world.pingjianglu_liaison)
    assert client.get(reverse("outreach:pairing-create")).status_code == 403
    response = client.post(
        create_url(register.ma_household), posted(partner_user=world.pingjianglu_staff.pk)
    )
    assert response.status_code == 403
    assert not Pairing.objects.exists()


def test_a_liaison_may_not_edit_a_pairing(world, register, login):
    pairing = pair(register.ma_household, partner_user=world.pingjianglu_staff)
    client = login(world.pingjianglu_liaison)
    url = reverse("outreach:pairing-edit", args=[pairing.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, posted(partner_user=world.pingjianglu_staff.pk)).status_code == 403


def test_staff_edit_a_pairing_and_the_history_says_so(world, register, liaisons, login):
    pairing = pair(register.ma_household, partner_user=world.pingjianglu_staff)
    client = login(world.pingjianglu_staff)
    url = reverse("outreach:pairing-edit", args=[pairing.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        posted(
            partner_liaison=liaisons.bai_mei.pk,
            kind=PairingKind.LIAISON_RESIDENT,
            start_date="2024-05-01",
            visits_per_year=12,
        ),
    )
    assert response.status_code == 302
    pairing.refresh_from_db()
    assert pairing.partner_liaison == liaisons.bai_mei
    assert pairing.partner_user is None
    assert pairing.visits_per_year == 12
    detail = client.get(reverse("outreach:pairing-detail", args=[pairing.pk]))
    changed = detail.context["history"][0]
    assert changed.user == world.pingjianglu_staff
    assert len(changed.fields) == 4  # kind, official, liaison, visits a year


def test_editing_keeps_the_duplicate_rule(world, register, liaisons, login):
    pair(register.ma_household, partner_liaison=liaisons.bai_mei)
    other = pair(register.ma_household, partner_user=world.pingjianglu_staff)
    client = login(world.pingjiang_staff)
    response = client.post(
        reverse("outreach:pairing-edit", args=[other.pk]),
        posted(partner_liaison=liaisons.bai_mei.pk, start_date="2024-05-01"),
    )
    assert response.status_code == 200
    other.refresh_from_db()
    assert other.partner_user == world.pingjianglu_staff


def test_an_archived_pairing_is_restored_before_it_is_edited(world, register, login):
    pairing = pair(
        register.ma_household, partner_user=world.pingjianglu_staff, archived_at=timezone.now()
    )
    client = login(world.pingjiang_staff)
    response = client.post(
        reverse("outreach:pairing-edit", args=[pairing.pk]),
        posted(partner_user=world.pingjianglu_staff.pk, visits_per_year=9),
    )
    assert response.status_code == 302
    pairing.refresh_from_db()
    assert pairing.visits_per_year == 4
