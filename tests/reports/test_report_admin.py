"""The bureau defines reports, rules and budgets in the admin; reports are read there, never
added, changed or deleted."""

import pytest
from django.urls import reverse
from django.utils.translation import gettext as _

from network.models import Area, AreaLevel, Role
from reports import workflow
from reports.models import Budget, FigureRule, Report, ReportDefinition
from reports.narrative import DEFAULT_TEMPLATE
from reports.periods import PeriodError, parse_period
from tests.factories import make_user_with_post
from tests.reports.test_workflow import make_definition

ADD = reverse("admin:reports_reportdefinition_add")


def definition_form(world, **changes):
    data = {
        "title": "2025年度民族工作总结",
        "area": world.district.pk,
        "period": "2025",
        "figure_keys": "minority_persons\r\nminority_households\r\n\r\nvisits",
        "narrative_template": "一、基本情况\r\n现有少数民族{{ minority_persons }}人。",
        "is_active": "on",
    }
    data.update(changes)
    return data


def test_every_reports_admin_page_opens_for_the_bureau(world, login):
    definition = make_definition(world)
    report = workflow.generate(definition, world.pingjianglu, world.pingjianglu_staff)
    workflow.submit(report, world.pingjianglu_staff, "请审核")
    rule = FigureRule.objects.create(key="visits", minimum=1)
    budget = Budget.objects.create(area=world.pingjiang, year=2025, amount="30000.00")
    client = login(world.bureau)
    for model, obj in [
        ("reportdefinition", definition),
        ("figurerule", rule),
        ("budget", budget),
        ("report", report),
    ]:
        assert client.get(reverse(f"admin:reports_{model}_changelist")).status_code == 200
        change = client.get(reverse(f"admin:reports_{model}_change", args=[obj.pk]))
        assert change.status_code == 200, model
        assert (
            client.get(reverse(f"admin:reports_{model}_history", args=[obj.pk])).status_code == 200
        )
        delete = client.get(reverse(f"admin:reports_{model}_delete", args=[obj.pk]))
        assert delete.status_code == 403, model
    page = client.get(reverse("admin:reports_report_change", args=[report.pk])).content.decode()
    assert "请审核" in page  # the steps, inline
    assert client.get(reverse("admin:reports_report_add")).status_code == 403
    assert client.get(reverse("admin:reports_figurerule_add")).status_code == 200
    assert client.get(reverse("admin:reports_budget_add")).status_code == 200


def test_a_new_definition_starts_from_the_default_narrative_and_lists_every_figure(world, login):
    response = login(world.bureau).get(ADD)
    form = response.context["adminform"].form
    assert form.initial["narrative_template"] == DEFAULT_TEMPLATE
    page = response.content.decode()
    assert "<code>minority_persons</code>" in page
    assert "<code>card_uses</code>" in page


def test_adding_a_definition_checks_its_figures_template_and_period(world, login):
    client = login(world.bureau)
    for changes, field, message in [
        (
            {"figure_keys": "minority_persons\r\nminority_personz"},
            "figure_keys",
            _("No figure is called %(keys)s.") % {"keys": "minority_personz"},
        ),
        ({"figure_keys": "  \r\n"}, "figure_keys", None),
        ({"figure_keys": "visits\r\nvisits"}, "figure_keys", None),
        ({"period": "2025-13"}, "period", _("There is no month %(month)s.") % {"month": 13}),
        ({"period": "abc"}, "period", None),
        ({"narrative_template": "走访{{ visitz }}次"}, "narrative_template", None),
        ({"area": 987654}, "area", None),
    ]:
        response = client.post(ADD, definition_form(world, **changes))
        assert response.status_code == 200, changes
        errors = response.context["adminform"].form.errors
        assert field in errors, changes
        if message:
            assert message in errors[field]
    with pytest.raises(PeriodError) as caught:
        parse_period("abc")
    response = client.post(ADD, definition_form(world, period="abc"))
    assert str(caught.value) in response.context["adminform"].form.errors["period"]
    assert not ReportDefinition.objects.exists()

    response = client.post(ADD, definition_form(world))
    assert response.status_code == 302
    definition = ReportDefinition.objects.get()
    assert definition.keys == ["minority_persons", "minority_households", "visits"]
    assert definition.created_by == world.bureau


def test_the_admin_lists_only_what_the_bureau_sees(world, login):
    other = Area.objects.create(code="320505000000", name="虎丘区", level=AreaLevel.DISTRICT)
    other_bureau = make_user_with_post("huqiu", "钱志强", Role.DISTRICT, other)
    mine = make_definition(world)
    theirs = make_definition(world, area=other, title="虎丘区年度总结")
    client = login(world.bureau)
    listed = client.get(reverse("admin:reports_reportdefinition_changelist"))
    assert list(listed.context["cl"].result_list) == [mine]
    change = client.get(reverse("admin:reports_reportdefinition_change", args=[theirs.pk]))
    assert change.status_code == 302  # the admin's "does not exist" redirect
    response = login(other_bureau).post(ADD, definition_form(world))  # 姑苏区 is not theirs
    assert "area" in response.context["adminform"].form.errors
    assert not Report.objects.exists()


def test_only_the_bureau_reaches_the_reports_admin(world, login):
    for user in [world.pingjiang_staff, world.pingjianglu_staff, world.pingjianglu_liaison]:
        response = login(user).get(reverse("admin:reports_reportdefinition_changelist"))
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
