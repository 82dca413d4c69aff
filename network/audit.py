"""The one function that writes the audit log (``AuditEvent``): who, when, from which
address, what kind of act, on which record, what changed. Everything that must leave a
trace calls ``record``; nothing else creates audit events."""

from network.exports import client_ip
from network.models import AuditEvent, AuditKind

__all__ = ["AuditKind", "record"]


def _label_of(obj) -> tuple[str, str, str]:
    if obj is None:
        return "", "", ""
    return obj._meta.label_lower, str(obj.pk or ""), str(obj)[:200]


def record(
    kind: str,
    *,
    request=None,
    user=None,
    username: str = "",
    obj=None,
    area=None,
    changes: dict | None = None,
    note: str = "",
) -> AuditEvent:
    """Write one audit event. ``user`` defaults to the request's signed-in user; ``username``
    keeps the name typed at a failed sign-in, when there is no user."""
    if user is None and request is not None and getattr(request, "user", None) is not None:
        user = request.user if request.user.is_authenticated else None
    object_type, object_id, object_label = _label_of(obj)
    return AuditEvent.objects.create(
        kind=kind,
        user=user,
        username=(username or (user.get_username() if user else ""))[:150],
        ip_address=client_ip(request) if request is not None else None,
        area=area,
        object_type=object_type,
        object_id=object_id,
        object_label=object_label,
        changes=changes or {},
        note=note[:500],
    )
