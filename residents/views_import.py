"""Ledger import in the browser: template, upload → preview → confirm (all rows or none).

Between preview and confirm the uploaded file waits (network.held_uploads) under a random
token that only the uploading session knows (with its checksum and the preview's
fingerprint); confirm reads that file again and re-validates every row inside the writing
transaction. Nothing parsed is ever taken back from the browser.
"""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from network.forms import TableUploadForm
from network.held_uploads import HeldUploads
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
HELD = HeldUploads(directory="ledger-imports", session_key="ledger_import_pending")
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
            token = HELD.stash(request, data, upload.name, plan.fingerprint())
            return _preview(request, plan, upload.name, token=token)
    return render(
        request, "residents/import/upload.html", {"form": form, "columns": ", ".join(HEADERS)}
    )


@scoped_view(IMPORT_PERMISSION)
@require_POST
def ledger_import_confirm(request):
    token = request.POST.get("token", "")
    held = HELD.pending(request, token)
    data = HELD.read(held)
    if data is None:
        HELD.discard(request, token)
        messages.error(
            request, _("This preview has expired or was already used; upload the file again.")
        )
        return redirect("residents:ledger-import")
    try:
        plan = import_ledger(
            data,
            held.filename,
            by=request.user,
            expected=held.fingerprint,
            max_rows=MAX_ROWS,
        )
    except TableError as exc:  # pragma: no cover - the same bytes read fine at preview
        HELD.discard(request, token)
        messages.error(request, str(exc))
        return redirect("residents:ledger-import")
    except LedgerRefused as exc:
        HELD.discard(request, token)
        messages.error(
            request,
            _(
                "The register changed since the preview and some rows now fail: nothing was "
                "imported."
            ),
        )
        return _preview(request, exc.plan, held.filename)
    if not plan.written:
        HELD.update_fingerprint(request, held, plan.fingerprint())
        messages.warning(
            request,
            _("The register changed since the preview: check the rows again and confirm."),
        )
        return _preview(request, plan, held.filename, token=token)
    HELD.discard(request, token)
    messages.success(request, _("Imported. %(summary)s") % {"summary": plan.summary()})
    return redirect("residents:ledger-import")


@scoped_view(IMPORT_PERMISSION)
@require_POST
def ledger_import_cancel(request):
    HELD.discard(request, request.POST.get("token", ""))
    messages.info(request, _("Import cancelled; nothing was imported."))
    return redirect("residents:ledger-import")


def _preview(request, plan, filename, token=None):
    return render(
        request,
        PREVIEW_TEMPLATE,
        {"plan": plan, "counts": plan.counts(), "filename": filename, "token": token},
    )
