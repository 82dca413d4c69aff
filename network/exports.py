"""The one place every export passes through, so none goes unlogged."""

import ipaddress

from network.models import ExportLog


def client_ip(request) -> str | None:
    """The client address; behind nginx the first X-Forwarded-For entry. A client can put
    anything in that header, so a value that is not an IP address is dropped, not stored."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    address = forwarded.split(",")[0].strip() if forwarded else request.META.get("REMOTE_ADDR")
    try:
        return str(ipaddress.ip_address(address or ""))
    except ValueError:
        return None


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
    return ExportLog.objects.create(
        user=request.user,
        exporter=exporter,
        label=label[:200],
        file_format=file_format,
        filters={k: v for k, v in (filters or {}).items() if v not in ("", None, [])},
        row_count=row_count,
        area=area,
        ip_address=client_ip(request),
    )
