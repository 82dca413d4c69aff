"""The liaison pages: who sees which liaisons, the list's filters and masking, entering and
editing a liaison, archiving and restoring."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from network.models import Role
from outreach.models import (
    GroupMembership,
    GroupPosition,
    Liaison,
    Meeting,
    MeetingKind,
    Pairing,
    PairingKind,
    ZonePosition,
    ZonePost,
)
from tests.factories import HouseholdFactory, PersonFactory, make_user_with_post

LIST = reverse("outreach:liaison-list")
CREATE = reverse("outreach:liaison-create")


def detail(liaison):
    return reverse("outreach:liaison-detail", args=[liaison.pk])


def names(response):
    return [row.liaison.name for row in response.context["rows"]]


def row_of(response, name):
    return next(row for row in response.context["rows"] if row.liaison.name == name)


# ---------------------------------------------------------------- who sees what


def test_community_staff_list_their_liaisons_only(world, liaisons, login):
    response = login(world.pingjianglu_staff).get(LIST)
    assert response.status_code == 200
    assert sorted(names(response)) == ["白梅", "马晓东"]
    assert "马建华" not in response.content.decode()


def test_bureau_lists_every_community(world, liaisons, login):
    response = login(world.bureau).get(LIST)
    assert sorted(names(response)) == ["白梅", "马建华", "马晓东"]


def test_list_shows_groups_login_and_register(world, liaisons, login):
    response = login(world.pingjianglu_staff).get(LIST)
    bai = row_of(response, "白梅")
    assert [(m.group, m.position) for m in bai.memberships] == [
        (world.pingjianglu_group, GroupPosition.LEADER)
    ]
    page = response.content.decode()
    assert world.pingjianglu_liaison.username in page
    ma = row_of(response, "马晓东")
    assert ma.liaison.user is None
    assert ma.household_url == reverse(
        "residents:household-detail", args=[liaisons.ma_xiaodong.person.household_id]
    )
    assert ma.household_url in page


def test_liaison_sees_their_community_list_with_masked_mobiles(world, liaisons, login):
    response = login(world.pingjianglu_liaison).get(LIST)
    assert response.status_code == 200
    assert sorted(names(response)) == ["白梅", "马晓东"]
    assert row_of(response, "白梅").mobile == "139****5678"
    page = response.content.decode()
    assert "13912345678" not in page
    assert "139****5678" in page
    # no zone posts for a liaison (no view_zonepost), memberships yes
    assert response.context["viewer"].zone_posts is False
    assert row_of(response, "白梅").memberships


def test_staff_see_full_mobile(world, liaisons, login):
    response = login(world.pingjianglu_staff).get(LIST)
    assert row_of(response, "白梅").mobile == "13912345678"
    detail_page = login(world.pingjianglu_staff).get(detail(liaisons.bai_mei))
    assert detail_page.context["mobile"] == "13912345678"


def test_liaison_of_another_community_gets_404(world, liaisons, login):
    client = login(world.daoqian_liaison)
    assert client.get(detail(liaisons.bai_mei)).status_code == 404
    assert client.get(detail(liaisons.ma_jianhua)).status_code == 200


def test_liaison_detail_of_own_community_masks_mobile(world, liaisons, login):
    response = login(world.pingjianglu_liaison).get(detail(liaisons.bai_mei))
    assert response.status_code == 200
    assert response.context["mobile"] == "139****5678"
    assert "13912345678" not in response.content.decode()


def test_other_sub_district_staff_get_404(world, liaisons, login):
    client = login(world.canglang_staff)
    assert client.get(detail(liaisons.bai_mei)).status_code == 404
    edit = reverse("outreach:liaison-edit", args=[liaisons.bai_mei.pk])
    assert client.get(edit).status_code == 404
    archive = reverse("outreach:liaison-archive", args=[liaisons.bai_mei.pk])
    assert client.post(archive).status_code == 404
    liaisons.bai_mei.refresh_from_db()
    assert liaisons.bai_mei.archived_at is None


def test_liaison_may_not_create_edit_or_archive(world, liaisons, login):
    client = login(world.pingjianglu_liaison)
    assert client.get(CREATE).status_code == 403
    assert (
        client.post(CREATE, {"community": world.pingjianglu.pk, "name": "新人"}).status_code == 403
    )
    edit = reverse("outreach:liaison-edit", args=[liaisons.ma_xiaodong.pk])
    assert client.get(edit).status_code == 403
    assert client.post(edit, {"community": world.pingjianglu.pk, "name": "改名"}).status_code == 403
    archive = reverse("outreach:liaison-archive", args=[liaisons.ma_xiaodong.pk])
    assert client.post(archive).status_code == 403
    assert not Liaison.objects.filter(name__in=["新人", "改名"]).exists()
    assert Liaison.objects.get(pk=liaisons.ma_xiaodong.pk).archived_at is None


@pytest.mark.parametrize("who", ["no_post", "ended_post", "future_post"])
def test_without_a_current_post_nothing(world, liaisons, login, who):
    client = login(getattr(world, who))
    assert client.get(LIST).status_code == 403
    assert client.get(detail(liaisons.bai_mei)).status_code == 403


# ---------------------------------------------------------------- filters


def test_filters(world, liaisons, login):
    client = login(world.bureau)
    liaisons.ma_xiaodong.is_committee_secretary = True
    liaisons.ma_xiaodong.save()
    assert sorted(names(client.get(LIST, {"login": "yes"}))) == ["白梅", "马建华"]
    assert names(client.get(LIST, {"login": "no"})) == ["马晓东"]
    assert names(client.get(LIST, {"secretary": "on"})) == ["马晓东"]
    assert names(client.get(LIST, {"area": world.canglang.pk})) == ["马建华"]
    assert sorted(names(client.get(LIST, {"area": world.north_zone.pk}))) == ["白梅", "马晓东"]
    assert names(client.get(LIST, {"group": world.daoqian_group.pk})) == ["马建华"]
    assert names(client.get(LIST, {"q": "晓"})) == ["马晓东"]
    assert names(client.get(LIST, {"q": "mxd"})) == ["马晓东"]
    assert names(client.get(LIST, {"archived": "on"})) == []


def test_group_filter_ignores_ended_memberships(world, liaisons, login):
    membership = GroupMembership.objects.get(liaison=liaisons.ma_xiaodong)
    membership.start_date = datetime.date(2023, 1, 1)
    membership.end_date = datetime.date(2024, 1, 1)
    membership.save()
    response = login(world.pingjianglu_staff).get(LIST, {"group": world.pingjianglu_group.pk})
    assert names(response) == ["白梅"]
    assert row_of(login(world.pingjianglu_staff).get(LIST), "马晓东").memberships == []


def test_filters_that_do_not_fit_are_dropped(world, liaisons, login):
    client = login(world.pingjianglu_staff)
    for params in (
        {"area": world.canglang.pk},
        {"group": "abc"},
        {"login": "maybe"},
        {"page": "999"},
        {"q": "马\x00"},
    ):
        assert client.get(LIST, params).status_code == 200


def _liaisons_with_seats(world, count, start):
    for n in range(start, start + count):
        liaison = Liaison.objects.create(
            community=world.pingjianglu,
            name=f"穆志强{n}",
            user=make_user_with_post(f"mu{n}", f"穆志强{n}", Role.LIAISON, world.pingjianglu),
            person=PersonFactory(household=HouseholdFactory(community=world.pingjianglu)),
            mobile=f"1380000{n:04d}",
        )
        GroupMembership.objects.create(liaison=liaison, group=world.pingjianglu_group)
        ZonePost.objects.create(
            liaison=liaison, zone=world.north_zone, position=ZonePosition.LIAISON
        )


@pytest.mark.parametrize("who", ["pingjiang_staff", "pingjianglu_liaison"])
def test_list_runs_a_constant_number_of_queries(world, liaisons, login, who):
    client = login(getattr(world, who))
    _liaisons_with_seats(world, 3, 0)
    with CaptureQueriesContext(connection) as small:
        assert client.get(LIST).status_code == 200
    _liaisons_with_seats(world, 15, 100)
    with CaptureQueriesContext(connection) as large:
        response = client.get(LIST)
    assert len(response.context["rows"]) == 20
    assert len(large) == len(small)


# ---------------------------------------------------------------- entering a liaison


def test_choose_the_community_first(world, login):
    client = login(world.pingjiang_staff)
    response = client.get(CREATE)
    assert response.status_code == 200
    assert [c.name for c in response.context["communities"]] == ["平江路社区", "干将社区"]
    response = client.get(CREATE, {"community": world.ganjiang.pk})
    assert response.context["form"]["community"].initial == world.ganjiang.pk
    # a community staff member has one community: straight to the form
    assert "form" in login(world.pingjianglu_staff).get(CREATE).context


def test_create_with_full_width_mobile_and_person_name(world, register, login):
    client = login(world.pingjianglu_staff)
    response = client.post(
        CREATE,
        {
            "community": world.pingjianglu.pk,
            "name": "",
            "person": register.ma_wife.pk,
            "mobile": "１３９ １２３４－５６７８",
            "unit": "平江路社区居委会",
            "is_committee_secretary": "on",
        },
    )
    liaison = Liaison.objects.get(person=register.ma_wife)
    assert response.status_code == 302
    assert response["Location"] == detail(liaison)
    assert liaison.name == "哈丽娜"
    assert liaison.mobile == "13912345678"
    assert liaison.is_committee_secretary
    assert liaison.history.first().history_user == world.pingjianglu_staff


def test_create_with_an_account_of_the_community(world, register, login):
    other = make_user_with_post("ding", "丁桂芳", Role.LIAISON, world.pingjianglu)
    response = login(world.pingjiang_staff).post(
        CREATE, {"community": world.pingjianglu.pk, "user": other.pk}
    )
    assert response.status_code == 302
    assert Liaison.objects.get(user=other).name == "丁桂芳"


@pytest.mark.parametrize("mobile", ["12345", "2391234567８", "139123456789", "１３９abc"])
def test_bad_mobile_refused(world, login, mobile):
    response = login(world.pingjianglu_staff).post(
        CREATE, {"community": world.pingjianglu.pk, "name": "丁桂芳", "mobile": mobile}
    )
    assert response.status_code == 200
    assert "mobile" in response.context["form"].errors
    assert not Liaison.objects.exists()


def test_account_outside_the_community_refused(world, liaisons, login):
    # the bureau sees every account, but 马建华's post is in 道前社区
    response = login(world.bureau).post(
        CREATE, {"community": world.pingjianglu.pk, "user": world.daoqian_liaison.pk}
    )
    assert response.status_code == 200
    assert "user" in response.context["form"].errors
    # a sub-district's staff do not even see it
    response = login(world.pingjiang_staff).post(
        CREATE, {"community": world.ganjiang.pk, "name": "马建华", "user": world.daoqian_liaison.pk}
    )
    assert "user" in response.context["form"].errors
    # staff of the community, with no current post there any more
    response = login(world.pingjiang_staff).post(
        CREATE, {"community": world.ganjiang.pk, "user": world.ended_post.pk}
    )
    assert "user" in response.context["form"].errors
    assert Liaison.objects.count() == 3


def test_person_from_another_community_refused(world, register, login):
    response = login(world.pingjiang_staff).post(
        CREATE, {"community": world.pingjianglu.pk, "person": register.bai_lan.pk}
    )
    assert response.status_code == 200
    assert "person" in response.context["form"].errors
    # a person outside the user's scope is not even a choice
    response = login(world.pingjiang_staff).post(
        CREATE, {"community": world.pingjianglu.pk, "person": register.aytursun.pk}
    )
    assert "person" in response.context["form"].errors
    assert not Liaison.objects.exists()


def test_community_outside_scope_refused(world, login):
    response = login(world.pingjianglu_staff).post(
        CREATE, {"community": world.daoqian.pk, "name": "马玉兰"}
    )
    assert response.status_code == 200
    assert "community" in response.context["form"].errors
    assert not Liaison.objects.exists()


def test_name_or_person_required(world, login):
    response = login(world.pingjianglu_staff).post(CREATE, {"community": world.pingjianglu.pk})
    assert "name" in response.context["form"].errors


def test_one_liaison_record_per_account(world, liaisons, login):
    response = login(world.pingjianglu_staff).post(
        CREATE, {"community": world.pingjianglu.pk, "user": world.pingjianglu_liaison.pk}
    )
    assert "user" in response.context["form"].errors
    assert Liaison.objects.filter(user=world.pingjianglu_liaison).count() == 1


def test_community_staff_cannot_create_for_a_community_of_nobody(world, login):
    assert login(world.pingjianglu_liaison).get(CREATE).status_code == 403


# ---------------------------------------------------------------- editing and archiving


def test_edit_keeps_history(world, liaisons, login):
    client = login(world.pingjianglu_staff)
    edit = reverse("outreach:liaison-edit", args=[liaisons.ma_xiaodong.pk])
    assert client.get(edit).status_code == 200
    response = client.post(
        edit,
        {
            "community": world.pingjianglu.pk,
            "name": "马晓东",
            "person": liaisons.ma_xiaodong.person_id,
            "mobile": "13800001111",
            "unit": "苏州市第五中学",
        },
    )
    assert response.status_code == 302
    liaisons.ma_xiaodong.refresh_from_db()
    assert liaisons.ma_xiaodong.unit == "苏州市第五中学"
    page = client.get(detail(liaisons.ma_xiaodong))
    assert liaisons.ma_xiaodong.history.first().history_user == world.pingjianglu_staff
    changed = [entry.changed for entry in page.context["history"] if entry.changed]
    assert [len(fields) for fields in changed] == [2]  # mobile and work unit, not their values
    assert "13800001111" not in str(page.context["history"])


def test_moving_a_liaison_with_current_memberships_refused(world, liaisons, login):
    edit = reverse("outreach:liaison-edit", args=[liaisons.bai_mei.pk])
    response = login(world.pingjiang_staff).post(
        edit, {"community": world.ganjiang.pk, "name": "白梅"}
    )
    assert response.status_code == 200
    assert "community" in response.context["form"].errors
    liaisons.bai_mei.refresh_from_db()
    assert liaisons.bai_mei.community == world.pingjianglu


def test_archive_and_restore_keep_history(world, liaisons, login):
    client = login(world.pingjianglu_staff)
    bai = liaisons.bai_mei
    client.post(reverse("outreach:liaison-archive", args=[bai.pk]))
    bai.refresh_from_db()
    assert bai.archived_at is not None
    assert "白梅" not in names(client.get(LIST))
    assert names(client.get(LIST, {"archived": "on"})) == ["白梅"]
    assert client.get(detail(bai)).status_code == 200
    # archived records are not edited
    edit = reverse("outreach:liaison-edit", args=[bai.pk])
    assert client.get(edit).status_code == 302
    client.post(reverse("outreach:liaison-restore", args=[bai.pk]))
    bai.refresh_from_db()
    assert bai.archived_at is None
    assert "白梅" in names(client.get(LIST))
    reasons = list(bai.history.values_list("history_change_reason", flat=True))
    assert reasons[:2] == ["restored", "archived"]
    assert all(h.history_user == world.pingjianglu_staff for h in bai.history.all()[:2])
    assert GroupMembership.objects.filter(liaison=bai, end_date__isnull=True).count() == 1
    history = client.get(detail(bai)).context["history"]
    assert len([e for e in history if e.what == history[0].what and e.reason]) == 2


def test_restore_refused_when_account_was_given_again(world, liaisons, login):
    client = login(world.pingjianglu_staff)
    bai = liaisons.bai_mei
    client.post(reverse("outreach:liaison-archive", args=[bai.pk]))
    Liaison.objects.create(community=world.pingjianglu, name="白梅", user=world.pingjianglu_liaison)
    client.post(reverse("outreach:liaison-restore", args=[bai.pk]))
    bai.refresh_from_db()
    assert bai.archived_at is not None


def test_archive_and_restore_are_post_only(world, liaisons, login):
    client = login(world.pingjianglu_staff)
    assert (
        client.get(reverse("outreach:liaison-archive", args=[liaisons.bai_mei.pk])).status_code
        == 405
    )


# ---------------------------------------------------------------- detail


def test_detail_lists_pairings_meetings_and_seats(world, register, liaisons, login):
    today = timezone.localdate()
    pairing = Pairing.objects.create(
        household=register.ma_household,
        kind=PairingKind.LIAISON_RESIDENT,
        partner_liaison=liaisons.bai_mei,
        start_date=today - datetime.timedelta(days=30),
    )
    meeting = Meeting.objects.create(
        kind=MeetingKind.LIAISON, area=world.pingjianglu, held_on=today, title="一季度联络员会议"
    )
    meeting.attending_liaisons.add(liaisons.bai_mei)
    archived = Meeting.objects.create(
        kind=MeetingKind.STUDY, area=world.pingjianglu, held_on=today, archived_at=timezone.now()
    )
    archived.attending_liaisons.add(liaisons.bai_mei)
    ZonePost.objects.create(liaison=liaisons.bai_mei, zone=world.north_zone, position="head")

    response = login(world.pingjiang_staff).get(detail(liaisons.bai_mei))
    assert response.context["pairings"] == [pairing]
    assert response.context["meetings"] == 1
    assert [p.zone for p, _current in response.context["zone_posts"]] == [world.north_zone]
    assert "平江路112号3幢201室" in response.content.decode()

    # a liaison sees the pairings and meetings of their community, no zone posts
    response = login(world.pingjianglu_liaison).get(detail(liaisons.bai_mei))
    assert response.context["pairings"] == [pairing]
    assert response.context["zone_posts"] == []
    assert response.context["can_change"] is False


def test_edit_keeps_an_account_whose_post_has_ended(world, liaisons, login):
    post = world.pingjianglu_liaison.posts.get()
    post.end_date = timezone.localdate() - datetime.timedelta(days=1)
    post.save()
    edit = reverse("outreach:liaison-edit", args=[liaisons.bai_mei.pk])
    client = login(world.pingjianglu_staff)
    form = client.get(edit).context["form"]
    assert world.pingjianglu_liaison in form.fields["user"].queryset
    response = client.post(
        edit,
        {
            "community": world.pingjianglu.pk,
            "name": "白梅",
            "user": world.pingjianglu_liaison.pk,
            "mobile": "13912345678",
            "unit": "平江路社区居委会",
        },
    )
    assert response.status_code == 302
    liaisons.bai_mei.refresh_from_db()
    assert liaisons.bai_mei.user == world.pingjianglu_liaison
    assert liaisons.bai_mei.unit == "平江路社区居委会"


def test_refused_form_offers_only_the_posted_community(world, register, login):
    response = login(world.bureau).post(
        CREATE, {"community": world.ganjiang.pk, "person": register.aytursun.pk}
    )
    assert "person" in response.context["form"].errors
    offered = list(response.context["form"].fields["person"].queryset)
    assert offered == [register.bai_lan]
