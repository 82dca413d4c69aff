"""Merging two records of the same resident (or the same household) into one.

The record kept stays; the other is archived with the change reason "merged into #id", never
deleted, so both histories remain. Every object pointing at the other record is moved to the
kept one; the related models are discovered through ``_meta.related_objects``, so models added
by later apps (visits, pairings ...) follow without changes here. A row that cannot move
because the kept record already has its equivalent (an honour of the same kind and year, say)
stays with the archived record and is reported.
"""

from collections import Counter
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from network.access import can_change_area
from residents.id_numbers import mask_id_number
from residents.models import Household, Person

# Fields never copied from the archived record: identity, place, state and bookkeeping.
PERSON_KEEP_AS_IS = {"household", "community", "status", "status_changed_on", "archived_at"}
HOUSEHOLD_KEEP_AS_IS = {
    "community",
    "ledger_number",  # unique in a community: the archived record keeps its own
    "status",
    "dibao_persons",  # empty means "all members", not unknown
    "moved_out_on",
    "handover_to",
    "handover_sent_at",
    "archived_at",
}


@dataclass
class Fill:
    """A gap of the kept record filled from the other one."""

    name: str
    label: str
    value: object
    shown: str


@dataclass
class MergePlan:
    kept: models.Model
    other: models.Model
    fills: list[Fill]
    moves: Counter = field(default_factory=Counter)  # label -> rows that move
    stays: list[str] = field(default_factory=list)  # rows that stay with the archived record

    @property
    def move_list(self) -> list[tuple[str, int]]:
        return sorted(self.moves.items())


def _is_empty(value) -> bool:
    return value is None or value == ""


def _shown(model_field, value) -> str:
    if model_field.name == "id_number":
        return mask_id_number(value)
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    return str(value)


def gaps(kept, other, keep_as_is: set[str]) -> list[Fill]:
    """Fields empty on the kept record and filled on the other. Yes/no fields are never gaps:
    "no" is an answer, not a missing value."""
    fills = []
    for model_field in kept._meta.concrete_fields:
        if (
            model_field.primary_key
            or not model_field.editable
            or model_field.name in keep_as_is
            or isinstance(model_field, models.BooleanField)
        ):
            continue
        mine = getattr(kept, model_field.attname)
        theirs = getattr(other, model_field.attname)
        if _is_empty(mine) and not _is_empty(theirs):
            fills.append(
                Fill(
                    name=model_field.attname,
                    label=str(model_field.verbose_name),
                    value=theirs,
                    shown=_shown(model_field, theirs),
                )
            )
    return fills


def related_links(model) -> list[tuple[type[models.Model], str]]:
    """(model, field name) of every foreign key pointing at ``model``, including the
    intermediate rows of many-to-many relations. History tables are not among them (their
    keys are hidden), so histories stay where they are."""
    links = []
    for rel in model._meta.related_objects:
        if rel.many_to_many:
            links.append((rel.through, rel.field.m2m_reverse_field_name()))
        else:
            links.append((rel.related_model, rel.field.name))
    return links


def _label(model) -> str:
    return str(model._meta.verbose_name_plural)


def repoint_related(old, new, *, reason: str, dry_run: bool = False):
    """Move every row pointing at ``old`` to ``new``, one by one (so each leaves history).
    Returns (moved counts by label, descriptions of rows that must stay)."""
    moved: Counter = Counter()
    stays: list[str] = []
    for related_model, field_name in related_links(type(old)):
        for row in related_model._base_manager.filter(**{field_name: old}).order_by("pk"):
            setattr(row, field_name, new)
            try:
                row.validate_unique()
                row.validate_constraints()
            except ValidationError:
                setattr(row, field_name, old)
                stays.append(f"{related_model._meta.verbose_name}: {row}")
                continue
            moved[_label(related_model)] += 1
            if not dry_run:
                row._change_reason = reason
                row.save()
    return moved, stays


def _check(by, kept, other, kind: str):
    if kept.pk == other.pk:
        raise ValidationError(_("Choose two different records to merge."))
    if kept.archived_at or other.archived_at:
        raise ValidationError(_("Archived records cannot be merged."))
    if not (can_change_area(by, kept.community) and can_change_area(by, other.community)):
        raise ValidationError(_("Both records must be in areas you manage."))
    if kind == "household" and (kept.handover_to_id or other.handover_to_id):
        raise ValidationError(
            _("A handover of one of these households is pending; settle it first.")
        )


def _plan(kept, other, keep_as_is, moves_reason) -> MergePlan:
    moves, stays = repoint_related(other, kept, reason=moves_reason, dry_run=True)
    return MergePlan(kept, other, gaps(kept, other, keep_as_is), moves, stays)


def person_merge_preview(*, by, kept: Person, other: Person) -> MergePlan:
    _check(by, kept, other, "person")
    return _plan(kept, other, PERSON_KEEP_AS_IS, "")


def household_merge_preview(*, by, kept: Household, other: Household) -> MergePlan:
    _check(by, kept, other, "household")
    return _plan(kept, other, HOUSEHOLD_KEEP_AS_IS, "")


def _merge(by, kept, other, kind, keep_as_is) -> MergePlan:
    _check(by, kept, other, kind)
    with transaction.atomic():
        fills = gaps(kept, other, keep_as_is)
        # Archive first: a person's ID number is unique among current records only.
        other.archived_at = timezone.now()
        other._change_reason = f"merged into #{kept.pk}"
        other.save()
        for fill in fills:
            setattr(kept, fill.name, fill.value)
        kept.validate_constraints()
        kept._change_reason = f"merged #{other.pk} into this record"
        kept.save()
        moves, stays = repoint_related(
            other, kept, reason=f"moved from #{other.pk}, merged into #{kept.pk}"
        )
    return MergePlan(kept, other, fills, moves, stays)


def person_merge(*, by, kept: Person, other: Person) -> MergePlan:
    """Keep ``kept``; fill its gaps from ``other``, move what points at ``other``, archive
    ``other``. Atomic."""
    return _merge(by, kept, other, "person", PERSON_KEEP_AS_IS)


def household_merge(*, by, kept: Household, other: Household) -> MergePlan:
    """Keep ``kept``; members, honours and everything else of ``other`` move to it, and
    ``other`` is archived. Atomic."""
    return _merge(by, kept, other, "household", HOUSEHOLD_KEEP_AS_IS)
