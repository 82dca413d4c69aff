"""Sessions end after 30 idle minutes (the sign-in page says why) and at every password
change — the user's own (other sessions end, the changing one stays) or an administrator's
(all of that user's sessions end)."""

import time

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from network.models import AuditEvent, AuditKind
from network.session_security import LAST_SEEN_KEY
from tests.network.test_signin_lockout import PASSWORD, sign_in, zh

pytestmark = pytest.mark.django_db

IDLE = "You were signed out after %(n)d minutes without activity. Sign in again."


def idle_for(client, seconds):
    """Pretend the client's last request was ``seconds`` ago."""
    session = client.session
    session[LAST_SEEN_KEY] = int(time.time()) - seconds
    session.save()


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_thirty_idle_minutes_sign_the_user_out(world, login):
    client = login(world.pingjiang_staff)
    idle_for(client, 31 * 60)
    response = client.get(reverse("network:user-list"))
    assert response.status_code == 302
    assert response["Location"] == reverse("login") + "?next=" + reverse("network:user-list")
    assert not signed_in(client)
    page = client.get(response["Location"]).content.decode()
    assert zh(IDLE, n=30) in page
    assert zh(IDLE, n=30) not in client.get(reverse("login")).content.decode()  # said once
    event = AuditEvent.objects.filter(kind=AuditKind.SIGN_OUT).get()
    assert event.user == world.pingjiang_staff and event.note == "idle"


def test_twenty_nine_idle_minutes_do_not(world, login):
    client = login(world.pingjiang_staff)
    idle_for(client, 29 * 60)
    assert client.get(reverse("home")).status_code == 200
    assert time.time() - client.session[LAST_SEEN_KEY] < 5  # the clock starts again


def test_an_htmx_request_of_an_idle_session_is_told_to_reload_the_sign_in_page(world, login):
    client = login(world.pingjiang_staff)
    idle_for(client, 40 * 60)
    response = client.get(reverse("home"), HTTP_HX_REQUEST="true")
    assert response.status_code == 401
    assert response["HX-Redirect"] == reverse("login")
    assert not signed_in(client)


def test_the_timeout_is_a_setting(world, login, settings):
    settings.SESSION_IDLE_TIMEOUT = 10 * 60
    client = login(world.pingjiang_staff)
    idle_for(client, 11 * 60)
    response = client.get(reverse("home"), follow=True)
    assert zh(IDLE, n=10) in response.content.decode()
    settings.SESSION_IDLE_TIMEOUT = 0  # off
    client = login(world.pingjiang_staff)
    idle_for(client, 24 * 60 * 60)
    assert client.get(reverse("home")).status_code == 200


def test_the_session_is_not_written_at_every_request(world, login):
    client = login(world.pingjiang_staff)
    client.get(reverse("home"))
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("home")).status_code == 200
    writes = [q["sql"] for q in queries if "django_session" in q["sql"] and "UPDATE" in q["sql"]]
    assert writes == []
    idle_for(client, 90)  # a minute and a half later, the time is written again
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("home"))
    assert any("django_session" in q["sql"] and "UPDATE" in q["sql"] for q in queries)


# ---------------------------------------------------------------- sign out everywhere

NEW_PASSWORD = "Huaihai-Road-88"


def test_changing_ones_password_ends_the_other_sessions_only(world):
    office, phone = Client(), Client()
    assert sign_in(office, "pingjiang", PASSWORD).status_code == 302
    assert sign_in(phone, "pingjiang", PASSWORD).status_code == 302
    assert phone.get(reverse("home")).status_code == 200
    changed = office.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert changed.status_code == 302
    assert office.get(reverse("home")).status_code == 200  # still signed in
    assert phone.get(reverse("home"))["Location"].startswith(reverse("login"))
    assert not signed_in(phone)


def test_an_administrator_resetting_a_password_ends_all_that_users_sessions(world):
    office, phone, admin = Client(), Client(), Client()
    sign_in(office, "daoqian_llz", PASSWORD)
    sign_in(phone, "daoqian_llz", PASSWORD, address="10.0.0.8")
    admin.force_login(world.superuser)
    response = admin.post(
        f"/admin/network/user/{world.daoqian_liaison.pk}/password/",
        {"password1": "Daoqian-Reset-8", "password2": "Daoqian-Reset-8", "usable_password": "true"},
    )
    assert response.status_code == 302
    for client in (office, phone):
        assert client.get(reverse("home"))["Location"].startswith(reverse("login"))
    assert admin.get("/admin/").status_code == 200  # the administrator stays signed in
