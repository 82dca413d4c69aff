"""Importing merchants and agreement items in the browser: template, upload → preview →
confirm (all rows or none), cancel — the same flow as the resident ledger's import.

Between preview and confirm the uploaded file waits in the default storage under a random
token that only the uploading session knows (with its checksum and the preview's
fingerprint); confirm reads that file again and checks every row again inside the writing
transaction. Nothing parsed is ever taken back from the browser.
"""

import contextlib
import hashlib
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from django.contrib import messages
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from network.forms import TableUploadForm
from network.scoped import scoped_view
from network.tabular import TableError
from services.resources import KINDS, import_file, template_workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PENDING_DIR = "services-imports"
PENDING_SESSION_KEY = "services_import_pending"
PENDING_MAX_AGE = 60 * 60  # seconds a preview may wait for its confirmation
PENDING_PER_SESSION = 3

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
                token = _stash(request, page, data, upload.name, plan.fingerprint())
            return _preview(request, page, plan, upload.name, token=token)
    columns = "、".join(c.header for c in KINDS[page.kind].columns)
    return render(
        request,
        "services/import/upload.html",
        {"form": form, "page": page, "columns": columns},
    )


def _confirm(request, page: Page):
    token = request.POST.get("token", "")
    pending = _pending(request, page, token)
    data = _read_stash(pending)
    if data is None:
        _discard(request, token)
        messages.error(
            request, _("This preview has expired or was already used; upload the file again.")
        )
        return redirect(f"services:{page.url_prefix}")
    try:
        plan = import_file(
            page.kind,
            data,
            pending["filename"],
            user=request.user,
            dry_run=False,
            expected=pending["fingerprint"],
        )
    except TableError as exc:  # pragma: no cover - the same bytes read fine at preview
        _discard(request, token)
        messages.error(request, str(exc))
        return redirect(f"services:{page.url_prefix}")
    if plan.written:
        _discard(request, token)
        messages.success(request, _("Imported. %(summary)s") % {"summary": plan.summary()})
        return redirect(page.back)
    if plan.ok and plan.changed:
        pending["fingerprint"] = plan.fingerprint()
        _remember(request, token, pending)
        messages.warning(
            request, _("The records changed since the preview: check the rows again and confirm.")
        )
        return _preview(request, page, plan, pending["filename"], token=token)
    _discard(request, token)
    messages.error(
        request,
        _("The records changed since the preview and some rows now fail: nothing was imported."),
    )
    return _preview(request, page, plan, pending["filename"])


def _cancel(request, page: Page):
    _discard(request, request.POST.get("token", ""))
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


# ---------------------------------------------------------------- the waiting file


def _stash(request, page: Page, data: bytes, filename: str, fingerprint: str) -> str:
    _purge_stale()
    token = secrets.token_urlsafe(24)
    suffix = Path(filename).suffix.lower()
    path = default_storage.save(f"{PENDING_DIR}/{token}{suffix}", ContentFile(data))
    pending = dict(request.session.get(PENDING_SESSION_KEY, {}))
    for old in sorted(pending, key=lambda t: pending[t]["at"])[: -PENDING_PER_SESSION + 1]:
        _delete_file(pending.pop(old)["path"])
    pending[token] = {
        "kind": page.kind,
        "path": path,
        "filename": filename,
        "sha256": hashlib.sha256(data).hexdigest(),
        "fingerprint": fingerprint,
        "user": request.user.pk,
        "at": time.time(),
    }
    request.session[PENDING_SESSION_KEY] = pending
    return token


def _pending(request, page: Page, token: str) -> dict | None:
    pending = request.session.get(PENDING_SESSION_KEY, {}).get(token)
    if not pending or pending["user"] != request.user.pk or pending["kind"] != page.kind:
        return None
    if time.time() - pending["at"] > PENDING_MAX_AGE:
        return None
    return dict(pending)


def _read_stash(pending: dict | None) -> bytes | None:
    if pending is None:
        return None
    try:
        with default_storage.open(pending["path"], "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    if hashlib.sha256(data).hexdigest() != pending["sha256"]:
        return None
    return data


def _remember(request, token: str, pending: dict) -> None:
    stored = dict(request.session.get(PENDING_SESSION_KEY, {}))
    stored[token] = pending
    request.session[PENDING_SESSION_KEY] = stored


def _discard(request, token: str) -> None:
    stored = dict(request.session.get(PENDING_SESSION_KEY, {}))
    pending = stored.pop(token, None)
    if pending:
        _delete_file(pending["path"])
        request.session[PENDING_SESSION_KEY] = stored


def _delete_file(path: str) -> None:
    with contextlib.suppress(OSError):  # already gone
        default_storage.delete(path)


def _purge_stale() -> None:
    """Files of previews nobody confirmed (closed tabs) go after a day."""
    try:
        _dirs, files = default_storage.listdir(PENDING_DIR)
    except (OSError, NotImplementedError):
        return
    limit = time.time() - 24 * 60 * 60
    for name in files:
        path = f"{PENDING_DIR}/{name}"
        try:
            if default_storage.get_modified_time(path).timestamp() < limit:
                default_storage.delete(path)
        except (OSError, NotImplementedError):
            continue
