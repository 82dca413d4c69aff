"""Who may take which step: whoever submits a community's report does not also approve it,
and a version put aside by a newer one says by which, who and when."""

import pytest

from reports import workflow
from reports.models import ReportAction, ReportStatus
from reports.workflow import WorkflowError
from tests.reports.test_workflow import definition, make_people  # noqa: F401

S = ReportStatus


def test_the_sub_district_does_not_approve_what_it_submitted_itself(world, definition):  # noqa: F811
    make_people(world)
    report = workflow.generate(definition, world.pingjianglu, world.pingjiang_staff)
    report = workflow.submit(report, world.pingjiang_staff)
    with pytest.raises(WorkflowError, match="上报人以外"):
        workflow.approve(report, world.pingjiang_staff)
    report.refresh_from_db()
    assert report.status == S.SUBMITTED
    assert [e.action for e in report.events.all()] == [
        ReportAction.GENERATED,
        ReportAction.SUBMITTED,
    ]


def test_a_draft_put_aside_by_a_new_version_records_it(world, definition):  # noqa: F811
    first = workflow.generate(definition, world.pingjianglu, world.pingjianglu_staff)
    workflow.generate(definition, world.pingjianglu, world.pingjiang_staff)
    event = first.events.get(action=ReportAction.SUPERSEDED)
    assert event.by == world.pingjiang_staff
    assert "2" in event.comment
