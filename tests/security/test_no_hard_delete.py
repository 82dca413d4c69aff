# ruff: noqa: F811  (pytest fixtures imported from tests.residents.conftest are arguments)
"""Casework is archived, never deleted (issue 7 §3): no ModelAdmin of the register, outreach,
services or reports lets even a superuser delete a record — no delete view, no "delete
selected" action, no inline row deleted — and the admin does not archive behind the
operations' back (``archived_at`` is read-only there)."""

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from network.admin_site import NEVER_DELETED_APPS
from outreach.models import FollowUp, Visit
from residents.models import Household, Person
from tests.outreach.test_visits_support import add_follow_up, make_visit
from tests.residents.conftest import register  # noqa: F401  (the register fixture)

CASEWORK = sorted(
    (
        (model, model_admin)
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in NEVER_DELETED_APPS
    ),
    key=lambda pair: pair[0]._meta.label,
)


def url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_the_walk_covers_the_casework_of_every_app():
    labels = {model._meta.label for model, _admin in CASEWORK}
    assert {"residents.Household", "residents.Person", "outreach.Visit"} <= labels
    assert {"outreach.Festival", "outreach.Obligation"} <= labels  # no rule of their own
    assert {m._meta.app_label for m, _a in CASEWORK} == {
        "residents",
        "outreach",
        "services",
        "reports",
    }


@pytest.fixture
def records(world, register):
    visit = make_visit(register.ma_household, group=world.pingjianglu_group)
    add_follow_up(visit)
    return visit


def test_a_superuser_cannot_delete_any_casework_record(world, records, login):
    client = login(world.superuser)
    request = RequestFactory().get("/admin/")
    request.user = world.superuser
    refused = []
    for model, model_admin in CASEWORK:
        record = model._default_manager.order_by("pk").first()
        pk = record.pk if record is not None else 1
        response = client.get(url(model, "delete", pk))
        if response.status_code != 403:
            refused.append(f"{model._meta.label}: delete view {response.status_code}")
        if "delete_selected" in model_admin.get_actions(request):
            refused.append(f"{model._meta.label}: delete action offered")
        for inline in model_admin.get_inline_instances(request, record):
            formset_class = inline.get_formset(request, record)
            if formset_class.can_delete:
                refused.append(f"{model._meta.label}: inline {inline.model._meta.label}")
    assert refused == []


def test_posting_the_delete_view_or_action_deletes_nothing(world, records, register, login):
    client = login(world.superuser)
    household = register.ma_household
    assert client.post(url(Household, "delete", household.pk), {"post": "yes"}).status_code == 403
    assert client.post(url(Visit, "delete", records.pk), {"post": "yes"}).status_code == 403
    changelist = client.get(url(Person, "changelist"))
    assert changelist.status_code == 200
    assert 'value="delete_selected"' not in changelist.content.decode()
    client.post(
        url(Person, "changelist"),
        {"action": "delete_selected", "_selected_action": [register.ma_wife.pk], "post": "yes"},
    )
    assert Household.objects.filter(pk=household.pk).exists()
    assert Person.objects.filter(pk=register.ma_wife.pk).exists()
    assert Visit.objects.filter(pk=records.pk).exists()
    assert FollowUp.objects.filter(visit=records).count() == 1


def test_the_admin_does_not_archive_behind_the_operations_back(world, register, login):
    """Archiving a household archives its members too: that is the operation's work, done
    in the app. In the admin ``archived_at`` is shown, not edited."""
    client = login(world.superuser)
    household = register.ma_household
    page = client.get(url(Household, "change", household.pk))
    assert page.status_code == 200
    assert "archived_at" not in page.context["adminform"].form.fields
    assert 'name="archived_at' not in page.content.decode()


def test_an_old_version_is_shown_in_the_admin_but_never_saved_back(world, register, login):
    """django-simple-history's "revert" would save the old record whole, archive mark
    included; here old versions are for reading."""
    from residents.operations import household_archive

    household = register.ma_household
    before = household.history.earliest()
    household_archive(household=household, by=world.pingjianglu_staff)
    client = login(world.superuser)
    old = url(Household, "simple_history", household.pk, before.history_id)
    page = client.get(old)
    assert page.status_code == 200
    assert "Revert" not in page.content.decode() and "恢复到" not in page.content.decode()
    posted = client.post(old, {"address": before.address, "community": household.community_id})
    assert posted.status_code == 403
    household.refresh_from_db()
    assert household.archived_at is not None
