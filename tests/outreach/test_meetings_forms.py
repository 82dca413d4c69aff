"""Recording a meeting or activity: what the form refuses (a meeting in the future, one with
nobody there, a negative cost), what it accepts as typed (full-width digits), who may hold
it, whom it offers as attendees, and that a double submission records it once."""

import datetime
import io
import uuid
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from outreach.models import Meeting, MeetingKind, Photo

CREATE = reverse("outreach:meeting-create")


def day(days_ago: int) -> str:
    return (timezone.localdate() - datetime.timedelta(days=days_ago)).isoformat()


def meeting_data(area_or_group: str, **overrides) -> dict:
    data = {
        "kind": MeetingKind.LIAISON,
        "title": "第三季度少数民族联络员会议",
        "held_by": area_or_group,
        "held_on": day(3),
        "venue": "平江路社区民族之家",
        "other_attendees": "0",
        "cost": "0",
        "minutes": "通报辖区少数民族群众走访情况，学习民族宗教政策。",
        "decisions": "中秋前完成困难户走访。",
        "submission_key": str(uuid.uuid4()),
    }
    data.update(overrides)
    return data


@pytest.fixture
def staff(world, login):
    return login(world.pingjiang_staff)


def form_of(response):
    assert response.status_code == 200
    return response.context["form"]


# ---------------------------------------------------------------- validation


def test_a_meeting_dated_in_the_future_is_refused(world, staff):
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    data = meeting_data(f"area:{world.pingjiang.pk}", held_on=tomorrow, other_attendees="12")
    form = form_of(staff.post(CREATE, data))
    assert "held_on" in form.errors
    assert not Meeting.objects.exists()


def test_a_meeting_held_today_is_accepted(world, staff):
    data = meeting_data(f"area:{world.pingjiang.pk}", held_on=day(0), other_attendees="12")
    assert staff.post(CREATE, data).status_code == 302
    assert Meeting.objects.get().held_on == timezone.localdate()


def test_a_meeting_with_no_attendees_is_refused(world, staff):
    form = form_of(staff.post(CREATE, meeting_data(f"area:{world.pingjiang.pk}")))
    assert [e.code for e in form.non_field_errors().as_data()] == ["no_attendees"]
    assert not Meeting.objects.exists()


@pytest.mark.parametrize(
    "who",
    [
        {"other_attendees": "8"},
        {"attending_users": "staff"},
        {"attending_liaisons": "liaison"},
        {"attending_persons": "person"},
    ],
    ids=["others", "staff", "liaison", "resident"],
)
def test_any_one_kind_of_attendee_is_enough(world, liaisons, register, staff, who):
    values = {
        "staff": world.pingjianglu_staff.pk,
        "liaison": liaisons.ma_xiaodong.pk,
        "person": register.ma_wife.pk,
    }
    data = meeting_data(f"area:{world.pingjianglu.pk}")
    for key, value in who.items():
        data[key] = values.get(value, value)
    assert staff.post(CREATE, data).status_code == 302
    assert Meeting.objects.get().area == world.pingjianglu


def test_a_negative_cost_is_refused(world, staff):
    data = meeting_data(f"area:{world.pingjiang.pk}", other_attendees="5", cost="-50")
    assert "cost" in form_of(staff.post(CREATE, data)).errors
    assert not Meeting.objects.exists()


def test_a_negative_count_of_others_is_refused(world, staff):
    data = meeting_data(f"area:{world.pingjiang.pk}", other_attendees="-3")
    assert "other_attendees" in form_of(staff.post(CREATE, data)).errors


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("１２０．５", Decimal("120.50")),
        ("¥1,200", Decimal("1200.00")),
        ("３５０元", Decimal("350.00")),
        ("80。5", Decimal("80.50")),
        ("", Decimal("0")),
    ],
)
def test_cost_is_accepted_as_typed(world, staff, typed, stored):
    data = meeting_data(f"area:{world.pingjiang.pk}", other_attendees="３０", cost=typed)
    assert staff.post(CREATE, data).status_code == 302
    meeting = Meeting.objects.get()
    assert meeting.cost == stored
    assert meeting.other_attendees == 30


@pytest.mark.parametrize("typed", ["一百", "1e400", "NaN", "12.345", "１２３４５６７８９０"])
def test_cost_that_is_no_amount_is_refused_without_error_page(world, staff, typed):
    data = meeting_data(f"area:{world.pingjiang.pk}", other_attendees="5", cost=typed)
    assert "cost" in form_of(staff.post(CREATE, data)).errors


def test_garbage_in_every_field_gives_a_form_not_an_error_page(world, staff):
    data = {
        "kind": "party",
        "held_by": "area:abc",
        "held_on": "2025-02-30",
        "attending_users": ["x", "99999999999999999999"],
        "attending_persons": ["-1"],
        "other_attendees": "many",
        "cost": "\x00",
        "submission_key": "not-a-uuid",
    }
    form = form_of(staff.post(CREATE, data))
    assert {"kind", "held_by", "held_on", "attending_users", "other_attendees", "cost"} <= set(
        form.errors
    )
    assert not Meeting.objects.exists()


@pytest.mark.parametrize("field", ["attending_users", "attending_liaisons", "attending_persons"])
@pytest.mark.parametrize("typed", ["99999999999999999999", "-99999999999999999999"])
def test_an_attendee_id_no_record_can_have_is_a_form_error(world, staff, field, typed):
    data = meeting_data(f"area:{world.pingjiang.pk}", other_attendees="5", **{field: typed})
    assert field in form_of(staff.post(CREATE, data)).errors
    assert not Meeting.objects.exists()


@pytest.mark.parametrize("typed", ["0202-05-04", "0001-01-01"])
def test_a_mistyped_year_is_refused(world, staff, typed):
    data = meeting_data(f"area:{world.pingjiang.pk}", other_attendees="5", held_on=typed)
    assert "held_on" in form_of(staff.post(CREATE, data)).errors
    assert not Meeting.objects.exists()


@pytest.mark.parametrize("key", ["not-a-uuid", "\x00", ""])
def test_a_garbled_key_still_records_the_meeting_once(world, staff, key):
    data = meeting_data(f"area:{world.pingjiang.pk}", other_attendees="5", submission_key=key)
    response = staff.post(CREATE, data)
    meeting = Meeting.objects.get()
    assert response["Location"] == reverse("outreach:meeting-detail", args=[meeting.pk])


# ---------------------------------------------------------------- held by and attendees


def test_staff_record_a_meeting_of_their_sub_district(world, liaisons, register, staff):
    data = meeting_data(
        f"area:{world.pingjiang.pk}",
        attending_users=[world.pingjiang_staff.pk, world.pingjianglu_staff.pk],
        attending_liaisons=[liaisons.bai_mei.pk, liaisons.ma_xiaodong.pk],
        attending_persons=[register.ma_wife.pk, register.bai_lan.pk],
        other_attendees="4",
        cost="３６０",
    )
    response = staff.post(CREATE, data)
    meeting = Meeting.objects.get()
    assert response["Location"] == reverse("outreach:meeting-detail", args=[meeting.pk])
    assert meeting.area == world.pingjiang
    assert meeting.liaison_group is None
    assert meeting.created_by == world.pingjiang_staff
    assert set(meeting.attending_persons.all()) == {register.ma_wife, register.bai_lan}
    assert meeting.attending_liaisons.count() == 2
    assert meeting.attending_users.count() == 2
    assert meeting.cost == Decimal("360")
    assert str(meeting.submission_key) == data["submission_key"]


def test_staff_may_not_hold_a_meeting_for_another_sub_district(world, staff):
    data = meeting_data(f"area:{world.canglang.pk}", other_attendees="9")
    assert "held_by" in form_of(staff.post(CREATE, data)).errors
    data = meeting_data(f"group:{world.daoqian_group.pk}", other_attendees="9")
    assert "held_by" in form_of(staff.post(CREATE, data)).errors
    assert not Meeting.objects.exists()


def test_staff_may_hold_a_meeting_as_a_liaison_group_of_their_area(world, staff):
    data = meeting_data(f"group:{world.ganjiang_group.pk}", other_attendees="9")
    assert staff.post(CREATE, data).status_code == 302
    meeting = Meeting.objects.get()
    assert (meeting.area, meeting.liaison_group) == (world.ganjiang, world.ganjiang_group)


def test_liaison_records_a_meeting_of_their_own_group(world, liaisons, register, login):
    client = login(world.pingjianglu_liaison)
    form = form_of(client.get(CREATE))
    assert form.fields["held_by"].disabled
    assert form["held_by"].value() == f"group:{world.pingjianglu_group.pk}"
    # whatever is posted, a liaison records for their group
    data = meeting_data(
        f"area:{world.pingjiang.pk}",
        attending_liaisons=[liaisons.bai_mei.pk, liaisons.ma_xiaodong.pk],
        attending_persons=[register.ma_xiaodong.pk],
    )
    assert client.post(CREATE, data).status_code == 302
    meeting = Meeting.objects.get()
    assert meeting.liaison_group == world.pingjianglu_group
    assert meeting.area == world.pingjianglu


def test_liaison_cannot_name_residents_of_another_community(world, liaisons, register, login):
    client = login(world.pingjianglu_liaison)
    data = meeting_data("", attending_persons=[register.bai_lan.pk, register.aytursun.pk])
    assert "attending_persons" in form_of(client.post(CREATE, data)).errors
    data = meeting_data("", attending_liaisons=[liaisons.ma_jianhua.pk])
    assert "attending_liaisons" in form_of(client.post(CREATE, data)).errors
    data = meeting_data("", attending_users=[world.canglang_staff.pk])
    assert "attending_users" in form_of(client.post(CREATE, data)).errors
    assert not Meeting.objects.exists()


def test_the_form_offers_the_residents_of_the_chosen_area(world, liaisons, register, staff):
    form = form_of(staff.get(CREATE, {"held_by": f"area:{world.pingjianglu.pk}"}))
    offered = {pk for pk, _label in form.fields["attending_persons"].widget.choices}
    assert offered == {register.ma_xiaodong.pk, register.ma_wife.pk}
    liaisons_offered = {pk for pk, _label in form.fields["attending_liaisons"].widget.choices}
    assert liaisons_offered == {liaisons.bai_mei.pk, liaisons.ma_xiaodong.pk}
    page = staff.get(CREATE, {"held_by": f"area:{world.ganjiang.pk}"}).content.decode()
    assert "白兰" in page
    assert "哈丽娜" not in page
    assert register.ma_xiaodong.id_number not in page


def test_the_form_keeps_ticked_residents_when_the_area_changes(world, register, staff):
    query = {"held_by": f"area:{world.ganjiang.pk}", "attending_persons": [register.ma_wife.pk]}
    form = form_of(staff.get(CREATE, query))
    offered = {pk for pk, _label in form.fields["attending_persons"].widget.choices}
    assert offered == {register.bai_lan.pk, register.ma_wife.pk}
    assert [p for p in form["attending_persons"].value()] == [register.ma_wife.pk]
    # a foreign ID in the query is not offered
    form = form_of(staff.get(CREATE, {"held_by": "x", "attending_persons": register.aytursun.pk}))
    assert register.aytursun.pk not in {pk for pk, _l in form.fields["attending_persons"].choices}
    assert register.aytursun.pk not in {
        pk for pk, _label in form.fields["attending_persons"].widget.choices
    }


def test_the_kind_last_recorded_is_offered_first(world, staff):
    data = meeting_data(
        f"area:{world.pingjiang.pk}", kind=MeetingKind.TEA_PARTY, other_attendees="20"
    )
    staff.post(CREATE, data)
    assert form_of(staff.get(CREATE))["kind"].value() == MeetingKind.TEA_PARTY


# ---------------------------------------------------------------- idempotency


def test_a_double_submission_records_the_meeting_once(world, staff):
    data = meeting_data(f"area:{world.pingjiang.pk}", other_attendees="15")
    first = staff.post(CREATE, data)
    second = staff.post(CREATE, data)
    meeting = Meeting.objects.get()
    assert first.status_code == second.status_code == 302
    assert second["Location"] == first["Location"]
    assert second["Location"] == reverse("outreach:meeting-detail", args=[meeting.pk])


def test_a_retry_after_a_refused_submission_records_it_once(world, staff):
    data = meeting_data(f"area:{world.pingjiang.pk}")
    form_of(staff.post(CREATE, data))  # no attendees: refused
    data["other_attendees"] = "6"
    assert staff.post(CREATE, data).status_code == 302
    assert staff.post(CREATE, data).status_code == 302
    assert Meeting.objects.count() == 1


def test_each_new_form_carries_a_new_key(world, staff):
    first = form_of(staff.get(CREATE))["submission_key"].value()
    second = form_of(staff.get(CREATE))["submission_key"].value()
    assert uuid.UUID(first) != uuid.UUID(second)


def test_a_key_of_a_meeting_the_user_cannot_see_records_a_new_one(world, login, staff):
    data = meeting_data(f"area:{world.pingjiang.pk}", other_attendees="15")
    staff.post(CREATE, data)
    other = login(world.canglang_staff)
    data["held_by"] = f"area:{world.canglang.pk}"
    response = other.post(CREATE, data)
    assert response.status_code == 302
    assert Meeting.objects.count() == 2
    theirs = Meeting.objects.get(area=world.canglang)
    assert str(theirs.submission_key) != data["submission_key"]


# ---------------------------------------------------------------- photos


def png_upload(name="活动照片.png", size=(640, 480)):
    from django.core.files.uploadedfile import SimpleUploadedFile

    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, "PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


def test_photos_are_kept_with_the_meeting(world, staff, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    data = meeting_data(f"area:{world.pingjianglu.pk}", other_attendees="30")
    data["photos"] = [png_upload(), png_upload("第二张.png")]
    assert staff.post(CREATE, data).status_code == 302
    meeting = Meeting.objects.get()
    photos = list(Photo.objects.filter(meeting=meeting))
    assert len(photos) == 2
    assert {p.community for p in photos} == {world.pingjianglu}
    assert all(p.uploaded_by == world.pingjiang_staff for p in photos)


def test_a_file_that_is_no_photo_is_refused_and_nothing_is_recorded(
    world, staff, settings, tmp_path
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    data = meeting_data(f"area:{world.pingjianglu.pk}", other_attendees="30")
    data["photos"] = [SimpleUploadedFile("会议纪要.png", b"not an image", content_type="image/png")]
    assert "photos" in form_of(staff.post(CREATE, data)).errors
    assert not Meeting.objects.exists()
    assert not Photo.objects.exists()


def test_a_liaison_without_a_group_is_told_they_cannot_record(world, login):
    from network.models import Role
    from tests.factories import make_user_with_post

    loner = make_user_with_post("ganjiang_llz", "金桂芳", Role.LIAISON, world.ganjiang)
    client = login(loner)
    form = form_of(client.get(CREATE))
    assert form.can_record is False
    data = meeting_data(f"area:{world.ganjiang.pk}", other_attendees="5")
    assert "held_by" in form_of(client.post(CREATE, data)).errors
    data = meeting_data(f"group:{world.ganjiang_group.pk}", other_attendees="5")
    assert "held_by" in form_of(client.post(CREATE, data)).errors
    assert not Meeting.objects.exists()
