"""Group memberships (组长, 副组长, 联络员) and zone posts (片长, 片联络员): one leader per group
and one head per zone at a time, one seat per person, end dates after start dates."""

import datetime

from django.urls import reverse
from django.utils import timezone

from outreach.models import GroupMembership, GroupPosition, Liaison, ZonePosition, ZonePost

TODAY = timezone.localdate


def add_membership(liaison):
    return reverse("outreach:membership-add", args=[liaison.pk])


def end_membership(membership):
    return reverse("outreach:membership-end", args=[membership.pk])


def add_zone_post(liaison):
    return reverse("outreach:zonepost-add", args=[liaison.pk])


def end_zone_post(post):
    return reverse("outreach:zonepost-end", args=[post.pk])


def leaders(group):
    return GroupMembership.objects.filter(group=group, position=GroupPosition.LEADER)


# ---------------------------------------------------------------- memberships


def test_staff_add_a_deputy(world, liaisons, login):
    new = Liaison.objects.create(community=world.pingjianglu, name="沙永祥")
    client = login(world.pingjianglu_staff)
    assert client.get(add_membership(new)).status_code == 200
    response = client.post(
        add_membership(new),
        {
            "group": world.pingjianglu_group.pk,
            "position": GroupPosition.DEPUTY,
            "start_date": "2025-03-01",
        },
    )
    assert response.status_code == 302
    membership = GroupMembership.objects.get(liaison=new)
    assert membership.position == GroupPosition.DEPUTY
    assert membership.start_date == datetime.date(2025, 3, 1)
    assert membership.history.first().history_user == world.pingjianglu_staff


def test_second_current_leader_refused(world, liaisons, login):
    client = login(world.pingjianglu_staff)
    new = Liaison.objects.create(community=world.pingjianglu, name="沙永祥")
    response = client.post(
        add_membership(new),
        {
            "group": world.pingjianglu_group.pk,
            "position": GroupPosition.LEADER,
            "start_date": TODAY().isoformat(),
        },
    )
    assert response.status_code == 200
    assert "position" in response.context["form"].errors
    assert "白梅" in response.context["form"].errors["position"][0]
    assert list(leaders(world.pingjianglu_group)) == [
        GroupMembership.objects.get(liaison=liaisons.bai_mei)
    ]
    assert not GroupMembership.objects.filter(liaison=new).exists()


def test_new_leader_after_the_old_one_ends(world, liaisons, login):
    client = login(world.pingjianglu_staff)
    old = GroupMembership.objects.get(liaison=liaisons.bai_mei)
    old.start_date = datetime.date(2022, 1, 1)
    old.save()
    ended_on = TODAY() - datetime.timedelta(days=10)
    response = client.post(end_membership(old), {"end_date": ended_on.isoformat()})
    assert response.status_code == 302
    old.refresh_from_db()
    assert old.end_date == ended_on
    # starting on the day the old leader still held the seat overlaps
    new = Liaison.objects.create(community=world.pingjianglu, name="沙永祥")
    client.post(
        add_membership(new),
        {
            "group": world.pingjianglu_group.pk,
            "position": GroupPosition.LEADER,
            "start_date": ended_on.isoformat(),
        },
    )
    assert not GroupMembership.objects.filter(liaison=new).exists()
    response = client.post(
        add_membership(new),
        {
            "group": world.pingjianglu_group.pk,
            "position": GroupPosition.LEADER,
            "start_date": (ended_on + datetime.timedelta(days=1)).isoformat(),
        },
    )
    assert response.status_code == 302
    assert leaders(world.pingjianglu_group).count() == 2
    assert leaders(world.pingjianglu_group).filter(end_date__isnull=True).get().liaison == new


def test_two_current_memberships_in_one_group_refused(world, liaisons, login):
    response = login(world.pingjianglu_staff).post(
        add_membership(liaisons.ma_xiaodong),
        {
            "group": world.pingjianglu_group.pk,
            "position": GroupPosition.DEPUTY,
            "start_date": TODAY().isoformat(),
        },
    )
    assert response.status_code == 200
    assert "group" in response.context["form"].errors
    assert GroupMembership.objects.filter(liaison=liaisons.ma_xiaodong).count() == 1


def test_group_of_another_community_refused(world, liaisons, login):
    for group in (world.ganjiang_group, world.daoqian_group):
        response = login(world.pingjiang_staff).post(
            add_membership(liaisons.bai_mei),
            {"group": group.pk, "position": GroupPosition.MEMBER, "start_date": "2025-01-01"},
        )
        assert response.status_code == 200
        assert "group" in response.context["form"].errors
    assert GroupMembership.objects.filter(liaison=liaisons.bai_mei).count() == 1


def test_membership_cannot_end_before_it_starts(world, liaisons, login):
    membership = GroupMembership.objects.get(liaison=liaisons.ma_xiaodong)
    membership.start_date = datetime.date(2024, 6, 1)
    membership.save()
    client = login(world.pingjianglu_staff)
    assert client.get(end_membership(membership)).status_code == 200
    response = client.post(end_membership(membership), {"end_date": "2024-05-31"})
    assert response.status_code == 200
    assert "end_date" in response.context["form"].errors
    for bad in ("", "2024-13-01", "明天"):
        assert client.post(end_membership(membership), {"end_date": bad}).status_code == 200
    membership.refresh_from_db()
    assert membership.end_date is None
    # ending on the day it started is fine (held for one day)
    client.post(end_membership(membership), {"end_date": "2024-06-01"})
    membership.refresh_from_db()
    assert membership.end_date == datetime.date(2024, 6, 1)
    # and an ended membership is not ended again: the page says why
    response = client.post(end_membership(membership), {"end_date": "2025-01-01"})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    membership.refresh_from_db()
    assert membership.end_date == datetime.date(2024, 6, 1)


def test_liaison_cannot_manage_memberships(world, liaisons, login):
    client = login(world.pingjianglu_liaison)
    membership = GroupMembership.objects.get(liaison=liaisons.ma_xiaodong)
    assert client.get(add_membership(liaisons.ma_xiaodong)).status_code == 403
    assert client.post(end_membership(membership), {"end_date": "2030-01-01"}).status_code == 403
    membership.refresh_from_db()
    assert membership.end_date is None


def test_other_sub_district_cannot_reach_memberships(world, liaisons, login):
    client = login(world.canglang_staff)
    membership = GroupMembership.objects.get(liaison=liaisons.ma_xiaodong)
    assert client.get(add_membership(liaisons.ma_xiaodong)).status_code == 404
    assert client.post(end_membership(membership), {"end_date": "2030-01-01"}).status_code == 404
    membership.refresh_from_db()
    assert membership.end_date is None


def test_archived_liaison_gets_no_new_seat(world, liaisons, login):
    liaisons.ma_xiaodong.archived_at = timezone.now()
    liaisons.ma_xiaodong.save()
    response = login(world.pingjiang_staff).post(
        add_membership(liaisons.ma_xiaodong),
        {"group": world.pingjianglu_group.pk, "position": "deputy", "start_date": "2030-01-01"},
    )
    assert response.status_code == 302
    assert GroupMembership.objects.filter(liaison=liaisons.ma_xiaodong).count() == 1


# ---------------------------------------------------------------- zone posts


def test_sub_district_staff_give_zone_posts(world, liaisons, login):
    client = login(world.pingjiang_staff)
    assert client.get(add_zone_post(liaisons.bai_mei)).status_code == 200
    response = client.post(
        add_zone_post(liaisons.bai_mei),
        {"zone": world.north_zone.pk, "position": ZonePosition.HEAD, "start_date": "2025-01-01"},
    )
    assert response.status_code == 302
    post = ZonePost.objects.get(liaison=liaisons.bai_mei)
    assert (post.zone, post.position) == (world.north_zone, ZonePosition.HEAD)
    page = client.get(reverse("outreach:liaison-list"))
    bai = next(r for r in page.context["rows"] if r.liaison == liaisons.bai_mei)
    assert bai.zone_posts == [post]


def test_second_zone_head_refused_but_zone_liaison_accepted(world, liaisons, login):
    ZonePost.objects.create(
        liaison=liaisons.bai_mei, zone=world.north_zone, position=ZonePosition.HEAD
    )
    client = login(world.pingjiang_staff)
    response = client.post(
        add_zone_post(liaisons.ma_xiaodong),
        {"zone": world.north_zone.pk, "position": ZonePosition.HEAD, "start_date": "2030-01-01"},
    )
    assert response.status_code == 200
    assert "position" in response.context["form"].errors
    response = client.post(
        add_zone_post(liaisons.ma_xiaodong),
        {
            "zone": world.north_zone.pk,
            "position": ZonePosition.LIAISON,
            "start_date": TODAY().isoformat(),
        },
    )
    assert response.status_code == 302
    assert ZonePost.objects.filter(zone=world.north_zone, position=ZonePosition.HEAD).count() == 1
    assert ZonePost.objects.get(liaison=liaisons.ma_xiaodong).position == ZonePosition.LIAISON


def test_zone_of_another_sub_district_refused(world, liaisons, login):
    from network.models import Area, AreaLevel

    south = Area.objects.create(name="南片", level=AreaLevel.ZONE, parent=world.canglang)
    response = login(world.bureau).post(
        add_zone_post(liaisons.bai_mei),
        {"zone": south.pk, "position": ZonePosition.HEAD, "start_date": "2025-01-01"},
    )
    assert response.status_code == 200
    assert "zone" in response.context["form"].errors
    assert not ZonePost.objects.exists()


def test_community_staff_and_liaisons_cannot_give_zone_posts(world, liaisons, login):
    # community staff manage no zone: the page is refused, not an empty form
    assert login(world.pingjianglu_staff).get(add_zone_post(liaisons.bai_mei)).status_code == 403
    client = login(world.pingjianglu_liaison)
    response = client.post(
        add_zone_post(liaisons.bai_mei),
        {"zone": world.north_zone.pk, "position": ZonePosition.HEAD, "start_date": "2025-01-01"},
    )
    assert response.status_code == 403
    assert login(world.canglang_staff).get(add_zone_post(liaisons.bai_mei)).status_code == 404
    assert not ZonePost.objects.exists()


def test_zone_post_end(world, liaisons, login):
    post = ZonePost.objects.create(
        liaison=liaisons.bai_mei,
        zone=world.north_zone,
        position=ZonePosition.HEAD,
        start_date=datetime.date(2024, 1, 1),
    )
    assert login(world.canglang_staff).post(end_zone_post(post), {}).status_code == 404
    assert login(world.pingjianglu_staff).post(end_zone_post(post), {}).status_code == 404
    client = login(world.pingjiang_staff)
    response = client.post(end_zone_post(post), {"end_date": "2023-12-31"})
    assert "end_date" in response.context["form"].errors
    post.refresh_from_db()
    assert post.end_date is None
    assert client.post(end_zone_post(post), {"end_date": "2025-06-30"}).status_code == 302
    post.refresh_from_db()
    assert post.end_date == datetime.date(2025, 6, 30)
    history = client.get(reverse("outreach:liaison-detail", args=[liaisons.bai_mei.pk]))
    assert post.history.first().history_change_reason == "ended"
    assert history.context["history"][0].reason  # shown on the liaison's page


BAD_IDS = ["99999999999999999999", "-1", "１", "abc", "1 OR 1=1", "\x00"]


def test_typed_nonsense_is_refused_not_an_error_page(world, liaisons, login):
    client = login(world.bureau)
    membership = GroupMembership.objects.get(liaison=liaisons.ma_xiaodong)
    before = GroupMembership.objects.count(), ZonePost.objects.count(), Liaison.objects.count()
    for bad in BAD_IDS:
        forms = [
            (add_membership(liaisons.ma_xiaodong), {"group": bad, "position": bad}),
            (add_zone_post(liaisons.ma_xiaodong), {"zone": bad, "start_date": bad}),
            (end_membership(membership), {"end_date": bad}),
            (
                reverse("outreach:liaison-create"),
                {"community": bad, "user": bad, "person": bad, "mobile": bad, "name": bad},
            ),
            (reverse("outreach:workgroup-create"), {"subdistrict": bad, "kind": bad}),
        ]
        for url, data in forms:
            assert client.post(url, data).status_code == 200, (url, bad)
        assert client.get(reverse("outreach:liaison-create"), {"community": bad}).status_code == 200
        params = {"area": bad, "group": bad, "q": bad, "page": bad}
        assert client.get(reverse("outreach:liaison-list"), params).status_code == 200
        params = {"subdistrict": bad, "kind": bad, "page": bad}
        assert client.get(reverse("outreach:workgroup-list"), params).status_code == 200
    after = GroupMembership.objects.count(), ZonePost.objects.count(), Liaison.objects.count()
    assert after == before


def test_zone_posts_shown_to_those_who_see_the_zone(world, liaisons, login):
    ZonePost.objects.create(liaison=liaisons.bai_mei, zone=world.north_zone, position="head")
    for who, shown in [("pingjiang_staff", True), ("bureau", True), ("pingjianglu_staff", False)]:
        response = login(getattr(world, who)).get(reverse("outreach:liaison-list"))
        assert response.context["viewer"].zone_posts is shown, who
        assert ("北片" in response.content.decode()) is shown, who
