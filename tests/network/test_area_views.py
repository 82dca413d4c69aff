"""Area and liaison-group pages: each role reaches its own part and nothing else."""

import pytest
from django.urls import reverse

from network.models import LiaisonGroup


def detail(area):
    return reverse("network:area-detail", args=[area.pk])


@pytest.mark.parametrize(
    ("who", "area", "status"),
    [
        ("bureau", "daoqian", 200),
        ("pingjiang_staff", "pingjianglu", 200),
        ("pingjiang_staff", "north_zone", 200),
        ("pingjiang_staff", "daoqian", 404),
        ("pingjiang_staff", "canglang", 404),
        ("pingjiang_staff", "district", 404),
        ("canglang_staff", "pingjianglu", 404),
        ("pingjianglu_staff", "pingjianglu", 200),
        ("pingjianglu_staff", "ganjiang", 404),
        ("pingjianglu_staff", "pingjiang", 404),
        ("pingjianglu_liaison", "pingjianglu", 200),
        ("pingjianglu_liaison", "daoqian", 404),
        ("daoqian_liaison", "pingjianglu", 404),
    ],
)
def test_area_page_only_inside_scope(world, login, who, area, status):
    response = login(getattr(world, who)).get(detail(getattr(world, area)))
    assert response.status_code == status


def test_liaison_cannot_open_community_of_other_subdistrict_by_typing_its_id(world, login):
    response = login(world.daoqian_liaison).get(detail(world.ganjiang))
    assert response.status_code == 404
    assert "干将社区" not in response.content.decode()


def test_area_list_shows_the_tree_of_own_subdistrict(world, login):
    page = login(world.pingjiang_staff).get(reverse("network:area-list")).content.decode()
    assert "平江路社区" in page and "北片" in page and "干将社区" in page
    assert "道前社区" not in page and "沧浪街道" not in page


def test_area_page_lists_liaison_groups_and_people(world, login):
    page = login(world.pingjiang_staff).get(detail(world.pingjianglu)).content.decode()
    assert "平江路社区少数民族联络组" in page
    assert "白梅" in page  # the liaison of the group
    assert "周晓红" in page  # community staff


def test_area_list_is_in_chinese_by_default(world, login):
    page = login(world.pingjiang_staff).get(reverse("network:area-list")).content.decode()
    assert "联络组" in page
    assert 'lang="zh-hans"' in page


def test_subdistrict_staff_create_liaison_group_in_own_community(world, login):
    client = login(world.pingjiang_staff)
    response = client.post(
        reverse("network:liaisongroup-create"),
        {"community": world.ganjiang.pk, "name": "干将社区回族联络小组", "is_active": "on"},
    )
    assert response.status_code == 302
    assert LiaisonGroup.objects.filter(
        name="干将社区回族联络小组", community=world.ganjiang
    ).exists()


def test_liaison_group_in_foreign_community_is_refused_and_nothing_created(world, login):
    client = login(world.pingjiang_staff)
    response = client.post(
        reverse("network:liaisongroup-create"),
        {"community": world.daoqian.pk, "name": "越权联络组", "is_active": "on"},
    )
    assert response.status_code == 200
    assert "选择一个有效的选项" in response.content.decode()
    assert not LiaisonGroup.objects.filter(name="越权联络组").exists()


def test_liaison_may_not_create_groups(world, login):
    response = login(world.pingjianglu_liaison).get(reverse("network:liaisongroup-create"))
    assert response.status_code == 403


def test_group_of_other_subdistrict_cannot_be_edited(world, login):
    url = reverse("network:liaisongroup-update", args=[world.daoqian_group.pk])
    assert login(world.pingjiang_staff).post(url, {"name": "改名"}).status_code == 404
    world.daoqian_group.refresh_from_db()
    assert world.daoqian_group.name == "道前社区少数民族联络组"


def test_editing_a_group_leaves_history(world, login):
    url = reverse("network:liaisongroup-update", args=[world.ganjiang_group.pk])
    login(world.pingjiang_staff).post(
        url, {"community": world.ganjiang.pk, "name": "干将社区民族联络组", "is_active": "on"}
    )
    latest = world.ganjiang_group.history.first()
    assert latest.name == "干将社区民族联络组"
    assert latest.history_user == world.pingjiang_staff
    assert latest.prev_record.name == "干将社区少数民族联络组"


def test_foreign_id_that_is_not_a_number_is_not_found(world, login):
    response = login(world.pingjiang_staff).get("/network/areas/abc/")
    assert response.status_code == 404


def test_area_tree_lists_siblings_by_code_under_their_parent(world, login):
    from network.models import Area, AreaLevel

    for code, name in [("320508001009", "胡厢使社区"), ("320508001005", "大儒社区")]:
        Area.objects.create(code=code, name=name, level=AreaLevel.COMMUNITY, parent=world.pingjiang)
    page = login(world.pingjiang_staff).get(reverse("network:area-list")).content.decode()
    order = ["平江街道", "北片", "平江路社区", "干将社区", "大儒社区", "胡厢使社区"]
    positions = [page.index(name) for name in order]
    assert positions == sorted(positions)


def test_browser_language_does_not_override_chinese_default(world, client):
    client.force_login(world.pingjiang_staff)
    page = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "您的岗位" in page or "岗位" in page
    assert "Your posts" not in page
