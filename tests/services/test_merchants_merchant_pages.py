"""Creating, editing, archiving a partner merchant: licence numbers (unified social credit
codes) checked and normalised, uniqueness shown on the field, areas limited to those the
user may change, history kept."""

import uuid

import pytest
from django.urls import reverse

from residents.pages import HistoryEntry
from services.forms_merchants import normalise_licence
from services.models import Merchant

CREATE = reverse("services:merchant-create")


def valid_code(body: str) -> str:
    """A unified social credit code with its check character (GB 32100-2015)."""
    from stdnum.cn import uscc

    return body + uscc.calc_check_digit(body)


CODE = valid_code("91320508MA1N2B3C4")


def merchant_data(world, **changes):
    data = {
        "submission_key": str(uuid.uuid4()),
        "name": "伊斯兰清真牛肉店",
        "category": "halal_food",
        "area": world.pingjiang.pk,
        "address": "临顿路56号",
        "contact_person": "马海",
        "phone": "13912340000",
        "licence_number": "",
        "serves": [world.pingjianglu.pk, world.ganjiang.pk],
        "note": "",
    }
    data.update(changes)
    return data


def test_licence_is_normalised_from_full_width_and_lower_case():
    wide = "".join(chr(ord(c) + 0xFEE0) for c in CODE.lower())
    assert normalise_licence(wide) == CODE
    assert normalise_licence(f" {CODE[:6]}-{CODE[6:]} ") == CODE
    assert normalise_licence("") == ""


def test_staff_add_a_merchant_with_a_full_width_licence(world, partners, login):
    client = login(world.pingjiang_staff)
    wide = "".join(chr(ord(c) + 0xFEE0) for c in CODE.lower())
    response = client.post(CREATE, merchant_data(world, licence_number=wide))
    merchant = Merchant.objects.get(name="伊斯兰清真牛肉店")
    assert response.status_code == 302
    assert response["Location"] == reverse("services:merchant-detail", args=[merchant.pk])
    assert merchant.licence_number == CODE
    assert set(merchant.serves.all()) == {world.pingjianglu, world.ganjiang}
    assert {h.history_user for h in merchant.history.all()} == {world.pingjiang_staff}
    assert merchant.history.earliest().history_type == "+"


def test_the_same_form_sent_twice_adds_one_merchant(world, partners, login):
    data = merchant_data(world)
    first = login(world.pingjiang_staff).post(CREATE, data)
    merchant = Merchant.objects.get(name="伊斯兰清真牛肉店")
    assert merchant.submission_key == uuid.UUID(data["submission_key"])
    again = login(world.pingjiang_staff).post(CREATE, data)  # another session: the key counts
    assert again.status_code == 302
    assert again["Location"] == first["Location"]
    assert Merchant.objects.filter(name="伊斯兰清真牛肉店").count() == 1
    # the key of a merchant the user may not see tells nothing about it
    assert login(world.canglang_staff).post(CREATE, data).status_code == 404


def test_licence_is_optional(world, partners, login):
    login(world.pingjiang_staff).post(CREATE, merchant_data(world))
    assert Merchant.objects.get(name="伊斯兰清真牛肉店").licence_number == ""


@pytest.mark.parametrize(
    "typed", [CODE[:-1] + ("0" if CODE[-1] != "0" else "1"), "12345", "ABCDEFGHIJKLMNOPQR", "\x00"]
)
def test_a_bad_licence_is_refused_on_its_field(world, partners, login, typed):
    response = login(world.pingjiang_staff).post(CREATE, merchant_data(world, licence_number=typed))
    assert response.status_code == 200
    assert "licence_number" in response.context["form"].errors
    assert not Merchant.objects.filter(name="伊斯兰清真牛肉店").exists()


def test_a_licence_already_recorded_is_an_error_on_the_field_not_a_500(world, partners, login):
    response = login(world.pingjiang_staff).post(
        CREATE, merchant_data(world, licence_number=partners.lamian.licence_number.lower())
    )
    assert response.status_code == 200
    errors = response.context["form"].errors["licence_number"]
    assert any("马记清真拉面馆" in e for e in errors)  # a merchant the user may see is named
    assert Merchant.objects.filter(licence_number=partners.lamian.licence_number).count() == 1


def test_a_licence_taken_in_another_sub_district_is_not_named(world, partners, login):
    partners.repair.licence_number = CODE
    partners.repair.save()
    response = login(world.pingjiang_staff).post(CREATE, merchant_data(world, licence_number=CODE))
    errors = response.context["form"].errors["licence_number"]
    assert errors and not any("苏城家电维修部" in e for e in errors)


def test_areas_are_limited_to_what_the_user_may_change(world, partners, login):
    client = login(world.pingjiang_staff)
    form = client.get(CREATE).context["form"]
    assert world.canglang not in form.fields["area"].queryset
    assert world.daoqian not in form.fields["serves"].queryset
    for changes in ({"area": world.canglang.pk}, {"serves": [world.daoqian.pk]}):
        response = client.post(CREATE, merchant_data(world, **changes))
        assert response.status_code == 200
        assert set(response.context["form"].errors) & {"area", "serves"}
    for raw in ("99999999999999999999", "x", "\x00"):
        response = client.post(CREATE, merchant_data(world, area=raw, serves=[raw]))
        assert response.status_code == 200
    assert not Merchant.objects.filter(name="伊斯兰清真牛肉店").exists()


def test_a_second_post_of_the_same_form_adds_nothing_more(world, partners, login):
    client = login(world.pingjiang_staff)
    data = merchant_data(world)
    first = client.post(CREATE, data)
    second = client.post(CREATE, data)
    assert first["Location"] == second["Location"]
    assert Merchant.objects.filter(name="伊斯兰清真牛肉店").count() == 1


def test_edit_keeps_areas_served_outside_the_users_scope(world, partners, login):
    lamian = partners.lamian
    lamian.serves.add(world.daoqian)  # set by the bureau's superuser, say
    url = reverse("services:merchant-edit", args=[lamian.pk])
    data = merchant_data(
        world,
        name=lamian.name,
        licence_number=lamian.licence_number,
        serves=[world.pingjianglu.pk],
        phone="0512-65999999",
    )
    response = login(world.pingjiang_staff).post(url, data)
    assert response.status_code == 302
    lamian.refresh_from_db()
    assert lamian.phone == "0512-65999999"
    assert set(lamian.serves.all()) == {world.pingjianglu, world.daoqian}


def test_edit_shows_the_change_in_the_history(world, partners, login):
    lamian = partners.lamian
    client = login(world.pingjiang_staff)
    client.post(
        reverse("services:merchant-edit", args=[lamian.pk]),
        merchant_data(world, name=lamian.name, licence_number=lamian.licence_number),
    )
    history = client.get(reverse("services:merchant-detail", args=[lamian.pk])).context["history"]
    assert all(isinstance(e, HistoryEntry) for e in history)
    assert history[0].user == world.pingjiang_staff and history[0].kind == "~"


def test_archive_and_restore(world, partners, login):
    lamian = partners.lamian
    client = login(world.pingjiang_staff)
    client.post(reverse("services:merchant-archive", args=[lamian.pk]))
    lamian.refresh_from_db()
    assert lamian.is_archived
    assert lamian.history.first().history_change_reason == "archived"
    listed = client.get(reverse("services:merchant-list")).context["page"]
    assert lamian not in list(listed)
    archived = client.get(reverse("services:merchant-list"), {"archived": "on"}).context["page"]
    assert list(archived) == [lamian]
    # an archived merchant is restored before it is edited
    response = client.get(reverse("services:merchant-edit", args=[lamian.pk]))
    assert response.status_code == 302
    client.post(reverse("services:merchant-restore", args=[lamian.pk]))
    lamian.refresh_from_db()
    assert not lamian.is_archived


def test_detail_shows_agreements_with_their_status_and_the_till_login(world, partners, login):
    page = login(world.pingjiang_staff).get(
        reverse("services:merchant-detail", args=[partners.lamian.pk])
    )
    shown = {a.number: a.status_key for a in page.context["agreements"]}
    assert shown == {"PJ-2026-01": "in_force", "PJ-2024-03": "expired"}
    assert [s.name for s in page.context["serves"]] == ["平江路社区", "干将社区"]
    assert page.context["can_change"] and page.context["can_add_agreement"]
