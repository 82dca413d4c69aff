"""Who may open, edit, archive and restore which visit: 404 outside scope, 403 inside scope
without the right, and archived visits kept with their history."""

import pytest
from django.utils import timezone

from outreach.models import FollowUp, FollowUpStatus, Visit
from tests.outreach.test_visits_support import (
    add_assistance,
    add_follow_up,
    make_visit,
    url,
)


@pytest.fixture
def visits(world, register):
    """A visit of the pingjianglu group, a staff visit without group in pingjianglu, one of
    the ganjiang group, and one of the daoqian group."""
    return {
        "pingjianglu": make_visit(
            register.ma_household, group=world.pingjianglu_group, by=world.pingjianglu_liaison
        ),
        "staff": make_visit(register.ma_household, by=world.pingjianglu_staff, days_ago=5),
        "ganjiang": make_visit(register.bai_household, group=world.ganjiang_group),
        "daoqian": make_visit(
            register.daoqian_household, group=world.daoqian_group, by=world.daoqian_liaison
        ),
    }


# ---------------------------------------------------------------- seeing


def test_liaison_sees_the_visits_of_their_community(world, visits, login):
    client = login(world.pingjianglu_liaison)
    assert client.get(url("visit-detail", visits["pingjianglu"].pk)).status_code == 200
    assert client.get(url("visit-detail", visits["staff"].pk)).status_code == 200


def test_pingjianglu_liaison_cannot_see_daoqian_visits(world, visits, login):
    client = login(world.pingjianglu_liaison)
    assert client.get(url("visit-detail", visits["daoqian"].pk)).status_code == 404
    assert client.get(url("visit-detail", visits["ganjiang"].pk)).status_code == 404
    listed = [v.pk for v in client.get(url("visit-list")).context["page"]]
    assert sorted(listed) == sorted([visits["pingjianglu"].pk, visits["staff"].pk])


def test_canglang_staff_cannot_see_pingjiang_visits(world, visits, login):
    client = login(world.canglang_staff)
    assert client.get(url("visit-detail", visits["pingjianglu"].pk)).status_code == 404
    assert client.get(url("visit-detail", visits["ganjiang"].pk)).status_code == 404
    assert client.get(url("visit-detail", visits["daoqian"].pk)).status_code == 200
    listed = [v.pk for v in client.get(url("visit-list")).context["page"]]
    assert listed == [visits["daoqian"].pk]


def test_pingjiang_staff_see_their_whole_sub_district(world, visits, login):
    listed = {v.pk for v in login(world.pingjiang_staff).get(url("visit-list")).context["page"]}
    assert listed == {visits["pingjianglu"].pk, visits["staff"].pk, visits["ganjiang"].pk}


@pytest.mark.parametrize("who", ["no_post", "ended_post", "future_post"])
def test_a_user_without_a_post_is_refused(world, visits, login, who):
    client = login(getattr(world, who))
    assert client.get(url("visit-list")).status_code == 403
    assert client.get(url("visit-create")).status_code == 403
    assert client.get(url("visit-detail", visits["pingjianglu"].pk)).status_code == 403
    assert client.get(url("followup-list")).status_code == 403


def test_the_detail_page_shows_the_visit(world, register, visits, login):
    visit = visits["pingjianglu"]
    add_follow_up(visit, action="帮助申请助行器", assignee=world.pingjianglu_liaison)
    add_assistance(visit, "300")
    add_assistance(visit, "88.50", kind="goods", description="大米一袋")
    response = login(world.pingjianglu_staff).get(url("visit-detail", visit.pk))
    page = response.content.decode()
    assert "平江路112号3幢201室" in page
    assert "帮助申请助行器" in page
    assert "大米一袋" in page
    assert "¥388.50" in page
    assert "白梅" in page  # the visitor
    assert register.ma_xiaodong.id_number not in page
    assert response.context["may_change"]
    assert [e.user for e in response.context["history"]][-1] is None  # made in the shell


# ---------------------------------------------------------------- changing


def test_liaison_cannot_edit_a_visit_of_another_group_or_a_staff_visit(world, visits, login):
    client = login(world.pingjianglu_liaison)
    for visit in (visits["staff"], visits["ganjiang"], visits["daoqian"]):
        assert client.get(url("visit-edit", visit.pk)).status_code == 404
        assert client.post(url("visit-archive", visit.pk)).status_code == 404
        assert not Visit.objects.get(pk=visit.pk).is_archived
    # the staff visit is visible to them, but without the buttons
    page = client.get(url("visit-detail", visits["staff"].pk))
    assert not page.context["may_change"]
    assert url("visit-edit", visits["staff"].pk) not in page.content.decode()


def test_liaison_edits_their_groups_visit(world, visits, login):
    response = login(world.pingjianglu_liaison).get(url("visit-edit", visits["pingjianglu"].pk))
    assert response.status_code == 200


def test_staff_without_change_right_is_refused_inside_scope(world, visits, login):
    from django.contrib.auth.models import Group, Permission

    from network.models import ROLE_GROUP_NAMES

    # a community office that may read visits but not record, change or export them
    Group.objects.get(name=ROLE_GROUP_NAMES["community"]).permissions.remove(
        *Permission.objects.filter(
            content_type__app_label="outreach",
            codename__in=["add_visit", "change_visit", "change_followup", "export_outreach"],
        )
    )
    client = login(world.pingjianglu_staff)
    visit = visits["staff"]
    follow_up = add_follow_up(visit)
    assert client.get(url("visit-detail", visit.pk)).status_code == 200
    assert client.get(url("visit-edit", visit.pk)).status_code == 403
    assert client.post(url("visit-archive", visit.pk)).status_code == 403
    assert client.get(url("visit-create")).status_code == 403
    assert client.get(url("visit-export")).status_code == 403
    assert client.post(url("followup-update", follow_up.pk), {"action": "done"}).status_code == 403
    assert not Visit.objects.get(pk=visit.pk).is_archived


def test_archive_and_restore_keep_the_visit_and_its_history(world, visits, login):
    visit = visits["pingjianglu"]
    recorded_before = visit.history.count()
    client = login(world.pingjianglu_liaison)
    assert client.get(url("visit-archive", visit.pk)).status_code == 405  # POST only
    response = client.post(url("visit-archive", visit.pk))
    assert response["Location"] == url("visit-detail", visit.pk)
    visit.refresh_from_db()
    assert visit.is_archived
    assert visit.history.first().history_change_reason == "archived"
    assert visit.history.first().history_user == world.pingjianglu_liaison
    # out of the list, in the archived list, still readable
    listed = [v.pk for v in client.get(url("visit-list")).context["page"]]
    assert visit.pk not in listed
    archived = [v.pk for v in client.get(url("visit-list") + "?archived=on").context["page"]]
    assert archived == [visit.pk]
    assert client.get(url("visit-detail", visit.pk)).status_code == 200

    client.post(url("visit-restore", visit.pk))
    visit.refresh_from_db()
    assert not visit.is_archived
    reasons = list(visit.history.values_list("history_change_reason", flat=True))
    assert reasons[:2] == ["restored", "archived"]
    assert len(reasons) == recorded_before + 2
    page = client.get(url("visit-detail", visit.pk))
    first, second = page.context["history"][:2]  # newest first, reasons shown
    assert first.reason and second.reason and first.reason != second.reason
    assert first.user == second.user == world.pingjianglu_liaison


def test_follow_ups_of_an_archived_visit_cannot_be_changed(world, visits, login):
    visit = visits["pingjianglu"]
    follow_up = add_follow_up(visit)
    visit.archived_at = timezone.now()
    visit.save()
    client = login(world.pingjianglu_liaison)
    response = client.post(url("followup-update", follow_up.pk), {"action": "done"})
    assert response.status_code == 404
    assert FollowUp.objects.get().status == FollowUpStatus.OPEN


def test_follow_ups_of_other_groups_cannot_be_changed(world, visits, login):
    staff_follow_up = add_follow_up(visits["staff"])
    daoqian_follow_up = add_follow_up(visits["daoqian"])
    client = login(world.pingjianglu_liaison)
    for follow_up in (staff_follow_up, daoqian_follow_up):
        response = client.post(url("followup-update", follow_up.pk), {"action": "done"})
        assert response.status_code == 404
    assert set(FollowUp.objects.values_list("status", flat=True)) == {FollowUpStatus.OPEN}
    assert client.get(url("followup-update", staff_follow_up.pk)).status_code == 405


# ---------------------------------------------------------------- open follow-ups


def test_the_follow_up_list_shows_open_follow_ups_in_scope(world, visits, login):
    late = add_follow_up(visits["pingjianglu"], due_in=-2, action="补交低保材料")
    mine = add_follow_up(
        visits["staff"], due_in=5, action="联系街道残联", assignee=world.pingjianglu_liaison
    )
    add_follow_up(visits["staff"], due_in=20, action="已完成的事", status=FollowUpStatus.DONE)
    add_follow_up(visits["daoqian"], due_in=1, action="道前的事")
    client = login(world.pingjianglu_liaison)
    response = client.get(url("followup-list"))
    rows = list(response.context["page"])
    assert rows == [late, mine]
    assert [f.may_change for f in rows] == [True, False]
    assert list(client.get(url("followup-list") + "?overdue=on").context["page"]) == [late]
    assert list(client.get(url("followup-list") + "?mine=on").context["page"]) == [mine]
    before = (timezone.localdate()).isoformat()
    assert list(client.get(url("followup-list") + f"?due_before={before}").context["page"]) == [
        late
    ]
    assert client.get(url("followup-list") + "?due_before=2024-99-99&area=x").status_code == 200


def test_the_follow_up_list_costs_the_same_queries_whatever_its_size(world, visits, login):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = login(world.pingjianglu_liaison)
    counts = []
    for extra in (2, 12):
        for n in range(extra):
            add_follow_up(visits["pingjianglu"], due_in=n - 3, assignee=world.pingjianglu_staff)
            add_follow_up(visits["staff"], due_in=n)
        client.get(url("followup-list"))
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url("followup-list"))
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
