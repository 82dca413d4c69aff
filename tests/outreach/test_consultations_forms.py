"""The consultation form's rules: someone came or called, a referral says to whom, a
resolution says how, nothing is closed before it came in or received in the future, and the
person and handler fit the area."""

import datetime
import uuid

import pytest
from django.utils import timezone

from outreach.forms_consultations import ConsultationFilterForm, ConsultationForm
from outreach.models import Consultation

pytestmark = pytest.mark.django_db


def local(dt: datetime.datetime) -> str:
    return timezone.localtime(dt).strftime("%Y-%m-%dT%H:%M")


def form_data(world, register, **changes):
    data = {
        "community": world.pingjianglu.pk,
        "person": register.ma_xiaodong.pk,
        "visitor": "",
        "visitor_phone": "",
        "channel": "walk_in",
        "topic": "halal_food",
        "received_at": local(timezone.now() - datetime.timedelta(hours=2)),
        "summary": "咨询清真餐饮店营业执照办理流程",
        "handler": world.pingjiang_staff.pk,
        "status": "open",
        "referred_to": "",
        "resolution": "",
        "closed_on": "",
        "submission_key": str(uuid.uuid4()),
    }
    data.update(changes)
    return data


def make_form(world, register, user=None, **changes):
    return ConsultationForm(
        form_data(world, register, **changes), user=user or world.pingjiang_staff
    )


def test_a_complete_form_saves_with_its_submission_key(world, register):
    form = make_form(world, register)
    assert form.is_valid(), form.errors
    consultation = form.save()
    assert consultation.person == register.ma_xiaodong
    assert str(consultation.submission_key) == form.data["submission_key"]
    assert consultation.closed_on is None


def test_nobody_came_is_refused(world, register):
    form = make_form(world, register, person="", visitor="  ")
    assert not form.is_valid()
    assert "visitor" in form.errors
    assert Consultation.objects.count() == 0


def test_a_described_visitor_is_enough(world, register):
    form = make_form(
        world, register, person="", visitor="一位回族老人（未登记）", visitor_phone="13812345678"
    )
    assert form.is_valid(), form.errors
    assert form.save().person is None


def test_referred_without_saying_to_whom_is_refused(world, register):
    form = make_form(world, register, status="referred", referred_to=" ")
    assert not form.is_valid()
    assert "referred_to" in form.errors


def test_referred_to_the_legal_aid_centre_closes_it_today(world, register):
    form = make_form(world, register, status="referred", referred_to="姑苏区法律援助中心")
    assert form.is_valid(), form.errors
    assert form.save().closed_on == timezone.localdate()


def test_resolved_without_a_resolution_is_refused(world, register):
    form = make_form(world, register, status="resolved", resolution="")
    assert not form.is_valid()
    assert "resolution" in form.errors


def test_resolved_with_a_resolution_is_closed_today_unless_a_day_is_given(world, register):
    form = make_form(world, register, status="resolved", resolution="已告知办理窗口与所需材料")
    assert form.is_valid(), form.errors
    assert form.save().closed_on == timezone.localdate()


def test_closed_before_it_was_received_is_refused(world, register):
    received = timezone.now() - datetime.timedelta(days=3)
    before = timezone.localdate() - datetime.timedelta(days=5)
    form = make_form(
        world,
        register,
        received_at=local(received),
        status="resolved",
        resolution="已解决",
        closed_on=before.isoformat(),
    )
    assert not form.is_valid()
    assert "closed_on" in form.errors


def test_closed_on_a_day_to_come_is_refused(world, register):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    form = make_form(
        world, register, status="resolved", resolution="已解决", closed_on=tomorrow.isoformat()
    )
    assert not form.is_valid()
    assert "closed_on" in form.errors


def test_received_in_the_future_is_refused(world, register):
    form = make_form(
        world, register, received_at=local(timezone.now() + datetime.timedelta(days=1))
    )
    assert not form.is_valid()
    assert "received_at" in form.errors


@pytest.mark.parametrize("typed", ["2024-13-45T10:00", "明天上午", "99999-01-01T00:00", "\x00"])
def test_a_received_at_that_is_no_date_is_a_form_error(world, register, typed):
    form = make_form(world, register, received_at=typed)
    assert not form.is_valid()
    assert "received_at" in form.errors


def test_reopening_clears_the_closing_day(world, register):
    form = make_form(world, register, status="resolved", resolution="已解决")
    consultation = form.save() if form.is_valid() else None
    assert consultation is not None and consultation.closed_on
    data = form_data(world, register, status="in_progress", resolution="已解决")
    data.pop("submission_key")
    form = ConsultationForm(data, instance=consultation, user=world.pingjiang_staff)
    assert form.is_valid(), form.errors
    assert form.save().closed_on is None


def test_days_to_resolve_count_from_the_day_it_came_in(world, register):
    received = timezone.now() - datetime.timedelta(days=6)
    form = make_form(
        world, register, received_at=local(received), status="resolved", resolution="已协调解决"
    )
    assert form.is_valid(), form.errors
    assert form.save().days_to_resolve == 6


def test_a_person_of_another_sub_district_is_not_a_choice(world, register):
    form = make_form(world, register, person=register.aytursun.pk)
    assert not form.is_valid()
    assert "person" in form.errors


def test_a_person_living_outside_the_chosen_area_is_refused(world, register):
    form = make_form(world, register, community=world.ganjiang.pk)
    assert not form.is_valid()
    assert "person" in form.errors


def test_the_street_office_window_may_record_anyone_of_its_communities(world, register):
    form = make_form(world, register, community=world.pingjiang.pk, person=register.bai_lan.pk)
    assert form.is_valid(), form.errors


def test_an_area_the_user_does_not_manage_is_not_a_choice(world, register):
    form = make_form(world, register, user=world.pingjianglu_staff, community=world.ganjiang.pk)
    assert not form.is_valid()
    assert "community" in form.errors


def test_a_handler_who_could_not_see_it_is_refused(world, register):
    form = make_form(world, register, user=world.bureau, handler=world.canglang_staff.pk)
    assert not form.is_valid()
    assert "handler" in form.errors


def test_a_handler_from_another_sub_district_is_not_even_offered(world, register):
    form = make_form(world, register, handler=world.canglang_staff.pk)
    assert not form.is_valid()
    assert "handler" in form.errors


def test_the_person_box_offers_only_what_was_found(world, register):
    form = ConsultationForm(user=world.pingjiang_staff, persons=[register.bai_lan])
    values = [str(value) for value, _label in form.fields["person"].widget.choices]
    assert values == ["", str(register.bai_lan.pk)]
    assert "320508" not in str(form["person"])  # no ID number in the labels


def test_the_filter_form_has_no_liaison_group_and_drops_what_does_not_fit(world):
    form = ConsultationFilterForm(
        {"status": "lost", "channel": "hotline", "handler": "x", "state": "overdue"},
        user=world.pingjiang_staff,
    )
    assert "group" not in form.fields
    assert form.filters == {"channel": "hotline", "state": "overdue", "archived": False}
