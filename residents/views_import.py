"""Ledger import in the browser: template, upload → preview → confirm (all rows or none).

Between preview and confirm the uploaded file waits in the default storage under a random
token that only the uploading session knows (with its checksum and the preview's
fingerprint); confirm reads that file again and re-validates every row inside the writing
transaction. Nothing parsed is ever taken back from the browser.
"""

import contextlib
import hashlib
import secrets
import time
from pathlib import Path

from django.contrib import messages
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from network.forms import TableUploadForm
from network.scoped import scoped_view
from network.tabular import TableError
from residents.ledger_import import (
    HEADERS,
    IMPORT_PERMISSION,
    LedgerRefused,
    communities_for_import,
    import_ledger,
    ledger_template,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PENDING_DIR = "ledger-imports"
PENDING_SESSION_KEY = "ledger_import_pending"
PENDING_MAX_AGE = 60 * 60  # seconds a preview may wait for its confirmation
PENDING_PER_SESSION = 3
PREVIEW_TEMPLATE = "residents/import/preview.html"
# A 5 MB xlsx can hold a million rows; reading, checking and showing each of them would take
# minutes. Real ledgers of a sub-district are far smaller; the command has no such limit.
MAX_ROWS = 20_000


@scoped_view(IMPORT_PERMISSION)
def ledger_template_download(request):
    data = ledger_template(communities_for_import(request.user))
    return _xlsx_response(data, "居民台账导入模板.xlsx")


def _xlsx_response(data: bytes, filename: str):
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


@scoped_view(IMPORT_PERMISSION)
@require_http_methods(["GET", "POST"])
def ledger_import(request):
    form = TableUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        data = upload.read()
        try:
            plan = import_ledger(
                data, upload.name, by=request.user, dry_run=True, max_rows=MAX_ROWS
            )
        except TableError as exc:
            form.add_error("file", str(exc))
        except LedgerRefused as exc:
            return _preview(request, exc.plan, upload.name)
        else:
            token = _stash(request, data, upload.name, plan.fingerprint())
            return _preview(request, plan, upload.name, token=token)
    return render(
        request, "residents/import/upload.html", {"form": form, "columns": ", ".join(HEADERS)}
    )


@scoped_view(IMPORT_PERMISSION)
@require_POST
def ledger_import_confirm(request):
    token = request.POST.get("token", "")
    pending = _pending(request, token)
    data = _read_stash(pending)
    if data is None:
        _discard(request, token)
        messages.error(
            request, _("This preview has expired or was already used; upload the file again.")
        )
        return redirect("residents:ledger-import")
    try:
        plan = import_ledger(
            data,
            pending["filename"],
            by=request.user,
            expected=pending["fingerprint"],
            max_rows=MAX_ROWS,
        )
    except TableError as exc:  # pragma: no cover - the same bytes read fine at preview
        _discard(request, token)
        messages.error(request, str(exc))
        return redirect("residents:ledger-import")
    except LedgerRefused as exc:
        _discard(request, token)
        messages.error(
            request,
            _(
                "The register changed since the preview and some rows now fail: nothing was "
                "imported."
            ),
        )
        return _preview(request, exc.plan, pending["filename"])
    if not plan.written:
        pending["fingerprint"] = plan.fingerprint()
        _remember(request, token, pending)
        messages.warning(
            request,
            _("The register changed since the preview: check the rows again and confirm."),
        )
        return _preview(request, plan, pending["filename"], token=token)
    _discard(request, token)
    messages.success(request, _("Imported. %(summary)s") % {"summary": plan.summary()})
    return redirect("residents:ledger-import")


@scoped_view(IMPORT_PERMISSION)
@require_POST
def ledger_import_cancel(request):
    _discard(request, request.POST.get("token", ""))
    messages.info(request, _("Import cancelled; nothing was imported."))
    return redirect("residents:ledger-import")


def _preview(request, plan, filename, token=None):
    return render(
        request,
        PREVIEW_TEMPLATE,
        {"plan": plan, "counts": plan.counts(), "filename": filename, "token": token},
    )


# ---------------------------------------------------------------- the waiting file


def _stash(request, data: bytes, filename: str, fingerprint: str) -> str:
    _purge_stale()
    token = secrets.token_urlsafe(24)
    suffix = Path(filename).suffix.lower()
    path = default_storage.save(f"{PENDING_DIR}/{token}{suffix}", ContentFile(data))
    pending = dict(request.session.get(PENDING_SESSION_KEY, {}))
    for old in sorted(pending, key=lambda t: pending[t]["at"])[: -PENDING_PER_SESSION + 1]:
        _delete_file(pending.pop(old)["path"])
    pending[token] = {
        "path": path,
        "filename": filename,
        "sha256": hashlib.sha256(data).hexdigest(),
        "fingerprint": fingerprint,
        "user": request.user.pk,
        "at": time.time(),
    }
    request.session[PENDING_SESSION_KEY] = pending
    return token


def _pending(request, token: str) -> dict | None:
    pending = request.session.get(PENDING_SESSION_KEY, {}).get(token)
    if not pending or pending["user"] != request.user.pk:
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
