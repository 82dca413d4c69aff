"""Small invariants of the area tree and posts."""

import pytest
from django.core.exceptions import ValidationError

from network.models import Area, AreaLevel, Post, Role


def test_moving_a_community_to_a_zone_moves_its_path(world):
    world.ganjiang.parent = world.north_zone
    world.ganjiang.full_clean()
    world.ganjiang.save()
    assert world.ganjiang.path.startswith(world.north_zone.path)
    assert world.ganjiang in Area.objects.under(world.north_zone)


def test_moving_a_zone_moves_its_communities(world):
    other = Area.objects.create(name="南片", level=AreaLevel.ZONE, parent=world.pingjiang)
    world.north_zone.parent = other  # invalid level, but path logic must carry children
    Area.save(world.north_zone)
    world.pingjianglu.refresh_from_db()
    assert world.pingjianglu.path.startswith(other.path)


@pytest.mark.parametrize(
    ("level", "code", "parent"),
    [
        (AreaLevel.COMMUNITY, "320508002009", "pingjiang"),  # prefix of another sub-district
        (AreaLevel.COMMUNITY, "32050800100", "pingjiang"),  # 11 digits
        (AreaLevel.COMMUNITY, "320508001000", "pingjiang"),  # a sub-district code
        (AreaLevel.SUBDISTRICT, "320508005000", None),  # no parent
        (AreaLevel.ZONE, "320508001900", "pingjiang"),  # zones carry no code
        (AreaLevel.COMMUNITY, "", "pingjiang"),  # code required
        (AreaLevel.COMMUNITY, "320508001009", "district"),  # community directly under district
    ],
)
def test_invalid_areas_are_refused(world, level, code, parent):
    area = Area(
        name="新社区", level=level, code=code, parent=getattr(world, parent) if parent else None
    )
    with pytest.raises(ValidationError):
        area.full_clean()


def test_community_under_zone_checks_code_against_subdistrict(world):
    ok = Area(
        name="菉葭巷社区", level=AreaLevel.COMMUNITY, code="320508001003", parent=world.north_zone
    )
    ok.full_clean()


def test_post_role_must_match_area_level(world):
    post = Post(user=world.no_post, role=Role.SUBDISTRICT, area=world.pingjianglu)
    with pytest.raises(ValidationError):
        post.full_clean()
    post = Post(
        user=world.no_post,
        role=Role.LIAISON,
        area=world.daoqian,
        liaison_group=world.pingjianglu_group,
    )
    with pytest.raises(ValidationError):
        post.full_clean()


def test_area_ancestors_and_subdistrict(world):
    assert [a.name for a in world.pingjianglu.ancestors()] == ["姑苏区", "平江街道", "北片"]
    assert world.pingjianglu.subdistrict() == world.pingjiang
