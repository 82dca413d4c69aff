"""Sub-district staff manage accounts and posts of their own sub-district in the app."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from network.models import Post, Role, User


def create_payload(world, **overrides):
    data = {
        "user-username": "hajing",
        "user-real_name": "哈静",
        "user-mobile": "13812345678",
        "user-password": "",
        "post-role": Role.LIAISON,
        "post-area": world.ganjiang.pk,
        "post-liaison_group": world.ganjiang_group.pk,
        "post-title": "联络员",
        "post-start_date": "2026-01-05",
    }
    data.update(overrides)
    return data


def test_subdistrict_staff_give_a_new_liaison_a_login(world, login):
    client = login(world.pingjiang_staff)
    response = client.post(reverse("network:user-create"), create_payload(world), follow=True)
    user = User.objects.get(username="hajing")
    assert user.real_name == "哈静"
    post = user.posts.get()
    assert (post.role, post.area, post.liaison_group) == (
        Role.LIAISON,
        world.ganjiang,
        world.ganjiang_group,
    )
    page = response.content.decode()
    assert "初始密码" in page  # the generated password is shown once
    # the new liaison chooses their own password first, then sees their community
    client.logout()
    area_url = reverse("network:area-detail", args=[world.ganjiang.pk])
    assert login(user).get(area_url)["Location"] == reverse("password_change")
    User.objects.filter(pk=user.pk).update(must_change_password=False)
    assert client.get(area_url).status_code == 200


def test_new_account_in_another_subdistrict_is_refused(world, login):
    client = login(world.pingjiang_staff)
    response = client.post(
        reverse("network:user-create"),
        create_payload(world, **{"post-area": world.daoqian.pk, "post-liaison_group": ""}),
    )
    assert response.status_code == 200
    assert not User.objects.filter(username="hajing").exists()


def test_subdistrict_staff_cannot_create_bureau_staff(world, login):
    client = login(world.pingjiang_staff)
    response = client.post(
        reverse("network:user-create"),
        create_payload(
            world,
            **{
                "post-role": Role.DISTRICT,
                "post-area": world.district.pk,
                "post-liaison_group": "",
            },
        ),
    )
    assert response.status_code == 200
    assert not User.objects.filter(username="hajing").exists()


def test_weak_initial_password_is_refused_with_a_message(world, login):
    client = login(world.pingjiang_staff)
    response = client.post(
        reverse("network:user-create"), create_payload(world, **{"user-password": "12345678"})
    )
    assert response.status_code == 200
    assert "密码" in response.content.decode()
    assert not User.objects.filter(username="hajing").exists()


def test_role_and_area_level_must_match(world, login):
    client = login(world.pingjiang_staff)
    response = client.post(
        reverse("network:user-create"),
        create_payload(
            world,
            **{
                "post-role": Role.COMMUNITY,
                "post-area": world.pingjiang.pk,
                "post-liaison_group": "",
            },
        ),
    )
    assert response.status_code == 200
    assert not User.objects.filter(username="hajing").exists()


def test_ending_a_post_ends_access_and_keeps_the_record(world, login):
    liaison = world.pingjianglu_liaison
    post = liaison.posts.get()
    client = login(world.pingjiang_staff)
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    response = client.post(reverse("network:post-end", args=[post.pk]), {"end_date": yesterday})
    assert response.status_code == 302
    post.refresh_from_db()
    assert post.end_date == yesterday
    assert Post.objects.filter(pk=post.pk).exists()
    assert post.history.first().history_user == world.pingjiang_staff
    client.logout()
    liaison = User.objects.get(pk=liaison.pk)
    assert (
        login(liaison).get(reverse("network:area-detail", args=[world.pingjianglu.pk])).status_code
        == 403
    )


def test_post_in_other_subdistrict_cannot_be_ended(world, login):
    post = world.daoqian_liaison.posts.get()
    response = login(world.pingjiang_staff).post(
        reverse("network:post-end", args=[post.pk]), {"end_date": "2026-01-01"}
    )
    assert response.status_code == 404
    post.refresh_from_db()
    assert post.end_date is None


def test_bureau_post_cannot_be_ended_by_subdistrict(world, login):
    post = world.bureau.posts.get()
    response = login(world.pingjiang_staff).post(reverse("network:post-end", args=[post.pk]))
    assert response.status_code == 404


def test_end_date_before_start_is_refused_in_chinese(world, login):
    post = world.pingjianglu_liaison.posts.get()
    response = login(world.pingjiang_staff).post(
        reverse("network:post-end", args=[post.pk]), {"end_date": "2019-12-31"}
    )
    assert response.status_code == 200
    assert "不能早于" in response.content.decode() or "之前" in response.content.decode()
    post.refresh_from_db()
    assert post.end_date is None


def test_account_list_shows_own_subdistrict_only(world, login):
    page = login(world.pingjiang_staff).get(reverse("network:user-list")).content.decode()
    assert "白梅" in page and "周晓红" in page
    assert "马建华" not in page and "王建国" not in page


def test_account_list_uses_constant_queries(world, login, django_assert_max_num_queries):
    from tests.factories import make_user_with_post

    client = login(world.bureau)
    url = reverse("network:user-list")
    client.get(url)
    with django_assert_max_num_queries(12) as small:
        client.get(url)
    for n in range(30):
        make_user_with_post(
            f"extra{n}", f"马志{n}", Role.LIAISON, world.daoqian, world.daoqian_group
        )
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(url)


def test_other_subdistrict_account_page_is_not_found(world, login):
    url = reverse("network:user-detail", args=[world.daoqian_liaison.pk])
    assert login(world.pingjiang_staff).get(url).status_code == 404


def test_bureau_account_cannot_be_edited_by_subdistrict(world, login):
    url = reverse("network:user-update", args=[world.bureau.pk])
    response = login(world.pingjiang_staff).post(url, {"real_name": "冒名", "is_active": ""})
    assert response.status_code == 404
    world.bureau.refresh_from_db()
    assert world.bureau.real_name == "王建国" and world.bureau.is_active


def test_community_staff_and_liaisons_cannot_create_accounts(world, login):
    for user in (world.pingjianglu_staff, world.pingjianglu_liaison):
        response = login(user).post(reverse("network:user-create"), create_payload(world))
        assert response.status_code == 403
    assert not User.objects.filter(username="hajing").exists()


def test_disabling_an_account_is_recorded_in_history(world, login):
    target = world.pingjianglu_liaison
    login(world.pingjiang_staff).post(
        reverse("network:user-update", args=[target.pk]),
        {"real_name": "白梅", "mobile": "13912345678"},  # is_active unticked
    )
    target.refresh_from_db()
    assert not target.is_active
    assert target.history.first().history_user == world.pingjiang_staff


@pytest.mark.parametrize("mobile", ["1381234567", "23812345678", "138-1234-5678"])
def test_bad_mobile_numbers_are_refused(world, login, mobile):
    response = login(world.pingjiang_staff).post(
        reverse("network:user-create"), create_payload(world, **{"user-mobile": mobile})
    )
    assert response.status_code == 200
    assert "11" in response.content.decode()
    assert not User.objects.filter(username="hajing").exists()
