"""Nobody edits or deletes an audit record — not in the admin, not through the model — and the
retention purge refuses a cut-off younger than six months."""

import datetime
import io

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from network import audit
from network.models import AuditEvent, AuditKind


@pytest.fixture
def event(world):
    return audit.record(
        AuditKind.CHANGE,
        user=world.pingjianglu_staff,
        area=world.pingjianglu,
        changes={"address": ["平江路112号3幢201室", "平江路112号3幢301室"]},
    )


def aged(days: int) -> AuditEvent:
    made = audit.build(AuditKind.SIGN_IN, username="pingjianglu")
    made.at = timezone.now() - datetime.timedelta(days=days)
    made.save(force_insert=True)
    return made


# ---------------------------------------------------------------- the admin


def test_the_admin_shows_an_event_without_a_save_button_and_refuses_a_post(world, login, event):
    client = login(world.bureau)
    change = reverse("admin:network_auditevent_change", args=[event.pk])
    page = client.get(change)
    assert page.status_code == 200
    text = page.content.decode()
    assert "平江路112号3幢301室" in text
    assert 'name="_save"' not in text and 'name="_continue"' not in text
    response = client.post(change, {"note": "改掉", "kind": "sign_in"})
    assert response.status_code == 403
    event.refresh_from_db()
    assert (event.note, event.kind) == ("", AuditKind.CHANGE)


def test_the_admin_offers_no_add_no_delete_and_no_delete_action(world, login, event):
    client = login(world.superuser)
    changelist = client.get(reverse("admin:network_auditevent_changelist"))
    assert changelist.status_code == 200
    assert "delete_selected" not in changelist.content.decode()
    assert client.get(reverse("admin:network_auditevent_add")).status_code == 403
    delete = reverse("admin:network_auditevent_delete", args=[event.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    response = client.post(
        reverse("admin:network_auditevent_changelist"),
        {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"},
    )
    assert response.status_code in (200, 302, 403)
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_the_model_refuses_to_change_or_delete_an_event(event):
    event.note = "改掉"
    with pytest.raises(PermissionDenied), transaction.atomic():
        event.save()
    with pytest.raises(PermissionDenied), transaction.atomic():
        event.delete()
    with pytest.raises(PermissionDenied), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    event.refresh_from_db()
    assert event.note == ""


# ---------------------------------------------------------------- retention


def purge(*args):
    out = io.StringIO()
    call_command("purge_audit", *args, stdout=out)
    return out.getvalue()


@pytest.mark.parametrize("days", [0, 30, 182, 364])
def test_a_cut_off_younger_than_the_retention_period_is_refused(db, days):
    aged(400)
    cutoff = timezone.localdate() - datetime.timedelta(days=days)
    with pytest.raises(CommandError) as refused:
        purge("--before", cutoff.isoformat(), "--yes")
    assert "365" in str(refused.value)
    assert AuditEvent.objects.count() == 1
    assert not AuditEvent.objects.filter(kind=AuditKind.PURGE).exists()


def test_even_a_shorter_retention_setting_keeps_six_months(db, settings):
    settings.AUDIT_RETENTION_DAYS = 30
    cutoff = timezone.localdate() - datetime.timedelta(days=100)
    with pytest.raises(CommandError, match="183"):
        purge("--before", cutoff.isoformat(), "--yes")
    with pytest.raises(ValueError):
        audit.purge_before(cutoff)


def test_a_bad_date_is_refused_with_a_message(db):
    with pytest.raises(CommandError, match="2025-01-01"):
        purge("--before", "2025/13/01")


def test_without_yes_it_only_counts(db):
    aged(400)
    aged(500)
    cutoff = timezone.localdate() - datetime.timedelta(days=366)
    output = purge("--before", cutoff.isoformat())
    assert "2" in output and "--yes" in output
    assert AuditEvent.objects.count() == 2


def test_a_valid_purge_deletes_the_old_events_and_records_itself(db):
    aged(400)
    aged(500)
    kept = aged(200)
    cutoff = timezone.localdate() - datetime.timedelta(days=366)
    output = purge("--before", cutoff.isoformat(), "--yes")
    assert "2" in output
    purge_event = AuditEvent.objects.get(kind=AuditKind.PURGE)
    assert purge_event.changes == {"before": cutoff.isoformat(), "deleted": 2}
    assert set(AuditEvent.objects.values_list("pk", flat=True)) == {kept.pk, purge_event.pk}


def test_the_purge_is_one_delete_statement(db):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for days in (400, 450, 500):
        aged(days)
    with CaptureQueriesContext(connection) as queries:
        assert audit.purge_before(timezone.localdate() - datetime.timedelta(days=366)) == 3
    deletes = [q["sql"] for q in queries if q["sql"].upper().startswith("DELETE")]
    assert len(deletes) == 1
