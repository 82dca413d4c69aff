"""The phone-first meeting log: a liaison ticks who of their group came; a meeting with no
one attending, a liaison of another group or a date to come is refused; a second tap records
nothing twice."""

import datetime
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from outreach.models import GroupMembership, Liaison, Meeting, MeetingKind

URL = reverse("outreach:log-meeting")


def today():
    return timezone.localdate()


def meeting_data(**overrides):
    data = {
        "kind": MeetingKind.LIAISON,
        "held_on": today().isoformat(),
        "venue": "平江路社区民族之家",
        "other_attendees": "0",
        "minutes": "传达区民宗局会议精神，布置中秋走访。",
        "submission_key": str(uuid.uuid4()),
    }
    data.update(overrides)
    return data


def test_liaison_logs_a_meeting_of_their_group(world, liaisons, login):
    client = login(world.pingjianglu_liaison)
    data = meeting_data(attending_liaisons=[liaisons.bai_mei.pk, liaisons.ma_xiaodong.pk])
    data["other_attendees"] = "３"  # full-width
    response = client.post(URL, data)
    meeting = Meeting.objects.get()
    assert response["Location"] == reverse("outreach:log-done", args=["meeting", meeting.pk])
    assert meeting.liaison_group == world.pingjianglu_group
    assert meeting.area == world.pingjianglu
    assert meeting.kind == MeetingKind.LIAISON
    assert meeting.venue == "平江路社区民族之家"
    assert meeting.other_attendees == 3
    assert meeting.created_by == world.pingjianglu_liaison
    assert set(meeting.attending_liaisons.all()) == {liaisons.bai_mei, liaisons.ma_xiaodong}


def test_attendees_offered_are_the_current_members_of_the_group(world, liaisons, login):
    former = Liaison.objects.create(community=world.pingjianglu, name="沙德明")
    GroupMembership.objects.create(
        liaison=former,
        group=world.pingjianglu_group,
        start_date=datetime.date(2020, 1, 1),
        end_date=today() - datetime.timedelta(days=1),
    )
    form = login(world.pingjianglu_liaison).get(URL).context["form"]
    offered = {pk for pk, _label in form.fields["attending_liaisons"].widget.choices}
    assert offered == {liaisons.bai_mei.pk, liaisons.ma_xiaodong.pk}
    assert form.fields["attending_liaisons"].initial == [liaisons.bai_mei.pk]  # their own
    assert "me" not in form.fields  # their liaison record stands for them


def test_meeting_with_no_attendees_is_refused(world, liaisons, login):
    client = login(world.pingjianglu_liaison)
    response = client.post(URL, meeting_data())
    assert response.status_code == 200
    assert "attending_liaisons" in response.context["form"].errors
    assert Meeting.objects.count() == 0


def test_others_alone_are_attendees(world, liaisons, login):
    client = login(world.pingjianglu_liaison)
    assert client.post(URL, meeting_data(other_attendees="12")).status_code == 302
    assert Meeting.objects.get().other_attendees == 12


def test_liaison_of_another_group_cannot_be_ticked(world, liaisons, login):
    client = login(world.pingjianglu_liaison)
    response = client.post(URL, meeting_data(attending_liaisons=[liaisons.ma_jianhua.pk]))
    assert "attending_liaisons" in response.context["form"].errors
    assert Meeting.objects.count() == 0


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"held_on": "2099-05-01"}, "held_on"),
        ({"held_on": "昨天"}, "held_on"),
        ({"kind": "banquet"}, "kind"),
        ({"other_attendees": "-1"}, "other_attendees"),
        ({"other_attendees": "99999999999999999999"}, "other_attendees"),
    ],
)
def test_bad_values_are_refused(world, liaisons, login, overrides, field):
    client = login(world.pingjianglu_liaison)
    data = meeting_data(attending_liaisons=[liaisons.bai_mei.pk], **overrides)
    response = client.post(URL, data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert Meeting.objects.count() == 0


def test_double_tap_records_one_meeting(world, liaisons, login):
    client = login(world.pingjianglu_liaison)
    data = meeting_data(attending_liaisons=[liaisons.bai_mei.pk])
    first = client.post(URL, data)
    second = client.post(URL, data)
    meeting = Meeting.objects.get()
    assert first["Location"] == second["Location"]
    assert second["Location"] == reverse("outreach:log-done", args=["meeting", meeting.pk])
    assert meeting.attending_liaisons.count() == 1


def test_defaults_are_the_last_kind_and_the_groups_last_venue(world, liaisons, login):
    Meeting.objects.create(
        kind=MeetingKind.STUDY,
        area=world.pingjianglu,
        liaison_group=world.pingjianglu_group,
        held_on=today() - datetime.timedelta(days=20),
        venue="平江路社区民族之家二楼",
    )
    client = login(world.pingjianglu_liaison)
    initial = client.get(URL).context["form"].initial
    assert initial["kind"] == MeetingKind.LIAISON  # nothing logged by them yet
    assert initial["venue"] == "平江路社区民族之家二楼"
    assert initial["held_on"] == today()
    data = meeting_data(kind=MeetingKind.TEA_PARTY, venue="", other_attendees="8")
    client.post(URL, data)
    initial = client.get(URL).context["form"].initial
    assert initial["kind"] == MeetingKind.TEA_PARTY
    assert initial["venue"] == "平江路社区民族之家二楼"  # an empty venue is not "the last"


def test_staff_log_a_meeting_of_their_area_as_attendee(world, liaisons, login):
    client = login(world.pingjianglu_staff)
    form = client.get(URL).context["form"]
    assert form.initial["held_by"] == f"area:{world.pingjianglu.pk}"
    assert "me" in form.fields
    data = meeting_data(held_by=f"area:{world.pingjianglu.pk}", me="on")
    assert client.post(URL, data).status_code == 302
    meeting = Meeting.objects.get()
    assert meeting.area == world.pingjianglu
    assert meeting.liaison_group is None
    assert list(meeting.attending_users.all()) == [world.pingjianglu_staff]


@pytest.mark.parametrize(
    "held_by", ["group:{daoqian_group}", "area:{daoqian}", "area:{pingjiang}", "nonsense", ""]
)
def test_staff_cannot_log_for_what_they_do_not_manage(world, liaisons, login, held_by):
    value = held_by.format(
        daoqian_group=world.daoqian_group.pk, daoqian=world.daoqian.pk, pingjiang=world.pingjiang.pk
    )
    client = login(world.pingjianglu_staff)
    response = client.post(URL, meeting_data(held_by=value, me="on"))
    assert response.status_code == 200
    assert "held_by" in response.context["form"].errors
    assert Meeting.objects.count() == 0


def test_the_page_keeps_a_draft_and_loads_its_script_deferred(world, liaisons, login):
    page = login(world.pingjianglu_liaison).get(URL).content.decode()
    assert 'data-draft="log-meeting"' in page
    assert 'src="/static/js/tongxin-draft.js" defer' in page
    assert "htmx" not in page  # nothing it does not need


def test_users_without_a_post_are_refused(world, liaisons, login):
    client = login(world.no_post)
    assert client.get(URL).status_code == 403
    assert client.post(URL, meeting_data(other_attendees="3")).status_code == 403
    assert Meeting.objects.count() == 0


def test_the_same_form_sent_twice_at_once_records_one_meeting(world, liaisons, login, monkeypatch):
    """A double tap sends two requests side by side: the second looks for the key before the
    first has committed, and saves after it has. It answers with the first meeting."""
    from outreach import views_log

    client = login(world.pingjianglu_liaison)
    data = meeting_data(attending_liaisons=[liaisons.bai_mei.pk])
    first = client.post(URL, data)
    meeting = Meeting.objects.get()
    looked = []

    def not_yet_committed(model, key, user):  # the first look, while the twin is saving
        looked.append(key)
        return None if len(looked) == 1 else Meeting.objects.filter(submission_key=key).first()

    monkeypatch.setattr(views_log, "_already_recorded", not_yet_committed)
    second = client.post(URL, data)
    assert Meeting.objects.count() == 1
    assert second["Location"] == first["Location"]
    assert second["Location"] == reverse("outreach:log-done", args=["meeting", meeting.pk])
