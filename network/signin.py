"""Signing in and what a signed-in user must do first.

- The sign-in page (``SignInView``): one message for every refusal, so it never tells whether a
  user name exists; django-axes counts failures per user name and address together and locks
  that pair out after ``AXES_FAILURE_LIMIT`` failures for ``AXES_COOLOFF_MINUTES``
  (``lockout_response``: the sign-in page with a 429).
- Two-factor: a user with a confirmed TOTP device gives the code after the password
  (``sign_in_code``); a wrong code counts as a failed sign-in for axes, and django-otp's
  own back-off slows guessing further.
- ``SignInRequirementsMiddleware``: a user who must change their password, or who must enrol
  two-factor sign-in, reaches nothing else until they have; a session that holds a user with a
  device but was not verified with a code is ended.
- ``PasswordChangeView``: clears ``must_change_password`` and stamps ``password_changed_at``;
  Django's session hash then ends every other session of the user.
- Signal receivers write every sign-in, failure, lock-out and sign-out to the audit log
  (never a password or code).
"""

import time

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_lockout_response
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.dispatch import receiver
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from network import session_security, two_factor
from network.audit import AuditKind, record
from network.models import User
from network.scoped import LOGIN, public_view

PENDING_KEY = "tongxin_signin_pending"
PENDING_SECONDS = 5 * 60
TWO_FACTOR_NOTICE_KEY = "tongxin_signin_two_factor_notice"


def cool_off_minutes() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)


def lockout_message() -> str:
    return _(
        "Too many failed sign-ins. Try again in %(minutes)d minutes, or ask your "
        "sub-district administrator to unlock the account."
    ) % {"minutes": cool_off_minutes()}


class SignInForm(AuthenticationForm):
    """Django's form with one plain message for an unknown name, a wrong password and a
    switched-off account alike."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": gettext_lazy("Wrong user name or password. Both are case-sensitive."),
        "inactive": gettext_lazy("Wrong user name or password. Both are case-sensitive."),
    }


def lockout_response(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: the sign-in page with the lock-out message, the same for every
    user name (existing or not)."""
    request.session.pop(PENDING_KEY, None)
    return render(
        request,
        "registration/login.html",
        {"form": SignInForm(request), "locked_out": lockout_message(), "next": ""},
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )


class SignInView(auth_views.LoginView):
    form_class = SignInForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        idle = self.request.session.pop(session_security.IDLE_NOTICE_KEY, None)
        if idle:
            context["idle_notice"] = _(
                "You were signed out after %(n)d minutes without activity. Sign in again."
            ) % {"n": idle}
        if self.request.session.pop(TWO_FACTOR_NOTICE_KEY, None):
            context["two_factor_notice"] = _(
                "Your account signs in with a two-factor code: sign in again here."
            )
        return context

    def form_valid(self, form):
        user = form.get_user()
        if two_factor.has_device(user):
            self.request.session[PENDING_KEY] = {
                "user": user.pk,
                "backend": user.backend,
                "at": int(time.time()),
                "next": self.get_success_url(),
            }
            return redirect("login-code")
        return super().form_valid(form)


sign_in = public_view(SignInView.as_view())


def _pending_user(request):
    pending = request.session.get(PENDING_KEY)
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        request.session.pop(PENDING_KEY, None)
        return None, None
    user = User.objects.filter(pk=pending.get("user"), is_active=True).first()
    return user, pending


@public_view
@sensitive_post_parameters("code")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def sign_in_code(request):
    """The second step for a user with two-factor sign-in: the six-digit code."""
    user, pending = _pending_user(request)
    if user is None:
        messages.info(request, _("Sign in with your user name and password first."))
        return redirect("login")
    credentials = {"username": user.get_username()}
    form = two_factor.CodeForm(request.POST or None)
    if request.method == "POST":
        if not AxesProxyHandler.is_allowed(request, credentials):
            request.session.pop(PENDING_KEY, None)
            return get_lockout_response(request, None, credentials)
        if form.is_valid():
            device = two_factor.confirmed_device(user)
            if device is not None and device.verify_token(form.cleaned_data["code"]):
                request.session.pop(PENDING_KEY, None)
                user.otp_device = device  # django_otp marks the session verified at login
                auth_login(request, user, backend=pending["backend"])
                return HttpResponseRedirect(pending.get("next") or resolve_url("home"))
            form.add_error("code", _("That code is not right, or it has expired."))
            request.tongxin_sign_in_step = "code"
            user_login_failed.send(sender=__name__, credentials=credentials, request=request)
            if getattr(request, "axes_locked_out", False):
                request.session.pop(PENDING_KEY, None)  # AxesMiddleware shows the lock-out
    return render(request, "registration/login_code.html", {"form": form})


@public_view
def admin_login(request):
    """The admin signs in through Tongxin's own page (lock-out, two-factor code). A user
    already signed in who may not use the admin is told so: sending them to the sign-in
    page, which sends signed-in users on, would go round in circles."""
    if request.user.is_authenticated:
        raise PermissionDenied(_("Your role does not allow this."))
    next_url = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = reverse("admin:index")
    return redirect_to_login(next_url)


# ---------------------------------------------------------------- the password


class NewPasswordForm(PasswordChangeForm):
    """A password someone else chose (or an old one) is replaced, not typed again."""

    def clean(self):
        data = super().clean()
        password = data.get("new_password1")
        if password and not self.has_error("new_password2") and self.user.check_password(password):
            self.add_error(
                "new_password2",
                ValidationError(
                    _("The new password must differ from the current one."),
                    code="password_unchanged",
                ),
            )
        return data


class PasswordChangeView(auth_views.PasswordChangeView):
    tongxin_access = LOGIN
    form_class = NewPasswordForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["must_change"] = self.request.user.must_change_password
        return context

    def form_valid(self, form):
        user = form.user
        user.must_change_password = False
        user.password_changed_at = timezone.now()
        form.save()
        update_session_auth_hash(self.request, user)
        record(AuditKind.PASSWORD_CHANGE, request=self.request, user=user, note="own")
        return HttpResponseRedirect(self.get_success_url())


def password_set_by_admin(request, user) -> None:
    """After an administrator set ``user``'s password: they choose their own at the next
    sign-in (unless it was the administrator's own), and the change is audited."""
    own = request.user.pk == user.pk
    User.objects.filter(pk=user.pk).update(
        must_change_password=not own,
        password_changed_at=timezone.now(),
    )
    record(
        AuditKind.PASSWORD_CHANGE,
        request=request,
        user=user,
        obj=user,
        note="own" if own else f"set by {request.user.get_username()}",
    )


# ---------------------------------------------------------------- first things first

OPEN_TO_EVERYONE = {"logout", "set_language", "healthz", "login", "login-code"}
OPEN_FOR_PASSWORD = OPEN_TO_EVERYONE | {"password_change", "password_change_done"}
OPEN_FOR_TWO_FACTOR = OPEN_TO_EVERYONE | {"two_factor", "two_factor_setup"}


class SignInRequirementsMiddleware:
    """Until a signed-in user has changed a password someone else chose, or enrolled in
    two-factor sign-in where it is compulsory, every other page sends them there (htmx
    requests get a 403 with ``HX-Redirect``). A session of a user who has two-factor sign-in
    but did not give a code (signed in before enrolling) is ended."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith(settings.STATIC_URL):
            return None
        user = request.user
        if not user.is_authenticated:
            return None
        match = request.resolver_match
        name = match.url_name if match and not match.namespace else None
        if user.must_change_password:
            if name in OPEN_FOR_PASSWORD:
                return None
            return self.send(
                request, "password_change", _("Choose a new password before going on.")
            )
        if user.is_verified():
            return None
        if two_factor.has_device(user):
            request.tongxin_sign_out_reason = "two-factor code missing"
            logout(request)
            request.session[TWO_FACTOR_NOTICE_KEY] = True
            return self.send(request, "login", _("Your account signs in with a two-factor code."))
        if name not in OPEN_FOR_TWO_FACTOR and two_factor.required_for(user):
            return self.send(
                request, "two_factor", _("Turn on two-factor sign-in before going on.")
            )
        return None

    @staticmethod
    def send(request, url_name, message):
        url = reverse(url_name)
        if request.headers.get("HX-Request"):
            response = HttpResponse(message, status=403, content_type="text/plain; charset=utf-8")
            response["HX-Redirect"] = url
            return response
        return redirect(url)


# ---------------------------------------------------------------- the audit trail


def _known_user(username):
    if not username:
        return None
    return User.objects.filter(username=username).first()


@receiver(user_logged_in, dispatch_uid="tongxin_signin_logged_in")
def on_signed_in(sender, request, user, **kwargs):
    if request is None:
        return
    if hasattr(request, "session"):
        session_security.mark_active(request.session)
    via_code = getattr(user, "otp_device", None) is not None
    record(
        AuditKind.SIGN_IN,
        request=request,
        user=user,
        note="password and two-factor code" if via_code else "password",
    )


@receiver(user_login_failed, dispatch_uid="tongxin_signin_failed")
def on_sign_in_failed(sender, credentials, request=None, **kwargs):
    username = str((credentials or {}).get("username") or "")[:150]
    step = getattr(request, "tongxin_sign_in_step", "password")
    record(
        AuditKind.SIGN_IN_FAILED,
        request=request,
        user=_known_user(username),
        username=username,
        note="wrong two-factor code" if step == "code" else "wrong user name or password",
    )


@receiver(user_locked_out, dispatch_uid="tongxin_signin_locked_out")
def on_locked_out(sender, request=None, username=None, ip_address=None, **kwargs):
    username = str(username or "")[:150]
    record(
        AuditKind.LOCKED_OUT,
        request=request,
        user=_known_user(username),
        username=username,
        note=f"locked for {cool_off_minutes()} minutes",
    )


@receiver(user_logged_out, dispatch_uid="tongxin_signin_logged_out")
def on_signed_out(sender, request, user, **kwargs):
    if user is None or request is None:
        return
    record(
        AuditKind.SIGN_OUT,
        request=request,
        user=user,
        note=getattr(request, "tongxin_sign_out_reason", "signed out"),
    )
