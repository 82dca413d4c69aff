"""One household: who may open it, its members masked per role, its history; entering and
editing a household with its members; moving, archiving and restoring; revealing an ID."""

import pytest
from django.contrib.messages import WARNING, get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from residents.models import Household, IdNumberReveal, Person
from tests.factories import HouseholdFactory, PersonFactory, valid_id_number


def detail(household):
    return reverse("residents:household-detail", args=[household.pk])


# ---------------------------------------------------------------- the household page


def test_liaison_opens_a_household_of_their_community(world, register, login):
    response = login(world.pingjianglu_liaison).get(detail(register.ma_household))
    assert response.status_code == 200
    assert "马晓东" in response.content.decode()


def test_liaison_cannot_open_household_of_other_community(world, register, login):
    client = login(world.pingjianglu_liaison)
    assert client.get(detail(register.bai_household)).status_code == 404
    assert client.get(detail(register.daoqian_household)).status_code == 404


def test_canglang_staff_cannot_see_a_pingjiang_household(world, register, login):
    assert login(world.canglang_staff).get(detail(register.ma_household)).status_code == 404
    assert login(world.canglang_staff).get(detail(register.daoqian_household)).status_code == 200


def test_household_page_masks_members_per_role(world, register, login):
    number = register.ma_xiaodong.id_number
    liaison_page = login(world.pingjianglu_liaison).get(detail(register.ma_household))
    text = liaison_page.content.decode()
    assert "回族" not in text and number[-4:] not in text and number[:6] not in text
    staff_text = login(world.pingjianglu_staff).get(detail(register.ma_household)).content.decode()
    assert "回族" in staff_text
    assert f"{number[:6]}********{number[-4:]}" in staff_text
    assert number not in staff_text
    # Sub-district staff may reveal, but the page itself never carries the full number.
    sub_text = login(world.pingjiang_staff).get(detail(register.ma_household)).content.decode()
    assert number not in sub_text
    assert reverse("residents:person-reveal-id", args=[register.ma_xiaodong.pk]) in sub_text
    assert "htmx.min.js" in sub_text
    assert "htmx.min.js" not in staff_text


def test_history_shows_who_changed_which_field(world, register, login):
    client = login(world.pingjianglu_staff)
    household = register.ma_household
    ma, wife = register.ma_xiaodong, register.ma_wife
    data = edit_post(
        household,
        [existing(ma, ma.masked_id_number), existing(wife, wife.masked_id_number)],
        phone="0512-65550000",
    )
    assert (
        client.post(reverse("residents:household-update", args=[household.pk]), data).status_code
        == 302
    )
    client.post(reverse("residents:person-archive", args=[wife.pk]))
    response = client.get(detail(household))
    history = response.context["history"]
    assert (history[0].subject, history[0].user) == ("哈丽娜", world.pingjianglu_staff)
    changed = [e for e in history if e.kind == "~" and e.model == "household"]
    assert changed[0].fields == [str(Household._meta.get_field("phone").verbose_name)]
    assert changed[0].user == world.pingjianglu_staff
    assert world.pingjianglu_staff.real_name in response.content.decode()
    # an unchanged member saved with the form adds no empty entry
    assert [e.subject for e in history].count("马晓东") == 1


def test_archived_household_is_shown_to_staff_with_a_badge_and_hidden_from_liaisons(
    world, register, login
):
    register.ma_household.archived_at = timezone.now()
    register.ma_household.save()
    response = login(world.pingjianglu_staff).get(detail(register.ma_household))
    assert response.status_code == 200
    text = response.content.decode()
    assert timezone.localdate(register.ma_household.archived_at).isoformat() in text
    assert reverse("residents:household-restore", args=[register.ma_household.pk]) in text
    assert reverse("residents:household-update", args=[register.ma_household.pk]) not in text
    assert login(world.pingjianglu_liaison).get(detail(register.ma_household)).status_code == 404


def test_household_page_costs_the_same_queries_at_two_sizes(world, register, login):
    client = login(world.pingjiang_staff)
    household = register.ma_household
    client.get(detail(household))

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(detail(household)).status_code == 200
        return len(queries)

    small = count()
    for n in range(12):
        person = PersonFactory(
            household=household, relation="child", id_number=valid_id_number(sequence=f"{n:03d}")
        )
        person.mobile = f"1390000{n:04d}"
        person.save()
    household.phone = "0512-67771234"
    household.save()
    assert count() == small


def test_nonsense_household_ids_are_not_found(world, login):
    client = login(world.bureau)
    assert client.get("/register/households/987654/").status_code == 404
    assert client.get("/register/households/abc/").status_code == 404


# ---------------------------------------------------------------- entering a household

CREATE = reverse("residents:household-create")


def household_post(community, members, **household):
    data = {
        "household-community": community.pk,
        "household-ledger_number": household.get("ledger_number", ""),
        "household-address": household.get("address", "平江路200号1幢101室"),
        "household-registration_kind": "registered",
        "household-residence_kind": "compound",
        "members-TOTAL_FORMS": str(len(members)),
        "members-INITIAL_FORMS": "0",
        "members-MIN_NUM_FORMS": "1",
        "members-MAX_NUM_FORMS": "1000",
    }
    for i, member in enumerate(members):
        defaults = {"relation": "head", "status": "active", "education": ""}
        for key, value in {**defaults, **member}.items():
            data[f"members-{i}-{key}"] = value
    return data


def test_staff_enter_a_household_with_members_typed_as_on_paper(world, register, login):
    client = login(world.pingjianglu_staff)
    # full-width digits, a lower-case x and spaces, as typed from a photocopy
    typed = "１１０１０５ １９４９１２３１ ００２ｘ"
    data = household_post(
        world.pingjianglu,
        [
            {"name": "丁桂芳", "ethnicity": "回", "id_number": typed},
            {
                "name": "丁永祥",
                "relation": "child",
                "ethnicity": "03",
                "sex": "M",
                "birth_date": "2001-05-04",
            },
        ],
        ledger_number="PJL-002",
    )
    response = client.post(CREATE, data)
    assert response.status_code == 302, response.context["formset"].errors
    household = Household.objects.get(ledger_number="PJL-002")
    assert response["Location"] == detail(household)
    head = household.members.get(name="丁桂芳")
    assert head.id_number == "11010519491231002X"
    assert head.birth_date.isoformat() == "1949-12-31" and head.sex == "F"
    assert head.ethnicity.code == "03" and head.community == world.pingjianglu
    child = household.members.get(name="丁永祥")
    assert child.id_number == "" and child.sex == "M"


def test_typed_birth_date_or_sex_that_disagree_with_the_id_number_are_refused(
    world, register, login
):
    client = login(world.pingjianglu_staff)
    number = "11010519491231002X"  # a woman born 1949-12-31
    for mismatch in ({"birth_date": "1949-12-30"}, {"sex": "M"}):
        data = household_post(
            world.pingjianglu,
            [{"name": "丁桂芳", "ethnicity": "回族", "id_number": number, **mismatch}],
        )
        response = client.post(CREATE, data)
        assert response.status_code == 200
        form = response.context["formset"].forms[0]
        assert set(mismatch) <= set(form.errors)
    assert not Person.objects.filter(name="丁桂芳").exists()
    assert Household.objects.count() == 3


def test_wrong_id_number_and_unknown_ethnic_group_are_refused(world, register, login):
    client = login(world.pingjianglu_staff)
    data = household_post(
        world.pingjianglu,
        [{"name": "丁桂芳", "ethnicity": "拉牯族", "id_number": "110105194912310021"}],
    )
    response = client.post(CREATE, data)
    assert response.status_code == 200
    assert {"ethnicity", "id_number"} <= set(response.context["formset"].forms[0].errors)
    assert Household.objects.count() == 3


def test_unknown_region_is_saved_with_a_warning(world, register, login):
    client = login(world.pingjianglu_staff)
    number = valid_id_number(region="999999", birth="19800101", sequence="111")
    response = client.post(
        CREATE,
        household_post(
            world.pingjianglu, [{"name": "金德明", "ethnicity": "朝鲜族", "id_number": number}]
        ),
    )
    assert response.status_code == 302
    assert Person.objects.get(name="金德明").id_number == number
    assert any(m.level == WARNING for m in get_messages(response.wsgi_request))


def test_duplicate_id_number_is_refused_with_a_link_to_the_existing_record(world, register, login):
    client = login(world.pingjiang_staff)
    number = register.ma_xiaodong.id_number
    response = client.post(
        CREATE,
        household_post(
            world.ganjiang, [{"name": "马晓东", "ethnicity": "回", "id_number": number.lower()}]
        ),
    )
    assert response.status_code == 200
    assert detail(register.ma_household) in response.content.decode()
    assert Person.objects.filter(id_number=number).count() == 1
    assert Household.objects.count() == 3


def test_duplicate_by_name_and_birth_date_is_refused(world, register, login):
    client = login(world.pingjianglu_staff)
    response = client.post(
        CREATE,
        household_post(
            world.pingjianglu,
            [{"name": "马晓东", "ethnicity": "回", "sex": "M", "birth_date": "1984-07-14"}],
        ),
    )
    assert response.status_code == 200
    assert "name" in response.context["formset"].forms[0].errors
    assert Person.objects.filter(name="马晓东").count() == 1


def test_duplicate_elsewhere_in_the_district_is_refused_without_details(world, register, login):
    client = login(world.canglang_staff)
    response = client.post(
        CREATE,
        household_post(
            world.daoqian,
            [{"name": "马晓东", "ethnicity": "回", "id_number": register.ma_xiaodong.id_number}],
        ),
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "id_number" in response.context["formset"].forms[0].errors
    assert register.ma_household.address not in text
    assert detail(register.ma_household) not in text
    assert Person.objects.filter(name="马晓东").count() == 1


def test_two_members_with_the_same_id_number_are_refused(world, register, login):
    number = valid_id_number(birth="19800101", sequence="555")
    response = login(world.pingjianglu_staff).post(
        CREATE,
        household_post(
            world.pingjianglu,
            [
                {"name": "穆志强", "ethnicity": "回", "id_number": number},
                {"name": "穆志刚", "ethnicity": "回", "id_number": number},
            ],
        ),
    )
    assert response.status_code == 200
    assert not Person.objects.filter(id_number=number).exists()


def test_community_choices_are_limited_to_communities_the_user_manages(world, register, login):
    client = login(world.pingjianglu_staff)
    form = client.get(CREATE).context["form"]
    assert list(form.fields["community"].queryset) == [world.pingjianglu]
    response = client.post(
        CREATE, household_post(world.ganjiang, [{"name": "沙玉兰", "ethnicity": "回", "sex": "F"}])
    )
    assert response.status_code == 200
    assert "community" in response.context["form"].errors
    assert not Person.objects.filter(name="沙玉兰").exists()


def test_liaison_cannot_create_or_edit_households(world, register, login):
    client = login(world.pingjianglu_liaison)
    assert client.get(CREATE).status_code == 403
    assert client.post(CREATE, household_post(world.pingjianglu, [])).status_code == 403
    update = reverse("residents:household-update", args=[register.ma_household.pk])
    assert client.get(update).status_code == 403
    assert client.post(update, {}).status_code == 403


def test_staff_cannot_edit_households_outside_their_area(world, register, login):
    update = reverse("residents:household-update", args=[register.ma_household.pk])
    assert login(world.canglang_staff).get(update).status_code == 404
    update = reverse("residents:household-update", args=[register.bai_household.pk])
    assert login(world.pingjianglu_staff).get(update).status_code == 404


# ---------------------------------------------------------------- editing a household


def edit_post(household, members, **changes):
    data = {
        "household-ledger_number": household.ledger_number,
        "household-address": household.address,
        "household-registration_kind": household.registration_kind,
        "household-residence_kind": household.residence_kind,
        "household-status": household.status,
        "household-version": str(household.version),  # the version the page was loaded with
        "members-TOTAL_FORMS": str(len(members)),
        "members-INITIAL_FORMS": str(sum(1 for m in members if "id" in m)),
        "members-MIN_NUM_FORMS": "0",
        "members-MAX_NUM_FORMS": "1000",
    }
    if household.is_dibao:
        data["household-is_dibao"] = "on"
    data.update({f"household-{k}": v for k, v in changes.items()})
    for i, member in enumerate(members):
        for key, value in member.items():
            data[f"members-{i}-{key}"] = value
    return data


def existing(person, id_shown):
    return {
        "id": person.pk,
        "household": person.household_id,
        "name": person.name,
        "relation": person.relation,
        "sex": person.sex,
        "ethnicity": person.ethnicity.name,
        "id_number": id_shown,
        "birth_date": str(person.birth_date),
        "status": person.status,
        "education": "",
        "version": str(person.version),
    }


def test_community_staff_edit_without_ever_seeing_full_id_numbers(world, register, login):
    client = login(world.pingjianglu_staff)
    household = register.ma_household
    update = reverse("residents:household-update", args=[household.pk])
    page = client.get(update).content.decode()
    ma, wife = register.ma_xiaodong, register.ma_wife
    assert ma.id_number not in page and ma.masked_id_number in page
    data = edit_post(
        household,
        [existing(ma, ma.masked_id_number), existing(wife, wife.masked_id_number)],
        address="平江路112号3幢301室",
    )
    data["members-1-mobile"] = "13912345678"
    response = client.post(update, data)
    assert response.status_code == 302, response.context and response.context["formset"].errors
    household.refresh_from_db()
    wife.refresh_from_db()
    assert household.address == "平江路112号3幢301室"
    assert wife.mobile == "13912345678"
    assert wife.id_number == register.ma_wife.id_number  # kept, not replaced by the mask
    entry = household.history.first()
    assert entry.history_user == world.pingjianglu_staff


def test_edit_adds_a_member_and_refuses_a_taken_id_number(world, register, login):
    client = login(world.pingjiang_staff)
    household = register.ma_household
    update = reverse("residents:household-update", args=[household.pk])
    ma, wife = register.ma_xiaodong, register.ma_wife
    members = [existing(ma, ma.id_number), existing(wife, wife.id_number)]
    taken = members + [
        {
            "name": "马小宝",
            "relation": "child",
            "ethnicity": "回",
            "status": "active",
            "id_number": register.bai_lan.id_number,
            "education": "",
        }
    ]
    assert client.post(update, edit_post(household, taken)).status_code == 200
    assert not Person.objects.filter(name="马小宝").exists()
    fresh = members + [
        {
            "name": "马小宝",
            "relation": "child",
            "ethnicity": "回",
            "status": "active",
            "sex": "M",
            "birth_date": "2018-06-01",
            "education": "",
        }
    ]
    assert client.post(update, edit_post(household, fresh)).status_code == 302
    assert household.members.filter(name="马小宝").exists()


# ---------------------------------------------------------------- moving, archiving, restoring


def test_staff_move_a_household_and_its_members_follow(world, register, login):
    client = login(world.pingjiang_staff)
    household = register.ma_household
    url = reverse("residents:household-move", args=[household.pk])
    assert client.get(url).status_code == 405
    response = client.post(url, {"community": world.ganjiang.pk})
    assert response.status_code == 302
    household.refresh_from_db()
    assert household.community == world.ganjiang
    assert set(household.members.values_list("community", flat=True)) == {world.ganjiang.pk}
    assert household.history.first().history_change_reason.startswith("moved from")
    assert household.history.count() == 2


def test_move_outside_the_users_communities_is_refused(world, register, login):
    household = register.ma_household
    url = reverse("residents:household-move", args=[household.pk])
    login(world.pingjianglu_staff).post(url, {"community": world.ganjiang.pk})
    login(world.pingjiang_staff).post(url, {"community": world.daoqian.pk})
    login(world.pingjiang_staff).post(url, {"community": "abc"})
    household.refresh_from_db()
    assert household.community == world.pingjianglu
    assert (
        login(world.pingjianglu_liaison).post(url, {"community": world.pingjianglu.pk}).status_code
        == 403
    )


def test_archive_and_restore_a_household_keep_everything(world, register, login):
    client = login(world.pingjianglu_staff)
    household = register.ma_household
    archive = reverse("residents:household-archive", args=[household.pk])
    restore = reverse("residents:household-restore", args=[household.pk])
    assert client.get(archive).status_code == 405
    assert client.post(archive).status_code == 302
    household.refresh_from_db()
    assert household.is_archived
    assert household.members.filter(archived_at__isnull=True).count() == 0
    assert Person.objects.filter(household=household).count() == 2
    list_names = [r.name for r in client.get(reverse("residents:person-list")).context["rows"]]
    assert "马晓东" not in list_names
    assert client.post(restore).status_code == 302
    household.refresh_from_db()
    assert not household.is_archived
    assert household.members.filter(archived_at__isnull=True).count() == 2
    reasons = list(household.history.values_list("history_change_reason", flat=True))
    assert reasons[:2] == ["restored", "archived"]


def test_liaisons_and_other_sub_districts_cannot_archive(world, register, login):
    archive = reverse("residents:household-archive", args=[register.ma_household.pk])
    assert login(world.pingjianglu_liaison).post(archive).status_code == 403
    assert login(world.canglang_staff).post(archive).status_code == 404
    register.ma_household.refresh_from_db()
    assert not register.ma_household.is_archived


@pytest.mark.parametrize(
    "name",
    [
        "household-archive",
        "household-restore",
        "household-move",
        "person-archive",
        "person-restore",
    ],
)
def test_every_change_is_refused_to_liaisons_and_to_other_sub_districts(
    world, register, login, name
):
    target = register.ma_wife if name.startswith("person") else register.ma_household
    url = reverse(f"residents:{name}", args=[target.pk])
    before = list(Person.history.values_list("history_id", flat=True))
    assert (
        login(world.pingjianglu_liaison).post(url, {"community": world.pingjianglu.pk}).status_code
        == 403
    )
    assert login(world.canglang_staff).post(url, {"community": world.daoqian.pk}).status_code == 404
    assert (
        login(world.pingjianglu_staff).post(reverse(f"residents:{name}", args=[987654])).status_code
        == 404
    )
    assert list(Person.history.values_list("history_id", flat=True)) == before


def test_archive_and_restore_one_member(world, register, login):
    client = login(world.pingjianglu_staff)
    wife = register.ma_wife
    assert client.post(reverse("residents:person-archive", args=[wife.pk])).status_code == 302
    wife.refresh_from_db()
    assert wife.is_archived
    assert client.post(reverse("residents:person-restore", args=[wife.pk])).status_code == 302
    wife.refresh_from_db()
    assert not wife.is_archived
    assert wife.history.count() == 3
    assert (
        login(world.pingjianglu_liaison)
        .post(reverse("residents:person-archive", args=[wife.pk]))
        .status_code
        == 403
    )


def test_restoring_a_member_whose_id_number_was_reused_is_refused(world, register, login):
    client = login(world.pingjiang_staff)
    wife = register.ma_wife
    client.post(reverse("residents:person-archive", args=[wife.pk]))
    PersonFactory(household=register.bai_household, name="哈丽娜", id_number=wife.id_number)
    assert client.post(reverse("residents:person-restore", args=[wife.pk])).status_code == 302
    wife.refresh_from_db()
    assert wife.is_archived


# ---------------------------------------------------------------- revealing a full ID number


def reveal(person):
    return reverse("residents:person-reveal-id", args=[person.pk])


def test_reveal_shows_the_full_number_to_htmx_and_logs_it(world, register, login):
    client = login(world.pingjiang_staff)
    ma = register.ma_xiaodong
    response = client.post(reveal(ma), HTTP_HX_REQUEST="true", REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 200
    assert ma.id_number in response.content.decode()
    log = IdNumberReveal.objects.get()
    assert (log.person, log.user, log.ip_address) == (ma, world.pingjiang_staff, "10.1.2.3")


def test_reveal_without_htmx_goes_back_with_the_number(world, register, login):
    client = login(world.pingjiang_staff)
    ma = register.ma_xiaodong
    response = client.post(reveal(ma), {"next": "https://evil.example/"}, follow=True)
    assert response.redirect_chain[-1][0] == detail(register.ma_household)
    assert ma.id_number in response.content.decode()
    assert IdNumberReveal.objects.count() == 1


def test_reveal_needs_the_permission_and_the_scope(world, register, login):
    ma = register.ma_xiaodong
    assert login(world.pingjianglu_staff).post(reveal(ma)).status_code == 403
    assert login(world.pingjianglu_liaison).post(reveal(ma)).status_code == 403
    assert login(world.canglang_staff).post(reveal(ma)).status_code == 404
    assert login(world.pingjiang_staff).get(reveal(ma)).status_code == 405
    assert IdNumberReveal.objects.count() == 0


def test_reveal_survives_a_forged_forwarded_for_header(world, register, login):
    response = login(world.pingjiang_staff).post(
        reveal(register.ma_xiaodong), HTTP_HX_REQUEST="true", HTTP_X_FORWARDED_FOR="not-an-ip"
    )
    assert response.status_code == 200
    assert IdNumberReveal.objects.get().ip_address == "127.0.0.1"  # no trusted proxy: REMOTE_ADDR


# ---------------------------------------------------------------- the printed register

PRINT = reverse("residents:register-print")


def test_print_one_community_on_a4_landscape(world, register, login):
    HouseholdFactory(community=world.pingjianglu, address="平江路9号")  # no members: left out
    response = login(world.pingjianglu_staff).get(PRINT, {"community": world.pingjianglu.pk})
    text = response.content.decode()
    assert response.status_code == 200
    from django.contrib.staticfiles.finders import find  # its print stylesheet (no inline CSS)

    assert "css/tongxin-register-print.css" in text
    with open(find("css/tongxin-register-print.css"), encoding="utf-8") as css:
        assert "size: A4 landscape" in css.read()
    assert "平江街道" in text and "平江路社区" in text
    assert timezone.localdate().isoformat() in text
    assert "马晓东" in text and "哈丽娜" in text and "白兰" not in text
    assert register.ma_xiaodong.masked_id_number in text
    assert register.ma_xiaodong.id_number not in text
    assert [len(rows) for _h, rows in response.context["groups"]] == [2]


def test_printed_register_is_masked_for_liaisons(world, register, login):
    response = login(world.pingjianglu_liaison).get(PRINT, {"community": world.pingjianglu.pk})
    text = response.content.decode()
    assert "马晓东" in text
    assert "回族" not in text and register.ma_xiaodong.id_number[-4:] not in text


@pytest.mark.parametrize("community", ["daoqian", "canglang", None])
def test_print_outside_scope_or_without_a_community_offers_a_choice(
    world, register, login, community
):
    params = {"community": getattr(world, community).pk} if community else {}
    response = login(world.pingjiang_staff).get(PRINT, params)
    assert response.status_code == 200
    assert "阿依吐尔逊" not in response.content.decode()
    assert set(response.context["communities"]) == {world.pingjianglu, world.ganjiang}
