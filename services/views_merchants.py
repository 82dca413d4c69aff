"""Desk pages of partner merchants (签约商户) and their service agreements (服务协议): lists
with filters and a logged export, detail pages with their history, create and edit (an
agreement with its items on one page), archive and restore, the renewal list, and the
scanned agreement, sent only through ``agreement_document``.

Thin views: reading lives in ``selectors_merchants``, the rules in the forms and models.
"""

import uuid

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from network.access import can_change_area, get_changeable_or_404, get_visible_or_404
from network.scoped import scoped_view
from residents.archiving import archive_or_restore
from residents.pages import page_of, posted_submission_key, xlsx_export
from residents.typed_input import MAX_ID, whole_number
from services.forms_merchants import (
    AgreementFilterForm,
    AgreementForm,
    MerchantFilterForm,
    MerchantForm,
    area_in_line,
    document_content_type,
    item_formset_class,
    items_with_use_counts,
    renewal_initial,
    signing_areas,
)
from services.models import (
    RENEWAL_DAYS,
    Agreement,
    AgreementItem,
    AgreementStatus,
    Merchant,
    ServiceCategory,
)
from services.selectors_merchants import (
    EXPIRED_RENEWAL_DAYS,
    agreement_history,
    agreement_items,
    agreements_for,
    filter_agreements,
    filter_merchants,
    merchant_accounts,
    merchant_agreements,
    merchant_history,
    merchants_for,
    renewals_for,
    with_shown_status,
)
from services.views_rows import agreement_rows, counted_page, merchant_rows

VIEW_MERCHANT = "services.view_merchant"
ADD_MERCHANT = "services.add_merchant"
CHANGE_MERCHANT = "services.change_merchant"
VIEW_AGREEMENT = "services.view_agreement"
ADD_AGREEMENT = "services.add_agreement"
CHANGE_AGREEMENT = "services.change_agreement"
ITEM_PERMISSIONS = ("services.add_agreementitem", "services.change_agreementitem")
EXPORT = "services.export_services"


def _may_manage_somewhere(user) -> bool:
    return signing_areas(user).exists()


# ---------------------------------------------------------------- a second POST of a form


def _made_with_key(request, model):
    """What this create form already made (a second click on Save, or the browser sending
    the form again), found by the submission key the form carried; None if nothing was.
    One made with the key that the user may not see is a 404, as everything unseen is."""
    key = posted_submission_key(request.POST)
    if key is None:
        return None
    made = model.objects.filter(submission_key=key).only("pk").first()
    if made is None:
        return None
    return get_visible_or_404(model.objects.all(), request.user, pk=made.pk)


# ---------------------------------------------------------------- merchants


@scoped_view(VIEW_MERCHANT)
@require_GET
def merchant_list(request):
    form = MerchantFilterForm(request.GET or None, user=request.user)
    today = timezone.localdate()
    filters = form.filters
    records = filter_merchants(merchants_for(request.user, today), filters)
    # counted without the agreements joined for the row's figure
    count = filter_merchants(Merchant.objects.visible_to(request.user), filters).count()
    page = counted_page(request, records, count)
    return render(
        request,
        "services/merchants/merchant_list.html",
        {
            "form": form,
            "page": page,
            "rows": merchant_rows(page),
            "can_add": request.user.has_perm(ADD_MERCHANT) and _may_manage_somewhere(request.user),
            "can_import": request.user.has_perms([ADD_MERCHANT, CHANGE_MERCHANT])
            and _may_manage_somewhere(request.user),
            "can_export": request.user.has_perm(EXPORT),
        },
    )


@scoped_view(VIEW_MERCHANT, EXPORT)
@require_GET
def merchant_export(request):
    """The list as an xlsx file, with the list's filters; every export is logged."""
    form = MerchantFilterForm(request.GET or None, user=request.user)
    today = timezone.localdate()
    filters = form.filters
    records = filter_merchants(merchants_for(request.user, today), filters)
    categories = dict(ServiceCategory.choices)
    header = [
        _("Name"),
        _("Category"),
        _("Managing area"),
        _("Areas served"),
        _("Address"),
        _("Contact person"),
        _("Phone"),
        _("Licence number"),
        _("Agreements in force"),
        _("Archived"),
    ]

    def rows():
        for m in records:
            yield [
                m.name,
                str(categories.get(m.category, m.category)),
                m.area.name,
                "、".join(a.name for a in m.serves.all()),
                m.address,
                m.contact_person,
                m.phone,
                m.licence_number,
                m.agreements_in_force,
                _("yes") if m.archived_at else "",
            ]

    area = filters.get("area")
    label = _("Partner merchants")
    return xlsx_export(
        request,
        header=header,
        rows=rows(),
        identifier="services.merchants",
        label=f"{label} · {area.name}" if area else label,
        sheet=label,
        filename="merchants",
        filters=form.logged_filters(),
        area=area,
    )


@scoped_view(VIEW_MERCHANT)
@require_GET
def merchant_detail(request, pk):
    merchant = get_visible_or_404(
        Merchant.objects.select_related("area").prefetch_related("serves"), request.user, pk=pk
    )
    today = timezone.localdate()
    user = request.user
    may_change_here = can_change_area(user, merchant.area)
    show_accounts = user.has_perm("services.view_merchantaccount")
    return render(
        request,
        "services/merchants/merchant_detail.html",
        {
            "merchant": merchant,
            "serves": sorted(merchant.serves.all(), key=lambda a: a.path),
            "agreements": merchant_agreements(user, merchant, today),
            "accounts": list(merchant_accounts(user, merchant)) if show_accounts else None,
            "history": merchant_history(merchant),
            "can_change": user.has_perm(CHANGE_MERCHANT) and may_change_here,
            "can_add_agreement": user.has_perms([ADD_AGREEMENT, *ITEM_PERMISSIONS])
            and not merchant.is_archived
            and any(area_in_line(a, merchant.area) for a in signing_areas(user)),
        },
    )


def _merchant_form_page(request, form, *, merchant, title):
    return render(
        request,
        "services/merchants/merchant_form.html",
        {"form": form, "merchant": merchant, "title": title},
    )


def _save_merchant(form):
    """Save, or put a licence number taken meanwhile on its field (never a 500)."""
    try:
        with transaction.atomic():
            return form.save()
    except IntegrityError:
        form.add_error("licence_number", _("A merchant with this licence number exists."))
        return None


@scoped_view(VIEW_MERCHANT, ADD_MERCHANT)
@require_http_methods(["GET", "POST"])
def merchant_create(request):
    title = _("Add a partner merchant")
    if request.method == "GET":
        if not _may_manage_somewhere(request.user):
            messages.error(request, _("You manage no area in which to add a merchant."))
        areas = list(signing_areas(request.user)[:2])
        initial = {"submission_key": str(uuid.uuid4())}
        if len(areas) >= 1:
            initial["area"] = areas[0].pk
        form = MerchantForm(initial=initial, user=request.user)
        return _merchant_form_page(request, form, merchant=None, title=title)
    if done := _made_with_key(request, Merchant):
        messages.info(request, _("This merchant was already added."))
        return redirect("services:merchant-detail", pk=done.pk)
    form = MerchantForm(request.POST, user=request.user)
    if form.is_valid():
        merchant = _save_merchant(form)
        if merchant is None and (done := _made_with_key(request, Merchant)):
            return redirect("services:merchant-detail", pk=done.pk)  # the other POST won
        if merchant is not None:
            messages.success(request, _("Merchant added."))
            return redirect("services:merchant-detail", pk=merchant.pk)
    messages.error(request, _("Nothing was saved: correct the fields marked below."))
    return _merchant_form_page(request, form, merchant=None, title=title)


def _changeable_merchant(request, pk):
    return get_changeable_or_404(Merchant.objects.select_related("area"), request.user, pk=pk)


@scoped_view(VIEW_MERCHANT, CHANGE_MERCHANT)
@require_http_methods(["GET", "POST"])
def merchant_edit(request, pk):
    merchant = _changeable_merchant(request, pk)
    if merchant.is_archived:
        messages.error(request, _("Restore this merchant before editing it."))
        return redirect("services:merchant-detail", pk=merchant.pk)
    title = _("Edit %(name)s") % {"name": merchant.name}
    if request.method == "POST":
        form = MerchantForm(request.POST, instance=merchant, user=request.user)
        if form.is_valid() and _save_merchant(form) is not None:
            messages.success(request, _("Merchant saved."))
            return redirect("services:merchant-detail", pk=merchant.pk)
        messages.error(request, _("Nothing was saved: correct the fields marked below."))
    else:
        form = MerchantForm(instance=merchant, user=request.user)
    return _merchant_form_page(request, form, merchant=merchant, title=title)


def _merchant_archived(request, pk, *, archived: bool):
    return archive_or_restore(
        request,
        _changeable_merchant(request, pk),
        archived=archived,
        done=_("Merchant archived: it no longer shows in the lists and its till login stops.")
        if archived
        else _("Merchant restored."),
        already=_("This merchant is already archived.")
        if archived
        else _("This merchant is not archived."),
        detail="services:merchant-detail",
    )


@scoped_view(VIEW_MERCHANT, CHANGE_MERCHANT)
@require_POST
def merchant_archive(request, pk):
    return _merchant_archived(request, pk, archived=True)


@scoped_view(VIEW_MERCHANT, CHANGE_MERCHANT)
@require_POST
def merchant_restore(request, pk):
    return _merchant_archived(request, pk, archived=False)


# ---------------------------------------------------------------- agreements: lists


@scoped_view(VIEW_AGREEMENT)
@require_GET
def agreement_list(request):
    form = AgreementFilterForm(request.GET or None, user=request.user)
    today = timezone.localdate()
    filters = form.filters
    records = filter_agreements(agreements_for(request.user), filters, today=today)
    # counted without the items joined for the row's figure
    visible = Agreement.objects.visible_to(request.user)
    page = counted_page(request, records, filter_agreements(visible, filters, today=today).count())
    with_shown_status(page.object_list, today)
    return render(
        request,
        "services/merchants/agreement_list.html",
        {
            "form": form,
            "page": page,
            "rows": agreement_rows(page.object_list),
            "can_add": _may_add_agreements(request.user),
            "can_import": _may_add_agreements(request.user),
            "can_export": request.user.has_perm(EXPORT),
        },
    )


def _may_add_agreements(user) -> bool:
    return user.has_perms(
        [ADD_AGREEMENT, CHANGE_AGREEMENT, *ITEM_PERMISSIONS]
    ) and _may_manage_somewhere(user)


@scoped_view(VIEW_AGREEMENT)
@require_GET
def agreement_renewals(request):
    today = timezone.localdate()
    page = page_of(request, renewals_for(request.user, today))
    with_shown_status(page.object_list, today)
    may_renew = _may_add_agreements(request.user)
    for agreement in page.object_list:  # seen from a community, not renewed from it
        agreement.may_renew = may_renew and can_change_area(request.user, agreement.area)
    return render(
        request,
        "services/merchants/agreement_renewals.html",
        {
            "page": page,
            "renewal_days": RENEWAL_DAYS,
            "expired_days": EXPIRED_RENEWAL_DAYS,
            "can_renew": may_renew,
        },
    )


@scoped_view(VIEW_AGREEMENT, EXPORT)
@require_GET
def agreement_export(request):
    """The list as an xlsx file, with the list's filters; every export is logged."""
    form = AgreementFilterForm(request.GET or None, user=request.user)
    today = timezone.localdate()
    filters = form.filters
    records = filter_agreements(agreements_for(request.user), filters, today=today)
    records = records.prefetch_related(
        Prefetch("items", queryset=AgreementItem.objects.order_by("id"))
    )
    header = [
        _("Merchant"),
        _("Agreement number"),
        _("Signing area"),
        _("Status"),
        _("Signed on"),
        _("Valid from"),
        _("Valid to"),
        _("Terminated on"),
        _("Items"),
        _("Services and benefits"),
    ]

    def rows():
        for a in records:
            items = [i for i in a.items.all() if not i.is_withdrawn]
            yield [
                a.merchant.name,
                a.number,
                a.area.name,
                a.shown_status(today),
                a.signed_on,
                a.valid_from,
                a.valid_to,
                a.terminated_on,
                len(items),
                "；".join(f"{i.description}（{i.benefit_text}）" for i in items),
            ]

    area = filters.get("area")
    label = _("Service agreements")
    return xlsx_export(
        request,
        header=header,
        rows=rows(),
        identifier="services.agreements",
        label=f"{label} · {area.name}" if area else label,
        sheet=label,
        filename="agreements",
        filters=form.logged_filters(),
        area=area,
    )


# ---------------------------------------------------------------- agreements: one


@scoped_view(VIEW_AGREEMENT)
@require_GET
def agreement_detail(request, pk):
    agreement = get_visible_or_404(
        Agreement.objects.select_related("merchant__area", "area", "created_by"),
        request.user,
        pk=pk,
    )
    today = timezone.localdate()
    with_shown_status([agreement], today)
    user = request.user
    may_change = user.has_perms([CHANGE_AGREEMENT, *ITEM_PERMISSIONS]) and can_change_area(
        user, agreement.area
    )
    merchant_visible = Merchant.objects.visible_to(user).filter(pk=agreement.merchant_id).exists()
    return render(
        request,
        "services/merchants/agreement_detail.html",
        {
            "agreement": agreement,
            "items": list(agreement_items(agreement)),
            "history": agreement_history(agreement),
            "merchant_visible": merchant_visible,
            "can_change": may_change,
            "can_renew": _may_add_agreements(user)
            and can_change_area(user, agreement.area)
            and agreement.status == AgreementStatus.SIGNED
            and not agreement.merchant.is_archived,
        },
    )


@scoped_view(VIEW_AGREEMENT)
@require_GET
def agreement_document(request, pk):
    """The scanned agreement, for users who may see the agreement (404 for anyone else);
    the files are never served from a public /media/ address."""
    agreement = get_visible_or_404(Agreement.objects.all(), request.user, pk=pk)
    if not agreement.document:
        raise Http404
    try:
        handle = agreement.document.open("rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404 from exc
    name = agreement.document.name
    suffix = name.rsplit(".", 1)[-1] if "." in name else "bin"
    label = agreement.number or f"{agreement.valid_from:%Y%m%d}"
    response = FileResponse(handle, content_type=document_content_type(name))
    response["Content-Disposition"] = content_disposition_header(
        False, f"{agreement.merchant.name}-{label}.{suffix}"
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    return response


def _agreement_form_page(request, form, formset, *, agreement, title, renewing=None):
    return render(
        request,
        "services/merchants/agreement_form.html",
        {
            "form": form,
            "formset": formset,
            "agreement": agreement,
            "renewing": renewing,
            "title": title,
        },
    )


def _save_agreement(request, form, formset) -> Agreement | None:
    """Save an agreement and its items together: all or nothing."""
    try:
        with transaction.atomic():
            agreement = form.save(commit=False)
            if not agreement.pk:
                agreement.created_by = request.user
            agreement.save()
            formset.instance = agreement
            formset.save()
    except IntegrityError:
        form.add_error(None, _("Nothing was saved: someone changed this agreement meanwhile."))
        return None
    return agreement


def _bound_agreement(request, *, instance=None):
    """The posted agreement form and its item formset, validated together (the formset
    needs the status the form was given)."""
    form = AgreementForm(request.POST, request.FILES, instance=instance, user=request.user)
    formset = item_formset_class(0)(
        request.POST,
        instance=instance or Agreement(),
        queryset=items_with_use_counts(),
        prefix="items",
    )
    form_ok = form.is_valid()
    formset.require_item = form.cleaned_data.get("status") == AgreementStatus.SIGNED
    formset_ok = formset.is_valid()
    return form, formset, form_ok and formset_ok


def _create_agreement(request, *, title, renewing=None):
    if done := _made_with_key(request, Agreement):
        messages.info(request, _("This agreement was already recorded."))
        return redirect("services:agreement-detail", pk=done.pk)
    form, formset, ok = _bound_agreement(request)
    if ok:
        agreement = _save_agreement(request, form, formset)
        if agreement is None and (done := _made_with_key(request, Agreement)):
            return redirect("services:agreement-detail", pk=done.pk)  # the other POST won
        if agreement is not None:
            messages.success(request, _("Agreement recorded."))
            return redirect("services:agreement-detail", pk=agreement.pk)
    messages.error(request, _("Nothing was saved: correct the fields marked below."))
    return _agreement_form_page(
        request, form, formset, agreement=None, title=title, renewing=renewing
    )


@scoped_view(VIEW_AGREEMENT, ADD_AGREEMENT, CHANGE_AGREEMENT, *ITEM_PERMISSIONS)
@require_http_methods(["GET", "POST"])
def agreement_create(request):
    title = _("Record a service agreement")
    if request.method == "POST":
        return _create_agreement(request, title=title)
    if not _may_manage_somewhere(request.user):
        messages.error(request, _("You manage no area in which to sign an agreement."))
    initial = {"submission_key": str(uuid.uuid4()), "status": AgreementStatus.DRAFT}
    merchant_pk = whole_number(request.GET.get("merchant"))
    merchant = None
    if merchant_pk is not None and 0 < merchant_pk <= MAX_ID:
        merchant = (
            Merchant.objects.visible_to(request.user)
            .current()
            .select_related("area")
            .filter(pk=merchant_pk)
            .first()
        )
    areas = list(signing_areas(request.user))
    if merchant is not None:
        initial["merchant"] = merchant.pk
        fitting = [a for a in areas if a.pk == merchant.area_id] or [
            a for a in areas if merchant.area.path.startswith(a.path)
        ]
        if fitting:
            initial["area"] = fitting[-1].pk
    elif len(areas) == 1:
        initial["area"] = areas[0].pk
    form = AgreementForm(initial=initial, user=request.user)
    formset = item_formset_class(3)(
        instance=Agreement(), queryset=items_with_use_counts(), prefix="items"
    )
    return _agreement_form_page(request, form, formset, agreement=None, title=title)


def _changeable_agreement(request, pk):
    return get_changeable_or_404(
        Agreement.objects.select_related("merchant__area", "area"), request.user, pk=pk
    )


@scoped_view(VIEW_AGREEMENT, ADD_AGREEMENT, CHANGE_AGREEMENT, *ITEM_PERMISSIONS)
@require_http_methods(["GET", "POST"])
def agreement_renew(request, pk):
    """A new agreement pre-filled from ``pk``: the day after it ends, its items copied."""
    old = _changeable_agreement(request, pk)
    title = _("Renew the agreement with %(name)s") % {"name": old.merchant.name}
    if old.merchant.is_archived:
        messages.error(request, _("Restore the merchant before renewing its agreement."))
        return redirect("services:agreement-detail", pk=old.pk)
    if request.method == "POST":
        return _create_agreement(request, title=title, renewing=old)
    initial, items = renewal_initial(old, request.user)
    initial["submission_key"] = str(uuid.uuid4())
    form = AgreementForm(initial=initial, user=request.user)
    formset = item_formset_class(len(items) + 2)(
        instance=Agreement(), queryset=items_with_use_counts(), prefix="items", initial=items
    )
    return _agreement_form_page(request, form, formset, agreement=None, title=title, renewing=old)


@scoped_view(VIEW_AGREEMENT, CHANGE_AGREEMENT, *ITEM_PERMISSIONS)
@require_http_methods(["GET", "POST"])
def agreement_edit(request, pk):
    agreement = _changeable_agreement(request, pk)
    if agreement.is_archived:
        messages.error(request, _("Restore this agreement before editing it."))
        return redirect("services:agreement-detail", pk=agreement.pk)
    title = _("Edit the agreement with %(name)s") % {"name": agreement.merchant.name}
    if request.method == "POST":
        form, formset, ok = _bound_agreement(request, instance=agreement)
        if ok and _save_agreement(request, form, formset) is not None:
            messages.success(request, _("Agreement saved."))
            return redirect("services:agreement-detail", pk=agreement.pk)
        messages.error(request, _("Nothing was saved: correct the fields marked below."))
        # a failed save leaves the instance as posted; show the stored one's uploads
        agreement.refresh_from_db(fields=["document"])
    else:
        form = AgreementForm(instance=agreement, user=request.user)
        formset = item_formset_class(2)(
            instance=agreement, queryset=items_with_use_counts(), prefix="items"
        )
    return _agreement_form_page(request, form, formset, agreement=agreement, title=title)


def _agreement_archived(request, pk, *, archived: bool):
    return archive_or_restore(
        request,
        _changeable_agreement(request, pk),
        archived=archived,
        done=_("Agreement archived: it no longer shows in the lists and accepts no uses.")
        if archived
        else _("Agreement restored."),
        already=_("This agreement is already archived.")
        if archived
        else _("This agreement is not archived."),
        detail="services:agreement-detail",
    )


@scoped_view(VIEW_AGREEMENT, CHANGE_AGREEMENT)
@require_POST
def agreement_archive(request, pk):
    return _agreement_archived(request, pk, archived=True)


@scoped_view(VIEW_AGREEMENT, CHANGE_AGREEMENT)
@require_POST
def agreement_restore(request, pk):
    return _agreement_archived(request, pk, archived=False)
