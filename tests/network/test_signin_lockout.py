"""The sign-in page with django-axes on: five failures lock a user name out from one address
for 30 minutes; an unknown name gets the very same answers as a known one; a staff member
unlocks with ``axes_reset_username``; every attempt is in the audit log without a password."""

import datetime
import io

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from network.models import AuditEvent, AuditKind

pytestmark = pytest.mark.django_db

PASSWORD = "Tongxin-2026"  # tests/factories.py
WRONG = "Tongxin-2025"


def zh(msgid, **values):
    """What a Chinese user reads for ``msgid`` (the catalogue's translation, or the msgid
    while the translation is pending)."""
    with translation.override("zh-hans"):
        text = gettext(msgid)
    return text % values if values else text


WRONG_LOGIN = "Wrong user name or password. Both are case-sensitive."
LOCKED = (
    "Too many failed sign-ins. Try again in %(minutes)d minutes, or ask your "
    "sub-district administrator to unlock the account."
)


def sign_in(client, username, password, address="127.0.0.1", **extra):
    return client.post(
        reverse("login"),
        {"username": username, "password": password, **extra},
        REMOTE_ADDR=address,
    )


def shown(response) -> str:
    """The refusal a user reads on the sign-in page."""
    if response.status_code == 302:
        return "signed in"
    context = response.context
    if context.get("locked_out"):
        return context["locked_out"]
    return " ".join(context["form"].non_field_errors())


def attempts(client, username, passwords):
    return [(r.status_code, shown(r)) for r in (sign_in(client, username, p) for p in passwords)]


def test_five_failures_lock_the_name_out_even_with_the_right_password(world, client):
    answers = attempts(client, "pingjiang", [WRONG] * 5 + [PASSWORD])
    wrong, locked = zh(WRONG_LOGIN), zh(LOCKED, minutes=30)
    assert answers == [(200, wrong)] * 4 + [(429, locked)] * 2
    assert "30" in locked
    assert "_auth_user_id" not in client.session
    page = sign_in(client, "pingjiang", PASSWORD).content.decode()
    assert locked in page and 'name="username"' in page  # the sign-in page, with its form


def test_an_unknown_name_gets_exactly_the_same_answers(world, client):
    known = attempts(client, "pingjiang", [WRONG] * 6)
    unknown = attempts(client, "mahaiyan", [WRONG] * 6)  # no such account
    assert unknown == known
    # a switched-off account is refused with the same words too
    world.canglang_staff.is_active = False
    world.canglang_staff.save()
    assert attempts(client, "canglang", [PASSWORD]) == [(200, zh(WRONG_LOGIN))]


def test_the_lock_holds_the_name_from_that_address_only(world, client):
    attempts(client, "pingjiang", [WRONG] * 5)
    assert sign_in(client, "pingjiang", PASSWORD).status_code == 429
    # the same office's colleague, behind the same address, still signs in
    assert sign_in(client, "canglang", PASSWORD).status_code == 302
    client.logout()
    # and the locked name from another address
    assert sign_in(client, "pingjiang", PASSWORD, address="10.20.30.40").status_code == 302


def test_a_made_up_forwarded_for_header_does_not_dodge_the_lock(world, client):
    for n in range(6):
        response = client.post(
            reverse("login"),
            {"username": "pingjiang", "password": WRONG if n < 5 else PASSWORD},
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n}",
        )
    assert response.status_code == 429


def test_the_lock_lifts_after_the_cool_off(world, client):
    attempts(client, "pingjiang", [WRONG] * 5)
    AccessAttempt.objects.update(attempt_time=timezone.now() - datetime.timedelta(minutes=31))
    assert sign_in(client, "pingjiang", PASSWORD).status_code == 302


@override_settings(AXES_COOLOFF_TIME=datetime.timedelta(minutes=45), AXES_FAILURE_LIMIT=3)
def test_the_message_follows_the_settings(world, client):
    answers = attempts(client, "pingjiang", [WRONG] * 3)
    assert answers[-1] == (429, zh(LOCKED, minutes=45))


def test_staff_unlock_a_name_with_the_management_command(world, client):
    attempts(client, "pingjiang", [WRONG] * 5)
    assert sign_in(client, "pingjiang", PASSWORD).status_code == 429
    call_command("axes_reset_username", "pingjiang", stdout=io.StringIO())
    assert sign_in(client, "pingjiang", PASSWORD).status_code == 302


def test_a_success_clears_earlier_failures(world, client):
    attempts(client, "pingjiang", [WRONG] * 4)
    assert sign_in(client, "pingjiang", PASSWORD).status_code == 302
    client.logout()
    answers = attempts(client, "pingjiang", [WRONG] * 4)
    assert [status for status, _message in answers] == [200] * 4


def test_a_superuser_sees_and_clears_a_lock_out_in_the_admin(world, client):
    attempts(client, "pingjiang", [WRONG] * 5)
    admin = Client()
    admin.force_login(world.superuser)
    listing = admin.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200
    assert "pingjiang" in listing.content.decode()
    attempt = AccessAttempt.objects.get(username="pingjiang")
    deleted = admin.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})
    assert deleted.status_code == 302
    assert sign_in(client, "pingjiang", PASSWORD).status_code == 302


def test_every_attempt_is_audited_without_the_password(world, client):
    attempts(client, "pingjiang", [WRONG] * 5)
    attempts(client, "mahaiyan", ["Mahaiyan-secret-1"])
    client.post(reverse("login"), {"username": "canglang", "password": PASSWORD})
    client.post(reverse("logout"))
    events = list(AuditEvent.objects.order_by("pk"))
    kinds = [(e.kind, e.username) for e in events]
    assert kinds.count((AuditKind.SIGN_IN_FAILED, "pingjiang")) == 5
    assert (AuditKind.LOCKED_OUT, "pingjiang") in kinds
    assert (AuditKind.SIGN_IN_FAILED, "mahaiyan") in kinds
    assert kinds[-2:] == [(AuditKind.SIGN_IN, "canglang"), (AuditKind.SIGN_OUT, "canglang")]
    failed = next(e for e in events if e.kind == AuditKind.SIGN_IN_FAILED)
    assert failed.user == world.pingjiang_staff and failed.ip_address == "127.0.0.1"
    unknown = next(e for e in events if e.username == "mahaiyan")
    assert unknown.user is None
    for event in events:
        text = f"{event.note} {event.changes} {event.object_label}"
        assert WRONG not in text and PASSWORD not in text and "Mahaiyan-secret" not in text


def test_the_admin_signs_in_through_the_same_page(world, client):
    response = client.get("/admin/login/?next=/admin/network/area/")
    assert response.status_code == 302
    assert response["Location"] == reverse("login") + "?next=/admin/network/area/"
    elsewhere = client.get("/admin/login/?next=https://evil.example.com/")
    assert elsewhere["Location"] == reverse("login") + "?next=/admin/"
