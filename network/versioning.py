"""Optimistic locking: no edit silently overwrites another.

A model takes part when it has an integer ``version`` (default 1) and simple_history's
``history``; its ``save()`` calls ``bump_version``, so every saved change of a row (an edit,
a move, archiving, restoring) raises the version, and the history records the new one.

An edit form carries the version it was loaded with (``VersionedFormMixin``: a hidden
``version`` input). The save, in a transaction, re-reads the row's version with
``select_for_update`` (a no-op on SQLite, where the IMMEDIATE transaction mode already
serialises writers) and compares (``check``): the same, and the row is saved with the next
version; another, and nothing is written — the page comes back with what the user typed and
a ``Conflict``: who changed the record when (``history.first()``), and each field that
changed since the form was loaded, old → new (the history record of the loaded version
``diff_against`` the newest one), sensitive values masked by the caller's ``masks``.

Nothing here knows the apps above ``network``: subjects, masks and hidden fields come from
the caller.
"""

import datetime
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

__all__ = [
    "Change",
    "Conflict",
    "StaleEdit",
    "VersionedFormMixin",
    "bump_version",
    "check",
    "lock_fresh",
    "parse_version",
]

FIELD = "version"
MAX_VERSION = 2**31 - 1  # a PositiveIntegerField holds no more (PostgreSQL refuses more)
MAX_SHOWN = 80  # characters of a long text shown in the list of changes
EMPTY = "—"

INVALID_VERSION = gettext_lazy(
    "This form carries no valid edit version, so nothing was saved. Open the page again "
    "and make your changes there."
)


# ---------------------------------------------------------------- writing


def bump_version(instance: models.Model, save_kwargs: dict) -> None:
    """For a versioned model's ``save(*args, **kwargs)``, before saving: an existing row gets
    the next version (a new one keeps 1). With ``update_fields`` the version is added."""
    if instance._state.adding:
        return
    setattr(instance, FIELD, (getattr(instance, FIELD) or 0) + 1)
    update_fields = save_kwargs.get("update_fields")
    if update_fields is not None:
        save_kwargs["update_fields"] = {*update_fields, FIELD}


def parse_version(raw) -> int | None:
    """A version posted by a form, or None when it is missing, garbled or out of range."""
    text = str(raw if raw is not None else "").strip()
    if not text or len(text) > 10 or not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if 1 <= number <= MAX_VERSION else None


class VersionedFormMixin:
    """For a ModelForm of a versioned model: editing an existing record, the form carries
    the version it was loaded with in a hidden input. A page sent back keeps the posted
    version (not the current one), so saving it again is refused again until reloaded."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields[FIELD] = forms.CharField(
                widget=forms.HiddenInput,
                required=False,
                initial=str(getattr(self.instance, FIELD)),
            )

    @property
    def changed_data(self):
        """The version input is bookkeeping: a card whose fields are as loaded is unchanged
        (and not saved again), whatever version it carries."""
        return [name for name in super().changed_data if name != FIELD]

    @property
    def loaded_version(self) -> int | None:
        """The version the form was loaded with (posted), or None when missing or bad."""
        if not self.is_bound:
            return getattr(self.instance, FIELD)
        return parse_version(self.data.get(self.add_prefix(FIELD)))


# ---------------------------------------------------------------- a stale form


@dataclass(frozen=True)
class Change:
    field: str  # the field's name as the user knows it
    old: str
    new: str

    def __str__(self):
        return _("%(field)s: %(old)s → %(new)s") % {
            "field": self.field,
            "old": self.old,
            "new": self.new,
        }


@dataclass
class Conflict:
    """A record that changed since the form was loaded (or a form whose version is bad)."""

    subject: str
    changed_by: str = ""
    changed_at: datetime.datetime | None = None
    changes: list[Change] = field(default_factory=list)
    invalid: bool = False  # the form's version was missing, garbled or never existed

    @property
    def message(self) -> str:
        if self.invalid:
            return str(INVALID_VERSION)
        when = timezone.localtime(self.changed_at).strftime("%Y-%m-%d %H:%M")
        return _(
            "%(who)s changed %(subject)s at %(when)s, after you opened this page. Nothing was "
            "saved; what you entered is kept below. Open the page again to edit the current "
            "record."
        ) % {
            "who": self.changed_by or _("someone"),
            "subject": self.subject,
            "when": when,
        }

    def __str__(self):
        return " ".join([self.message, *(str(c) for c in self.changes)])


class StaleEdit(Exception):
    """Raised inside the saving transaction: nothing was written."""

    def __init__(self, conflicts: list[Conflict]):
        super().__init__("; ".join(str(c) for c in conflicts))
        self.conflicts = conflicts


def current_version(model: type[models.Model], pk, *, lock: bool = False) -> int | None:
    """The stored version of one row (None if it is gone); ``lock`` takes the row lock
    (inside a transaction) until the transaction ends."""
    rows = model._default_manager.filter(pk=pk)
    if lock:
        rows = rows.select_for_update()
    return rows.values_list(FIELD, flat=True).first()


def lock_fresh(record: models.Model) -> models.Model:
    """Inside a transaction: lock ``record``'s row and reload it, so a write that saves the
    whole row (archive, restore, move) starts from the stored values, not older ones."""
    current_version(type(record), record.pk, lock=True)
    record.refresh_from_db()
    return record


def check(
    record: models.Model,
    loaded: int | None,
    *,
    subject: str,
    lock: bool = False,
    masks: Mapping[str, Callable[[Any], str]] | None = None,
    hidden: Collection[str] = (),
) -> Conflict | None:
    """None when ``record``'s stored version is ``loaded`` (and then, with ``lock``, the row
    stays locked and ``record.version`` is set to it); otherwise what changed since."""
    if loaded is None:
        return Conflict(subject=subject, invalid=True)
    stored = current_version(type(record), record.pk, lock=lock)
    if stored == loaded:
        setattr(record, FIELD, stored)
        return None
    return changes_since(record, loaded, subject=subject, masks=masks, hidden=hidden)


def changes_since(
    record: models.Model,
    loaded: int,
    *,
    subject: str,
    masks: Mapping[str, Callable[[Any], str]] | None = None,
    hidden: Collection[str] = (),
) -> Conflict:
    """Who changed ``record`` last and when, and each field changed since version
    ``loaded``: the newest history record against the newest one of that version."""
    history = record.history
    newest = history.select_related("history_user").first()
    if newest is None:
        return Conflict(subject=subject, invalid=True)
    user = newest.history_user
    conflict = Conflict(
        subject=subject,
        changed_by=_display_name(user) if user is not None else "",
        changed_at=newest.history_date,
    )
    before = history.filter(**{FIELD: loaded}).order_by("-history_date", "-history_id").first()
    if before is None:
        conflict.invalid = getattr(newest, FIELD) < loaded  # a version never written
        return conflict
    delta = newest.diff_against(
        before, excluded_fields=[FIELD, *hidden], foreign_keys_are_objs=True
    )
    model = newest.instance_type
    masks = masks or {}
    for change in delta.changes:
        model_field = model._meta.get_field(change.field)
        conflict.changes.append(
            Change(
                field=str(model_field.verbose_name),
                old=_shown(model_field, change.old, masks.get(change.field)),
                new=_shown(model_field, change.new, masks.get(change.field)),
            )
        )
    return conflict


def _display_name(user) -> str:
    name = getattr(user, "display_name", None)
    return str(name if name is not None else user)


def _shown(model_field, value, mask: Callable[[Any], str] | None) -> str:
    """A value as the user reads it: labels for choices, names for records, 是/否."""
    if mask is not None:
        return (mask(value) if value not in (None, "") else "") or EMPTY
    if value is None or value == "":
        return EMPTY
    if isinstance(value, list):  # many-to-many rows: the records on the far side
        target = model_field.m2m_reverse_field_name()
        names = [str(row.get(target, "")) for row in value]
        return "、".join(sorted(n for n in names if n)) or EMPTY
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, datetime.date):
        return value.isoformat()
    text = " ".join(str(value).split())
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"
