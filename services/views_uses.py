"""Desk pages of card uses (一人次): the list with its filters, totals and export, recording a
use, a use's detail with its history, voiding and restoring; and the settlement of a
merchant for a period (what the street office reviews with it at renewal).

Thin views: reads in ``selectors_uses`` and ``settlement``, the rules in ``services.uses``.
"""

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from network.access import can_change_area, get_changeable_or_404, get_visible_or_404, scope_for
from network.scoped import scoped_view
from residents.archiving import archive_or_restore
from residents.pages import existing_by_key, posted_submission_key, xlsx_export
from residents.typed_input import typed_text, whole_number
from services.forms_uses import PeriodForm, UseFilterForm, UseForm, VoidForm
from services.models import CardUse, Merchant, ServiceCategory, UseChannel
from services.selectors_uses import (
    VOID_PREFIX,
    filter_uses,
    use_history,
    use_totals,
    uses_for,
    yuan,
)
from services.settlement import settlement_page, settlement_sheet_rows, sheet_header
from services.uses import record_use
from services.views_rows import counted_page, use_rows

VIEW = "services.view_carduse"
ADD = "services.add_carduse"
CHANGE = "services.change_carduse"
EXPORT = "services.export_services"
VIEW_MERCHANT = "services.view_merchant"
CHANGE_ACCOUNT = "services.change_merchantaccount"


def _may_record_somewhere(user) -> bool:
    scope = scope_for(user)
    return scope.everything or bool(scope.changeable_paths)


# ---------------------------------------------------------------- the list


@scoped_view(VIEW)
@require_GET
def use_list(request):
    form = UseFilterForm(request.GET or None, user=request.user)
    filters = form.filters
    records = filter_uses(uses_for(request.user), filters)
    totals = use_totals(records)
    page = counted_page(request, records, totals["uses"])  # the totals count the same rows
    merchant = filters.get("merchant")
    return render(
        request,
        "services/uses/use_list.html",
        {
            "form": form,
            "page": page,
            "rows": use_rows(page.object_list),
            "totals": totals,
            "can_add": request.user.has_perm(ADD) and _may_record_somewhere(request.user),
            "can_export": request.user.has_perm(EXPORT),
            "settlement_merchant": merchant if request.user.has_perm(VIEW_MERCHANT) else None,
        },
    )


@scoped_view(VIEW, EXPORT)
@require_GET
def use_export(request):
    """The list as an xlsx file, with the list's filters; every export is logged. Holders'
    names, never their ID numbers."""
    form = UseFilterForm(request.GET or None, user=request.user)
    filters = form.filters
    records = filter_uses(uses_for(request.user), filters).order_by("used_on", "id")
    categories = dict(ServiceCategory.choices)
    channels = dict(UseChannel.choices)
    header = [
        _("Date"),
        _("Card number"),
        _("Holder"),
        _("Holder's area"),
        _("Merchant"),
        _("Service"),
        _("Category"),
        _("Value (yuan)"),
        _("Paid (yuan)"),
        _("Benefit (yuan)"),
        _("Recorded"),
        _("Recorded by"),
        _("Note"),
        _("Voided"),
    ]

    def rows():
        for use in records.iterator(chunk_size=2000):
            yield [
                use.used_on,
                use.card.display_number,
                use.card.holder.name,
                use.card.holder.community.name,
                use.merchant.name,
                use.item.description,
                str(categories.get(use.item.category, use.item.category)),
                use.value_before,
                use.value_after,
                use.benefit,
                str(channels.get(use.channel, use.channel)),
                use.recorded_by.display_name if use.recorded_by_id else "",
                use.note,
                _("voided") if use.is_archived else "",
            ]

    area = filters.get("area")
    label = _("Card uses")
    return xlsx_export(
        request,
        header=header,
        rows=rows(),
        identifier="services.uses",
        label=f"{label} · {area.name}" if area else label,
        sheet=label,
        filename="card-uses",
        filters=form.logged_filters(),
        area=area,
    )


# ---------------------------------------------------------------- recording


FORM_FIELDS = ("card_number", "merchant", "used_on", "item", "value_before", "value_after", "note")


def _form_page(request, form):
    form.reload_services_from(reverse("services:use-create"))
    if not form.merchant_choices:
        messages.warning(request, _("You may see no partner merchant at which to record a use."))
    return render(request, "services/uses/use_form.html", {"form": form})


@scoped_view(VIEW, ADD)
@require_http_methods(["GET", "POST"])
def use_create(request):
    """Record a use. ``?card_number=&merchant=&used_on=`` fill the form in (the htmx reload
    of the service box asks this page again with the merchant and the date)."""
    if request.method == "GET":
        initial = {"submission_key": str(uuid.uuid4()), "used_on": timezone.localdate()}
        for name in ("card_number", "merchant", "used_on"):
            if request.GET.get(name):
                initial[name] = typed_text(request.GET[name], 40)
        return _form_page(request, UseForm(initial=initial, user=request.user))

    data = request.POST
    key = posted_submission_key(data)
    existing = existing_by_key(CardUse, request.user, key)
    if existing:
        messages.info(request, _("This use was already recorded."))
        return redirect("services:use-detail", pk=existing.pk)
    if existing is False or key is None:  # taken out of sight, or garbled: a fresh key
        data = data.copy()
        data["submission_key"] = str(uuid.uuid4())
    if "refresh" in data:  # without JavaScript: show the services of the merchant and date
        initial = {name: typed_text(data.get(name), 200) for name in FORM_FIELDS}
        initial["submission_key"] = data["submission_key"]
        return _form_page(request, UseForm(initial=initial, user=request.user))

    form = UseForm(data, user=request.user)
    if form.is_valid():
        chosen = form.cleaned_data
        try:
            use, created = record_use(
                card=form.card,
                merchant=chosen["merchant"],
                item=chosen["item"],
                value_before=chosen["value_before"],
                value_after=chosen["value_after"],
                used_on=chosen["used_on"],
                note=chosen["note"],
                user=request.user,
                channel=UseChannel.DESK,
                submission_key=chosen["submission_key"],
            )
        except ValidationError as exc:  # refused: nothing recorded
            form.add_error(None, exc.messages)
        else:
            if created:
                messages.success(
                    request,
                    _("Use recorded: benefit ¥%(benefit)s.") % {"benefit": yuan(use.benefit)},
                )
            else:
                messages.info(request, _("This use was already recorded."))
            return redirect("services:use-detail", pk=use.pk)
    messages.error(request, _("Nothing was recorded: correct what is marked below."))
    return _form_page(request, form)


# ---------------------------------------------------------------- one use


def _use(request, pk, *, for_change=False):
    records = CardUse.objects.select_related(
        "card__holder__community", "merchant", "item__agreement", "recorded_by"
    )
    if for_change:
        return get_changeable_or_404(records, request.user, pk=pk)
    return get_visible_or_404(records, request.user, pk=pk)


@scoped_view(VIEW)
@require_GET
def use_detail(request, pk):
    use = _use(request, pk)
    can_change = (
        request.user.has_perm(CHANGE)
        and CardUse.objects.changeable_by(request.user).filter(pk=use.pk).exists()
    )
    return render(
        request,
        "services/uses/use_detail.html",
        {
            "use": use,
            "history": use_history(use),
            "can_change": can_change,
            "void_form": VoidForm(),
        },
    )


@scoped_view(VIEW, CHANGE)
@require_POST
def use_void(request, pk):
    """Void a use recorded by mistake: archived (it no longer counts) with the reason kept
    in its history."""
    use = _use(request, pk, for_change=True)
    if use.is_archived:
        messages.info(request, _("This use is already voided."))
        return redirect("services:use-detail", pk=use.pk)
    form = VoidForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("reason", [])))
        return redirect("services:use-detail", pk=use.pk)
    use.archived_at = timezone.now()
    use._change_reason = VOID_PREFIX + form.cleaned_data["reason"]
    use.save(update_fields=["archived_at", "updated_at"])
    messages.success(request, _("Use voided: it no longer counts."))
    return redirect("services:use-detail", pk=use.pk)


@scoped_view(VIEW, CHANGE)
@require_POST
def use_restore(request, pk):
    return archive_or_restore(
        request,
        _use(request, pk, for_change=True),
        archived=False,
        done=_("Use restored: it counts again."),
        already=_("This use is not voided."),
        detail="services:use-detail",
    )


# ---------------------------------------------------------------- settlement


@scoped_view(VIEW_MERCHANT, VIEW)
@require_GET
def settlement_choose(request):
    """Choose the merchant whose settlement to see (``?merchant=`` goes straight to it)."""
    merchants = Merchant.objects.visible_to(request.user).select_related("area")
    pk = whole_number(request.GET.get("merchant"))
    if pk is not None:
        chosen = merchants.filter(pk=pk).first()
        if chosen is not None:
            return redirect("services:settlement", merchant_pk=chosen.pk)
    rows = list(merchants.current().order_by("name", "id"))
    may_manage = request.user.has_perm(CHANGE_ACCOUNT)
    for merchant in rows:
        merchant.may_manage_tills = may_manage and can_change_area(request.user, merchant.area)
    return render(request, "services/uses/settlement_choose.html", {"merchants": rows})


def _visible_merchant(request, merchant_pk):
    return get_visible_or_404(Merchant.objects.select_related("area"), request.user, pk=merchant_pk)


@scoped_view(VIEW_MERCHANT, VIEW)
@require_GET
def settlement_view(request, merchant_pk):
    merchant = _visible_merchant(request, merchant_pk)
    context = settlement_page(merchant, PeriodForm(request.GET or None))
    context["can_export"] = request.user.has_perm(EXPORT)
    query = QueryDict(mutable=True)
    query.update({k: v for k, v in request.GET.items() if k in context["form"].fields})
    context["query"] = query.urlencode()
    return render(request, "services/uses/settlement.html", context)


@scoped_view(VIEW_MERCHANT, VIEW, EXPORT)
@require_GET
def settlement_export(request, merchant_pk):
    merchant = _visible_merchant(request, merchant_pk)
    context = settlement_page(merchant, PeriodForm(request.GET or None))
    period = context["period"]
    label = _("Settlement")
    filters = context["form"].logged_filters()
    filters.update(
        merchant=merchant.name,
        period_from=period.start.isoformat(),
        period_to=period.end.isoformat(),
    )
    return xlsx_export(
        request,
        header=sheet_header(),
        rows=settlement_sheet_rows(context["settlement"]),
        identifier="services.settlement",
        label=f"{label} · {merchant.name} · {period.label}",
        sheet=label,
        filename="settlement",
        filters=filters,
        area=merchant.area,
    )
