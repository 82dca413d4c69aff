"""A report's life: generated as a numbered draft, frozen when submitted, then approved up the
hierarchy as DHIS2 approves its data sets.

- A community's report: submitted → its sub-district approves it (APPROVED) or returns it
  with a comment (RETURNED: editable again; submitting again freezes afresh) → the district
  bureau accepts and locks it (ACCEPTED).
- A sub-district's, a zone's or the district's own report goes from SUBMITTED straight to the
  district bureau, which accepts it or returns it.
- An accepted report is reopened by the district with a reason; it is RETURNED, editable.
  While a version is accepted (locked), no other version is made or submitted.
- A report submitted before (returned, or reopened) is never changed in place: the first
  edit or the new submission makes it the next version, so the figures, record ids and text
  it was submitted with stay as they were (and the new version shows what changed).

Every step locks the report row (``select_for_update``), refuses a form posted from a page
older than the report's last change (``revision``), records a ``ReportEvent`` and raises
``WorkflowError`` (a message for the user) when the step is not allowed, changing nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from network.access import can_change_area, scope_for
from network.models import Area, AreaLevel
from reports import catalogue
from reports.catalogue import Figure
from reports.models import (
    Report,
    ReportAction,
    ReportDefinition,
    ReportEvent,
    ReportStatus,
    SnapshotFigure,
)
from reports.narrative import AREA, PERIOD, figure_placeholders, fill
from reports.periods import PeriodError, parse_period
from reports.summary import child_areas

S = ReportStatus
EDITABLE = (S.DRAFT, S.RETURNED)
# versions another version's changes are measured against
SUBMITTED_STATES = (S.SUBMITTED, S.APPROVED, S.ACCEPTED)
_CENTS = Decimal("0.01")


class WorkflowError(Exception):
    """A step that is not allowed; the message is for the user."""


# ---------------------------------------------------------------- who acts next


def needs_approval(area: Area) -> bool:
    """A community's report is approved by its sub-district before the district sees it;
    every other area's report goes straight to the district."""
    return area.level == AreaLevel.COMMUNITY


def awaiting(report: Report) -> str:
    """The step a report waits for: "approve" (its sub-district), "accept" (the district) or
    "" (nothing: a draft, a returned, accepted or superseded report)."""
    if report.status == S.SUBMITTED:
        return "approve" if needs_approval(report.area) else "accept"
    if report.status == S.APPROVED:
        return "accept"
    return ""


def _approves_for(user, area: Area) -> bool:
    """The user holds a staff post strictly above ``area`` (its sub-district, or the zone)."""
    scope = scope_for(user)
    if scope.everything:
        return True
    return any(area.path.startswith(p) and area.path != p for p in scope.changeable_paths)


def may_submit(user, report: Report) -> bool:
    return (
        report.status in EDITABLE
        and user.has_perm("reports.submit_report")
        and can_change_area(user, report.area)
        and _accepted_version(report.definition_id, report.area_id, report.pk) is None
    )


def _accepted_version(definition_id: int, area_id: int, exclude_pk=None) -> int | None:
    """The number of a version of the report that is accepted (locked), if any: until the
    district reopens it, no other version is made or submitted."""
    accepted = Report.objects.filter(
        definition=definition_id, area=area_id, status=S.ACCEPTED
    ).exclude(pk=exclude_pk)
    return accepted.values_list("version", flat=True).first()


def _locked_error(version: int) -> WorkflowError:
    return WorkflowError(
        _(
            "Version %(version)s of this report has been accepted and locked: the district "
            "bureau must reopen it before another version is made or submitted."
        )
        % {"version": version}
    )


def may_edit(user, report: Report) -> bool:
    return (
        report.status in EDITABLE
        and user.has_perm("reports.change_report")
        and can_change_area(user, report.area)
    )


def may_approve(user, report: Report) -> bool:
    return (
        awaiting(report) == "approve"
        and user.has_perm("reports.approve_report")
        and _approves_for(user, report.area)
    )


def may_accept(user, report: Report) -> bool:
    return (
        awaiting(report) == "accept"
        and user.has_perm("reports.accept_report")
        and can_change_area(user, report.area)
    )


def may_return(user, report: Report) -> bool:
    return may_approve(user, report) or may_accept(user, report)


def may_reopen(user, report: Report) -> bool:
    return (
        report.status == S.ACCEPTED
        and user.has_perm("reports.accept_report")
        and can_change_area(user, report.area)
    )


def actions_for(user, report: Report) -> list[str]:
    """The steps ``user`` may take on ``report`` now, for the page's buttons."""
    checks = {
        "submit": may_submit,
        "approve": may_approve,
        "accept": may_accept,
        "return": may_return,
        "reopen": may_reopen,
    }
    return [name for name, check in checks.items() if check(user, report)]


# ---------------------------------------------------------------- generating and freezing


def report_period(report_or_definition):
    return parse_period(report_or_definition.period)


def frozen_keys(report: Report) -> list[str]:
    """What a snapshot holds: the report's figures, then the other figures its narrative
    writes (so the frozen text is filled from the snapshot too), then the parts of shares."""
    known = catalogue.catalogue()
    keys = [key for key in report.keys if key in known]
    keys += [key for key in figure_placeholders(report.narrative) if key in known]
    # a share's two parts, so the frozen values explain the share (and its flags)
    keys += [
        part
        for key in keys
        if known[key].measure == catalogue.SHARE
        for part in (known[key].numerator, known[key].denominator)
    ]
    return list(dict.fromkeys(keys))


def generate(definition: ReportDefinition, area: Area, user) -> Report:
    """A new version of ``definition``'s report for ``area``: a draft, its figures computed
    live until it is submitted. A draft or returned earlier version is superseded."""
    if not definition.is_active:
        raise WorkflowError(_("This report definition is no longer in use."))
    if not ReportDefinition.objects.visible_to(user).filter(pk=definition.pk).exists():
        raise WorkflowError(_("You may not use this report definition."))
    if not definition.area.path or not area.path.startswith(definition.area.path):
        raise WorkflowError(
            _("This report is made for %(area)s and the areas under it.")
            % {"area": definition.area.name}
        )
    if not can_change_area(user, area):
        raise WorkflowError(_("You may not make reports for %(area)s.") % {"area": area.name})
    try:
        period = parse_period(definition.period)
    except PeriodError as exc:
        raise WorkflowError(str(exc)) from None
    with transaction.atomic():
        # one generation at a time per definition, so two clicks cannot take one number
        ReportDefinition.objects.select_for_update().filter(pk=definition.pk).first()
        locked = _accepted_version(definition.pk, area.pk)
        if locked is not None:
            raise _locked_error(locked)
        earlier = Report.objects.filter(definition=definition, area=area)
        last = earlier.aggregate(last=Max("version"))["last"] or 0
        now = timezone.now()
        for old in earlier.select_for_update().filter(status__in=EDITABLE):
            _supersede(old, user, last + 1)
        report = Report.objects.create(
            definition=definition,
            area=area,
            period=period.key,
            version=last + 1,
            status=S.DRAFT,
            narrative=definition.narrative_template,
            figure_keys="\n".join(definition.keys),
            generated_by=user,
            generated_at=now,
        )
        ReportEvent.objects.create(report=report, action=ReportAction.GENERATED, by=user, at=now)
    return report


def _decimal(value) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(_CENTS)


def _record_ids(key: str, area: Area, period) -> list[int]:
    try:
        found = catalogue.records(key, area, period)
    except LookupError:  # a figure with no list of records behind it
        return []
    return list(found.order_by("pk").values_list("pk", flat=True))


def freeze(report: Report) -> list[SnapshotFigure]:
    """Store the report's figures for its area and each child area (one ``compute`` call), and
    for its own area the ids of the records behind each figure. Done once per report: a
    snapshot is never replaced (``submit`` sends a returned report as a new version)."""
    period = report_period(report)
    keys = frozen_keys(report)
    areas = [*child_areas(report.area), report.area]
    computed = catalogue.compute(keys, areas, period)
    rows = []
    for position, key in enumerate(keys):
        for area in areas:
            own = area.pk == report.area.pk
            rows.append(
                SnapshotFigure(
                    report=report,
                    key=key,
                    area=area,
                    position=position,
                    value=_decimal(computed.value(key, area)),
                    record_ids=_record_ids(key, area, period) if own else [],
                )
            )
    return SnapshotFigure.objects.bulk_create(rows)


def snapshot_values(report: Report) -> dict[str, dict[int, Decimal | None]]:
    """The frozen values: figure key → area pk → value."""
    values: dict[str, dict[int, Decimal | None]] = {}
    for key, area_pk, value in SnapshotFigure.objects.filter(report=report).values_list(
        "key", "area_id", "value"
    ):
        values.setdefault(key, {})[area_pk] = value
    return values


def snapshot_areas(report: Report) -> list[Area]:
    """The areas a snapshot holds: the child areas as they were at submission, then the
    report's area."""
    pks = SnapshotFigure.objects.filter(report=report).values("area_id")
    children = Area.objects.filter(pk__in=pks).exclude(pk=report.area_id)
    # in ``child_areas``' order: a zone (no code) after the coded areas on every database
    order = (F("code").asc(nulls_last=True), "name", "pk")
    return [*children.order_by(*order), report.area]


def snapshot_record_ids(report: Report, key: str) -> list[int] | None:
    """The ids of the records behind ``key`` for the report's own area; None when the
    snapshot has no such figure."""
    row = (
        SnapshotFigure.objects.filter(report=report, key=key, area=report.area_id)
        .values_list("record_ids", flat=True)
        .first()
    )
    return row


# ---------------------------------------------------------------- the steps


def _locked(report: Report, revision: int | None) -> Report:
    """The report's row, locked until the transaction ends; a stale page is refused. Its
    definition is locked first, in the order ``generate`` takes them: a submit and a new
    version at the same moment wait for each other instead of deadlocking."""
    ReportDefinition.objects.select_for_update().filter(pk=report.definition_id).first()
    current = (
        Report.objects.select_for_update(of=("self",)).select_related("area").get(pk=report.pk)
    )
    if revision is not None and str(revision).strip() != str(current.revision):
        raise WorkflowError(
            _(
                "Someone changed this report after you opened the page; nothing was done. "
                "Look at it again and repeat what you meant to do."
            )
        )
    return current


def _area_of(report: Report) -> dict:
    return {"area": report.area.name}


def _submitted_by(report: Report) -> int | None:
    """Who sent this version up last (the pk of the user), if anyone."""
    event = report.events.filter(action=ReportAction.SUBMITTED).order_by("-at", "-pk").first()
    return event.by_id if event else None


def _supersede(report: Report, user, by_version: int) -> None:
    """Mark ``report`` superseded by version ``by_version``, with who and when."""
    report.status = S.SUPERSEDED
    report.revision += 1
    report.save(update_fields=["status", "revision"])
    ReportEvent.objects.create(
        report=report,
        action=ReportAction.SUPERSEDED,
        by=user,
        comment=_("Superseded by version %(version)s.") % {"version": by_version},
    )


def _record(report: Report, user, action: str, comment: str = "", **changes) -> Report:
    """Save the step's changes (and a new revision) and its event."""
    now = timezone.now()
    for name, value in changes.items():
        setattr(report, name, value(now) if callable(value) else value)
    report.revision += 1
    report.save(update_fields=[*changes, "revision"])
    ReportEvent.objects.create(report=report, action=action, by=user, at=now, comment=comment)
    return report


def _refresh(original: Report, saved: Report) -> Report:
    """``original`` (the caller's object) as ``saved``; when the step made a new version,
    ``original`` now stands for that version (so a page redirects to it)."""
    if saved.pk != original.pk:
        for name in ("id", "version", "generated_by", "generated_at", "figure_keys"):
            setattr(original, name, getattr(saved, name))
    for name in ("status", "revision", "submitted_at", "locked_at", "narrative"):
        setattr(original, name, getattr(saved, name))
    return original


def _unsent_version(current: Report, user) -> Report:
    """``current`` itself when it was never submitted; else, for a returned or reopened
    report, its next version (a draft with the same figures and text), ``current`` being
    superseded with the snapshot, record ids and text it was submitted with."""
    if current.submitted_at is None:
        return current
    ReportDefinition.objects.select_for_update().filter(pk=current.definition_id).first()
    last = Report.objects.filter(definition=current.definition_id, area=current.area_id).aggregate(
        last=Max("version")
    )["last"]
    now = timezone.now()
    _supersede(current, user, last + 1)
    following = Report.objects.create(
        definition_id=current.definition_id,
        area=current.area,
        period=current.period,
        version=last + 1,
        status=S.DRAFT,
        narrative=current.narrative,
        figure_keys=current.figure_keys,
        generated_by=user,
        generated_at=now,
    )
    ReportEvent.objects.create(
        report=following,
        action=ReportAction.GENERATED,
        by=user,
        at=now,
        comment=_("Made from version %(version)s, which was sent back; it keeps what it held.")
        % {"version": current.version},
    )
    return following


def _wrong_step(report: Report) -> WorkflowError:
    return WorkflowError(
        _("This report is %(status)s: that step is not possible now.")
        % {"status": report.get_status_display()}
    )


def _required(comment: str, message: str) -> str:
    comment = (comment or "").strip()
    if not comment:
        raise WorkflowError(message)
    return comment


def submit(report: Report, user, comment: str = "", *, revision: int | None = None) -> Report:
    """Freeze the figures and send the report up: to the sub-district for a community's
    report, to the district for any other. An earlier version still waiting is superseded; a
    returned or reopened report is sent as its next version (``_unsent_version``)."""
    with transaction.atomic():
        current = _locked(report, revision)
        if current.status not in EDITABLE:
            raise _wrong_step(current)
        locked = _accepted_version(current.definition_id, current.area_id, current.pk)
        if locked is not None:
            raise _locked_error(locked)
        if not may_submit(user, current):
            raise WorkflowError(_("You may not submit the report of %(area)s.") % _area_of(current))
        current = _unsent_version(current, user)
        freeze(current)
        waiting = Report.objects.select_for_update().filter(
            definition=current.definition_id,
            area=current.area_id,
            status__in=(S.SUBMITTED, S.APPROVED),
            version__lt=current.version,
        )
        for older in waiting:
            _supersede(older, user, current.version)
        saved = _record(
            current,
            user,
            ReportAction.SUBMITTED,
            (comment or "").strip(),
            status=S.SUBMITTED,
            submitted_at=lambda now: now,
        )
    return _refresh(report, saved)


def approve(report: Report, user, comment: str = "", *, revision: int | None = None) -> Report:
    """The sub-district approves a community's submitted report."""
    with transaction.atomic():
        current = _locked(report, revision)
        if awaiting(current) != "approve":
            raise _wrong_step(current)
        if not may_approve(user, current):
            raise WorkflowError(
                _("Only the sub-district above %(area)s approves its reports.") % _area_of(current)
            )
        if _submitted_by(current) == user.pk:
            raise WorkflowError(
                _("A report is approved by someone other than the one who submitted it.")
            )
        saved = _record(
            current, user, ReportAction.APPROVED, (comment or "").strip(), status=S.APPROVED
        )
    return _refresh(report, saved)


def accept(report: Report, user, comment: str = "", *, revision: int | None = None) -> Report:
    """The district bureau accepts and locks a report that waits for it."""
    with transaction.atomic():
        current = _locked(report, revision)
        if awaiting(current) != "accept":
            if awaiting(current) == "approve":
                raise WorkflowError(_("The sub-district has not approved this report yet."))
            raise _wrong_step(current)
        if not may_accept(user, current):
            raise WorkflowError(_("Only the district bureau accepts reports."))
        saved = _record(
            current,
            user,
            ReportAction.ACCEPTED,
            (comment or "").strip(),
            status=S.ACCEPTED,
            locked_at=lambda now: now,
        )
    return _refresh(report, saved)


def return_(report: Report, user, comment: str = "", *, revision: int | None = None) -> Report:
    """Send a waiting report back to its area, with the reason; it is editable again."""
    with transaction.atomic():
        current = _locked(report, revision)
        if not awaiting(current):
            raise _wrong_step(current)
        if not may_return(user, current):
            raise WorkflowError(_("You may not return the report of %(area)s.") % _area_of(current))
        comment = _required(comment, _("Say why the report is returned."))
        saved = _record(current, user, ReportAction.RETURNED, comment, status=S.RETURNED)
    return _refresh(report, saved)


def reopen(report: Report, user, comment: str = "", *, revision: int | None = None) -> Report:
    """The district reopens an accepted report, with a reason: it is returned, editable."""
    with transaction.atomic():
        current = _locked(report, revision)
        if current.status != S.ACCEPTED:
            raise _wrong_step(current)
        if not may_reopen(user, current):
            raise WorkflowError(_("Only the district bureau reopens accepted reports."))
        comment = _required(comment, _("Give the reason for reopening the report."))
        saved = _record(
            current, user, ReportAction.REOPENED, comment, status=S.RETURNED, locked_at=None
        )
    return _refresh(report, saved)


def edit_narrative(report: Report, user, text: str, *, revision: int | None = None) -> Report:
    """Save a new narrative for a draft or returned report (its history kept); a returned
    report's first edit goes to its next version (``_unsent_version``)."""
    with transaction.atomic():
        current = _locked(report, revision)
        if current.status not in EDITABLE:
            raise WorkflowError(_("A submitted report's text can no longer be changed."))
        if not may_edit(user, current):
            raise WorkflowError(_("You may not edit the report of %(area)s.") % _area_of(current))
        if text == current.narrative:
            return _refresh(report, current)
        current = _unsent_version(current, user)
        saved = _record(current, user, ReportAction.EDITED, narrative=text)
    return _refresh(report, saved)


STEPS = {
    "submit": submit,
    "approve": approve,
    "accept": accept,
    "return": return_,
    "reopen": reopen,
}


# ---------------------------------------------------------------- values and changes


def live_values(report: Report, keys=None, areas=None) -> catalogue.Computation:
    areas = areas or [report.area]
    return catalogue.compute(keys or frozen_keys(report), areas, report_period(report))


def shows_snapshot(report: Report) -> bool:
    """A report past its draft shows its frozen figures; a draft or a returned report (and a
    draft superseded before it was ever submitted) shows them live."""
    return report.is_frozen and report.submitted_at is not None


def report_values(report: Report) -> dict[str, object]:
    """The report's values for its own area: frozen once submitted, live for a draft."""
    if shows_snapshot(report):
        return {
            key: by_area.get(report.area_id) for key, by_area in snapshot_values(report).items()
        }
    computed = live_values(report)
    return {key: computed.value(key, report.area) for key in frozen_keys(report)}


def filled_narrative(report: Report, current: catalogue.Computation | None = None) -> str:
    """The report's narrative with its placeholders filled: from the snapshot once submitted,
    live for a draft (``current``: the values already worked out for the report's area)."""
    if current is not None:
        values = {key: current.value(key, report.area) for key in frozen_keys(report)}
    else:
        values = report_values(report)
    values[AREA] = report.area.name
    values[PERIOD] = report_period(report).label
    return fill(report.narrative, values)


@dataclass(frozen=True)
class Change:
    figure: Figure
    old: object
    new: object
    difference: Decimal | None


def submitted_base(report: Report) -> Report | None:
    """The last version before ``report`` that was submitted (and may since have been
    approved, accepted, or replaced by a later submission), the one its changes are measured
    against."""
    sent = Q(status__in=SUBMITTED_STATES) | Q(status=S.SUPERSEDED, submitted_at__isnull=False)
    return (
        Report.objects.filter(
            sent,
            definition=report.definition_id,
            area=report.area_id,
            version__lt=report.version,
        )
        .order_by("-version")
        .first()
    )


def changes_against_submitted(
    report: Report, values: dict[str, object] | None = None, base: Report | None = None
) -> list[Change]:
    """The report's figures whose value differs from the last submitted version's (empty
    when there is none). ``values``: the report's own-area values when already worked out."""
    base = base or submitted_base(report)
    if base is None:
        return []
    if values is None:
        values = report_values(report)
    old_values = {key: by_area.get(base.area_id) for key, by_area in snapshot_values(base).items()}
    known = catalogue.catalogue()
    changes = []
    for key in report.keys:
        if key not in known:
            continue
        old, new = old_values.get(key), values.get(key)
        if _same(old, new):
            continue
        difference = None
        if old is not None and new is not None:
            difference = Decimal(str(new)) - Decimal(str(old))
        changes.append(Change(figure=known[key], old=old, new=new, difference=difference))
    return changes


def _same(old, new) -> bool:
    if old is None or new is None:
        return old is None and new is None
    return _decimal(old) == _decimal(new)
