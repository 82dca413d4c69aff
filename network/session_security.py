"""Idle sessions end: a signed-in user who sends no request for ``SESSION_IDLE_TIMEOUT``
seconds (default 30 minutes; 0 switches it off) is signed out at their next request, and the
sign-in page says why. ``SESSION_COOKIE_AGE`` still ends every session after eight hours.

The time of the last request is kept in the session, rewritten only when the kept time is a
minute or more old, so a busy user's session row is written about once a minute rather than
at every request (the timeout is then exact to within that minute)."""

import time

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse
from django.shortcuts import resolve_url
from django.utils.translation import gettext as _

LAST_SEEN_KEY = "tongxin_last_seen"
IDLE_NOTICE_KEY = "tongxin_idle_minutes"
WRITE_EVERY = 60  # seconds


def idle_timeout() -> int:
    return int(getattr(settings, "SESSION_IDLE_TIMEOUT", 0) or 0)


def idle_minutes() -> int:
    return max(1, round(idle_timeout() / 60))


def mark_active(session, now: float | None = None) -> None:
    session[LAST_SEEN_KEY] = int(now if now is not None else time.time())


class IdleTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        timeout = idle_timeout()
        if timeout and request.user.is_authenticated:
            now = time.time()
            last_seen = request.session.get(LAST_SEEN_KEY)
            if isinstance(last_seen, int) and now - last_seen > timeout:
                return self.sign_out(request)
            if not isinstance(last_seen, int) or now - last_seen >= WRITE_EVERY:
                mark_active(request.session, now)
        return self.get_response(request)

    def sign_out(self, request):
        request.tongxin_sign_out_reason = "idle"
        logout(request)
        request.session[IDLE_NOTICE_KEY] = idle_minutes()
        if request.headers.get("HX-Request"):
            response = HttpResponse(
                _("You were signed out after %(n)d minutes without activity. Sign in again.")
                % {"n": idle_minutes()},
                status=401,
                content_type="text/plain; charset=utf-8",
            )
            response["HX-Redirect"] = resolve_url(settings.LOGIN_URL)
            return response
        next_url = request.get_full_path() if request.method == "GET" else None
        return redirect_to_login(next_url or "/")
