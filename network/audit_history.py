"""Casework history → audit log. Every model with ``history = HistoricalRecords()`` already
writes a historical record on each create, change and delete (django-simple-history); one
receiver of ``post_create_historical_record`` turns each into an audit event, so no app has
to remember to call the audit log itself:

- kind: ``+`` created, ``~`` changed, ``-`` deleted; a change that sets ``archived_at`` is an
  archive, one that clears it a restore;
- changes: ``{field: [old, new]}`` against the previous historical record (simple_history's
  ``diff_against``; a creation lists the values it was created with). ID numbers are masked
  like the register shows them (320508********135x), phone numbers and permit numbers too,
  passwords and secrets never appear, long text is cut. Many-to-many fields that a model
  records in its history (``HistoricalRecords(m2m_fields=...)``: a visit's visitors, a
  meeting's attendees, the areas a merchant serves) appear as the lists of ids before and
  after;
- area: the model's ``scope_area_field`` followed on the instance (None without one);
- who and from where: the historical record's user, and the request that
  ``HistoryRequestMiddleware`` keeps (``HistoricalRecords.context.request``).

A save that changes nothing tracked (a sign-in's ``last_login``) writes no event.

Bulk writers (``bulk_create_with_history``) send no signal: they call
``record_bulk_history`` after writing, which turns the historical records they wrote into
events with a few queries per model, whatever the number of rows. A writer that holds the
new objects it has just created with their history rows passes them to ``created_events``
instead: the same events, built from the objects without reading anything back.
"""

import datetime
import decimal
import uuid

from django.db.models import OuterRef, Subquery
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from simple_history.models import HistoricalRecords
from simple_history.utils import get_m2m_field_name

from network import audit
from network.masking import mask_id_number
from network.models import AuditKind

TEXT_LIMIT = 200
LIST_LIMIT = 50
SECRET_PARTS = ("password", "secret", "token")
PHONE_PARTS = ("phone", "mobile", "telephone")
KIND_OF_TYPE = {"+": AuditKind.CREATE, "~": AuditKind.CHANGE, "-": AuditKind.DELETE}
# Fields that say nothing about the record's content (they change with every save).
BOOKKEEPING = {"id", "created_at", "updated_at", "version"}


# ---------------------------------------------------------------- masking


def mask_phone(number: str) -> str:
    """139****5678: the first three and the last four digits of a longer number kept."""
    if not number:
        return ""
    if len(number) >= 11:
        return number[:3] + "*" * (len(number) - 7) + number[-4:]
    if len(number) > 4:
        return "*" * (len(number) - 4) + number[-4:]
    return "*" * len(number)


def mask_permit(number: str) -> str:
    if len(number) <= 5:
        return "*" * len(number)
    return number[:2] + "*" * (len(number) - 5) + number[-3:]


def is_secret(name: str) -> bool:
    return any(part in name for part in SECRET_PARTS) and not name.startswith(
        ("must_change_", "password_changed")
    )


def _plain(value):
    """A JSON-storable, readable form of a field value."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, FieldFile):
        return value.name or ""
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in list(value)[:LIST_LIMIT]]
    text = str(value)
    return text if len(text) <= TEXT_LIMIT else text[: TEXT_LIMIT - 1] + "…"


def masked(name: str, value):
    """``value`` of field ``name`` as the audit log may keep it."""
    value = _plain(value)
    if not isinstance(value, str) or not value:
        return value
    if "id_number" in name:
        return mask_id_number(value[::-1] if name.endswith("_reversed") else value)
    if any(part in name for part in PHONE_PARTS):
        return mask_phone(value)
    if "permit_number" in name:
        return mask_permit(value)
    return value


# ---------------------------------------------------------------- one historical record


def _m2m_ids(rows, source: str) -> list:
    """The related ids of simple_history's m2m rows ({"meeting": 3, "user": 5} → 5)."""
    return sorted(v for row in rows for k, v in row.items() if k != source and v is not None)


def changes_between(new, old) -> dict:
    """{field: [old, new]} between two historical records of one object, masked."""
    delta = new.diff_against(old)
    m2m_sources = {
        f.name: get_m2m_field_name(new.instance_type._meta.get_field(f.name))
        for f in new._history_m2m_fields
    }
    changes = {}
    for change in delta.changes:
        name = change.field
        if name in BOOKKEEPING or is_secret(name):
            continue
        if name in m2m_sources:
            before = _m2m_ids(change.old, m2m_sources[name])
            after = _m2m_ids(change.new, m2m_sources[name])
            changes[name] = [before[:LIST_LIMIT], after[:LIST_LIMIT]]
        else:
            changes[name] = [masked(name, change.old), masked(name, change.new)]
    return changes


def _maskable(name: str) -> bool:
    """Whether ``masked`` may change a text value of field ``name``."""
    return (
        "id_number" in name or any(part in name for part in PHONE_PARTS) or "permit_number" in name
    )


_INITIAL_FIELDS: dict[type, list[tuple[str, str, bool]]] = {}


def _initial_fields(history_model) -> list[tuple[str, str, bool]]:
    """(name, attname, maskable) of the fields ``initial_values`` lists, once per historical
    model."""
    fields = _INITIAL_FIELDS.get(history_model)
    if fields is None:
        fields = [
            (field.name, field.attname, _maskable(field.name))
            for field in history_model.tracked_fields
            if field.editable and field.name not in BOOKKEEPING and not is_secret(field.name)
        ]
        _INITIAL_FIELDS[history_model] = fields
    return fields


def initial_values(new, fields: list[tuple[str, str, bool]] | None = None) -> dict:
    """What a record was created with: {field: [None, value]} for every field with a value.
    ``new`` is a historical record, or the object it copies when ``fields`` are given
    (``_initial_fields`` of its historical model)."""
    changes = {}
    for name, attname, maskable in fields if fields is not None else _initial_fields(type(new)):
        value = getattr(new, attname)
        if value is None:
            continue
        kind = type(value)
        if kind is str:
            if not value:
                continue
            if not maskable and len(value) <= TEXT_LIMIT:
                changes[name] = [None, value]  # what ``masked`` gives, without its tests
                continue
        elif kind is bool or kind is int:
            if not value:  # False or 0, which ``value in (None, "", False)`` leaves out
                continue
            changes[name] = [None, value]
            continue
        elif value in ("", False):
            continue
        changes[name] = [None, masked(name, value)]
    return changes


def kind_of(history_type: str, changes: dict) -> str:
    if history_type == "~" and "archived_at" in changes:
        before, after = changes["archived_at"]
        if before is None and after is not None:
            return AuditKind.ARCHIVE
        if before is not None and after is None:
            return AuditKind.RESTORE
    return KIND_OF_TYPE.get(history_type, AuditKind.CHANGE)


def area_id_of(instance) -> int | None:
    """The id of the record's area, following ``scope_area_field`` ("community",
    "person__community", "" for an area itself); None for a model without one. Only the
    hops before the last are fetched (usually from the instance's cache)."""
    path = getattr(type(instance), "scope_area_field", None)
    if path is None:
        return None
    if path == "":
        return instance.pk
    *hops, last = path.split("__")
    target = instance
    try:
        for hop in hops:
            target = getattr(target, hop)
            if target is None:
                return None
        return getattr(target, type(target)._meta.get_field(last).attname)
    except Exception:  # a dangling reference must not stop the write being audited
        return None


def _previous(history_instance):
    """The historical record of the same object just before this one, or None."""
    manager = type(history_instance)._default_manager
    pk_name = history_instance.instance_type._meta.pk.attname
    return (
        manager.filter(**{pk_name: getattr(history_instance, pk_name)})
        .filter(history_date__lte=history_instance.history_date)
        .exclude(history_id=history_instance.history_id)
        .order_by("-history_date", "-history_id")
        .first()
    )


def _request():
    return getattr(HistoricalRecords.context, "request", None)


def event_for(history_instance, instance, previous=None, *, request=None, user=None):
    """The (unsaved) audit event for one historical record, or None when nothing changed."""
    history_type = history_instance.history_type
    if history_type == "+" or previous is None:
        changes = initial_values(history_instance) if history_type == "+" else {}
    else:
        changes = changes_between(history_instance, previous)
        if history_type == "~" and not changes:
            return None
    return audit.build(
        kind_of(history_type, changes),
        request=request,
        user=user if user is not None else history_instance.history_user,
        obj=instance,
        area_id=area_id_of(instance),
        changes=changes,
        note=(history_instance.history_change_reason or "")[:500],
    )


def on_historical_record(sender, instance, history_instance, history_user=None, **kwargs):
    """Receiver of ``post_create_historical_record``: one audit event per historical record
    (one query for the previous record, two per many-to-many field, one insert)."""
    previous = None if history_instance.history_type == "+" else _previous(history_instance)
    event = event_for(history_instance, instance, previous, request=_request(), user=history_user)
    if event is not None:
        event.save(force_insert=True)


# ---------------------------------------------------------------- bulk writers


def bulk_history_events(models, *, at, user=None, history_type: str | None = None) -> list:
    """The (unsaved) audit events of the historical records that a bulk writer wrote at
    ``at`` (the ``default_date`` given to ``bulk_create_with_history``/
    ``bulk_update_with_history``) for ``models``, only those of ``history_type`` ("+", "~")
    when given. Queries per model: the new records (one), the records before them (one)."""
    request = _request()
    events = []
    for model in models:
        history_model = model.history.model
        pk_name = model._meta.pk.attname
        new_records = history_model.objects.filter(history_date=at)
        if user is not None:
            new_records = new_records.filter(history_user=user)
        if history_type is not None:
            new_records = new_records.filter(history_type=history_type)
        earlier = history_model.objects.filter(
            **{pk_name: OuterRef(pk_name)}, history_date__lt=OuterRef("history_date")
        ).order_by("-history_date", "-history_id")
        new_records = list(
            new_records.annotate(previous_id=Subquery(earlier.values("history_id")[:1])).order_by(
                "history_id"
            )
        )
        previous = history_model.objects.in_bulk(
            [r.previous_id for r in new_records if r.previous_id], field_name="history_id"
        )
        for record in new_records:
            event = event_for(
                record,
                record.instance,
                previous.get(record.previous_id),
                request=request,
                user=user,
            )
            if event is not None:
                events.append(event)
    return events


def record_bulk_history(models, *, at, user=None) -> int:
    """Audit the historical records that a bulk writer wrote at ``at`` for ``models`` (see
    ``bulk_history_events``): never one query per row. Returns the number of events written."""
    return audit.record_many(bulk_history_events(models, at=at, user=user))


def created_events(model, instances, *, user=None, note: str = "") -> list:
    """The (unsaved) audit events of the creation history rows that a bulk writer has just
    written for ``instances`` of ``model``, by ``user`` (their ``history_user``) with ``note``
    (their change reason): the events ``record_bulk_history`` would make of those rows, built
    from the instances, whose values the rows copy, without reading anything back."""
    request = _request()
    fields = _initial_fields(model.history.model)
    note = (note or "")[:500]
    return [
        audit.build(
            AuditKind.CREATE,
            request=request,
            user=user,
            obj=instance,
            area_id=area_id_of(instance),
            changes=initial_values(instance, fields),
            note=note,
        )
        for instance in instances
    ]


__all__ = [
    "area_id_of",
    "bulk_history_events",
    "changes_between",
    "created_events",
    "mask_id_number",
    "mask_phone",
    "masked",
    "on_historical_record",
    "record_bulk_history",
]
