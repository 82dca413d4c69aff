"""Recording and editing a visit on one page: what is refused, what is saved together,
and that a second tap or a resent form records nothing new."""

import datetime
import uuid
from decimal import Decimal

from django.utils import timezone

from outreach.models import Assistance, FollowUp, FollowUpStatus, Visit, VisitKind
from tests.outreach.test_visits_support import (
    add_follow_up,
    entry_data,
    make_visit,
    mid_autumn,
    url,
)

TODAY = timezone.localdate


def days(n):
    return (TODAY() + datetime.timedelta(days=n)).isoformat()


def post(client, household, **kwargs):
    return client.post(url("visit-create"), entry_data(household, **kwargs))


# ---------------------------------------------------------------- a good visit


def test_staff_records_a_visit_with_follow_ups_and_assistance(world, register, login):
    client = login(world.pingjianglu_staff)
    response = post(
        client,
        register.ma_household,
        visitors=[str(world.pingjianglu_staff.pk)],
        follow_ups=[
            {
                "action": "帮助申请大病救助",
                "due_on": days(14),
                "assignee": world.pingjianglu_staff.pk,
            }
        ],
        assistance=[
            {"kind": "cash", "description": "慰问金", "value": "500"},
            {"kind": "goods", "description": "米、油", "value": "120.50"},
        ],
    )
    visit = Visit.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("visit-detail", visit.pk)
    assert visit.household == register.ma_household
    assert visit.community == world.pingjianglu
    assert visit.created_by == world.pingjianglu_staff
    assert list(visit.visitors.all()) == [world.pingjianglu_staff]
    assert visit.follow_ups.get().assignee == world.pingjianglu_staff
    assert sorted(a.value for a in visit.assistance.all()) == [Decimal("120.50"), Decimal("500")]
    assert visit.history.first().history_user == world.pingjianglu_staff


def test_the_create_page_preselects_the_household_and_defaults_to_today(world, register, login):
    client = login(world.pingjianglu_staff)
    response = client.get(url("visit-create") + f"?household={register.ma_household.pk}")
    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["household"] == register.ma_household.pk
    assert form.initial["visited_on"] == TODAY()
    assert form.initial["submission_key"]
    assert "平江路112号3幢201室" in response.content.decode()


def test_the_household_search_offers_the_households_found(world, register, login):
    from tests.factories import HouseholdFactory

    HouseholdFactory(community=world.pingjianglu, address="大儒巷7号")
    client = login(world.pingjiang_staff)
    response = client.get(url("visit-create") + "?q=大儒巷")
    choices = [
        label for value, label in response.context["form"].fields["household"].widget.choices
    ]
    assert any("大儒巷7号" in str(c) for c in choices)
    assert not any("平江路112号" in str(c) for c in choices)
    # a member's name finds the household too
    response = client.get(url("visit-create") + "?q=哈丽娜")
    choices = [
        label for value, label in response.context["form"].fields["household"].widget.choices
    ]
    assert any("平江路112号" in str(c) for c in choices)


def test_full_width_digits_and_a_yuan_sign_are_read_as_an_amount(world, register, login):
    client = login(world.pingjianglu_staff)
    post(
        client,
        register.ma_household,
        assistance=[
            {"kind": "cash", "description": "中秋慰问金", "value": "２００"},
            {"kind": "goods", "description": "月饼", "value": "￥１，５００元"},
        ],
    )
    values = sorted(Assistance.objects.values_list("value", flat=True))
    assert values == [Decimal("200"), Decimal("1500")]


# ---------------------------------------------------------------- what is refused


def test_a_visit_dated_in_the_future_is_refused(world, register, login):
    response = post(login(world.pingjianglu_staff), register.ma_household, visited_on=days(1))
    assert response.status_code == 200
    assert "visited_on" in response.context["form"].errors
    assert len(response.context["form"].errors["visited_on"]) == 1  # said once
    assert not Visit.objects.exists()


def test_a_follow_up_due_before_the_visit_is_refused_and_nothing_is_saved(world, register, login):
    response = post(
        login(world.pingjianglu_staff),
        register.ma_household,
        visited_on=days(-5),
        follow_ups=[
            {"action": "回访", "due_on": days(3)},
            {"action": "送慰问品", "due_on": days(-6)},
        ],
        assistance=[{"kind": "cash", "value": "100"}],
    )
    assert response.status_code == 200
    follow_ups = response.context["entry"].follow_ups
    assert not follow_ups.forms[0].errors
    assert "due_on" in follow_ups.forms[1].errors
    assert not Visit.objects.exists()
    assert not FollowUp.objects.exists()
    assert not Assistance.objects.exists()


def test_a_follow_up_due_on_the_visit_day_is_accepted(world, register, login):
    post(
        login(world.pingjianglu_staff),
        register.ma_household,
        visited_on=days(-2),
        follow_ups=[{"action": "当天电话回访", "due_on": days(-2)}],
    )
    assert FollowUp.objects.get().due_on == TODAY() - datetime.timedelta(days=2)


def test_a_festival_visit_must_say_which_festival(world, register, login):
    festival = mid_autumn()
    client = login(world.pingjianglu_staff)
    response = post(client, register.ma_household, kind=VisitKind.FESTIVAL)
    assert response.status_code == 200
    assert "festival" in response.context["form"].errors
    assert not Visit.objects.exists()
    post(client, register.ma_household, kind=VisitKind.FESTIVAL, festival=str(festival.pk))
    assert Visit.objects.get().festival == festival


def test_a_festival_named_for_another_kind_of_visit_is_dropped(world, register, login):
    festival = mid_autumn()
    post(login(world.pingjianglu_staff), register.ma_household, festival=str(festival.pk))
    assert Visit.objects.get().festival is None


def test_negative_assistance_is_refused(world, register, login):
    response = post(
        login(world.pingjianglu_staff),
        register.ma_household,
        assistance=[{"kind": "cash", "value": "-50"}],
    )
    assert "value" in response.context["entry"].assistance.forms[0].errors
    assert not Visit.objects.exists()


def test_an_amount_that_is_not_a_number_is_refused(world, register, login):
    response = post(
        login(world.pingjianglu_staff),
        register.ma_household,
        assistance=[{"kind": "cash", "value": "二百"}],
    )
    assert response.status_code == 200
    assert "value" in response.context["entry"].assistance.forms[0].errors
    assert not Visit.objects.exists()


def test_a_household_outside_scope_is_never_recorded(world, register, login):
    client = login(world.pingjianglu_staff)
    response = post(client, register.daoqian_household)
    assert response.status_code == 200
    assert "household" in response.context["form"].errors
    assert not Visit.objects.exists()
    # nor can the page be opened for it
    opened = client.get(url("visit-create") + f"?household={register.daoqian_household.pk}")
    assert opened.status_code == 404
    assert client.get(url("visit-create") + "?household=abc").status_code == 404


def test_a_foreign_visitor_or_assignee_is_refused(world, register, login):
    response = post(
        login(world.pingjianglu_liaison),
        register.ma_household,
        visitors=[str(world.canglang_staff.pk)],
        follow_ups=[{"action": "回访", "due_on": days(3), "assignee": world.daoqian_liaison.pk}],
    )
    assert "visitors" in response.context["form"].errors
    assert "assignee" in response.context["entry"].follow_ups.forms[0].errors
    assert not Visit.objects.exists()


def test_a_staff_group_must_work_in_the_households_community(world, register, login):
    response = post(
        login(world.pingjiang_staff),
        register.ma_household,
        liaison_group=str(world.ganjiang_group.pk),
    )
    assert "liaison_group" in response.context["form"].errors
    assert not Visit.objects.exists()


def test_typed_rubbish_gives_form_errors_not_a_server_error(world, register, login):
    data = entry_data(register.ma_household, visited_on="2024-13-45", kind="nonsense")
    data.update({"household": "99999999999999999999", "follow_ups-TOTAL_FORMS": "x"})
    response = login(world.pingjianglu_staff).post(url("visit-create"), data)
    assert response.status_code == 200
    assert not Visit.objects.exists()


# ---------------------------------------------------------------- liaisons


def test_a_liaison_records_for_their_own_group(world, register, login, liaisons):
    client = login(world.pingjianglu_liaison)
    page = client.get(url("visit-create"))
    assert page.context["form"].fields["liaison_group"].disabled
    assert page.context["form"].initial["visiting_liaisons"] == [liaisons.bai_mei.pk]
    # a group posted from elsewhere is ignored: the liaison's own group is forced
    post(client, register.ma_household, liaison_group=str(world.daoqian_group.pk))
    assert Visit.objects.get().liaison_group == world.pingjianglu_group


def test_a_liaison_cannot_record_outside_their_community(world, register, login):
    client = login(world.pingjianglu_liaison)
    post(client, register.bai_household)
    post(client, register.daoqian_household)
    assert not Visit.objects.exists()


# ---------------------------------------------------------------- idempotent submission


def test_a_second_post_of_the_same_form_records_nothing_new(world, register, login):
    client = login(world.pingjianglu_liaison)
    key = uuid.uuid4()
    data = entry_data(
        register.ma_household,
        key=key,
        follow_ups=[{"action": "回访", "due_on": days(3)}],
        assistance=[{"kind": "cash", "value": "300"}],
    )
    first = client.post(url("visit-create"), data)
    second = client.post(url("visit-create"), data)
    visit = Visit.objects.get()
    assert visit.submission_key == key
    assert first["Location"] == second["Location"] == url("visit-detail", visit.pk)
    assert FollowUp.objects.count() == 1
    assert Assistance.objects.count() == 1


def test_a_form_sent_again_after_an_error_records_once(world, register, login):
    client = login(world.pingjianglu_staff)
    key = uuid.uuid4()
    bad = client.post(
        url("visit-create"), entry_data(register.ma_household, key=key, visited_on=days(2))
    )
    assert bad.context["form"]["submission_key"].value() == str(key)  # the same key comes back
    client.post(url("visit-create"), entry_data(register.ma_household, key=key))
    client.post(url("visit-create"), entry_data(register.ma_household, key=key))
    assert Visit.objects.get().submission_key == key


def test_a_key_of_a_visit_outside_scope_reveals_nothing(world, register, login):
    other = make_visit(register.daoqian_household, group=world.daoqian_group)
    data = entry_data(register.ma_household, key=other.submission_key)
    response = login(world.pingjianglu_staff).post(url("visit-create"), data)
    assert response.status_code == 404
    assert Visit.objects.count() == 1


# ---------------------------------------------------------------- editing


def edit_data(visit, **fields):
    follow_ups = list(visit.follow_ups.all())
    data = entry_data(visit.household, key=None, visited_on=visit.visited_on.isoformat(), **fields)
    data.pop("submission_key")
    data["version"] = str(visit.version)  # the version the page was loaded with
    data.update(
        {
            "follow_ups-TOTAL_FORMS": str(len(follow_ups)),
            "follow_ups-INITIAL_FORMS": str(len(follow_ups)),
        }
    )
    for i, f in enumerate(follow_ups):
        data.update(
            {
                f"follow_ups-{i}-id": str(f.pk),
                f"follow_ups-{i}-visit": str(visit.pk),
                f"follow_ups-{i}-action": f.action,
                f"follow_ups-{i}-due_on": f.due_on.isoformat(),
                f"follow_ups-{i}-assignee": "",
            }
        )
    return data


def test_editing_a_visit_keeps_its_follow_ups_and_records_history(world, register, login):
    visit = make_visit(register.ma_household, group=world.pingjianglu_group)
    follow_up = add_follow_up(visit)
    client = login(world.pingjianglu_liaison)
    assert client.get(url("visit-edit", visit.pk)).status_code == 200
    response = client.post(url("visit-edit", visit.pk), edit_data(visit, needs="需要申请廉租房"))
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.needs == "需要申请廉租房"
    assert visit.liaison_group == world.pingjianglu_group
    assert list(visit.follow_ups.all()) == [follow_up]
    assert visit.history.first().history_user == world.pingjianglu_liaison


def test_moving_the_visit_date_after_a_follow_up_due_date_is_refused(world, register, login):
    visit = make_visit(register.ma_household, days_ago=10)
    add_follow_up(visit, due_in=-8)
    data = edit_data(visit)
    data["visited_on"] = days(-1)
    response = login(world.pingjianglu_staff).post(url("visit-edit", visit.pk), data)
    assert response.status_code == 200
    assert "due_on" in response.context["entry"].follow_ups.forms[0].errors
    visit.refresh_from_db()
    assert visit.visited_on == TODAY() - datetime.timedelta(days=10)


def test_an_archived_visit_is_restored_before_editing(world, register, login):
    visit = make_visit(register.ma_household, archived_at=timezone.now())
    response = login(world.pingjianglu_staff).get(url("visit-edit", visit.pk))
    assert response.status_code == 302
    assert response["Location"] == url("visit-detail", visit.pk)


def test_follow_up_status_changes_done_dropped_reopened(world, register, login):
    visit = make_visit(register.ma_household, group=world.pingjianglu_group)
    follow_up = add_follow_up(visit)
    client = login(world.pingjianglu_liaison)
    target = url("followup-update", follow_up.pk)
    client.post(target, {"action": "done", "note": "已送到助行器"})
    follow_up.refresh_from_db()
    assert (follow_up.status, follow_up.done_on, follow_up.note) == (
        FollowUpStatus.DONE,
        TODAY(),
        "已送到助行器",
    )
    client.post(target, {"action": "reopen"})
    follow_up.refresh_from_db()
    assert (follow_up.status, follow_up.done_on) == (FollowUpStatus.OPEN, None)
    response = client.post(target, {"action": "dropped", "next": "https://evil.example/"})
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUpStatus.DROPPED
    assert response["Location"] == url("visit-detail", visit.pk)  # no open redirect
    client.post(target, {"action": "explode"})
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUpStatus.DROPPED
    assert follow_up.history.count() == 4


# ---------------------------------------------------------------- under a pairing


def test_the_create_page_opened_from_a_pairing_preselects_it(world, register, login, liaisons):
    from outreach.models import Pairing, PairingKind

    start = TODAY() - datetime.timedelta(days=100)
    pairing = Pairing.objects.create(
        household=register.ma_household,
        kind=PairingKind.LIAISON_RESIDENT,
        partner_liaison=liaisons.bai_mei,
        start_date=start,
    )
    elsewhere = Pairing.objects.create(
        household=register.daoqian_household,
        kind=PairingKind.LIAISON_RESIDENT,
        partner_liaison=liaisons.ma_jianhua,
        start_date=start,
    )
    client = login(world.pingjianglu_liaison)
    response = client.get(url("visit-create") + f"?pairing={pairing.pk}&q=平江路")
    form = response.context["form"]
    assert form.initial["pairing"] == pairing.pk
    assert form.initial["kind"] == VisitKind.PAIRING
    assert form.initial["household"] == register.ma_household.pk
    # the household search keeps the pairing the page was opened for
    assert f'name="pairing" value="{pairing.pk}"' in response.content.decode()
    # another community's pairing is not there for this liaison
    assert client.get(url("visit-create") + f"?pairing={elsewhere.pk}").status_code == 404
    # a pairing posted with another household is refused, nothing saved
    staff = login(world.bureau)
    response = post(staff, register.ma_household, kind=VisitKind.PAIRING, pairing=elsewhere.pk)
    assert "pairing" in response.context["form"].errors
    assert not Visit.objects.exists()
    response = post(staff, register.ma_household, kind=VisitKind.PAIRING, pairing=pairing.pk)
    assert response.status_code == 302
    assert Visit.objects.get().pairing == pairing


def test_a_long_history_says_what_each_shown_change_changed(world, register, login):
    from outreach.selectors_visits import visit_history

    visit = make_visit(register.ma_household, group=world.pingjianglu_group)
    for i in range(55):
        visit.learned = f"第{i}次回访：马师傅恢复良好。"
        visit.save()
    history = visit_history(visit, limit=50)
    assert len(history) == 50
    assert all(entry.fields for entry in history)  # none shown as a change of nothing
    page = login(world.pingjianglu_staff).get(url("visit-detail", visit.pk))
    assert len(page.context["history"]) == 50


def test_the_household_search_reads_pinyin_and_current_members_only(world, register, login):
    from residents.models import Person

    client = login(world.pingjiang_staff)

    def offered(text):
        response = client.get(url("visit-create"), {"q": text})
        choices = response.context["form"].fields["household"].widget.choices
        return [str(label) for value, label in choices if value]

    assert any("平江路112号" in label for label in offered("mxd"))  # 马晓东's initials
    assert not any("平江路112号" in label for label in offered("blan"))
    Person.objects.filter(pk=register.ma_wife.pk).update(archived_at=timezone.now())
    assert not any("平江路112号" in label for label in offered("哈丽娜"))  # moved out
