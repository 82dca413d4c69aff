"""Two-factor sign-in with real TOTP codes computed from the device's key: enrol (QR code and
typed secret, confirmed by a first code), sign in with password then code, wrong codes
counted by the lock-out, removal with the current password, and compulsory enrolment for
the roles named by TONGXIN_REQUIRE_2FA_FOR."""

import datetime
import time

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from network.models import AuditEvent, AuditKind
from network.signin import PENDING_KEY
from tests.network.test_signin_lockout import LOCKED, PASSWORD, sign_in, zh

pytestmark = pytest.mark.django_db


def code_of(device, steps_ahead=0) -> str:
    """The code the user's phone shows now (or ``steps_ahead`` steps of 30 s later)."""
    device.refresh_from_db()
    value = totp(device.bin_key, device.step, device.t0, device.digits, device.drift + steps_ahead)
    return f"{value:0{device.digits}d}"


def wrong_code(device) -> str:
    right = {code_of(device, n) for n in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in right)


def forgive_throttle(device):
    """django-otp makes a device wait 1, 2, 4 … seconds after a wrong code: let that pass."""
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_timestamp=timezone.now() - datetime.timedelta(hours=1)
    )


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.fixture
def enrolled(world):
    return TOTPDevice.objects.create(user=world.pingjiang_staff, name="手机", confirmed=True)


# ---------------------------------------------------------------- enrolment


def test_a_user_enrols_with_the_qr_code_or_the_typed_secret(world, login):
    client = login(world.pingjianglu_staff)
    assert client.get(reverse("two_factor")).status_code == 200
    assert client.post(reverse("two_factor"))["Location"] == reverse("two_factor_setup")
    device = TOTPDevice.objects.get(user=world.pingjianglu_staff)
    assert not device.confirmed
    page = client.get(reverse("two_factor_setup"))
    html = page.content.decode()
    assert page.status_code == 200 and page["Cache-Control"].startswith("max-age=0")
    assert '<svg width="' in html and "<script" not in html.split("two-factor-qr")[1][:3000]
    secret = page.context["secret"].replace(" ", "")
    import base64

    assert base64.b32decode(secret + "=" * (-len(secret) % 8)) == device.bin_key
    # a wrong first code enrols nothing
    refused = client.post(reverse("two_factor_setup"), {"code": wrong_code(device)})
    assert refused.status_code == 200 and refused.context["form"].errors
    device.refresh_from_db()
    assert not device.confirmed
    forgive_throttle(device)
    # the right one (typed with full-width digits and a space) confirms it
    code = code_of(device)
    typed = "".join(chr(ord(c) + 0xFEE0) for c in code[:3]) + " " + code[3:]
    confirmed = client.post(reverse("two_factor_setup"), {"code": typed})
    assert confirmed["Location"] == reverse("two_factor")
    device.refresh_from_db()
    assert device.confirmed
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id  # this session counts
    assert client.get(reverse("home")).status_code == 200
    event = AuditEvent.objects.get(kind=AuditKind.TWO_FACTOR)
    assert event.user == world.pingjianglu_staff and event.note == "enrolled"
    assert code not in f"{event.note} {event.changes}"


def test_a_user_with_a_device_signs_in_with_password_then_code(world, enrolled, client):
    first = sign_in(client, "pingjiang", PASSWORD, next="/network/users/")
    assert first["Location"] == reverse("login-code")
    assert not signed_in(client)  # the password alone is not enough
    assert client.get(reverse("home"))["Location"].startswith(reverse("login"))
    assert client.get(reverse("login-code")).status_code == 200
    code = code_of(enrolled)
    second = client.post(reverse("login-code"), {"code": code})
    assert second["Location"] == "/network/users/"
    assert signed_in(client) and PENDING_KEY not in client.session
    assert client.get(reverse("home")).status_code == 200
    event = AuditEvent.objects.get(kind=AuditKind.SIGN_IN)
    assert event.user == world.pingjiang_staff and "two-factor" in event.note
    assert code not in f"{event.note} {event.changes}"


def test_a_code_is_good_once(world, enrolled):
    code = code_of(enrolled)
    first, second = Client(), Client()
    sign_in(first, "pingjiang", PASSWORD)
    assert first.post(reverse("login-code"), {"code": code}).status_code == 302
    sign_in(second, "pingjiang", PASSWORD)
    assert second.post(reverse("login-code"), {"code": code}).status_code == 200
    assert not signed_in(second)


def test_wrong_codes_count_towards_the_lock_out(world, enrolled, client):
    sign_in(client, "pingjiang", PASSWORD)
    answers = []
    for _n in range(5):
        forgive_throttle(enrolled)
        response = client.post(reverse("login-code"), {"code": wrong_code(enrolled)})
        answers.append(response.status_code)
    assert answers == [200, 200, 200, 200, 429]
    assert zh(LOCKED, minutes=30) in response.content.decode()
    # now even the password and the right code are refused from here
    assert sign_in(client, "pingjiang", PASSWORD).status_code == 429
    forgive_throttle(enrolled)
    assert client.post(reverse("login-code"), {"code": code_of(enrolled)})["Location"] == (
        reverse("login")
    )
    assert not signed_in(client)
    failures = AuditEvent.objects.filter(kind=AuditKind.SIGN_IN_FAILED, username="pingjiang")
    assert failures.filter(note="wrong two-factor code").count() == 5
    assert AuditEvent.objects.filter(kind=AuditKind.LOCKED_OUT).exists()


def test_a_code_step_left_too_long_starts_again(world, enrolled, client):
    sign_in(client, "pingjiang", PASSWORD)
    session = client.session
    session[PENDING_KEY] = {**session[PENDING_KEY], "at": int(time.time()) - 6 * 60}
    session.save()
    response = client.post(reverse("login-code"), {"code": code_of(enrolled)})
    assert response["Location"] == reverse("login")
    assert not signed_in(client)


def test_the_code_page_without_a_password_first_sends_back(world, client):
    assert client.get(reverse("login-code"))["Location"] == reverse("login")


def test_a_session_without_the_code_is_ended(world, enrolled, login):
    """Signed in before enrolling elsewhere, or past the code step some other way."""
    client = login(world.pingjiang_staff)
    assert client.get(reverse("home"))["Location"] == reverse("login")
    assert not signed_in(client)
    page = client.get(reverse("login")).content.decode()
    assert zh("Your account signs in with a two-factor code: sign in again here.") in page


def test_removing_needs_the_current_password(world, enrolled):
    client = Client()
    sign_in(client, "pingjiang", PASSWORD)
    client.post(reverse("login-code"), {"code": code_of(enrolled)})
    refused = client.post(reverse("two_factor_remove"), {"password": "Tongxin-2025"})
    assert refused.status_code == 400
    assert TOTPDevice.objects.filter(user=world.pingjiang_staff).exists()
    done = client.post(reverse("two_factor_remove"), {"password": PASSWORD})
    assert done["Location"] == reverse("two_factor")
    assert not TOTPDevice.objects.filter(user=world.pingjiang_staff).exists()
    assert client.get(reverse("home")).status_code == 200
    event = AuditEvent.objects.filter(kind=AuditKind.TWO_FACTOR).get()
    assert event.note == "removed" and PASSWORD not in f"{event.note} {event.changes}"
    client.post(reverse("logout"))
    assert sign_in(client, "pingjiang", PASSWORD)["Location"] == reverse("home")  # no code


# ---------------------------------------------------------------- compulsory for some roles


def test_compulsory_enrolment_for_the_named_roles(world, login, settings):
    settings.TONGXIN_REQUIRE_2FA_FOR = ["district", "superuser"]
    for user in (world.bureau, world.superuser):
        client = login(user)
        assert client.get(reverse("home"))["Location"] == reverse("two_factor"), user
        assert client.get("/admin/")["Location"] == reverse("two_factor"), user
        page = client.get(reverse("two_factor"))
        assert page.status_code == 200 and page.context["required"]
        client.post(reverse("logout"))
    # others are free to choose
    assert login(world.pingjiang_staff).get(reverse("home")).status_code == 200


def test_enrolling_opens_the_pages_again(world, login, settings):
    settings.TONGXIN_REQUIRE_2FA_FOR = ["district"]
    client = login(world.bureau)
    client.post(reverse("two_factor"))
    device = TOTPDevice.objects.get(user=world.bureau)
    assert client.get(reverse("two_factor_setup")).status_code == 200
    client.post(reverse("two_factor_setup"), {"code": code_of(device)})
    assert client.get(reverse("home")).status_code == 200
    assert client.get("/admin/").status_code == 200
