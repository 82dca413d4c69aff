"""A partner merchant's till (issue 5 §3): on a phone, type or scan a card number, tap the
service, confirm — two taps — and see the merchant's own settlement. A till login holds no
post: every view here is an ``account_view`` bound to the login's merchant, and shows that
merchant's own things only; of the register it shows the holder's masked name, nothing else.

Also the staff page of a merchant's till logins: create one, switch one off or on.
"""

import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from network.access import get_changeable_or_404
from network.models import User
from network.scoped import account_view, scoped_view
from residents.names import masked_name
from residents.pages import posted_submission_key
from residents.typed_input import MAX_ID, whole_number
from services.forms_uses import PeriodForm, TillLoginForm, TillValueForm
from services.models import AgreementItem, CardUse, Merchant, MerchantAccount, UseChannel
from services.selectors_uses import TillCard, holds_a_post, till_recent, till_today
from services.settlement import settlement_page, yuan
from services.uses import card_by_number, merchant_of, record_use, refuse_card, refuse_item
from services.uses import usable_items as items_on

VIEW_MERCHANT = "services.view_merchant"
CHANGE_ACCOUNT = "services.change_merchantaccount"
ADD_ACCOUNT = "services.add_merchantaccount"


# ---------------------------------------------------------------- checks


def checked_card(raw, today):
    """``(card, refusal)``: the card with the typed number if it may be used today, else
    None and the reason (unknown, mistyped, lost, revoked, expired)."""
    try:
        card = card_by_number(raw)
        refuse_card(card, today)
    except ValidationError as exc:
        return None, " ".join(exc.messages)
    return card, ""


def own_item(raw, merchant: Merchant, today):
    """``(item, refusal)``: the posted service if it is in this merchant's agreement in force
    today. Another merchant's item, or no item at all, is refused without naming it."""
    pk = whole_number(raw)
    item = None
    if pk is not None and 0 < pk <= MAX_ID:
        item = AgreementItem.objects.select_related("agreement").filter(pk=pk).first()
    try:
        if item is None:
            raise ValidationError(
                _("This service is not in an agreement of %(merchant)s.")
                % {"merchant": merchant.name}
            )
        refuse_item(item, merchant, today)
    except ValidationError as exc:
        return None, " ".join(exc.messages)
    return item, ""


def _recorded_message(use: CardUse) -> str:
    return _(
        "Recorded for %(holder)s: %(service)s — value ¥%(value)s, paid ¥%(paid)s, "
        "benefit ¥%(benefit)s."
    ) % {
        "holder": masked_name(use.card.holder.name),
        "service": use.item.description,
        "value": yuan(use.value_before),
        "paid": yuan(use.value_after),
        "benefit": yuan(use.benefit),
    }


# ---------------------------------------------------------------- the till


@account_view(merchant_of)
@require_GET
def till_home(request, merchant):
    today = timezone.localdate()
    return render(
        request,
        "services/till/home.html",
        {
            "merchant": merchant,
            "today": today,
            "totals": till_today(merchant, today),
            "recent": till_recent(merchant),
        },
    )


@account_view(merchant_of)
@require_GET
def till_card(request, merchant):
    """Tap 1: the card's validity, the holder's masked name, and the merchant's services
    today as big buttons. A card that may not be used shows why, and no buttons."""
    today = timezone.localdate()
    raw = request.GET.get("number", "")
    card, refusal = checked_card(raw, today)
    items = []
    if card is not None:
        items = list(items_on(merchant, today))
        for item in items:
            if item.usual_price is not None:
                item.pays = item.price_after(item.usual_price)
    return render(
        request,
        "services/till/card.html",
        {
            "merchant": merchant,
            "card": TillCard.of(card, today) if card else None,
            "refusal": refusal,
            "items": items,
        },
    )


@account_view(merchant_of)
@require_http_methods(["GET", "POST"])
def till_confirm(request, merchant):
    """Tap 2: the service, its usual price and the price after the benefit; "confirm"
    records the use (once, however often the form is sent) and goes back to the till."""
    today = timezone.localdate()
    source = request.POST if request.method == "POST" else request.GET
    key = uuid.uuid4()
    if request.method == "POST":
        posted = posted_submission_key(request.POST)
        earlier = None
        if posted is not None:
            earlier = (
                CardUse.objects.select_related("card__holder", "item")
                .filter(submission_key=posted)
                .first()
            )
        if earlier is not None and earlier.merchant_id == merchant.pk:
            messages.info(request, _("This use was already recorded."))
            messages.success(request, _recorded_message(earlier))
            return redirect("services:till")
        if posted is not None and earlier is None:
            key = posted  # a key taken by another merchant's use is not this form's
    card, refusal = checked_card(source.get("number", ""), today)
    item = None
    if card is not None:
        item, refusal = own_item(source.get("item"), merchant, today)
    context = {
        "merchant": merchant,
        "card": TillCard.of(card, today) if card else None,
        "refusal": refusal,
        "item": item,
        "submission_key": key,
    }
    if item is None:
        return render(request, "services/till/confirm.html", context)

    form = TillValueForm(
        request.POST if request.method == "POST" else None,
        item=item,
        initial={"value_before": item.usual_price},
    )
    if request.method == "POST" and form.is_valid():
        try:
            use, _created = record_use(
                card=card,
                merchant=merchant,
                item=item,
                value_before=form.cleaned_data["value_before"],
                user=request.user,
                channel=UseChannel.TILL,
                submission_key=key,
            )
        except ValidationError as exc:  # refused: nothing recorded
            context["refusal"] = " ".join(exc.messages)
        else:
            messages.success(request, _recorded_message(use))
            return redirect("services:till")
    context["form"] = form
    if item.usual_price is not None:
        context["pays"] = item.price_after(item.usual_price)
        context["benefit"] = item.usual_price - context["pays"]
    return render(request, "services/till/confirm.html", context)


@account_view(merchant_of)
@require_GET
def till_settlement(request, merchant):
    """The merchant's own settlement for a period; nothing about any other merchant."""
    context = settlement_page(merchant, PeriodForm(request.GET or None))
    return render(request, "services/till/settlement.html", context)


# ---------------------------------------------------------------- till logins (staff)


@transaction.atomic
def till_login_create(*, merchant: Merchant, username: str, real_name: str, password: str):
    """A new account with no post, bound to ``merchant``'s till."""
    if merchant.is_archived:
        raise ValidationError(
            _("%(merchant)s is no longer a partner merchant.") % {"merchant": merchant.name}
        )
    # the password is the staff's choice: the cashier chooses their own at first sign-in
    user = User(username=username, real_name=real_name, must_change_password=True)
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    return MerchantAccount.objects.create(user=user, merchant=merchant)


@transaction.atomic
def till_login_switch(account: MerchantAccount, *, on: bool) -> None:
    """Switch a till login off (it can no longer sign in) or on again. A login that has
    since been given a post is not switched on."""
    if on and holds_a_post(account.user):
        raise ValidationError(_("This account holds a post: it cannot be made a till login."))
    if on and account.merchant.is_archived:
        raise ValidationError(
            _("%(merchant)s is no longer a partner merchant.") % {"merchant": account.merchant.name}
        )
    account.is_active = on
    account._change_reason = "switched on" if on else "switched off"
    account.save(update_fields=["is_active"])
    account.user.is_active = on
    account.user._change_reason = account._change_reason
    account.user.save(update_fields=["is_active"])


def _changeable_merchant(request, merchant_pk):
    return get_changeable_or_404(
        Merchant.objects.select_related("area"), request.user, pk=merchant_pk
    )


@scoped_view(VIEW_MERCHANT, CHANGE_ACCOUNT)
@require_http_methods(["GET", "POST"])
def merchant_accounts(request, merchant_pk):
    """A merchant's till logins; a new one is created here (an account with no post)."""
    merchant = _changeable_merchant(request, merchant_pk)
    may_add = request.user.has_perm(ADD_ACCOUNT) and not merchant.is_archived
    form = TillLoginForm(request.POST or None)
    if request.method == "POST":
        if not request.user.has_perm(ADD_ACCOUNT):
            raise PermissionDenied(_("Your role does not allow this."))
        if form.is_valid():
            try:
                account = till_login_create(
                    merchant=merchant,
                    username=form.cleaned_data["username"],
                    real_name=form.cleaned_data["real_name"],
                    password=form.cleaned_data["password1"],
                )
            except ValidationError as exc:
                form.add_error(None, exc.messages)
            except IntegrityError:  # the same username taken at the same moment
                form.add_error("username", _("This username is taken."))
            else:
                messages.success(
                    request,
                    _("Till login %(username)s created for %(merchant)s.")
                    % {"username": account.user.username, "merchant": merchant.name},
                )
                return redirect("services:merchant-accounts", merchant_pk=merchant.pk)
        messages.error(request, _("Nothing was saved: correct the fields marked below."))
    accounts = (
        MerchantAccount.objects.changeable_by(request.user)
        .filter(merchant=merchant)
        .select_related("user")
        .order_by("-is_active", "user__username")
    )
    return render(
        request,
        "services/till/accounts.html",
        {"merchant": merchant, "accounts": accounts, "form": form, "may_add": may_add},
    )


@scoped_view(VIEW_MERCHANT, CHANGE_ACCOUNT)
@require_POST
def merchant_account_switch(request, merchant_pk, pk):
    merchant = _changeable_merchant(request, merchant_pk)
    account = get_changeable_or_404(
        MerchantAccount.objects.select_related("user", "merchant"),
        request.user,
        pk=pk,
        merchant=merchant,
    )
    on = not account.is_active
    try:
        till_login_switch(account, on=on)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        done = (
            _("Till login %(username)s switched on.")
            if on
            else _("Till login %(username)s switched off: it can no longer sign in.")
        )
        messages.success(request, done % {"username": account.user.username})
    return redirect("services:merchant-accounts", merchant_pk=merchant.pk)
