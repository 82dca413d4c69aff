"""Strong passwords, and a password someone else chose is changed at the first sign-in:
accounts made in the app, by upload, in the admin and by ``seed_demo`` must choose their own
before any other page opens; the change clears the mark and is audited."""

import io

import pytest
from django.contrib.auth.password_validation import password_validators_help_texts
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from network.models import AuditEvent, AuditKind, Role, User
from network.passwords import StrongPasswordValidator
from tests.network.test_signin_lockout import PASSWORD, sign_in, zh
from tests.network.test_user_import import xlsx

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Huaihai-Road-88"


def problems(password, username="majianhua"):
    try:
        StrongPasswordValidator().validate(password, User(username=username))
    except ValidationError as exc:
        return [e.code for e in exc.error_list]
    return []


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("Tongxin-2026", []),
        ("mxd#2026ab", []),  # small letters, digits, a symbol
        ("平江路112号abc", []),  # 汉字 count as symbols
        ("MAXIAODONG2026", ["password_too_few_kinds"]),
        ("maxiaodong-jia", ["password_too_few_kinds"]),
        ("Ab1!", ["password_too_short_for_tongxin"]),
        ("ab1", ["password_too_short_for_tongxin", "password_too_few_kinds"]),
        ("MaJianHua-2026", ["password_contains_username"]),
        ("2026-MAJIANHUA!", ["password_contains_username"]),
    ],
)
def test_the_rule(password, expected):
    assert problems(password) == expected


HELP = (
    "At least %(length)d characters, mixing at least %(n)d of capital letters, small "
    "letters, digits and symbols, and not containing the user name."
)


def test_the_rule_speaks_chinese_and_is_explained_on_the_form(world, login):
    with translation.override("zh-hans"):
        with pytest.raises(ValidationError) as caught:
            StrongPasswordValidator().validate("pingjiang2026", world.pingjiang_staff)
        help_texts = password_validators_help_texts()
    assert zh("The password must not contain the user name.") in caught.value.messages
    assert zh(HELP, length=8, n=3) in help_texts
    page = login(world.pingjiang_staff).get(reverse("password_change")).content.decode()
    assert zh(HELP, length=8, n=3) in page


def test_a_weak_new_password_is_refused_and_nothing_changes(world, login):
    client = login(world.pingjiang_staff)
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "pingjiang88", "new_password2": "pingjiang88"},
    )
    assert response.status_code == 200
    world.pingjiang_staff.refresh_from_db()
    assert world.pingjiang_staff.check_password(PASSWORD)
    assert world.pingjiang_staff.password_changed_at is None


# ---------------------------------------------------------------- who must change


def test_an_account_made_in_the_app_must_change_its_password(world, login):
    client = login(world.pingjiang_staff)
    client.post(
        reverse("network:user-create"),
        {
            "user-username": "hajing",
            "user-real_name": "哈静",
            "user-mobile": "13812345678",
            "user-password": "",
            "post-role": Role.LIAISON,
            "post-area": world.ganjiang.pk,
            "post-liaison_group": world.ganjiang_group.pk,
            "post-title": "联络员",
            "post-start_date": "2026-01-05",
        },
    )
    assert User.objects.get(username="hajing").must_change_password


def test_accounts_from_an_upload_must_change_their_password(world, login):
    client = login(world.bureau)
    rows = [
        ["mayuzhen", "马玉珍", "", "联络员", "320508002001", "", "2026-03-01", ""],
        ["baihaiyan", "白海燕", "", "社区工作人员", "320508001002", "", "", "Haiyan@Gusu2026"],
        ["pingjianglu_llz", "白梅", "", "联络员", "320508001002", "", "", ""],  # exists
    ]
    client.post(reverse("network:user-import"), {"file": xlsx(rows)})
    marked = User.objects.filter(must_change_password=True).values_list("username", flat=True)
    assert sorted(marked) == ["baihaiyan", "mayuzhen"]  # not the account that existed


def test_accounts_made_in_the_admin_must_change_their_password(world):
    from django.test import Client

    admin = Client()
    admin.force_login(world.superuser)
    response = admin.post(
        "/admin/network/user/add/",
        {
            "username": "haxiaoyan",
            "password1": "Mudan-Garden-9",
            "password2": "Mudan-Garden-9",
            "usable_password": "true",
            "posts-TOTAL_FORMS": "0",
            "posts-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert User.objects.get(username="haxiaoyan").must_change_password


def test_seed_demo_marks_its_accounts_when_the_setting_says_so(db, settings):
    settings.TONGXIN_DEMO_FORCE_PASSWORD_CHANGE = True
    call_command("seed_demo", "--households", "0", "--years", "0", stdout=io.StringIO())
    assert set(
        User.objects.filter(must_change_password=True).values_list("username", flat=True)
    ) >= {
        "admin",
        "quminzongju",
        "pingjiang",
        "daoqian_llz",
    }


def test_seed_demo_of_make_run_leaves_the_demo_logins_alone(db, settings):
    settings.TONGXIN_DEMO_FORCE_PASSWORD_CHANGE = False
    call_command("seed_demo", "--households", "0", "--years", "0", stdout=io.StringIO())
    assert not User.objects.filter(must_change_password=True).exists()


# ---------------------------------------------------------------- the forced change


@pytest.fixture
def newcomer(world):
    user = world.pingjianglu_liaison
    user.must_change_password = True
    user.save()
    return user


def test_every_other_page_sends_them_to_the_password_page(newcomer, client):
    assert sign_in(client, "pingjianglu_llz", PASSWORD)["Location"] == reverse("home")
    for url in [reverse("home"), reverse("network:user-list"), "/admin/", "/outreach/log/"]:
        assert client.get(url)["Location"] == reverse("password_change"), url
        assert client.post(url, {})["Location"] == reverse("password_change"), url
    page = client.get(reverse("password_change"))
    assert page.status_code == 200
    assert zh("Your password was chosen by someone else. Choose your own before going on.") in (
        page.content.decode()
    )
    htmx = client.get(reverse("home"), HTTP_HX_REQUEST="true")
    assert htmx.status_code == 403 and htmx["HX-Redirect"] == reverse("password_change")
    # the language switch and signing out still work
    assert client.post(reverse("set_language"), {"language": "en", "next": "/"}).status_code == 302
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("home"))["Location"].startswith(reverse("login"))


def test_changing_it_clears_the_mark_and_is_audited(newcomer, client):
    sign_in(client, "pingjianglu_llz", PASSWORD)
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response["Location"] == reverse("password_change_done")
    newcomer.refresh_from_db()
    assert not newcomer.must_change_password and newcomer.password_changed_at is not None
    assert newcomer.check_password(NEW_PASSWORD)
    assert client.get(reverse("home")).status_code == 200
    event = AuditEvent.objects.get(kind=AuditKind.PASSWORD_CHANGE)
    assert event.user == newcomer
    assert NEW_PASSWORD not in f"{event.note} {event.changes}"


def test_a_refused_change_is_not_a_way_out(newcomer, client):
    sign_in(client, "pingjianglu_llz", PASSWORD)
    client.post(
        reverse("password_change"),
        {
            "old_password": "Tongxin-2025",
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    newcomer.refresh_from_db()
    assert newcomer.must_change_password
    assert client.get(reverse("home"))["Location"] == reverse("password_change")


def test_typing_the_same_password_again_is_not_a_change(newcomer, client):
    """Whoever chose it (the administrator) would still know it."""
    sign_in(client, "pingjianglu_llz", PASSWORD)
    page = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": PASSWORD, "new_password2": PASSWORD},
    )
    assert page.status_code == 200
    assert zh("The new password must differ from the current one.") in page.content.decode()
    newcomer.refresh_from_db()
    assert newcomer.must_change_password and newcomer.password_changed_at is None
    assert client.get(reverse("home"))["Location"] == reverse("password_change")


def test_a_signed_in_user_without_the_admin_is_refused_not_sent_round(world, login):
    """/admin/ for community staff: a plain refusal, not sign-in page → admin → sign-in page."""
    client = login(world.pingjianglu_staff)
    first = client.get("/admin/")
    assert first.status_code == 302
    second = client.get(first["Location"])
    assert second.status_code == 403


def test_an_admin_setting_someones_password_makes_them_choose_again(world):
    from django.test import Client

    admin = Client()
    admin.force_login(world.superuser)
    target = world.daoqian_liaison
    response = admin.post(
        f"/admin/network/user/{target.pk}/password/",
        {"password1": "Daoqian-Reset-8", "password2": "Daoqian-Reset-8", "usable_password": "true"},
    )
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.must_change_password and target.check_password("Daoqian-Reset-8")
    event = AuditEvent.objects.get(kind=AuditKind.PASSWORD_CHANGE)
    assert event.user == target and "root" in event.note
    assert "Daoqian-Reset-8" not in f"{event.note} {event.changes}"
