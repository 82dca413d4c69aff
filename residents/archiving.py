"""Archiving and restoring: records are never deleted. ``archived_at`` hides a record from
the lists until it is restored, and the change reason ("archived", "restored") says in the
history why it changed."""

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.utils import timezone


def set_archived(record, archived: bool) -> bool:
    """Archive ``record`` now, or restore it. False (and nothing saved) when it already was."""
    if record.is_archived == archived:
        return False
    record.archived_at = timezone.now() if archived else None
    record._change_reason = "archived" if archived else "restored"
    record.save(update_fields=["archived_at", "updated_at"])
    return True


def refused(request, exc: ValidationError) -> None:
    """Tell the user why a write was refused."""
    messages.error(request, " ".join(exc.messages))


def archive_or_restore(
    request,
    record,
    *,
    archived: bool,
    done: str,
    detail: str,
    already: str | None = "",
    change: Callable[[], object] | None = None,
):
    """The POST behind an archive or restore button; back to the record's ``detail`` page.

    ``change`` writes it (default: ``set_archived``); a ValidationError it raises is shown as
    an error. When the record already is as asked, ``already`` is shown (nothing if empty);
    with ``already=None`` ``change`` is called anyway and decides itself."""
    if already is not None and record.is_archived == archived:
        if already:
            messages.info(request, already)
    else:
        try:
            if change is None:
                set_archived(record, archived)
            else:
                change()
        except ValidationError as exc:
            refused(request, exc)
        else:
            messages.success(request, done)
    return redirect(detail, pk=record.pk)
