"""The access rules of network/access.py, role by role."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from network.access import (
    compute_scope,
    may_use_admin,
    users_manageable_by,
    users_visible_to,
)
from network.models import Area, LiaisonGroup


def names(qs):
    return sorted(a.name for a in qs)


def test_district_bureau_sees_the_whole_district(world):
    assert names(Area.objects.visible_to(world.bureau)) == names(Area.objects.all())


def test_subdistrict_staff_see_only_their_subdistrict_including_zones(world):
    assert names(Area.objects.visible_to(world.pingjiang_staff)) == [
        "北片",
        "干将社区",
        "平江街道",
        "平江路社区",
    ]
    assert names(Area.objects.visible_to(world.canglang_staff)) == ["沧浪街道", "道前社区"]


def test_community_staff_and_liaison_see_only_their_community(world):
    assert names(Area.objects.visible_to(world.pingjianglu_staff)) == ["平江路社区"]
    assert names(Area.objects.visible_to(world.pingjianglu_liaison)) == ["平江路社区"]
    assert names(LiaisonGroup.objects.visible_to(world.daoqian_liaison)) == [
        "道前社区少数民族联络组"
    ]


@pytest.mark.parametrize("who", ["no_post", "ended_post", "future_post"])
def test_user_without_a_current_post_sees_nothing(world, who):
    user = getattr(world, who)
    assert not Area.objects.visible_to(user).exists()
    assert not LiaisonGroup.objects.visible_to(user).exists()
    assert not users_visible_to(user).exists()
    assert compute_scope(user).is_empty


def test_inactive_account_sees_nothing(world):
    world.pingjiang_staff.is_active = False
    world.pingjiang_staff.save()
    assert compute_scope(world.pingjiang_staff).is_empty


def test_anonymous_sees_nothing(world):
    from django.contrib.auth.models import AnonymousUser

    assert not Area.objects.visible_to(AnonymousUser()).exists()


def test_superuser_sees_everything(world):
    assert Area.objects.visible_to(world.superuser).count() == Area.objects.count()


def test_liaison_changes_own_group_and_group_less_records_of_their_community(world):
    liaison = world.pingjianglu_liaison
    assert names(LiaisonGroup.objects.changeable_by(liaison)) == ["平江路社区少数民族联络组"]
    # records with no liaison group (here the area itself) follow the liaison's community
    assert names(Area.objects.changeable_by(liaison)) == ["平江路社区"]


def test_subdistrict_staff_change_groups_of_their_subdistrict_only(world):
    assert names(LiaisonGroup.objects.changeable_by(world.pingjiang_staff)) == [
        "干将社区少数民族联络组",
        "平江路社区少数民族联络组",
    ]


def test_everything_under_a_subdistrict_is_one_query(world):
    with CaptureQueriesContext(connection) as queries:
        found = names(Area.objects.under(world.pingjiang))
    assert found == ["北片", "干将社区", "平江街道", "平江路社区"]
    assert len(queries) == 1
    assert "LIKE" in queries[0]["sql"].upper()


def test_scope_is_computed_once_per_request_user(world):
    user = world.pingjiang_staff
    Area.objects.visible_to(user).count()
    with CaptureQueriesContext(connection) as queries:
        Area.objects.visible_to(user).count()
        LiaisonGroup.objects.visible_to(user).count()
    assert len(queries) == 2  # the two counts; the posts were read once before


def test_admin_is_for_bureau_and_superusers_only(world):
    assert may_use_admin(world.bureau)
    assert may_use_admin(world.superuser)
    for user in [
        world.pingjiang_staff,
        world.pingjianglu_staff,
        world.pingjianglu_liaison,
        world.no_post,
        world.ended_post,
    ]:
        assert not may_use_admin(user), user.username


def test_subdistrict_staff_see_accounts_of_their_subdistrict(world):
    visible = {u.username for u in users_visible_to(world.pingjiang_staff)}
    assert {"pingjiang", "pingjianglu", "pingjianglu_llz"} <= visible
    assert "daoqian_llz" not in visible
    assert "quminzongju" not in visible
    assert "root" not in visible


def test_subdistrict_staff_cannot_manage_a_bureau_account_or_other_subdistrict(world):
    manageable = {u.username for u in users_manageable_by(world.pingjiang_staff)}
    assert "pingjianglu_llz" in manageable
    assert "quminzongju" not in manageable
    assert "daoqian_llz" not in manageable
    assert not users_manageable_by(world.pingjianglu_liaison).exists()
    assert not users_manageable_by(world.pingjianglu_staff).exists()


def test_permissions_follow_current_posts(world):
    assert world.pingjiang_staff.has_perm("network.add_user")
    assert not world.ended_post.has_perm("network.add_user")
    assert not world.no_post.has_perm("network.view_area")
    assert world.pingjianglu_liaison.has_perm("network.view_area")
    assert not world.pingjianglu_liaison.has_perm("network.add_user")
    assert world.bureau.has_perm("network.import_users")
    assert not world.pingjiang_staff.has_perm("network.import_users")


def test_a_permission_given_to_the_user_directly_grants_nothing(world):
    from django.contrib.auth.models import Permission

    from network.models import User

    world.pingjianglu_liaison.user_permissions.add(Permission.objects.get(codename="add_user"))
    liaison = User.objects.get(pk=world.pingjianglu_liaison.pk)
    assert not liaison.has_perm("network.add_user")


def test_records_shared_below_are_seen_not_changed_by_the_areas_under_them(world):
    """A sub-district's partner merchants: its communities' staff and liaisons see them, the
    other sub-district does not, and only the sub-district changes them."""
    from services.models import Merchant

    merchant = Merchant.objects.create(
        area=world.pingjiang, name="马记清真拉面馆", category="halal_food", address="平江路88号"
    )
    seen = {
        user.username: Merchant.objects.visible_to(user).filter(pk=merchant.pk).exists()
        for user in world.all_role_users()
    }
    assert seen == {
        "quminzongju": True,
        "pingjiang": True,
        "canglang": False,
        "pingjianglu": True,
        "pingjianglu_llz": True,
        "daoqian_llz": False,
    }
    changers = {
        u.username
        for u in world.all_role_users()
        if Merchant.objects.changeable_by(u).filter(pk=merchant.pk).exists()
    }
    assert changers == {"quminzongju", "pingjiang"}
    assert not Merchant.objects.visible_to(world.no_post).exists()
