"""Optional two-factor sign-in with a time-based code (TOTP, django-otp): a user enrols an
authenticator app (QR code, or the secret typed in), confirms with a first code, and from
then on signs in with password and code (network.signin). ``TONGXIN_REQUIRE_2FA_FOR`` makes
enrolment compulsory for the roles it names ("district", "superuser")."""

import base64
import unicodedata

import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import DEVICE_ID_SESSION_KEY, user_has_device
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from network.access import scope_for
from network.audit import AuditKind, record
from network.models import User
from network.scoped import login_only_view

CODE_DIGITS = 6


def required_roles() -> set[str]:
    return {item.strip().lower() for item in settings.TONGXIN_REQUIRE_2FA_FOR if item.strip()}


def required_for(user) -> bool:
    """Whether ``user`` must enrol: a superuser when "superuser" is listed, anyone else when
    one of their current posts has a listed role."""
    wanted = required_roles()
    if not wanted or not user.is_authenticated:
        return False
    if user.is_superuser:
        return "superuser" in wanted
    return bool(wanted & set(scope_for(user).roles))


def has_device(user) -> bool:
    """Read from the user row every request loads anyway, not from the device table."""
    return user.two_factor_on


@receiver([post_save, post_delete], sender=TOTPDevice, dispatch_uid="tongxin_two_factor_on")
def keep_two_factor_on(sender, instance, **kwargs):
    """Enrolled, removed, or a device deleted in the admin: the flag follows."""
    on = user_has_device(instance.user, confirmed=True)
    User.objects.filter(pk=instance.user_id).exclude(two_factor_on=on).update(two_factor_on=on)


def confirmed_device(user):
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Six-digit code"),
        max_length=20,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autofocus": True,
            }
        ),
        help_text=gettext_lazy("The code your authenticator app shows now."),
    )

    def clean_code(self):
        code = unicodedata.normalize("NFKC", self.cleaned_data["code"])
        code = "".join(code.split())
        if len(code) != CODE_DIGITS or not code.isascii() or not code.isdigit():
            raise forms.ValidationError(_("Enter the six digits your authenticator app shows."))
        return code


class RemoveForm(forms.Form):
    password = forms.CharField(
        label=gettext_lazy("Your current password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("That is not your current password."))
        return password


def secret_text(device) -> str:
    """The secret as an authenticator app asks for it to be typed: base32 in groups of 4."""
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_svg(device) -> str:
    return segno.make(device.config_url, error="m").svg_inline(
        scale=4, dark="#000", light="#fff", title=_("QR code for your authenticator app")
    )


@login_only_view
@never_cache
@require_http_methods(["GET", "POST"])
def two_factor(request):
    """Whether the user has two-factor sign-in; start enrolment, or remove it."""
    user = request.user
    device = confirmed_device(user)
    if request.method == "POST":
        if device is not None:
            messages.info(request, _("Two-factor sign-in is already on."))
            return redirect("two_factor")
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        TOTPDevice.objects.create(user=user, name=_("Authenticator app"), confirmed=False)
        return redirect("two_factor_setup")
    return render(
        request,
        "network/two_factor_status.html",
        {
            "device": device,
            "required": required_for(user),
            "remove_form": RemoveForm(user=user) if device else None,
        },
    )


@login_only_view
@never_cache
@require_http_methods(["GET", "POST"])
def two_factor_setup(request):
    """The QR code and secret of the device being enrolled, and its first code."""
    user = request.user
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        return redirect("two_factor")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["code"]):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            TOTPDevice.objects.filter(user=user, confirmed=False).delete()
            otp_login(request, device)
            record(AuditKind.TWO_FACTOR, request=request, user=user, note="enrolled")
            messages.success(
                request, _("Two-factor sign-in is on: from now on you sign in with a code.")
            )
            return redirect("two_factor")
        form.add_error(
            "code",
            _("That code is not right. Check the time on your phone and type the newest code."),
        )
    return render(
        request,
        "network/two_factor_setup.html",
        {
            "form": form,
            "qr_svg": qr_svg(device),
            "secret": secret_text(device),
            "required": required_for(user),
        },
    )


@login_only_view
@require_POST
def two_factor_remove(request):
    user = request.user
    device = confirmed_device(user)
    if device is None:
        return redirect("two_factor")
    form = RemoveForm(request.POST, user=user)
    if not form.is_valid():
        return render(
            request,
            "network/two_factor_status.html",
            {"device": device, "required": required_for(user), "remove_form": form},
            status=400,
        )
    TOTPDevice.objects.filter(user=user).delete()
    request.session.pop(DEVICE_ID_SESSION_KEY, None)
    record(AuditKind.TWO_FACTOR, request=request, user=user, note="removed")
    messages.success(request, _("Two-factor sign-in is off."))
    return redirect("two_factor")
