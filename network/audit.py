"""The one module that writes the audit log (``AuditEvent``): who, when, from which
address, what kind of act, on which record, what changed. Everything that must leave a
trace calls ``record`` (one event) or ``record_many`` (bulk writers such as the ledger
import); nothing else creates audit events.

Audit events are append-only: ``guard_before_save`` and ``guard_before_delete`` (connected in
``NetworkConfig.ready``) refuse to save an existing event again or to delete one; only
``purge_before`` — the retention purge of ``manage.py purge_audit`` — removes old events, in
one statement.
"""

import contextlib
import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from network.exports import client_ip
from network.models import AuditEvent, AuditKind

__all__ = ["AuditKind", "record", "record_many", "purge_before", "MIN_RETENTION_DAYS"]

# Graded protection (等保) asks for at least six months of audit records.
MIN_RETENTION_DAYS = 183
BATCH_SIZE = 500


def retention_days() -> int:
    """How long events are kept (setting AUDIT_RETENTION_DAYS), never under six months."""
    return max(int(getattr(settings, "AUDIT_RETENTION_DAYS", 365)), MIN_RETENTION_DAYS)


def _label_of(obj) -> tuple[str, str, str]:
    if obj is None:
        return "", "", ""
    return obj._meta.label_lower, str(obj.pk or ""), str(obj)[:200]


def _user_of(request, user):
    if user is None and request is not None and getattr(request, "user", None) is not None:
        user = request.user if request.user.is_authenticated else None
    return user


def build(
    kind: str,
    *,
    request=None,
    user=None,
    username: str = "",
    obj=None,
    object_label: str | None = None,
    area=None,
    area_id: int | None = None,
    changes: dict | None = None,
    note: str = "",
    ip_address: str | None = None,
) -> AuditEvent:
    """An unsaved event (for ``record_many``); the arguments are those of ``record``."""
    user = _user_of(request, user)
    object_type, object_id, label = _label_of(obj)
    if object_label is not None:
        label = object_label[:200]
    if ip_address is None and request is not None:
        ip_address = client_ip(request)
    event = AuditEvent(
        kind=kind,
        user=user,
        username=(username or (user.get_username() if user else ""))[:150],
        ip_address=ip_address,
        object_type=object_type,
        object_id=object_id,
        object_label=label,
        changes=changes or {},
        note=note[:500],
    )
    if area is not None:
        event.area = area
    elif area_id is not None:
        event.area_id = area_id
    return event


def record(
    kind: str,
    *,
    request=None,
    user=None,
    username: str = "",
    obj=None,
    area=None,
    area_id: int | None = None,
    changes: dict | None = None,
    note: str = "",
    object_label: str | None = None,
) -> AuditEvent:
    """Write one audit event. ``user`` defaults to the request's signed-in user; ``username``
    keeps the name typed at a failed sign-in, when there is no user. ``area_id`` may stand
    for ``area`` when only the id is at hand (no query to fetch the area)."""
    event = build(
        kind,
        request=request,
        user=user,
        username=username,
        obj=obj,
        object_label=object_label,
        area=area,
        area_id=area_id,
        changes=changes,
        note=note,
    )
    event.save(force_insert=True)
    return event


def record_many(events: list[AuditEvent]) -> int:
    """Write events made by ``build`` (bulk writers); returns how many. On PostgreSQL in one
    ``COPY`` (several times faster than INSERTs for thousands of events; the events' ``pk``
    stays unset), elsewhere in a few INSERTs."""
    if not events:
        return 0
    connection = transaction.get_connection()
    if connection.vendor != "postgresql":
        AuditEvent.objects.bulk_create(events, batch_size=BATCH_SIZE)
        return len(events)
    fields = [f for f in AuditEvent._meta.concrete_fields if not f.primary_key]
    copy_objects(connection, AuditEvent._meta.db_table, fields, events)
    return len(events)


# Values that a field of these kinds stores exactly as they are (its ``get_db_prep_save``
# gives them back unchanged on PostgreSQL): ``copy_objects`` skips preparing them.
_STORED_AS_IS = {
    "CharField": str,
    "TextField": str,
    "BooleanField": bool,
    "DateField": datetime.date,
    "IntegerField": int,
    "SmallIntegerField": int,
    "BigIntegerField": int,
    "PositiveIntegerField": int,
    "PositiveSmallIntegerField": int,
    "PositiveBigIntegerField": int,
    "AutoField": int,
    "SmallAutoField": int,
    "BigAutoField": int,
}


def _preparer(field, connection):
    """A function of a field's value giving what the database stores (as Django prepares an
    INSERT's values), quick for None and the plain values of ``_STORED_AS_IS``."""
    prepare = field.get_db_prep_save
    target = field.target_field if field.is_relation else field
    kind = target.get_internal_type()
    plain = _STORED_AS_IS.get(kind)
    if kind == "DateTimeField":

        def prepared(value):
            if value is None or (type(value) is datetime.datetime and value.tzinfo is not None):
                return value
            return prepare(value, connection)

    elif plain is not None:

        def prepared(value):
            if value is None or type(value) is plain:
                return value
            return prepare(value, connection)

    else:

        def prepared(value):
            return prepare(value, connection)

    return prepared


def copy_objects(connection, table: str, fields, objects, tail: dict | None = None) -> None:
    """Insert one row per object into ``table`` with PostgreSQL's ``COPY … FROM STDIN``:
    the values of ``fields`` (model fields, read from the objects by attribute name and
    prepared as for an INSERT; no ``pre_save``, so defaults must be set already), then the
    columns of ``tail`` ({column: value}, the same for every row). One statement, no per-row
    SQL; it counts as one query where queries are logged (tests, DEBUG). For bulk writers of
    append-only rows (audit events, history rows) whose ids nobody needs back."""
    tail = tail or {}
    columns = [f.column for f in fields] + list(tail)
    constants = list(tail.values())
    getters = [(f.attname, _preparer(f, connection)) for f in fields]
    quote = connection.ops.quote_name
    sql = f"COPY {quote(table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    with connection.cursor() as cursor:
        logged = getattr(cursor, "debug_sql", None)  # CursorDebugWrapper: log it as a query
        with logged(sql) if logged else contextlib.nullcontext(), cursor.copy(sql) as copy:
            for obj in objects:
                copy.write_row(
                    [prepare(getattr(obj, name)) for name, prepare in getters] + constants
                )


# ---------------------------------------------------------------- append-only


def guard_before_save(sender, instance, raw=False, **kwargs):
    """pre_save receiver: an audit event is written once, never saved again."""
    if raw:
        return
    if not instance._state.adding:
        raise PermissionDenied("Audit records are never changed.")


def guard_before_delete(sender, instance, **kwargs):
    """pre_delete receiver: ``delete()`` and ``QuerySet.delete()`` (which sends pre_delete for
    every row once a receiver listens) are refused."""
    raise PermissionDenied("Audit records are never deleted (only purge_audit removes old ones).")


def purge_before(cutoff: datetime.date, *, by=None, note: str = "") -> int:
    """Delete every event older than ``cutoff`` (a date at least six months back) in one
    statement, then record a PURGE event with the count. Returns the count."""
    today = timezone.localdate()
    if (today - cutoff).days < MIN_RETENTION_DAYS:
        raise ValueError(f"cut-off {cutoff} is younger than {MIN_RETENTION_DAYS} days")
    start = timezone.make_aware(datetime.datetime.combine(cutoff, datetime.time.min))
    with transaction.atomic():
        doomed = AuditEvent.objects.filter(at__lt=start)
        # One DELETE, without loading rows or sending the pre_delete that refuses deletion.
        count = doomed._raw_delete(doomed.db)
        record(
            AuditKind.PURGE,
            user=by,
            username="" if by else "manage.py purge_audit",
            changes={"before": cutoff.isoformat(), "deleted": count},
            note=note,
        )
    return count
