"""Importing merchants and agreement items in the browser: template, upload → preview →
confirm (all rows or none), cancel — the same flow as the resident ledger's import.

Between preview and confirm the uploaded file waits (network.held_uploads) under a random
token that only the uploading session knows (with its checksum and the preview's
fingerprint); confirm reads that file again and checks every row again inside the writing
transaction. Nothing parsed is ever taken back from the browser.
"""

from dataclasses import dataclass

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from network.forms import TableUploadForm
from network.held_uploads import HeldUploads
from network.scoped import scoped_view
from network.tabular import TableError
from services.resources import KINDS, import_file, template_workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Merchant and agreement imports share one directory and session record; a token is bound to
# its kind, so a merchants preview cannot be confirmed as agreements.
HELD = HeldUploads(directory="services-imports", session_key="services_import_pending")

MERCHANT_PERMISSIONS = (
    "services.view_merchant",
    "services.add_merchant",
    "services.change_merchant",
)
AGREEMENT_PERMISSIONS = (
    "services.view_agreement",
    "services.add_agreement",
    "services.change_agreement",
    "services.add_agreementitem",
    "services.change_agreementitem",
)


@dataclass(frozen=True)
class Page:
    kind: str
    title: str
    intro: str
    template_name: str
    url_prefix: str  # services:<prefix>, <prefix>-confirm, -cancel, -template
    back: str  # the list the import belongs to


MERCHANTS = Page(
    kind="merchants",
    title=gettext_lazy("Import partner merchants"),
    intro=gettext_lazy(
        "One row per merchant. A merchant already recorded (same licence code, or same name "
        "and managing area) is updated; blank cells keep what is recorded."
    ),
    template_name="签约商户导入模板.xlsx",
    url_prefix="merchant-import",
    back="services:merchant-list",
)
AGREEMENTS = Page(
    kind="agreements",
    title=gettext_lazy("Import service agreements"),
    intro=gettext_lazy(
        "One row per service of an agreement. Rows with the same merchant and agreement "
        "number (or the same dates) make one agreement, created if it is new; the merchants "
        "must be recorded first."
    ),
    template_name="服务协议导入模板.xlsx",
    url_prefix="agreement-import",
    back="services:agreement-list",
)


# ---------------------------------------------------------------- the views


@scoped_view(*MERCHANT_PERMISSIONS)
@require_GET
def merchant_template(request):
    return _template(request, MERCHANTS)


@scoped_view(*MERCHANT_PERMISSIONS)
@require_http_methods(["GET", "POST"])
def merchant_import(request):
    return _upload(request, MERCHANTS)


@scoped_view(*MERCHANT_PERMISSIONS)
@require_POST
def merchant_confirm(request):
    return _confirm(request, MERCHANTS)


@scoped_view(*MERCHANT_PERMISSIONS)
@require_POST
def merchant_cancel(request):
    return _cancel(request, MERCHANTS)


@scoped_view(*AGREEMENT_PERMISSIONS)
@require_GET
def agreement_template(request):
    return _template(request, AGREEMENTS)


@scoped_view(*AGREEMENT_PERMISSIONS)
@require_http_methods(["GET", "POST"])
def agreement_import(request):
    return _upload(request, AGREEMENTS)


@scoped_view(*AGREEMENT_PERMISSIONS)
@require_POST
def agreement_confirm(request):
    return _confirm(request, AGREEMENTS)


@scoped_view(*AGREEMENT_PERMISSIONS)
@require_POST
def agreement_cancel(request):
    return _cancel(request, AGREEMENTS)


# ---------------------------------------------------------------- the flow


def _template(request, page: Page):
    response = HttpResponse(template_workbook(page.kind, request.user), content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, page.template_name)
    return response


def _upload(request, page: Page):
    form = TableUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        data = upload.read()
        try:
            plan = import_file(page.kind, data, upload.name, user=request.user, dry_run=True)
        except TableError as exc:
            form.add_error("file", str(exc))
        else:
            token = None
            if plan.ok:
                token = HELD.stash(request, data, upload.name, plan.fingerprint(), kind=page.kind)
            return _preview(request, page, plan, upload.name, token=token)
    columns = "、".join(c.header for c in KINDS[page.kind].columns)
    return render(
        request,
        "services/import/upload.html",
        {"form": form, "page": page, "columns": columns},
    )


def _confirm(request, page: Page):
    token = request.POST.get("token", "")
    held = HELD.pending(request, token, kind=page.kind)
    data = HELD.read(held)
    if data is None:
        HELD.discard(request, token)
        messages.error(
            request, _("This preview has expired or was already used; upload the file again.")
        )
        return redirect(f"services:{page.url_prefix}")
    try:
        plan = import_file(
            page.kind,
            data,
            held.filename,
            user=request.user,
            dry_run=False,
            expected=held.fingerprint,
        )
    except TableError as exc:  # pragma: no cover - the same bytes read fine at preview
        HELD.discard(request, token)
        messages.error(request, str(exc))
        return redirect(f"services:{page.url_prefix}")
    if plan.written:
        HELD.discard(request, token)
        messages.success(request, _("Imported. %(summary)s") % {"summary": plan.summary()})
        return redirect(page.back)
    if plan.ok and plan.changed:
        HELD.update_fingerprint(request, held, plan.fingerprint())
        messages.warning(
            request, _("The records changed since the preview: check the rows again and confirm.")
        )
        return _preview(request, page, plan, held.filename, token=token)
    HELD.discard(request, token)
    messages.error(
        request,
        _("The records changed since the preview and some rows now fail: nothing was imported."),
    )
    return _preview(request, page, plan, held.filename)


def _cancel(request, page: Page):
    HELD.discard(request, request.POST.get("token", ""))
    messages.info(request, _("Import cancelled; nothing was imported."))
    return redirect(f"services:{page.url_prefix}")


def _preview(request, page: Page, plan, filename: str, token=None):
    return render(
        request,
        "services/import/preview.html",
        {
            "page": page,
            "plan": plan,
            "counts": plan.counts(),
            "filename": filename,
            "token": token,
            "label_header": _("Name") if page.kind == "merchants" else _("Merchant"),
            "detail_header": _("Managing area") if page.kind == "merchants" else _("Agreement"),
        },
    )
