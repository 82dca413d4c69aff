"""A sub-district's leadership group (领导小组) and coordination group (协调小组): members with
positions, units and titles; only staff of that sub-district or the district change them."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from outreach.models import WorkGroup, WorkGroupKind, WorkGroupMember, WorkGroupPosition

LIST = reverse("outreach:workgroup-list")
CREATE = reverse("outreach:workgroup-create")


@pytest.fixture
def leading_group(world):
    return WorkGroup.objects.create(
        subdistrict=world.pingjiang,
        kind=WorkGroupKind.LEADERSHIP,
        name="平江街道民族工作领导小组",
        established_on=datetime.date(2019, 3, 1),
    )


def detail(group):
    return reverse("outreach:workgroup-detail", args=[group.pk])


def add_member(group):
    return reverse("outreach:workgroup-member-add", args=[group.pk])


def end_member(member):
    return reverse("outreach:workgroup-member-end", args=[member.pk])


def test_sub_district_staff_create_a_group(world, login):
    client = login(world.pingjiang_staff)
    assert client.get(CREATE).status_code == 200
    response = client.post(
        CREATE,
        {
            "subdistrict": world.pingjiang.pk,
            "kind": WorkGroupKind.COORDINATION,
            "name": "平江街道民族工作协调小组",
            "established_on": "2020-05-01",
        },
    )
    group = WorkGroup.objects.get()
    assert response.status_code == 302
    assert response["Location"] == detail(group)
    assert group.kind == WorkGroupKind.COORDINATION
    assert group.history.first().history_user == world.pingjiang_staff


def test_create_refuses_other_sub_districts_and_future_dates(world, login):
    client = login(world.pingjiang_staff)
    response = client.post(
        CREATE, {"subdistrict": world.canglang.pk, "kind": "leadership", "name": "沧浪领导小组"}
    )
    assert "subdistrict" in response.context["form"].errors
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = client.post(
        CREATE,
        {
            "subdistrict": world.pingjiang.pk,
            "kind": "leadership",
            "name": "平江领导小组",
            "established_on": tomorrow.isoformat(),
        },
    )
    assert "established_on" in response.context["form"].errors
    assert not WorkGroup.objects.exists()


def test_community_staff_and_liaisons_cannot_create(world, login):
    assert login(world.pingjianglu_staff).get(CREATE).status_code == 403
    response = login(world.pingjianglu_staff).post(
        CREATE, {"subdistrict": world.pingjiang.pk, "kind": "leadership", "name": "领导小组"}
    )
    assert response.status_code == 403
    assert login(world.pingjianglu_liaison).get(CREATE).status_code == 403
    assert login(world.pingjianglu_liaison).get(LIST).status_code == 403
    assert not WorkGroup.objects.exists()


def test_who_sees_which_groups(world, leading_group, login):
    assert [g.name for g in login(world.pingjiang_staff).get(LIST).context["page"]] == [
        "平江街道民族工作领导小组"
    ]
    assert list(login(world.bureau).get(LIST).context["page"]) == [leading_group]
    assert list(login(world.canglang_staff).get(LIST).context["page"]) == []
    assert login(world.canglang_staff).get(detail(leading_group)).status_code == 404
    assert login(world.pingjiang_staff).get(detail(leading_group)).status_code == 200
    assert login(world.no_post).get(LIST).status_code == 403


def test_list_filters(world, leading_group, login):
    WorkGroup.objects.create(
        subdistrict=world.canglang, kind=WorkGroupKind.COORDINATION, name="沧浪街道协调小组"
    )
    client = login(world.bureau)
    kinds = client.get(LIST, {"kind": "coordination"}).context["page"]
    assert [g.name for g in kinds] == ["沧浪街道协调小组"]
    place = client.get(LIST, {"subdistrict": world.pingjiang.pk}).context["page"]
    assert [g.name for g in place] == ["平江街道民族工作领导小组"]
    assert client.get(LIST, {"subdistrict": "x", "kind": "bogus"}).status_code == 200


def test_edit_only_by_staff_of_that_sub_district_or_the_district(world, leading_group, login):
    edit = reverse("outreach:workgroup-edit", args=[leading_group.pk])
    data = {"subdistrict": world.pingjiang.pk, "kind": "leadership", "name": "新名称"}
    assert login(world.canglang_staff).post(edit, data).status_code == 404
    assert login(world.pingjianglu_staff).post(edit, data).status_code == 404
    assert login(world.pingjianglu_liaison).post(edit, data).status_code == 403
    leading_group.refresh_from_db()
    assert leading_group.name == "平江街道民族工作领导小组"
    assert login(world.bureau).post(edit, data).status_code == 302
    leading_group.refresh_from_db()
    assert leading_group.name == "新名称"


def test_members_current_and_past(world, leading_group, login):
    client = login(world.pingjiang_staff)
    assert client.get(add_member(leading_group)).status_code == 200
    response = client.post(
        add_member(leading_group),
        {
            "name": "",
            "user": world.pingjiang_staff.pk,
            "position": WorkGroupPosition.HEAD,
            "unit": "平江街道办事处",
            "title": "副主任",
            "start_date": "2023-01-01",
        },
    )
    assert response.status_code == 302
    head = WorkGroupMember.objects.get(position=WorkGroupPosition.HEAD)
    assert head.name == "李秀英"
    assert head.user == world.pingjiang_staff
    client.post(
        add_member(leading_group),
        {
            "position": WorkGroupPosition.MEMBER_UNIT,
            "unit": "平江派出所",
            "start_date": "2023-01-01",
        },
    )
    unit = WorkGroupMember.objects.get(position=WorkGroupPosition.MEMBER_UNIT)
    assert unit.name == "平江派出所"
    client.post(end_member(unit), {"end_date": "2024-12-31"})
    page = client.get(detail(leading_group))
    assert page.context["current"] == [head]
    assert page.context["past"] == [unit]
    assert "平江派出所" in page.content.decode()
    assert unit.history.first().history_change_reason == "ended"
    assert page.context["history"][0].reason


def test_member_validation(world, leading_group, login):
    client = login(world.pingjiang_staff)
    # a member unit needs its unit
    response = client.post(
        add_member(leading_group),
        {"name": "张海燕", "position": WorkGroupPosition.MEMBER_UNIT, "start_date": "2024-01-01"},
    )
    assert "unit" in response.context["form"].errors
    # a name or an account
    response = client.post(
        add_member(leading_group), {"position": "member", "start_date": "2024-01-01"}
    )
    assert "name" in response.context["form"].errors
    # an account of another sub-district is not offered, even to the bureau
    response = login(world.bureau).post(
        add_member(leading_group),
        {"user": world.canglang_staff.pk, "position": "member", "start_date": "2024-01-01"},
    )
    assert "user" in response.context["form"].errors
    assert not WorkGroupMember.objects.exists()


def test_same_person_not_seated_twice(world, leading_group, login):
    WorkGroupMember.objects.create(group=leading_group, name="王德明", position="deputy")
    response = login(world.pingjiang_staff).post(
        add_member(leading_group),
        {"name": "王德明", "position": "member", "start_date": timezone.localdate().isoformat()},
    )
    assert response.status_code == 200
    assert "name" in response.context["form"].errors
    assert WorkGroupMember.objects.count() == 1


def test_member_end_before_start_refused(world, leading_group, login):
    member = WorkGroupMember.objects.create(
        group=leading_group, name="王德明", start_date=datetime.date(2024, 3, 1)
    )
    response = login(world.pingjiang_staff).post(end_member(member), {"end_date": "2024-02-29"})
    assert "end_date" in response.context["form"].errors
    member.refresh_from_db()
    assert member.end_date is None


def test_members_managed_only_in_scope(world, leading_group, login):
    member = WorkGroupMember.objects.create(group=leading_group, name="王德明")
    data = {"name": "丁志强", "position": "member", "start_date": "2024-01-01"}
    assert login(world.canglang_staff).post(add_member(leading_group), data).status_code == 404
    assert login(world.pingjianglu_staff).post(add_member(leading_group), data).status_code == 404
    assert login(world.pingjianglu_liaison).post(add_member(leading_group), data).status_code == 403
    end = {"end_date": "2025-01-01"}
    assert login(world.canglang_staff).post(end_member(member), end).status_code == 404
    assert login(world.pingjianglu_liaison).post(end_member(member), end).status_code == 403
    member.refresh_from_db()
    assert member.end_date is None
    assert WorkGroupMember.objects.count() == 1


def test_archive_and_restore(world, leading_group, login):
    client = login(world.pingjiang_staff)
    client.post(reverse("outreach:workgroup-archive", args=[leading_group.pk]))
    leading_group.refresh_from_db()
    assert leading_group.is_archived
    assert list(client.get(LIST).context["page"]) == []
    assert list(client.get(LIST, {"archived": "on"}).context["page"]) == [leading_group]
    # an archived group takes no new members
    client.post(add_member(leading_group), {"name": "王德明", "position": "member"})
    assert not WorkGroupMember.objects.exists()
    client.post(reverse("outreach:workgroup-restore", args=[leading_group.pk]))
    leading_group.refresh_from_db()
    assert not leading_group.is_archived
    reasons = list(leading_group.history.values_list("history_change_reason", flat=True))
    assert reasons[:2] == ["restored", "archived"]


def _groups(world, count, start):
    for n in range(start, start + count):
        group = WorkGroup.objects.create(
            subdistrict=world.pingjiang, kind=WorkGroupKind.COORDINATION, name=f"协调小组{n}"
        )
        WorkGroupMember.objects.create(group=group, name=f"成员{n}", unit="街道司法所")


def test_list_runs_a_constant_number_of_queries(world, login):
    client = login(world.pingjiang_staff)
    _groups(world, 2, 0)
    with CaptureQueriesContext(connection) as small:
        client.get(LIST)
    _groups(world, 12, 10)
    with CaptureQueriesContext(connection) as large:
        response = client.get(LIST)
    assert len(response.context["page"]) == 14
    assert all(g.member_count == 1 for g in response.context["page"])
    assert len(large) == len(small)
