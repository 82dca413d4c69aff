"""Review of the report workflow: what was submitted stays as it was submitted (after a return,
after a reopening), a locked report is not replaced behind the district's back, and a frozen
table keeps the live table's rows in order."""

import datetime

import pytest

from outreach.models import Visit, VisitKind
from reports import workflow
from reports.models import Report, ReportAction, ReportStatus, SnapshotFigure
from reports.summary import child_areas
from reports.workflow import WorkflowError
from tests.factories import HouseholdFactory, PersonFactory, _ethnicity
from tests.reports.test_workflow import make_definition

S = ReportStatus
D = datetime.date


@pytest.fixture
def people(world):
    """马晓东 and 哈丽娜 (Hui) of one household in 平江路社区; 白兰 (Manchu) in 干将社区."""
    ma = HouseholdFactory(community=world.pingjianglu, address="平江路112号3幢201室")
    PersonFactory(household=ma, name="马晓东")
    PersonFactory(household=ma, name="哈丽娜", sex="F")
    bai = HouseholdFactory(community=world.ganjiang, address="干将东路88号")
    PersonFactory(household=bai, name="白兰", sex="F", ethnicity=_ethnicity("11"))
    return ma


@pytest.fixture
def definition(world):
    return make_definition(world)


def visit(household, on=None):
    on = on or D(2025, 6, 1)
    return Visit.objects.create(household=household, kind=VisitKind.CARE, visited_on=on)


def frozen(report, key):
    return workflow.snapshot_values(report)[key][report.area_id]


def test_resubmitting_a_returned_report_keeps_what_was_first_submitted(world, definition, people):
    report = workflow.generate(definition, world.pingjianglu, world.pingjianglu_staff)
    workflow.submit(report, world.pingjianglu_staff, "请审核")
    first = Report.objects.get(pk=report.pk)
    first_ids = workflow.snapshot_record_ids(first, "minority_persons")
    workflow.return_(report, world.pingjiang_staff, "走访数据不全，请补录后再报")

    visit(people)
    workflow.submit(report, world.pingjianglu_staff, "已补录走访")

    first.refresh_from_db()
    assert first.status == S.SUPERSEDED and first.submitted_at is not None
    assert frozen(first, "visits") == 0  # as the sub-district saw it when it returned it
    assert workflow.snapshot_record_ids(first, "minority_persons") == first_ids
    assert [e.action for e in first.events.order_by("at", "pk")] == [
        ReportAction.GENERATED,
        ReportAction.SUBMITTED,
        ReportAction.RETURNED,
        ReportAction.SUPERSEDED,  # by version 2, with who and when
    ]
    # the caller's object is now the resubmitted version, which the page redirects to
    assert (report.version, report.status) == (2, S.SUBMITTED)
    assert report.pk != first.pk
    assert frozen(report, "visits") == 1
    assert workflow.submitted_base(report) == first
    changes = {c.figure.key: c for c in workflow.changes_against_submitted(report)}
    assert (changes["visits"].old, changes["visits"].new) == (0, 1)
    made, sent = report.events.order_by("at", "pk")
    assert (made.action, made.by) == (ReportAction.GENERATED, world.pingjianglu_staff)
    assert (sent.action, sent.comment) == (ReportAction.SUBMITTED, "已补录走访")
    assert workflow.awaiting(report) == "approve"


def test_editing_a_returned_report_keeps_the_text_it_was_submitted_with(world, definition, people):
    report = workflow.generate(definition, world.pingjianglu, world.pingjianglu_staff)
    workflow.edit_narrative(report, world.pingjianglu_staff, "一、基本情况\n初稿")
    workflow.submit(report, world.pingjianglu_staff)
    first_pk = report.pk
    workflow.return_(report, world.pingjiang_staff, "请补充节日走访情况")

    workflow.edit_narrative(report, world.pingjianglu_staff, "一、基本情况\n修改稿")

    first = Report.objects.get(pk=first_pk)
    assert first.narrative == "一、基本情况\n初稿"
    assert (report.version, report.status, report.narrative) == (2, S.DRAFT, "一、基本情况\n修改稿")
    workflow.edit_narrative(report, world.pingjianglu_staff, "一、基本情况\n定稿")
    assert report.version == 2  # a draft is edited in place
    assert Report.objects.filter(definition=definition, area=world.pingjianglu).count() == 2


def test_reopening_and_resubmitting_keeps_the_accepted_figures(world, definition, people):
    report = workflow.generate(definition, world.pingjiang, world.pingjiang_staff)
    workflow.submit(report, world.pingjiang_staff)
    workflow.accept(report, world.bureau, "已审定")
    accepted = Report.objects.get(pk=report.pk)
    rows_before = list(
        SnapshotFigure.objects.filter(report=accepted).values_list("key", "area", "value")
    )
    workflow.reopen(report, world.bureau, "年度户籍人口数据更正")

    PersonFactory(household=people, name="马小兰", sex="F")
    workflow.submit(report, world.pingjiang_staff)

    accepted.refresh_from_db()
    rows_after = SnapshotFigure.objects.filter(report=accepted).values_list("key", "area", "value")
    assert list(rows_after) == rows_before
    assert frozen(accepted, "minority_persons") == 3
    assert accepted.events.filter(action=ReportAction.REOPENED, by=world.bureau).exists()
    assert (report.version, report.status) == (2, S.SUBMITTED)
    assert frozen(report, "minority_persons") == 4
    assert workflow.awaiting(report) == "accept"


def test_a_locked_report_is_not_replaced_by_another_version(world, definition, people):
    first = workflow.generate(definition, world.pingjianglu, world.pingjianglu_staff)
    workflow.submit(first, world.pingjianglu_staff)
    later = workflow.generate(definition, world.pingjianglu, world.pingjianglu_staff)
    workflow.approve(first, world.pingjiang_staff)
    workflow.accept(first, world.bureau)

    with pytest.raises(WorkflowError):  # a draft made before the lock
        workflow.submit(later, world.pingjianglu_staff)
    assert workflow.actions_for(world.pingjianglu_staff, later) == []
    with pytest.raises(WorkflowError):
        workflow.generate(definition, world.pingjianglu, world.pingjianglu_staff)
    later.refresh_from_db()
    first.refresh_from_db()
    assert later.status == S.DRAFT and not SnapshotFigure.objects.filter(report=later).exists()
    assert first.status == S.ACCEPTED
    assert Report.objects.filter(definition=definition, area=world.pingjianglu).count() == 2

    # other areas are not held up
    assert workflow.generate(definition, world.ganjiang, world.pingjiang_staff).version == 1
    # once the district reopens it (with a reason), a new version may be made again
    workflow.reopen(first, world.bureau, "社区人口数据有误")
    again = workflow.generate(definition, world.pingjianglu, world.pingjianglu_staff)
    assert again.version == 3


def test_a_frozen_table_lists_its_rows_as_the_live_table_does(world, definition, people):
    report = workflow.generate(definition, world.pingjiang, world.pingjiang_staff)
    workflow.submit(report, world.pingjiang_staff)
    live = [*child_areas(world.pingjiang), world.pingjiang]
    assert [a.name for a in live] == ["干将社区", "北片", "平江街道"]
    assert workflow.snapshot_areas(report) == live
