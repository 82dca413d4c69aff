"""The report pages: the list (with what awaits the user's step), generating a version, the
report itself (figures live for a draft, frozen once submitted, each a link to its records;
the narrative filled in; flags, data-quality checks and budget; the changes against the last
submitted version; the steps taken), editing the narrative, the steps, and the frozen list of
records behind a figure.

Thin views: the rules live in ``reports.workflow``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from network.access import get_visible_or_404, scope_for
from network.models import Area, AreaLevel
from network.scoped import scoped_view
from reports import catalogue, workflow
from reports.budget import budget_summary
from reports.catalogue import Computation, Figure, elsewhere_url
from reports.drilldown import record_model, records_page
from reports.forms_reports import GenerateForm, NarrativeForm, ReportFilterForm, report_areas_for
from reports.models import Report, ReportStatus
from reports.narrative import AREA, PERIOD, format_value, paragraphs
from reports.quality import quality_checks
from reports.summary import summary_table
from reports.validation import check_figures
from residents.pages import HIDDEN_HISTORY_FIELDS, history_entries, page_of
from residents.typed_input import without_control_characters

VIEW = "reports.view_report"
ADD = "reports.add_report"
CHANGE = "reports.change_report"
EXPORT = "reports.export_reports"
STEP_PERMISSIONS = {
    "submit": "reports.submit_report",
    "approve": "reports.approve_report",
    "return": None,  # the approver's or the district's, checked by the workflow
    "accept": "reports.accept_report",
    "reopen": "reports.accept_report",
}
COMMENT_LIMIT = 2000
S = ReportStatus


def _reports():
    return Report.objects.select_related("definition", "area", "generated_by")


# ---------------------------------------------------------------- the list


def awaiting_user(user):
    """Reports waiting for a step the user may take: the sub-district's approval of its
    communities' reports, the district's acceptance."""
    mine = Q(pk__in=[])
    if user.has_perm("reports.approve_report"):
        own_areas = scope_for(user).area_ids
        mine |= Q(status=S.SUBMITTED, area__level=AreaLevel.COMMUNITY) & ~Q(area_id__in=own_areas)
    if user.has_perm("reports.accept_report"):
        mine |= Q(status=S.APPROVED) | (Q(status=S.SUBMITTED) & ~Q(area__level=AreaLevel.COMMUNITY))
    return _reports().changeable_by(user).filter(mine).order_by("submitted_at", "pk")


@scoped_view(VIEW)
@require_GET
def report_list(request):
    user = request.user
    form = ReportFilterForm(request.GET or None, user=user)
    filters = form.filters
    records = _reports().visible_to(user).order_by("-generated_at", "-pk")
    if status := filters.get("status"):
        records = records.filter(status=status)
    if area := filters.get("area"):
        records = records.filter(area__path__startswith=area.path)
    page = page_of(request, records)
    return render(
        request,
        "reports/report_list.html",
        {
            "form": form,
            "page": page,
            "awaiting": list(awaiting_user(user)[:100]),
            "can_generate": user.has_perm(ADD) and report_areas_for(user).exists(),
        },
    )


# ---------------------------------------------------------------- generating


@scoped_view(VIEW, ADD)
@require_http_methods(["GET", "POST"])
def report_generate(request):
    user = request.user
    if request.method == "POST":
        form = GenerateForm(request.POST, user=user)
        if form.is_valid():
            try:
                report = workflow.generate(
                    form.cleaned_data["definition"], form.cleaned_data["area"], user
                )
            except workflow.WorkflowError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    _("Version %(version)s generated: a draft until you submit it.")
                    % {"version": report.version},
                )
                return redirect("reports:report-detail", pk=report.pk)
        messages.error(request, _("No report was generated: correct the fields marked below."))
    else:
        initial = {}
        own = report_areas_for(user).filter(pk__in=scope_for(user).area_ids).first()
        if own is not None:
            initial["area"] = own.pk
        if definition := request.GET.get("definition"):
            initial["definition"] = definition
        form = GenerateForm(initial=initial, user=user)
    return render(request, "reports/report_generate.html", {"form": form})


# ---------------------------------------------------------------- one report


@dataclass
class FigureRow:
    figure: Figure
    cells: list  # (shown value, url) per child area
    total: str
    total_url: str
    previous: str
    year_before: str


@dataclass
class Shown:
    """What the report page shows of a report's figures."""

    areas: list[Area]  # child areas, then the report's area
    current: Computation
    previous: Computation
    year_before: Computation | None
    rows: list[FigureRow] = field(default_factory=list)


def _has_records(f: Figure) -> bool:
    target = catalogue.figure(f.drill_key)
    return bool(target.list_records or target.records)


def _live_url(key: str, area: Area, period) -> str:
    url = reverse("reports:figure-records", args=[key])
    return f"{url}?{urlencode({'area': area.pk, 'period': period.key})}"


def shown_figures(report: Report) -> Shown:
    """The figures of a draft (live, from ``summary_table``) or of a frozen report (from its
    snapshot, with the previous period worked out live beside it)."""
    period = workflow.report_period(report)
    known = catalogue.catalogue()
    keys = [key for key in report.keys if key in known]
    frozen = workflow.shows_snapshot(report)
    if frozen:
        areas = workflow.snapshot_areas(report)
        current = Computation(period=period, areas=areas, values=workflow.snapshot_values(report))
        previous = catalogue.compute(keys, [report.area], period.previous())
        year_before = None
    else:
        table = summary_table(report.area, period, workflow.frozen_keys(report))
        areas = [row.area for row in table.rows]
        current, previous, year_before = table.current, table.previous, table.year_before
    shown = Shown(areas=areas, current=current, previous=previous, year_before=year_before)
    for key in keys:
        f = known[key]
        linked = _has_records(f)
        cells = []
        for area in areas[:-1]:
            url = ""
            if not frozen:
                url = _live_url(key, area, period) if linked else elsewhere_url(f, area, period)
            cells.append((format_value(f, current.value(key, area)), url))
        total_url = "" if frozen else elsewhere_url(f, report.area, period)
        if linked:
            total_url = (
                reverse("reports:report-records", args=[report.pk, key])
                if frozen
                else _live_url(key, report.area, period)
            )
        shown.rows.append(
            FigureRow(
                figure=f,
                cells=cells,
                total=format_value(f, current.value(key, report.area)),
                total_url=total_url,
                previous=format_value(f, previous.value(key, report.area)),
                year_before=format_value(f, year_before.value(key, report.area))
                if year_before is not None
                else "",
            )
        )
    return shown


@scoped_view(VIEW)
@require_GET
def report_detail(request, pk):
    user = request.user
    report = get_visible_or_404(_reports(), user, pk=pk)
    period = workflow.report_period(report)
    shown = shown_figures(report)
    own_values = {key: shown.current.value(key, report.area) for key in report.keys}
    base = workflow.submitted_base(report)
    changes = workflow.changes_against_submitted(report, values=own_values, base=base)
    editable = report.status in workflow.EDITABLE
    versions = (
        Report.objects.filter(definition=report.definition_id, area=report.area_id)
        .exclude(pk=report.pk)
        .order_by("-version")
        .only("pk", "version", "status", "generated_at")
    )
    return render(
        request,
        "reports/report_detail.html",
        {
            "report": report,
            "period": period,
            "frozen": workflow.shows_snapshot(report),
            "shown": shown,
            "child_areas": shown.areas[:-1],
            "narrative": paragraphs(workflow.filled_narrative(report, shown.current)),
            "flags": check_figures(report.area, period, report.keys, shown.current, shown.previous),
            "checks": quality_checks(user, report.area, period) if editable else None,
            "budget": budget_summary(report.area, period.year),
            "base": base,
            "changes": [
                (
                    c,
                    format_value(c.figure, c.old),
                    format_value(c.figure, c.new),
                    _signed(c.figure, c.difference),
                )
                for c in changes
            ],
            "events": list(report.events.select_related("by").order_by("at", "pk")),
            "versions": list(versions),
            "actions": workflow.actions_for(user, report),
            "awaiting": workflow.awaiting(report),
            "can_edit": workflow.may_edit(user, report),
            "can_export": user.has_perm(EXPORT),
        },
    )


def _signed(f: Figure, difference) -> str:
    if difference is None:
        return "—"
    text = format_value(f, abs(difference))
    if f.measure == catalogue.SHARE:
        text = text.rstrip("%") + _(" points")
    return ("+" if difference > 0 else "−") + text if difference else text


def _placeholder(key: str) -> str:
    return "{{ " + key + " }}"


@scoped_view(VIEW, CHANGE)
@require_http_methods(["GET", "POST"])
def report_edit(request, pk):
    user = request.user
    report = get_visible_or_404(_reports(), user, pk=pk)
    if not workflow.may_edit(user, report):
        if report.status not in workflow.EDITABLE:
            messages.error(request, _("A submitted report's text can no longer be changed."))
            return redirect("reports:report-detail", pk=report.pk)
        raise PermissionDenied(_("You may not edit this report."))
    if request.method == "POST":
        form = NarrativeForm(request.POST)
        if form.is_valid():
            try:
                workflow.edit_narrative(
                    report,
                    user,
                    form.cleaned_data["narrative"].replace("\r\n", "\n"),
                    revision=form.cleaned_data["revision"],
                )
            except workflow.WorkflowError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, _("Narrative saved."))
                return redirect("reports:report-detail", pk=report.pk)
    else:
        form = NarrativeForm(initial={"narrative": report.narrative, "revision": report.revision})
    history = [
        entry
        for entry in history_entries(
            report.history.select_related("history_user"),
            hidden=HIDDEN_HISTORY_FIELDS | {"revision", "status", "submitted_at", "locked_at"},
        )
        if entry.kind == "~"
    ]
    known = catalogue.catalogue()
    return render(
        request,
        "reports/report_edit.html",
        {
            "report": report,
            "form": form,
            "history": history,
            "placeholders": [
                (_placeholder(AREA), _("the report's area")),
                (_placeholder(PERIOD), _("the report's period")),
                *[(_placeholder(key), known[key].label) for key in report.keys if key in known],
            ],
        },
    )


@scoped_view(VIEW)
@require_POST
def report_action(request, pk, action):
    """Take one step (submit, return, approve, accept, reopen); a step that is not allowed
    shows its reason and changes nothing."""
    step = workflow.STEPS.get(action)
    if step is None:
        raise Http404
    user = request.user
    report = get_visible_or_404(_reports(), user, pk=pk)
    permission = STEP_PERMISSIONS[action]
    if permission and not user.has_perm(permission):
        raise PermissionDenied(_("Your role does not allow this."))
    if action == "return" and not (
        user.has_perm("reports.approve_report") or user.has_perm("reports.accept_report")
    ):
        raise PermissionDenied(_("Your role does not allow this."))
    # no control characters: PostgreSQL refuses a NUL byte (a 500), nobody means to type one
    comment = without_control_characters(request.POST.get("comment") or "").strip()
    if len(comment) > COMMENT_LIMIT:
        messages.error(
            request,
            _("Keep the comment under %(limit)s characters; nothing was done.")
            % {"limit": COMMENT_LIMIT},
        )
        return redirect("reports:report-detail", pk=report.pk)
    try:
        step(report, user, comment, revision=request.POST.get("revision", ""))
    except workflow.WorkflowError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, DONE[action]())
    return redirect("reports:report-detail", pk=report.pk)


DONE = {
    "submit": lambda: _("Report submitted: its figures are frozen."),
    "approve": lambda: _("Report approved: it goes on to the district bureau."),
    "return": lambda: _("Report returned with your comment: it can be edited again."),
    "accept": lambda: _("Report accepted and locked."),
    "reopen": lambda: _("Report reopened: it can be edited and submitted again."),
}


@scoped_view(VIEW)
@require_GET
def report_records(request, pk, key):
    """The records behind a figure of a submitted report, as they were counted when it was
    frozen (the snapshot's record ids), not as they are now."""
    user = request.user
    report = get_visible_or_404(_reports(), user, pk=pk)
    if not workflow.shows_snapshot(report):
        raise Http404
    known = catalogue.catalogue()
    if key not in known:
        raise Http404
    ids = workflow.snapshot_record_ids(report, key)
    if ids is None:
        raise Http404
    f = known[key]
    try:
        model = record_model(f)
    except LookupError:
        raise Http404 from None
    value = workflow.snapshot_values(report).get(key, {}).get(report.area_id)
    return records_page(
        request,
        f,
        model._default_manager.filter(pk__in=ids),
        heading=str(f.label),
        subtitle=_("%(area)s · %(period)s · version %(version)s, as submitted")
        % {
            "area": report.area.name,
            "period": workflow.report_period(report).label,
            "version": report.version,
        },
        back_url=reverse("reports:report-detail", args=[report.pk]),
        value=value,
    )
