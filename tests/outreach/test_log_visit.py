"""The phone-first visit log: a liaison records a visit in a few taps, with their group, as
a visitor, with one follow-up and one assistance; what may not be recorded is refused and
nothing is saved; a second tap records nothing twice."""

import datetime
import uuid
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from outreach.models import (
    Assistance,
    Festival,
    FollowUp,
    Pairing,
    PairingKind,
    Visit,
    VisitKind,
)
from outreach.selectors_log import nearest_festival
from tests.factories import HouseholdFactory, PersonFactory

URL = reverse("outreach:log-visit")
SEARCH = reverse("outreach:log-households")


def today():
    return timezone.localdate()


def visit_data(chosen, **overrides):
    data = {
        "household": chosen.pk,
        "visited_on": today().isoformat(),
        "kind": VisitKind.CARE,
        "learned": "马师傅腿脚不便，女儿在外地读书。",
        "needs": "希望帮助申请少数民族低保补差。",
        "submission_key": str(uuid.uuid4()),
    }
    data.update(overrides)
    return data


@pytest.fixture
def daoqian_namesake(world):
    """A 道前社区 household whose member's initials are also "mxd" (马晓冬)."""
    household = HouseholdFactory(community=world.daoqian, address="道前街9号")
    PersonFactory(household=household, name="马晓冬")
    return household


def test_liaison_logs_a_visit_with_group_visitor_follow_up_and_assistance(
    world, register, liaisons, login
):
    client = login(world.pingjianglu_liaison)
    due = today() + datetime.timedelta(days=7)
    response = client.post(
        URL,
        visit_data(
            register.ma_household,
            follow_up_action="协助办理低保补差申请",
            follow_up_due_on=due.isoformat(),
            assistance_kind="cash",
            assistance_value="２００",  # full-width digits, as a Chinese keyboard types them
            assistance_description="慰问金",
        ),
    )
    visit = Visit.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("outreach:log-done", args=["visit", visit.pk])
    assert visit.household == register.ma_household
    assert visit.community == world.pingjianglu
    assert visit.liaison_group == world.pingjianglu_group
    assert list(visit.visitors.all()) == [world.pingjianglu_liaison]
    assert visit.created_by == world.pingjianglu_liaison
    assert visit.kind == VisitKind.CARE
    follow_up = FollowUp.objects.get()
    assert follow_up.visit == visit
    assert (follow_up.action, follow_up.due_on) == ("协助办理低保补差申请", due)
    assistance = Assistance.objects.get()
    assert (assistance.visit, assistance.kind, assistance.value) == (visit, "cash", Decimal("200"))


def test_a_visit_without_follow_up_or_assistance_records_neither(world, register, liaisons, login):
    client = login(world.pingjianglu_liaison)
    assert client.post(URL, visit_data(register.ma_household)).status_code == 302
    assert Visit.objects.count() == 1
    assert FollowUp.objects.count() == 0
    assert Assistance.objects.count() == 0


def test_visit_dated_in_the_future_is_refused_and_nothing_saved(world, register, liaisons, login):
    client = login(world.pingjianglu_liaison)
    tomorrow = today() + datetime.timedelta(days=1)
    response = client.post(
        URL,
        visit_data(
            register.ma_household,
            visited_on=tomorrow.isoformat(),
            follow_up_action="回访",
            follow_up_due_on=(tomorrow + datetime.timedelta(days=3)).isoformat(),
        ),
    )
    assert response.status_code == 200
    assert "visited_on" in response.context["form"].errors
    assert Visit.objects.count() == FollowUp.objects.count() == 0


def test_follow_up_due_before_the_visit_is_refused(world, register, liaisons, login):
    client = login(world.pingjianglu_liaison)
    visited = today() - datetime.timedelta(days=3)
    response = client.post(
        URL,
        visit_data(
            register.ma_household,
            visited_on=visited.isoformat(),
            follow_up_action="送米面油",
            follow_up_due_on=(visited - datetime.timedelta(days=1)).isoformat(),
        ),
    )
    assert response.status_code == 200
    assert "follow_up_due_on" in response.context["form"].errors
    assert Visit.objects.count() == FollowUp.objects.count() == 0


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"follow_up_action": "回访"}, "follow_up_due_on"),
        ({"follow_up_due_on": "2099-01-01"}, "follow_up_action"),
        ({"assistance_value": "100"}, "assistance_kind"),
        ({"assistance_kind": "goods"}, "assistance_value"),
        ({"assistance_kind": "cash", "assistance_value": "-5"}, "assistance_value"),
        ({"assistance_kind": "cash", "assistance_value": "两百"}, "assistance_value"),
        ({"kind": VisitKind.FESTIVAL, "festival": ""}, "festival"),
        ({"visited_on": "2025-02-30"}, "visited_on"),
        ({"kind": "party"}, "kind"),
        ({"household": ""}, "household"),
        ({"household": "987654"}, "household"),
        ({"household": "abc"}, "household"),
    ],
)
def test_half_filled_or_bad_parts_are_refused(world, register, liaisons, login, overrides, field):
    client = login(world.pingjianglu_liaison)
    response = client.post(URL, visit_data(register.ma_household, **overrides))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert Visit.objects.count() == 0


def test_festival_visit_names_its_festival(world, register, liaisons, login):
    client = login(world.pingjianglu_liaison)
    mid_autumn = Festival.objects.get(name="中秋节")
    data = visit_data(register.ma_household, kind=VisitKind.FESTIVAL, festival=mid_autumn.pk)
    assert client.post(URL, data).status_code == 302
    assert Visit.objects.get().festival == mid_autumn


def test_festival_left_from_the_default_is_dropped_on_a_care_visit(
    world, register, liaisons, login
):
    client = login(world.pingjianglu_liaison)
    data = visit_data(register.ma_household, festival=Festival.objects.get(name="国庆节").pk)
    assert client.post(URL, data).status_code == 302
    assert Visit.objects.get().festival is None


@pytest.mark.parametrize("household", ["daoqian_household", "bai_household"])
def test_liaison_cannot_log_a_household_of_another_community(
    world, register, liaisons, login, household
):
    client = login(world.pingjianglu_liaison)
    response = client.post(URL, visit_data(getattr(register, household)))
    assert response.status_code == 200
    assert "household" in response.context["form"].errors
    assert Visit.objects.count() == 0


def test_other_communitys_household_cannot_be_preselected(world, register, liaisons, login):
    client = login(world.daoqian_liaison)
    assert client.get(URL, {"household": register.ma_household.pk}).status_code == 404
    assert client.get(URL, {"household": "abc"}).status_code == 404
    mine = client.get(URL, {"household": register.daoqian_household.pk})
    assert mine.status_code == 200
    assert [r["household"] for r in mine.context["own"] if r["checked"]] == [
        register.daoqian_household
    ]


def test_pinyin_initials_find_the_household_of_ma_xiaodong(
    world, register, liaisons, login, daoqian_namesake
):
    client = login(world.pingjianglu_liaison)
    for typed in ["mxd", "MXD", "maxiao", "ma xiao", "马晓", "112号"]:
        response = client.get(SEARCH, {"q": typed})
        found = [row["household"] for row in response.context["found"]]
        assert found == [register.ma_household], typed
        assert "平江路112号3幢201室" in response.content.decode()
        assert "道前街" not in response.content.decode()


def test_pinyin_search_never_offers_another_communitys_household(
    world, register, liaisons, login, daoqian_namesake
):
    pingjianglu = login(world.pingjianglu_liaison)
    found = pingjianglu.get(SEARCH, {"q": "mxd"}).context["found"]
    assert daoqian_namesake not in [row["household"] for row in found]
    for typed in ["ayt", "ayituerxun", "道前"]:
        assert pingjianglu.get(SEARCH, {"q": typed}).context["found"] == []
    daoqian = login(world.daoqian_liaison)
    found = daoqian.get(SEARCH, {"q": "mxd"}).context["found"]
    assert [row["household"] for row in found] == [daoqian_namesake]
    found = daoqian.get(SEARCH, {"q": "ayt"}).context["found"]
    assert [row["household"] for row in found] == [register.daoqian_household]


def test_search_without_javascript_is_a_plain_get_of_the_form(world, register, liaisons, login):
    client = login(world.pingjianglu_liaison)
    response = client.get(URL, {"q": "mxd"})
    assert response.status_code == 200
    assert [row["household"] for row in response.context["found"]] == [register.ma_household]
    page = response.content.decode()
    assert f'name="household" value="{register.ma_household.pk}" form="log-visit-form"' in page
    assert 'hx-get="' + SEARCH + '"' in page


def test_odd_search_text_is_no_error(world, register, liaisons, login):
    client = login(world.pingjianglu_liaison)
    for typed in ["", " ", "\x00", "%", "'; drop table", "ü", "ｍｘｄ", "x" * 500]:
        assert client.get(SEARCH, {"q": typed}).status_code == 200
        assert client.get(URL, {"q": typed}).status_code == 200
    found = client.get(SEARCH, {"q": "ｍｘｄ"}).context["found"]  # full-width letters
    assert [row["household"] for row in found] == [register.ma_household]


def test_households_the_group_visited_come_first(world, register, liaisons, login):
    other = HouseholdFactory(community=world.pingjianglu, address="平江路200号")
    PersonFactory(household=other, name="丁玉兰")
    visit = Visit.objects.create(
        household=register.ma_household,
        liaison_group=world.pingjianglu_group,
        kind=VisitKind.CARE,
        visited_on=today() - datetime.timedelta(days=30),
    )
    Visit.objects.create(  # another group's visit elsewhere does not make it "own"
        household=register.daoqian_household,
        liaison_group=world.daoqian_group,
        kind=VisitKind.CARE,
    )
    client = login(world.pingjianglu_liaison)
    own = client.get(URL).context["own"]
    assert [row["household"] for row in own] == [register.ma_household]
    assert own[0]["names"] == ["马晓东", "哈丽娜"]
    visit.archived_at = timezone.now()
    visit.save()
    assert client.get(URL).context["own"] == []


def test_paired_household_is_own_and_the_visit_counts_under_the_pairing(
    world, register, liaisons, login
):
    pairing = Pairing.objects.create(
        household=register.ma_household,
        kind=PairingKind.LIAISON_RESIDENT,
        partner_liaison=liaisons.bai_mei,
        start_date=today() - datetime.timedelta(days=100),
    )
    client = login(world.pingjianglu_liaison)
    own = client.get(URL).context["own"]
    assert [row["household"] for row in own] == [register.ma_household]
    assert client.post(URL, visit_data(register.ma_household)).status_code == 302
    assert Visit.objects.get().pairing == pairing


def test_kind_defaults_to_the_users_last_visit_kind(world, register, liaisons, login):
    client = login(world.pingjianglu_liaison)
    assert client.get(URL).context["form"].initial["kind"] == VisitKind.CARE
    client.post(URL, visit_data(register.ma_household, kind=VisitKind.HARDSHIP))
    initial = client.get(URL).context["form"].initial
    assert initial["kind"] == VisitKind.HARDSHIP
    assert initial["visited_on"] == today()


@pytest.mark.django_db
def test_nearest_festival_is_the_default():
    national_day = datetime.date(2025, 10, 1)  # 中秋节 fell on 6 October that year
    assert nearest_festival(national_day).name == "国庆节"
    assert nearest_festival(datetime.date(2025, 10, 5)).name == "中秋节"
    assert nearest_festival(datetime.date(2025, 1, 27)).name == "除夕"  # 28 January 2025


@pytest.mark.django_db
def test_no_festival_on_record_gives_no_default():
    Festival.objects.update(is_active=False)
    assert nearest_festival(datetime.date(2025, 10, 1)) is None


def test_double_tap_records_one_visit(world, register, liaisons, login):
    client = login(world.pingjianglu_liaison)
    data = visit_data(
        register.ma_household,
        follow_up_action="回访",
        follow_up_due_on=(today() + datetime.timedelta(days=5)).isoformat(),
        assistance_kind="goods",
        assistance_value="150",
    )
    first = client.post(URL, data)
    second = client.post(URL, data)  # the same form, sent again after a dropped answer
    visit = Visit.objects.get()
    assert first["Location"] == second["Location"]
    assert second["Location"] == reverse("outreach:log-done", args=["visit", visit.pk])
    assert str(visit.submission_key) == data["submission_key"]
    assert FollowUp.objects.count() == Assistance.objects.count() == 1


def test_new_key_is_a_new_visit_and_a_missing_key_still_records(world, register, liaisons, login):
    client = login(world.pingjianglu_liaison)
    client.post(URL, visit_data(register.ma_household))
    client.post(URL, visit_data(register.ma_household))
    client.post(URL, visit_data(register.ma_household, submission_key="not-a-uuid"))
    assert Visit.objects.count() == 3


def test_someone_elses_key_is_not_a_way_to_reach_their_visit(world, register, liaisons, login):
    theirs = Visit.objects.create(
        household=register.daoqian_household, kind=VisitKind.CARE, liaison_group=world.daoqian_group
    )
    client = login(world.pingjianglu_liaison)
    data = visit_data(register.ma_household, submission_key=str(theirs.submission_key))
    response = client.post(URL, data)
    mine = Visit.objects.exclude(pk=theirs.pk).get()
    assert response["Location"] == reverse("outreach:log-done", args=["visit", mine.pk])
    assert mine.submission_key != theirs.submission_key


def test_staff_log_without_a_group_and_only_where_they_manage(world, register, liaisons, login):
    client = login(world.pingjianglu_staff)
    page = client.get(URL)
    assert "liaison_group" in page.context["form"].fields
    assert client.post(URL, visit_data(register.ma_household)).status_code == 302
    visit = Visit.objects.get()
    assert visit.liaison_group is None
    assert list(visit.visitors.all()) == [world.pingjianglu_staff]
    response = client.post(URL, visit_data(register.bai_household))  # 干将社区: not theirs
    assert "household" in response.context["form"].errors
    response = client.post(
        URL, visit_data(register.ma_household, liaison_group=world.daoqian_group.pk)
    )
    assert "liaison_group" in response.context["form"].errors
    assert Visit.objects.count() == 1


def test_liaison_cannot_name_another_group(world, register, liaisons, login):
    client = login(world.pingjianglu_liaison)
    data = visit_data(register.ma_household, liaison_group=world.daoqian_group.pk)
    assert client.post(URL, data).status_code == 302
    assert Visit.objects.get().liaison_group == world.pingjianglu_group


def test_the_page_keeps_a_draft_and_loads_its_scripts_deferred(world, register, liaisons, login):
    client = login(world.pingjianglu_liaison)
    page = client.get(URL).content.decode()
    assert 'data-draft="log-visit"' in page
    assert f'data-draft-user="{world.pingjianglu_liaison.pk}"' in page
    assert 'src="/static/js/tongxin-draft.js" defer' in page
    assert 'src="/static/vendor/htmx/htmx.min.js" defer' in page
    assert 'name="submission_key"' in page
    assert "data-draft-restore=" not in page  # a fresh page restores a kept draft
    refused = client.post(URL, visit_data(register.ma_household, kind="")).content.decode()
    assert 'data-draft-restore="off"' in refused  # the server's answer wins


@pytest.mark.parametrize("who", ["no_post", "ended_post"])
def test_users_without_a_post_are_refused(world, register, login, who):
    client = login(getattr(world, who))
    assert client.get(URL).status_code == 403
    assert client.post(URL, visit_data(register.ma_household)).status_code == 403
    assert client.get(SEARCH, {"q": "mxd"}).status_code == 403
    assert Visit.objects.count() == 0
