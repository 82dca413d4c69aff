"""The one place every export passes through, so none goes unlogged."""

import ipaddress
import re

from django.conf import settings

from network.masking import mask_id_number
from network.models import ExportLog


def _valid(address: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address((address or "").strip()))
    except ValueError:
        return None


def client_ip(request) -> str | None:
    """The client's address. ``X-Forwarded-For`` is trusted only behind the number of proxies
    given by the setting ``TRUSTED_PROXY_COUNT`` (default 0: the header is ignored and the
    address is ``REMOTE_ADDR``). Each proxy appends the address it received the request from,
    so behind N proxies the client is the N-th entry from the end; anything a client put in
    front of that is ignored. A header with fewer entries than proxies is not believed, and
    a value that is not an IP address is dropped, not stored."""
    meta = getattr(request, "META", None) or {}
    proxies = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    if proxies > 0:
        entries = [e.strip() for e in meta.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        entries = [e for e in entries if e]
        if len(entries) >= proxies:
            return _valid(entries[-proxies])
    return _valid(meta.get("REMOTE_ADDR"))


# A citizen ID number typed into a search box (15 or 18 characters, last maybe X).
_ID_NUMBER = re.compile(r"(?<![0-9])[0-9]{14,17}[0-9Xx](?![0-9Xx])")


def _masked_id_numbers(value):
    """Filters are kept in the logs as typed, except an ID number in them: region and last
    four, as the register shows it (a search for a full number must not put it in a log)."""
    if isinstance(value, str):
        return _ID_NUMBER.sub(lambda m: mask_id_number(m[0]), value)
    if isinstance(value, list | tuple):
        return [_masked_id_numbers(v) for v in value]
    return value


def log_export(
    *,
    request,
    exporter: str,
    label: str,
    file_format: str,
    row_count: int,
    filters: dict | None = None,
    area=None,
) -> ExportLog:
    """Log one export in the export log and in the audit log (kind EXPORT)."""
    from network import audit  # audit imports client_ip from here

    kept = {k: _masked_id_numbers(v) for k, v in (filters or {}).items() if v not in ("", None, [])}
    entry = ExportLog.objects.create(
        user=request.user,
        exporter=exporter,
        label=label[:200],
        file_format=file_format,
        filters=kept,
        row_count=row_count,
        area=area,
        ip_address=client_ip(request),
    )
    audit.record(
        audit.AuditKind.EXPORT,
        user=request.user,
        obj=entry,
        object_label=f"{label} ({file_format})",
        area=area,
        changes={"exporter": exporter, "rows": row_count, "filters": kept},
        note=f"{label} · {file_format} · {row_count}",
        request=request,
    )
    return entry
