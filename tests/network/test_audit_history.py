"""Casework history → audit log (network/audit_history.py): every create, change, archive,
restore and delete of a model with history leaves an audit event with who, from where, the
record, its area and what changed (masked)."""

import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from network.audit_history import mask_id_number, masked
from network.models import AuditEvent, AuditKind, LiaisonGroup
from residents.models import Household, Person
from tests.factories import valid_id_number
from tests.residents.conftest import register  # noqa: F401 (fixture)
from tests.residents.test_registry_household import edit_post, existing


def events_of(obj, kind=None):
    events = AuditEvent.objects.filter(
        object_type=obj._meta.label_lower, object_id=str(obj.pk)
    ).order_by("at", "pk")
    return list(events.filter(kind=kind) if kind else events)


def test_a_household_edit_by_community_staff_is_a_change_with_address_and_ip(
    world,
    register,  # noqa: F811
    login,
):
    household = register.ma_household
    client = login(world.pingjianglu_staff)
    ma, wife = register.ma_xiaodong, register.ma_wife
    data = edit_post(
        household,
        [existing(ma, ma.masked_id_number), existing(wife, wife.masked_id_number)],
        address="平江路112号3幢301室",
    )
    response = client.post(
        reverse("residents:household-update", args=[household.pk]),
        data,
        REMOTE_ADDR="10.12.3.45",
    )
    assert response.status_code == 302
    [event] = events_of(household, AuditKind.CHANGE)
    assert event.changes["address"] == ["平江路112号3幢201室", "平江路112号3幢301室"]
    assert event.user == world.pingjianglu_staff
    assert event.username == "pingjianglu"
    assert event.ip_address == "10.12.3.45"
    assert event.area == world.pingjianglu
    assert event.object_label == "平江路112号3幢301室"
    # the members were saved unchanged: no empty events for them
    assert events_of(ma, AuditKind.CHANGE) == []


def test_archive_and_restore_are_their_own_kinds(world, register, login):  # noqa: F811
    household = register.ma_household
    client = login(world.pingjiang_staff)
    assert client.post(reverse("residents:household-archive", args=[household.pk])).status_code
    assert client.post(reverse("residents:household-restore", args=[household.pk])).status_code
    kinds = [e.kind for e in events_of(household)]
    assert kinds[-2:] == [AuditKind.ARCHIVE, AuditKind.RESTORE]
    archive, restore = events_of(household)[-2:]
    assert archive.changes["archived_at"][0] is None and archive.changes["archived_at"][1]
    assert restore.changes["archived_at"][1] is None
    assert archive.user == restore.user == world.pingjiang_staff
    # the members are archived with their household, and restored with it
    assert [e.kind for e in events_of(register.ma_wife)][-2:] == [
        AuditKind.ARCHIVE,
        AuditKind.RESTORE,
    ]


def test_a_changed_id_number_is_masked_like_the_register_shows_it(world, register):  # noqa: F811
    person = register.ma_xiaodong
    old = person.id_number
    new = valid_id_number(birth="19840715", sequence="137")
    person.id_number = new
    person.mobile = "13912345678"
    person.save()
    [event] = events_of(person, AuditKind.CHANGE)
    assert event.changes["id_number"] == [mask_id_number(old), mask_id_number(new)]
    assert event.changes["id_number"][1] == new[:6] + "********" + new[-4:]
    assert event.changes["mobile"] == ["", "139****5678"]
    text = str(event.changes)
    assert old not in text and new not in text and old[::-1] not in text
    assert "13912345678" not in text


def test_a_new_record_lists_what_it_was_created_with_masked(world):
    household = Household.objects.create(
        community=world.daoqian, address="道前街12号", phone="0512-65123456"
    )
    person = Person.objects.create(
        household=household,
        name="阿依古丽",
        sex="F",
        ethnicity_id=Person._meta.get_field("ethnicity").related_model.objects.get(code="05").pk,
        id_number=valid_id_number(region="653101", birth="19950505", sequence="064"),
    )
    [created] = events_of(person, AuditKind.CREATE)
    assert created.changes["name"] == [None, "阿依古丽"]
    assert created.changes["id_number"] == [None, mask_id_number(person.id_number)]
    assert created.area == world.daoqian
    assert "id_number_reversed" not in created.changes and "version" not in created.changes
    [household_created] = events_of(household, AuditKind.CREATE)
    assert household_created.changes["phone"] == [None, "051******3456"]


def test_masking_rules():
    assert masked("id_number", "32050819840714135x") == "320508********135x"
    assert masked("id_number_reversed", "x53141704891805023") == "320508********135x"
    assert masked("mobile", "13912345678") == "139****5678"
    assert masked("residence_permit_number", "苏居320508123") == "苏居******123"
    assert masked("notes", "长" * 500).endswith("…") and len(masked("notes", "长" * 500)) == 200
    assert masked("moved_in_on", datetime.date(2024, 3, 1)) == "2024-03-01"


def test_an_account_change_never_keeps_a_password_and_a_sign_in_is_no_change(world):
    user = world.pingjianglu_staff
    user.set_password("Pingjiang-2027")
    user.real_name = "周晓虹"
    user.save()
    [event] = events_of(user, AuditKind.CHANGE)
    assert event.changes == {"real_name": ["周晓红", "周晓虹"]}
    user.last_login = timezone.now()
    user.save(update_fields=["last_login"])  # what a sign-in does: not a change of the record
    assert len(events_of(user, AuditKind.CHANGE)) == 1


def test_a_deleted_record_leaves_a_delete_event(world):
    group = LiaisonGroup.objects.create(community=world.ganjiang, name="干将社区第二联络组")
    pk = group.pk
    group.delete()
    events = AuditEvent.objects.filter(object_type="network.liaisongroup", object_id=str(pk))
    assert [e.kind for e in events.order_by("pk")] == [AuditKind.CREATE, AuditKind.DELETE]
    assert events.last().area == world.ganjiang


def test_meeting_attendees_are_in_the_event(world):
    from outreach.models import Meeting, MeetingKind

    meeting = Meeting.objects.create(
        kind=MeetingKind.LIAISON, title="第三季度联络员会议", area=world.pingjianglu
    )
    meeting.attending_users.add(world.pingjianglu_staff, world.pingjianglu_liaison)
    [attendees] = [e for e in events_of(meeting) if "attending_users" in e.changes]
    assert attendees.kind == AuditKind.CHANGE
    assert attendees.changes["attending_users"] == [
        [],
        sorted([world.pingjianglu_staff.pk, world.pingjianglu_liaison.pk]),
    ]
    assert attendees.area == world.pingjianglu


def test_a_save_costs_two_more_queries_the_previous_record_and_the_event(world):
    from simple_history.signals import post_create_historical_record

    from network.audit_history import on_historical_record

    household = Household.objects.create(community=world.pingjianglu, address="平江路1号")

    def queries_to_save(address):
        household.address = address
        with CaptureQueriesContext(connection) as queries:
            household.save()
        return len(queries)

    audited = queries_to_save("平江路2号")
    post_create_historical_record.disconnect(dispatch_uid="network.audit_history")
    try:
        plain = queries_to_save("平江路3号")
    finally:
        post_create_historical_record.connect(
            on_historical_record, dispatch_uid="network.audit_history"
        )
    assert audited - plain == 2
    assert len(events_of(household)) == 2  # created, and changed once while audited
