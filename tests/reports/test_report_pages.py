"""The report pages as the offices use them: generate a draft, read it with live figures, edit
its text, submit, approve, accept — and the doors that stay shut (another sub-district, a
liaison, a community approving, a sub-district accepting, a page left open too long)."""

import datetime
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.translation import gettext as _

from outreach.models import Visit, VisitKind
from reports import workflow
from reports.models import Report, ReportAction, ReportStatus
from tests.factories import HouseholdFactory, PersonFactory
from tests.reports.test_workflow import make_definition, make_people
from tests.residents.test_template_strings import untranslated

S = ReportStatus
TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "reports"
LIST = reverse("reports:report-list")
GENERATE = reverse("reports:report-generate")


def detail(report):
    return reverse("reports:report-detail", args=[report.pk])


def act(report, action):
    return reverse("reports:report-action", args=[report.pk, action])


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def definition(world):
    return make_definition(world)


@pytest.fixture
def people(world):
    return make_people(world)


@pytest.fixture
def draft(world, definition, people):
    return workflow.generate(definition, world.pingjianglu, world.pingjianglu_staff)


def post_step(client, report, action, comment="", revision=None, follow=True):
    report.refresh_from_db()
    data = {"comment": comment, "revision": report.revision if revision is None else revision}
    return client.post(act(report, action), data, follow=follow)


def test_a_community_generates_a_draft_and_reads_it_live(world, login, definition, people):
    client = login(world.pingjianglu_staff)
    form = client.get(GENERATE)
    assert form.status_code == 200
    assert list(form.context["form"].fields["area"].queryset) == [world.pingjianglu]
    response = client.post(
        GENERATE, {"definition": definition.pk, "area": world.pingjianglu.pk}, follow=True
    )
    report = Report.objects.get()
    assert response.redirect_chain[-1][0] == detail(report)
    page = response.content.decode()
    assert "平江路社区现有户籍人口" in page  # the narrative, filled
    assert "少数民族2人、共1户" in page
    assert 'id="live-note"' in page
    records = reverse("reports:figure-records", args=["minority_persons"])
    assert f"{records}?area={world.pingjianglu.pk}&amp;period=2025" in page
    assert response.context["actions"] == ["submit"]
    assert response.context["checks"] is not None  # data-quality checks before submitting
    assert reverse("reports:report-export", args=[report.pk]) + "?format=docx" in page


def test_generate_refuses_what_does_not_fit_and_makes_nothing(world, login, definition):
    client = login(world.pingjianglu_staff)
    for data in [
        {"definition": definition.pk, "area": world.daoqian.pk},  # another sub-district
        {"definition": definition.pk, "area": "abc"},
        {"definition": 987654, "area": world.pingjianglu.pk},
        {},
    ]:
        response = client.post(GENERATE, data)
        assert response.status_code == 200
        assert response.context["form"].errors
    ganjiang_only = make_definition(world, area=world.ganjiang, title="干将社区专项")
    response = login(world.pingjiang_staff).post(
        GENERATE, {"definition": ganjiang_only.pk, "area": world.pingjianglu.pk}
    )
    assert "area" in response.context["form"].errors
    assert not Report.objects.exists()


def test_the_whole_way_up_through_the_pages(world, login, draft):
    community = login(world.pingjianglu_staff)
    response = post_step(community, draft, "submit", "请街道审核")
    assert messages_of(response) == [_("Report submitted: its figures are frozen.")]
    draft.refresh_from_db()
    assert draft.status == S.SUBMITTED
    page = response.content.decode()
    assert 'id="frozen-note"' in page
    frozen = reverse("reports:report-records", args=[draft.pk, "minority_persons"])
    assert frozen in page
    assert response.context["actions"] == []

    subdistrict = login(world.pingjiang_staff)
    listing = subdistrict.get(LIST)
    assert [r.pk for r in listing.context["awaiting"]] == [draft.pk]
    response = post_step(subdistrict, draft, "approve")
    draft.refresh_from_db()
    assert draft.status == S.APPROVED

    bureau = login(world.bureau)
    assert [r.pk for r in bureau.get(LIST).context["awaiting"]] == [draft.pk]
    response = post_step(bureau, draft, "accept", "已审定")
    draft.refresh_from_db()
    assert draft.status == S.ACCEPTED
    assert [e.action for e in response.context["events"]] == [
        ReportAction.GENERATED,
        ReportAction.SUBMITTED,
        ReportAction.APPROVED,
        ReportAction.ACCEPTED,
    ]
    assert "已审定" in response.content.decode()
    assert bureau.get(LIST).context["awaiting"] == []
    assert response.context["actions"] == ["reopen"]


def test_return_and_reopen_need_a_comment_on_the_page(world, login, draft):
    workflow.submit(draft, world.pingjianglu_staff)
    subdistrict = login(world.pingjiang_staff)
    response = post_step(subdistrict, draft, "return", "")
    assert messages_of(response) == [_("Say why the report is returned.")]
    draft.refresh_from_db()
    assert draft.status == S.SUBMITTED
    post_step(subdistrict, draft, "return", "请补充节日走访情况")
    draft.refresh_from_db()
    assert draft.status == S.RETURNED

    community = login(world.pingjianglu_staff)
    page = community.get(detail(draft))
    assert "请补充节日走访情况" in page.content.decode()
    assert page.context["actions"] == ["submit"] and page.context["can_edit"]
    response = post_step(community, draft, "submit")
    # sent as version 2, the page shows it; version 1 keeps what it was returned with
    resent = response.context["report"]
    assert (resent.version, resent.status) == (2, S.SUBMITTED)
    draft.refresh_from_db()
    assert draft.status == S.SUPERSEDED
    draft = resent
    post_step(login(world.pingjiang_staff), draft, "approve")
    bureau = login(world.bureau)
    post_step(bureau, draft, "accept")
    response = post_step(bureau, draft, "reopen", "")
    assert messages_of(response) == [_("Give the reason for reopening the report.")]
    post_step(bureau, draft, "reopen", "常住人口数据有误")
    draft.refresh_from_db()
    assert draft.status == S.RETURNED and draft.locked_at is None


def test_the_narrative_is_edited_only_while_a_draft(world, login, draft):
    client = login(world.pingjianglu_staff)
    edit = reverse("reports:report-edit", args=[draft.pk])
    assert client.get(edit).status_code == 200
    text = "# {{ area }}民族工作小结\n一、基本情况\n现有少数民族{{ minority_persons }}人。"
    response = client.post(edit, {"narrative": text, "revision": draft.revision}, follow=True)
    assert "现有少数民族2人。" in response.content.decode()
    draft.refresh_from_db()
    assert draft.narrative == text
    assert draft.events.filter(action=ReportAction.EDITED, by=world.pingjianglu_staff).exists()
    history = client.get(edit).context["history"]
    assert history and history[0].user == world.pingjianglu_staff

    stale = client.post(edit, {"narrative": "旧的文字", "revision": draft.revision - 1})
    assert stale.status_code == 200
    draft.refresh_from_db()
    assert draft.narrative == text

    workflow.submit(draft, world.pingjianglu_staff)
    response = client.post(edit, {"narrative": "改", "revision": draft.revision}, follow=True)
    draft.refresh_from_db()
    assert draft.narrative == text
    assert messages_of(response) == [_("A submitted report's text can no longer be changed.")]


def test_a_step_from_a_stale_page_shows_why_and_changes_nothing(world, login, draft):
    client = login(world.pingjianglu_staff)
    old = draft.revision
    workflow.edit_narrative(draft, world.pingjianglu_staff, "一、基本情况", revision=old)
    response = post_step(client, draft, "submit", revision=old)
    assert messages_of(response) == [
        _(
            "Someone changed this report after you opened the page; nothing was done. "
            "Look at it again and repeat what you meant to do."
        )
    ]
    draft.refresh_from_db()
    assert draft.status == S.DRAFT


def test_the_frozen_records_stay_as_submitted(world, login, draft, people):
    workflow.submit(draft, world.pingjianglu_staff)
    PersonFactory(household=people["ma_household"], name="马小兰", sex="F")
    Visit.objects.create(
        household=people["ma_household"], kind=VisitKind.CARE, visited_on=datetime.date(2025, 5, 1)
    )
    client = login(world.pingjiang_staff)
    page = client.get(detail(draft))
    row = next(r for r in page.context["shown"].rows if r.figure.key == "minority_persons")
    assert row.total == "2"
    records = client.get(reverse("reports:report-records", args=[draft.pk, "minority_persons"]))
    assert records.status_code == 200
    assert records.context["count"] == 2
    text = records.content.decode()
    assert "马小兰" not in text
    for bad in ["no_such_figure", "visits_care"]:  # unknown, or not in this report
        url = reverse("reports:report-records", args=[draft.pk, bad])
        assert client.get(url).status_code == 404


def test_a_new_version_shows_its_changes_on_the_page(world, login, draft, people):
    workflow.submit(draft, world.pingjianglu_staff)
    HouseholdFactory(community=world.pingjianglu, address="平江路200号")
    PersonFactory(household=people["ma_household"], name="马小兰", sex="F")
    client = login(world.pingjianglu_staff)
    client.post(GENERATE, {"definition": draft.definition_id, "area": world.pingjianglu.pk})
    second = Report.objects.get(version=2)
    page = client.get(detail(second))
    changes = {c.figure.key: (old, new, diff) for c, old, new, diff in page.context["changes"]}
    assert changes["minority_persons"] == ("2", "3", "+1")
    assert 'id="changes"' in page.content.decode()


def test_another_sub_district_sees_nothing_of_the_report(world, login, draft):
    workflow.submit(draft, world.pingjianglu_staff)
    client = login(world.canglang_staff)
    assert client.get(detail(draft)).status_code == 404
    assert client.get(reverse("reports:report-edit", args=[draft.pk])).status_code == 404
    records = reverse("reports:report-records", args=[draft.pk, "minority_persons"])
    assert client.get(records).status_code == 404
    for action in ["approve", "return", "submit"]:
        assert post_step(client, draft, action, "x", follow=False).status_code == 404
    assert draft.pk not in [r.pk for r in client.get(LIST).context["page"].object_list]
    draft.refresh_from_db()
    assert draft.status == S.SUBMITTED


def test_roles_without_the_step_are_refused(world, login, draft):
    liaison = login(world.pingjianglu_liaison)
    for url in [LIST, GENERATE, detail(draft)]:
        assert liaison.get(url).status_code == 403
    assert post_step(liaison, draft, "submit", follow=False).status_code == 403

    workflow.submit(draft, world.pingjianglu_staff)
    community = login(world.pingjianglu_staff)
    assert post_step(community, draft, "approve", follow=False).status_code == 403
    assert post_step(community, draft, "return", "不行", follow=False).status_code == 403

    workflow.approve(draft, world.pingjiang_staff)
    subdistrict = login(world.pingjiang_staff)
    assert post_step(subdistrict, draft, "accept", follow=False).status_code == 403
    assert post_step(subdistrict, draft, "reopen", "x", follow=False).status_code == 403
    assert post_step(subdistrict, draft, "unknown", follow=False).status_code == 404
    draft.refresh_from_db()
    assert draft.status == S.APPROVED
    assert login(world.no_post).get(LIST).status_code == 403


def test_the_list_costs_the_same_for_2_or_20_reports(
    world,
    login,
    definition,
    django_assert_max_num_queries,
):
    def reports(n):
        for _i in range(n):
            report = workflow.generate(definition, world.ganjiang, world.pingjiang_staff)
            workflow.submit(report, world.pingjiang_staff)
            workflow.generate(definition, world.pingjianglu, world.pingjianglu_staff)

    client = login(world.pingjiang_staff)
    reports(1)
    client.get(LIST)  # warm up (session, content types)
    with CaptureQueriesContext(connection) as few:
        response = client.get(LIST)
    assert len(response.context["awaiting"]) == 1
    reports(10)
    with django_assert_max_num_queries(len(few)):
        response = client.get(LIST)
    assert len(response.context["page"].object_list) == 22
    assert len(response.context["awaiting"]) == 1  # earlier submissions were superseded


@pytest.mark.parametrize("path", sorted(TEMPLATES.glob("report_*.html")), ids=lambda p: p.name)
def test_the_report_templates_translate_every_shown_word(path):
    assert untranslated(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("communities", [1, 2])
def test_frozen_budget_records_cost_the_same_queries_for_more_rows(world, login, communities):
    """A sub-district without a budget of its own counts its communities' budgets; the frozen
    list of them reads each row's area in the same query, however many rows there are."""
    from reports.models import Budget

    for area in [world.pingjianglu, world.ganjiang][:communities]:
        Budget.objects.create(area=area, year=2025, amount="12000.00")
    definition = make_definition(world, keys=["budget"])
    report = workflow.generate(definition, world.pingjiang, world.pingjiang_staff)
    workflow.submit(report, world.pingjiang_staff)
    client = login(world.bureau)
    url = reverse("reports:report-records", args=[report.pk, "budget"])
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url)
    assert page.status_code == 200 and page.context["count"] == communities
    assert "平江路社区" in page.content.decode()
    assert len(queries) == BUDGET_RECORDS_QUERIES


BUDGET_RECORDS_QUERIES = 9  # the same for one row or two (measured)
