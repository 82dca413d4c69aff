"""What every casework page shares, in the register and in the apps built on it (outreach,
services): bootstrap-styled widgets, list filters that drop what does not fit, paging, the
logged and formula-safe xlsx export, and the change history shown on detail pages."""

import dataclasses
import datetime
import tempfile
import uuid
from collections.abc import Callable, Iterable

from django import forms
from django.core.paginator import Paginator
from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from network.exports import log_export
from network.models import AreaLevel
from residents.exporters import safe_cell
from residents.selectors import reason_text
from residents.typed_input import without_control_characters

PER_PAGE = 50
SPOOL_LIMIT = 8 * 1024 * 1024


def style_widgets(fields) -> None:
    """Bootstrap classes on a form's widgets for plain rendering (a class already set is
    kept; hidden and file inputs are left alone)."""
    for field in fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            widget.attrs.setdefault("class", "form-check-input")
        elif isinstance(widget, forms.Select):  # SelectMultiple too
            widget.attrs.setdefault("class", "form-select")
        elif not isinstance(widget, forms.HiddenInput | forms.FileInput):
            widget.attrs.setdefault("class", "form-control")


class AreaField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        indent = {AreaLevel.SUBDISTRICT: "", AreaLevel.ZONE: "· ", AreaLevel.COMMUNITY: "· · "}
        return f"{indent.get(obj.level, '')}{obj.name}"


class ListFilterForm(forms.Form):
    """A list page's filters (GET): a value that does not fit is dropped, never an error."""

    @property
    def filters(self) -> dict:
        """The values that passed validation; the others are dropped."""
        if not self.is_bound:
            return {}
        self.is_valid()
        return {k: v for k, v in getattr(self, "cleaned_data", {}).items() if v not in ("", None)}

    def logged_filters(self) -> dict:
        return {k: str(v) for k, v in self.filters.items() if v not in (False, [])}


def page_of(request, records, per_page: int = PER_PAGE):
    """A page of ``records`` by ``?page=``; a page number that does not fit gives the
    nearest page, never an error."""
    return Paginator(records, per_page).get_page(request.GET.get("page"))


# ---------------------------------------------------------------- export


def xlsx_export(
    request,
    *,
    header,
    rows,
    identifier: str,
    label: str,
    sheet: str,
    filename: str,
    filters: dict | None = None,
    area=None,
) -> FileResponse:
    """Write ``rows`` (lists of cells) under ``header`` to an xlsx file, log the export and
    return it. Text cells that a spreadsheet would run as a formula are kept as text."""
    from openpyxl import Workbook

    def cell(value):
        if isinstance(value, str):
            return safe_cell(without_control_characters(value))
        if isinstance(value, datetime.datetime):
            return timezone.localtime(value).replace(tzinfo=None)
        return value

    book = Workbook(write_only=True)
    page = book.create_sheet(title=str(sheet)[:31])
    page.append([cell(str(h)) for h in header])
    count = 0
    for row in rows:
        page.append([cell(value) for value in row])
        count += 1
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_LIMIT)  # noqa: SIM115 (the response closes it)
    book.save(out)
    out.seek(0)
    log_export(
        request=request,
        exporter=identifier,
        label=str(label),
        file_format="xlsx",
        row_count=count,
        filters=filters,
        area=area,
    )
    return FileResponse(
        out,
        as_attachment=True,
        filename=f"{filename}-{timezone.localdate():%Y%m%d}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def no_future(day: datetime.date, message: str | None = None) -> None:
    if day and day > timezone.localdate():
        raise forms.ValidationError(message or _("This date is in the future."))


# ---------------------------------------------------------------- history


@dataclasses.dataclass
class HistoryEntry:
    """One change of a record, as the detail pages show it (``includes/changes.html``)."""

    at: datetime.datetime
    user: object  # the account that made the change, or None (a script, the shell)
    kind: str  # "+" created, "~" changed, "-" deleted
    fields: list[str] = dataclasses.field(default_factory=list)
    reason: str = ""
    subject: str = ""  # what changed, where a page shows the history of several records


HIDDEN_HISTORY_FIELDS = frozenset({"updated_at", "created_at", "submission_key", "community"})


def changed_fields(record, before, hidden: Iterable[str] = HIDDEN_HISTORY_FIELDS) -> list[str]:
    """The verbose names of the fields history row ``record`` changed since row ``before``."""
    delta = record.diff_against(before, excluded_fields=list(hidden))
    meta = record.instance_type._meta
    return [str(meta.get_field(change.field).verbose_name) for change in delta.changes]


def history_entries(
    records,
    *,
    hidden: Iterable[str] = HIDDEN_HISTORY_FIELDS,
    subject_of: Callable[[object], str] | None = None,
    reason_of: Callable[[str], str] = reason_text,
    drop_oldest: bool = False,
) -> list[HistoryEntry]:
    """History rows (of one or more records of a model) as entries, newest first: who, when,
    which fields changed. A save that changed nothing shown and gave no reason is left out.
    ``drop_oldest``: the oldest row was fetched only to compare the next one with."""
    rows = sorted(records, key=lambda r: (r.history_date, r.history_id))
    previous: dict[int, object] = {}
    entries = []
    for index, record in enumerate(rows):
        before = previous.get(record.id)
        previous[record.id] = record
        if drop_oldest and index == 0:
            continue
        fields: list[str] = []
        if before is not None and record.history_type == "~":
            fields = changed_fields(record, before, hidden)
            if not fields and not record.history_change_reason:
                continue
        entries.append(
            HistoryEntry(
                at=record.history_date,
                user=record.history_user,
                kind=record.history_type,
                fields=fields,
                reason=reason_of(record.history_change_reason or ""),
                subject=subject_of(record) if subject_of else "",
            )
        )
    entries.reverse()
    return entries


# ---------------------------------------------------------------- a create form sent twice


def posted_submission_key(data) -> uuid.UUID | None:
    """The hidden submission key a create form carried (see the models' ``submission_key``),
    or None when it is missing or garbled (then the record gets a fresh key)."""
    raw = (data or {}).get("submission_key")
    try:
        return uuid.UUID(str(raw).strip()) if raw else None
    except (ValueError, TypeError, AttributeError):
        return None


def existing_by_key(model, user, key: uuid.UUID | None):
    """The record already saved under a submission key, if ``user`` may see it; ``False`` if
    the key is taken by one they may not see (so a fresh key is needed); None if unused."""
    if key is None:
        return None
    existing = model.objects.filter(submission_key=key).first()
    if existing is None:
        return None
    if model.objects.visible_to(user).filter(pk=existing.pk).exists():
        return existing
    return False
