"""A report's way up: generated versions, the frozen snapshot, approval community → sub-district
→ district with every step recorded, returning and reopening with a reason, and the steps a
user may not take."""

import datetime
from decimal import Decimal

import pytest

from outreach.models import Visit, VisitKind
from reports import catalogue, workflow
from reports.demo import TITLE, seed_reports
from reports.models import Report, ReportAction, ReportDefinition, ReportStatus, SnapshotFigure
from reports.narrative import DEFAULT_TEMPLATE
from reports.periods import parse_period
from reports.workflow import WorkflowError
from residents.models import PersonStatus
from tests.factories import HouseholdFactory, PersonFactory, _ethnicity

S = ReportStatus
KEYS = ["minority_persons", "minority_households", "visits", "minority_share"]
PERIOD = "2025"


@pytest.fixture
def people(world):
    return make_people(world)


def make_people(world):
    """Two Hui residents of one household in 平江路社区, a Manchu one in 干将社区 and an Uyghur
    one in 道前社区 (the other sub-district)."""
    ma = HouseholdFactory(community=world.pingjianglu, address="平江路112号3幢201室")
    bai = HouseholdFactory(community=world.ganjiang, address="干将东路88号")
    dq = HouseholdFactory(community=world.daoqian, address="道前街45号")
    return {
        "ma_xiaodong": PersonFactory(household=ma, name="马晓东"),
        "ha_lina": PersonFactory(household=ma, name="哈丽娜", sex="F"),
        "bai_lan": PersonFactory(household=bai, name="白兰", sex="F", ethnicity=_ethnicity("11")),
        "aytursun": PersonFactory(household=dq, name="艾尔肯", ethnicity=_ethnicity("05")),
        "ma_household": ma,
    }


def make_definition(world, area=None, keys=KEYS, **fields):
    return ReportDefinition.objects.create(
        title=fields.pop("title", "2025年度民族工作总结"),
        area=area or world.district,
        period=fields.pop("period", PERIOD),
        figure_keys="\n".join(keys),
        narrative_template=fields.pop("narrative_template", DEFAULT_TEMPLATE),
        created_by=world.bureau,
        **fields,
    )


@pytest.fixture
def definition(world):
    return make_definition(world)


def visit(household, on=datetime.date(2025, 6, 1)):
    return Visit.objects.create(household=household, kind=VisitKind.CARE, visited_on=on)


def actions_of(report):
    return [(e.action, e.by.username) for e in report.events.order_by("at", "pk")]


def test_generating_again_numbers_a_new_version_and_supersedes_the_draft(world, definition):
    first = workflow.generate(definition, world.pingjianglu, world.pingjianglu_staff)
    second = workflow.generate(definition, world.pingjianglu, world.pingjianglu_staff)
    first.refresh_from_db()
    assert (first.version, first.status) == (1, S.SUPERSEDED)
    assert (second.version, second.status) == (2, S.DRAFT)
    assert second.keys == KEYS
    assert second.narrative == DEFAULT_TEMPLATE
    assert second.period == "2025"
    assert actions_of(second) == [(ReportAction.GENERATED, "pingjianglu")]
    # another area's versions are numbered on their own
    other = workflow.generate(definition, world.ganjiang, world.pingjiang_staff)
    assert other.version == 1


def test_a_report_is_made_only_for_the_definitions_area_and_the_users_own(world):
    pingjiang_only = make_definition(world, area=world.pingjiang, title="平江街道半年小结")
    with pytest.raises(WorkflowError):
        workflow.generate(pingjiang_only, world.daoqian, world.bureau)
    district_wide = make_definition(world)
    with pytest.raises(WorkflowError):
        workflow.generate(district_wide, world.pingjianglu, world.canglang_staff)
    with pytest.raises(WorkflowError):  # 沧浪 cannot even use a definition of 平江街道
        workflow.generate(pingjiang_only, world.canglang, world.canglang_staff)
    district_wide.is_active = False
    district_wide.save()
    with pytest.raises(WorkflowError):
        workflow.generate(district_wide, world.pingjianglu, world.pingjianglu_staff)
    assert not Report.objects.exists()


def test_community_report_goes_up_to_the_sub_district_then_the_district(world, definition, people):
    report = workflow.generate(definition, world.pingjianglu, world.pingjianglu_staff)
    assert workflow.actions_for(world.pingjianglu_staff, report) == ["submit"]

    workflow.submit(report, world.pingjianglu_staff, "请审核")
    report.refresh_from_db()
    assert report.status == S.SUBMITTED and report.submitted_at is not None
    assert workflow.awaiting(report) == "approve"
    frozen = workflow.snapshot_values(report)
    assert frozen["minority_persons"] == {world.pingjianglu.pk: Decimal("2.00")}
    assert frozen["minority_households"][world.pingjianglu.pk] == 1
    ids = workflow.snapshot_record_ids(report, "minority_persons")
    assert sorted(ids) == sorted([people["ma_xiaodong"].pk, people["ha_lina"].pk])
    # a share stores no records of its own: its drill-down lists the numerator's
    assert workflow.snapshot_record_ids(report, "minority_share") == ids

    assert workflow.actions_for(world.bureau, report) == []  # not before the sub-district
    assert set(workflow.actions_for(world.pingjiang_staff, report)) == {"approve", "return"}
    workflow.approve(report, world.pingjiang_staff)
    assert report.status == S.APPROVED

    workflow.accept(report, world.bureau, "已阅")
    report.refresh_from_db()
    assert report.status == S.ACCEPTED and report.locked_at is not None
    assert actions_of(report) == [
        (ReportAction.GENERATED, "pingjianglu"),
        (ReportAction.SUBMITTED, "pingjianglu"),
        (ReportAction.APPROVED, "pingjiang"),
        (ReportAction.ACCEPTED, "quminzongju"),
    ]
    assert report.events.get(action=ReportAction.SUBMITTED).comment == "请审核"
    assert workflow.actions_for(world.bureau, report) == ["reopen"]


def test_sub_district_report_goes_straight_to_the_district(world, definition, people):
    report = workflow.generate(definition, world.pingjiang, world.pingjiang_staff)
    workflow.submit(report, world.pingjiang_staff)
    assert workflow.awaiting(report) == "accept"
    with pytest.raises(WorkflowError):  # a sub-district does not approve its own report
        workflow.approve(report, world.pingjiang_staff)
    areas = workflow.snapshot_areas(report)
    assert [a.name for a in areas] == ["干将社区", "北片", "平江街道"] or [
        a.name for a in areas
    ] == ["北片", "干将社区", "平江街道"]
    frozen = workflow.snapshot_values(report)["minority_persons"]
    assert frozen == {
        world.north_zone.pk: 2,
        world.ganjiang.pk: 1,
        world.pingjiang.pk: 3,
    }
    child_ids = SnapshotFigure.objects.filter(report=report).exclude(area=world.pingjiang)
    assert all(row.record_ids == [] for row in child_ids)
    workflow.accept(report, world.bureau)
    assert report.status == S.ACCEPTED


def test_the_district_accepts_its_own_report(world, definition, people):
    report = workflow.generate(definition, world.district, world.bureau)
    workflow.submit(report, world.bureau)
    workflow.accept(report, world.bureau)
    assert report.status == S.ACCEPTED
    assert workflow.snapshot_values(report)["minority_persons"][world.district.pk] == 4


def test_returning_needs_a_comment_and_resubmitting_freezes_afresh(world, definition, people):
    report = workflow.generate(definition, world.pingjianglu, world.pingjianglu_staff)
    workflow.submit(report, world.pingjianglu_staff)
    with pytest.raises(WorkflowError):
        workflow.return_(report, world.pingjiang_staff, "   ")
    report.refresh_from_db()
    assert report.status == S.SUBMITTED

    workflow.return_(report, world.pingjiang_staff, "走访数据不全，请补录后再报")
    report.refresh_from_db()
    assert report.status == S.RETURNED
    assert report.events.get(action=ReportAction.RETURNED).comment == "走访数据不全，请补录后再报"
    assert workflow.may_edit(world.pingjianglu_staff, report)

    visit(people["ma_household"])
    workflow.submit(report, world.pingjianglu_staff)
    assert workflow.snapshot_values(report)["visits"][world.pingjianglu.pk] == 1
    assert SnapshotFigure.objects.filter(report=report, key="visits").count() == 1


def test_reopening_an_accepted_report_needs_a_reason(world, definition, people):
    report = workflow.generate(definition, world.pingjiang, world.pingjiang_staff)
    workflow.submit(report, world.pingjiang_staff)
    workflow.accept(report, world.bureau)
    with pytest.raises(WorkflowError):
        workflow.reopen(report, world.bureau, "")
    report.refresh_from_db()
    assert report.status == S.ACCEPTED

    workflow.reopen(report, world.bureau, "年度户籍人口数据更正")
    report.refresh_from_db()
    assert report.status == S.RETURNED and report.locked_at is None
    event = report.events.get(action=ReportAction.REOPENED)
    assert (event.by, event.comment) == (world.bureau, "年度户籍人口数据更正")
    assert workflow.may_submit(world.pingjiang_staff, report)


def test_wrong_steps_are_refused_and_change_nothing(world, definition, people):
    report = workflow.generate(definition, world.pingjianglu, world.pingjianglu_staff)
    with pytest.raises(WorkflowError):  # approve a draft
        workflow.approve(report, world.pingjiang_staff)
    with pytest.raises(WorkflowError):  # another sub-district submits it
        workflow.submit(report, world.canglang_staff)
    with pytest.raises(WorkflowError):  # a liaison submits it
        workflow.submit(report, world.pingjianglu_liaison)
    assert not SnapshotFigure.objects.filter(report=report).exists()

    workflow.submit(report, world.pingjianglu_staff)
    with pytest.raises(WorkflowError):  # the district cannot skip the sub-district
        workflow.accept(report, world.bureau)
    with pytest.raises(WorkflowError):  # another sub-district cannot approve it
        workflow.approve(report, world.canglang_staff)
    with pytest.raises(WorkflowError):  # the community cannot approve its own
        workflow.approve(report, world.pingjianglu_staff)
    with pytest.raises(WorkflowError):  # nor submit it twice
        workflow.submit(report, world.pingjianglu_staff)
    workflow.approve(report, world.pingjiang_staff)
    with pytest.raises(WorkflowError):  # a sub-district does not accept
        workflow.accept(report, world.pingjiang_staff)
    workflow.accept(report, world.bureau)
    with pytest.raises(WorkflowError):  # accept twice
        workflow.accept(report, world.bureau)
    report.refresh_from_db()
    assert report.status == S.ACCEPTED
    assert report.events.count() == 4


def test_a_step_from_a_stale_page_is_refused(world, definition, people):
    report = workflow.generate(definition, world.pingjianglu, world.pingjianglu_staff)
    seen = report.revision
    workflow.edit_narrative(report, world.pingjianglu_staff, "一、基本情况\n改过", revision=seen)
    with pytest.raises(WorkflowError):
        workflow.submit(report, world.pingjianglu_staff, revision=seen)
    with pytest.raises(WorkflowError):
        workflow.edit_narrative(report, world.pingjianglu_staff, "旧页面", revision=seen)
    report.refresh_from_db()
    assert report.status == S.DRAFT and report.narrative == "一、基本情况\n改过"
    workflow.submit(report, world.pingjianglu_staff, revision=report.revision)
    assert report.status == S.SUBMITTED


def test_a_submitted_snapshot_never_changes_with_the_data(world, definition, people):
    report = workflow.generate(definition, world.pingjianglu, world.pingjianglu_staff)
    visit(people["ma_household"])
    workflow.submit(report, world.pingjianglu_staff)
    before = workflow.snapshot_values(report)
    ids_before = workflow.snapshot_record_ids(report, "minority_persons")

    # the data change afterwards: a resident moves away, a new one arrives, another visit
    moved = people["ha_lina"]
    moved.status = PersonStatus.MOVED_AWAY
    moved.status_changed_on = datetime.date(2025, 3, 1)
    moved.save()
    PersonFactory(household=people["ma_household"], name="马小兰", sex="F")
    PersonFactory(household=people["ma_household"], name="马小军")
    visit(people["ma_household"], on=datetime.date(2025, 9, 9))

    live = catalogue.compute(KEYS, [world.pingjianglu], parse_period(PERIOD))
    assert live.value("minority_persons", world.pingjianglu) == 3
    assert live.value("visits", world.pingjianglu) == 2
    assert workflow.snapshot_values(report) == before
    assert before["minority_persons"][world.pingjianglu.pk] == 2
    assert before["visits"][world.pingjianglu.pk] == 1
    assert workflow.snapshot_record_ids(report, "minority_persons") == ids_before
    assert workflow.report_values(report)["minority_persons"] == 2
    assert "平江路社区2025年民族工作总结" in workflow.filled_narrative(report)
    assert "少数民族2人、共1户" in workflow.filled_narrative(report)


def test_a_new_version_shows_what_changed_against_the_submitted_one(world, definition, people):
    first = workflow.generate(definition, world.pingjianglu, world.pingjianglu_staff)
    workflow.submit(first, world.pingjianglu_staff)
    PersonFactory(household=people["ma_household"], name="马小兰", sex="F")
    visit(people["ma_household"])

    second = workflow.generate(definition, world.pingjianglu, world.pingjianglu_staff)
    first.refresh_from_db()
    assert first.status == S.SUBMITTED  # still waiting; only drafts are superseded
    assert workflow.submitted_base(second) == first
    changes = {c.figure.key: c for c in workflow.changes_against_submitted(second)}
    assert set(changes) == {"minority_persons", "visits"}
    assert (changes["minority_persons"].old, changes["minority_persons"].new) == (2, 3)
    assert changes["minority_persons"].difference == 1
    assert changes["visits"].difference == 1

    # submitting the new version replaces the one still waiting
    workflow.submit(second, world.pingjianglu_staff)
    first.refresh_from_db()
    assert first.status == S.SUPERSEDED
    assert workflow.changes_against_submitted(second)[0].figure.key == "minority_persons"


def test_the_demo_definition_and_report(world):
    definition = seed_reports()
    assert definition.title == TITLE and definition.area == world.district
    assert definition.keys[:3] == ["registered_population", "floating_population", "ethnic_groups"]
    assert all(key in catalogue.catalogue() for key in definition.keys)
    report = Report.objects.get(definition=definition)
    assert (report.area, report.status) == (world.pingjianglu, S.SUBMITTED)
    assert seed_reports() == definition  # run again: nothing added
    assert ReportDefinition.objects.count() == 1 and Report.objects.count() == 1
