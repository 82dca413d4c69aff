"""The audit log (审计日志) for district bureau staff: every create, change, archive and
restore of casework, every sign-in, reveal of an ID number and export, with filters (user,
area, kind, dates), pages that cost the same few queries at any size, and an xlsx or csv
export of the filtered log (itself logged). Read-only: nothing here changes an event.

Who sees what: the permission ``network.view_auditevent`` (granted to the district bureau
role), and within it the events of the areas the user may see; events without an area
(sign-ins, accounts) only to users whose scope is a whole district, and to superusers.
"""

import csv
import io
import tempfile

from django import forms
from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Paginator
from django.db.models import ForeignKey, Q
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from network.access import scope_for, visible_q
from network.exports import log_export
from network.forms import DateRangeForm
from network.models import Area, AuditEvent, AuditKind
from network.scoped import scoped_view

PER_PAGE = 50
SPOOL_LIMIT = 8 * 1024 * 1024
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
DIFF_KINDS = {
    AuditKind.CREATE,
    AuditKind.CHANGE,
    AuditKind.ARCHIVE,
    AuditKind.RESTORE,
    AuditKind.DELETE,
}


# ---------------------------------------------------------------- which events


def sees_unplaced_events(user) -> bool:
    """Events without an area (sign-ins, accounts): for a whole district's staff only."""
    scope = scope_for(user)
    return scope.everything or any(path.count("/") == 2 for path in scope.visible_paths)


def events_visible_to(user):
    q = visible_q(user, AuditEvent)
    if sees_unplaced_events(user):
        q |= Q(area__isnull=True)
    return AuditEvent.objects.filter(q)


class AreaChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{'　' * max(obj.path.count('/') - 2, 0)}{obj.name}"


class AuditFilterForm(DateRangeForm):
    who = forms.CharField(
        label=gettext_lazy("User"),
        required=False,
        max_length=50,
        help_text=gettext_lazy("User name or real name"),
    )
    area = AreaChoice(label=gettext_lazy("Area"), queryset=Area.objects.none(), required=False)
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), required=False)
    field_order = ["who", "area", "kind", "date_from", "date_to"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = (
            Area.objects.visible_to(user).filter(is_active=True).order_by("path")
        )
        self.fields["kind"].choices = [("", _("All kinds")), *AuditKind.choices]

    def filter(self, events):
        data = self.cleaned_data
        who = data["who"].strip()
        if who:
            events = events.filter(
                Q(username__icontains=who)
                | Q(user__username__icontains=who)
                | Q(user__real_name__icontains=who)
            )
        if data["area"]:
            events = events.filter(area__path__startswith=data["area"].path)
        if data["kind"]:
            events = events.filter(kind=data["kind"])
        return self.in_dates(events)

    def as_filters(self) -> dict:
        """The filters as the export log keeps them."""
        data = self.cleaned_data
        return {
            "who": data["who"].strip(),
            "area": data["area"].name if data["area"] else "",
            "kind": data["kind"],
            "from": data["date_from"].isoformat() if data["date_from"] else "",
            "to": data["date_to"].isoformat() if data["date_to"] else "",
        }


def filtered_events(request):
    """(form, events) for the request's filters; an invalid form gives no events."""
    form = AuditFilterForm(request.GET or None, user=request.user)
    events = events_visible_to(request.user).select_related("user", "area")
    if form.is_bound:
        events = form.filter(events) if form.is_valid() else events.none()
    return form, events.order_by("-at", "-pk")


# ---------------------------------------------------------------- how an event reads


def _model_of(object_type: str):
    try:
        return apps.get_model(object_type) if "." in object_type else None
    except (LookupError, ValueError):
        return None


def _field(model, name):
    try:
        return model._meta.get_field(name) if model else None
    except FieldDoesNotExist:
        return None


def _shown(field, value, area_names) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    if field is not None:
        if getattr(field, "flatchoices", None):
            return str(dict(field.flatchoices).get(value, value))
        if isinstance(field, ForeignKey):
            if field.related_model is Area and value in area_names:
                return area_names[value]
            return f"#{value}"
    return str(value)


class EventRow:
    """One event as the page and the export show it."""

    def __init__(self, event: AuditEvent, area_names: dict):
        self.event = event
        model = _model_of(event.object_type)
        self.record_type = str(model._meta.verbose_name) if model else event.object_type
        self.diffs = []  # (label, old, new)
        self.details = []  # (key, value)
        changes = event.changes if isinstance(event.changes, dict) else {}
        for name, value in changes.items():
            field = _field(model, name)
            label = str(field.verbose_name) if field is not None else name
            pair = isinstance(value, list) and len(value) == 2
            if event.kind in DIFF_KINDS and pair:
                old, new = value
                self.diffs.append(
                    (label, _shown(field, old, area_names), _shown(field, new, area_names))
                )
            elif isinstance(value, dict):
                text = ", ".join(f"{k}={v}" for k, v in value.items())
                self.details.append((label, text or "—"))
            else:
                self.details.append((label, _shown(field, value, area_names)))

    @property
    def who(self) -> str:
        event = self.event
        if event.user_id:
            return event.user.display_name
        return event.username or "—"

    @property
    def changes_text(self) -> str:
        parts = [f"{label}: {old} → {new}" for label, old, new in self.diffs]
        parts += [f"{key}: {value}" for key, value in self.details]
        return "；".join(parts)


def present(events) -> list[EventRow]:
    """Rows for a page of events; area names inside changes in one query for the page."""
    events = list(events)
    area_ids = set()
    for event in events:
        model = _model_of(event.object_type)
        if event.kind not in DIFF_KINDS or model is None or not isinstance(event.changes, dict):
            continue
        for name, value in event.changes.items():
            field = _field(model, name)
            if isinstance(field, ForeignKey) and field.related_model is Area:
                area_ids.update(v for v in (value or []) if isinstance(v, int))
    names = dict(Area.objects.filter(pk__in=area_ids).values_list("pk", "name")) if area_ids else {}
    return [EventRow(event, names) for event in events]


# ---------------------------------------------------------------- pages


@scoped_view("network.view_auditevent")
def audit_log(request):
    form, events = filtered_events(request)
    page = Paginator(events, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "network/audit_log.html",
        {
            "form": form,
            "page": page,
            "rows": present(page.object_list),
            "can_export": request.user.has_perm("network.export_auditevent"),
        },
    )


def _cell(value):
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        if value.startswith(FORMULA_STARTS):
            return "'" + value
    return value


def _header():
    return [
        _("When"),
        _("User name"),
        _("Who"),
        _("IP address"),
        _("Kind"),
        _("Area"),
        _("Record type"),
        _("Record"),
        _("What changed"),
        _("Note"),
    ]


def _export_rows(events):
    for event in events.iterator(chunk_size=2000):
        row = EventRow(event, {})
        yield [
            timezone.localtime(event.at).strftime("%Y-%m-%d %H:%M:%S"),
            event.username,
            row.who,
            event.ip_address or "",
            event.get_kind_display(),
            event.area.name if event.area_id else "",
            row.record_type,
            f"{event.object_label} (#{event.object_id})" if event.object_id else event.object_label,
            row.changes_text,
            event.note,
        ]


@scoped_view("network.view_auditevent", "network.export_auditevent")
def audit_export(request, file_format):
    """The filtered audit log as xlsx or csv; the export is logged (and audited)."""
    if file_format not in ("xlsx", "csv"):
        raise Http404
    form, events = filtered_events(request)
    if form.is_bound and not form.is_valid():
        page = Paginator(events, PER_PAGE).get_page(1)
        context = {"form": form, "page": page, "rows": [], "can_export": True}
        return render(request, "network/audit_log.html", context, status=400)
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_LIMIT)  # noqa: SIM115 (the response closes it)
    count = 0
    if file_format == "csv":
        text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
        writer = csv.writer(text)
        writer.writerow([_cell(h) for h in _header()])
        for cells in _export_rows(events):
            writer.writerow([_cell(c) for c in cells])
            count += 1
        text.flush()
        text.detach()
        content_type = "text/csv; charset=utf-8"
    else:
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet(title=_("Audit log")[:31])
        sheet.append([_cell(h) for h in _header()])
        for cells in _export_rows(events):
            sheet.append([_cell(c) for c in cells])
            count += 1
        book.save(out)
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    out.seek(0)
    filters = form.as_filters() if form.is_bound else {}
    log_export(
        request=request,
        exporter="network.audit",
        label=_("Audit log"),
        file_format=file_format,
        row_count=count,
        filters=filters,
        area=form.cleaned_data.get("area") if form.is_bound else None,
    )
    return FileResponse(
        out,
        as_attachment=True,
        filename=f"{_('audit-log')}-{timezone.localdate():%Y%m%d}.{file_format}",
        content_type=content_type,
    )
