"""Consultations on the household page: each member's consultations on the timeline, for
the staff who may see them, and a button to record one with the head of household chosen."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from outreach import timeline_consultations
from outreach.models import Consultation

pytestmark = pytest.mark.django_db


def consult(area, person, *, days_ago=0, **fields):
    fields.setdefault("channel", "hotline")
    fields.setdefault("topic", "halal_food")
    fields.setdefault("summary", "反映小区附近清真面馆卫生问题，希望街道协调")
    return Consultation.objects.create(
        community=area,
        person=person,
        received_at=timezone.now() - datetime.timedelta(days=days_ago),
        **fields,
    )


def household_page(client, household, **params):
    return client.get(reverse("residents:household-detail", args=[household.pk]), params)


def test_a_members_consultation_is_on_the_household_timeline(world, register, login):
    c = consult(world.pingjianglu, register.ma_wife, days_ago=2)
    response = household_page(login(world.pingjiang_staff), register.ma_household)
    entries = [e for e in response.context["timeline"].entries if e.url]
    assert [e.url for e in entries] == [reverse("outreach:consultation-detail", args=[c.pk])]
    entry = entries[0]
    assert entry.on == timezone.localdate() - datetime.timedelta(days=2)
    assert entry.sort_key == (entry.on, 3, c.pk)
    assert entry.detail.startswith("反映小区附近清真面馆")
    assert entry.url in response.content.decode()


def test_entries_are_newest_first_limited_and_before_a_day(world, register):
    old = consult(world.pingjianglu, register.ma_xiaodong, days_ago=30)
    mid = consult(world.pingjianglu, register.ma_wife, days_ago=10)
    new = consult(world.pingjianglu, register.ma_xiaodong, days_ago=1)
    consult(world.ganjiang, register.bai_lan)  # another household
    archived = consult(world.pingjianglu, register.ma_xiaodong, days_ago=5)
    archived.archived_at = timezone.now()
    archived.save()
    user = world.pingjiang_staff

    def ids(**kwargs):
        found = timeline_consultations.entries(register.ma_household, user, **kwargs)
        return [int(e.url.rstrip("/").split("/")[-1]) for e in found]

    assert ids() == [new.pk, mid.pk, old.pk]
    assert ids(limit=2) == [new.pk, mid.pk]
    before = timezone.localdate() - datetime.timedelta(days=10)
    assert ids(before=before) == [old.pk]
    assert ids(before=datetime.date(1, 1, 1)) == []  # a typed year 1 is no error page
    assert ids(before=datetime.date(9999, 12, 31)) == [new.pk, mid.pk, old.pk]


def test_a_long_summary_is_cut(world, register):
    consult(world.pingjianglu, register.ma_xiaodong, summary="清真" * 100)
    (entry,) = timeline_consultations.entries(register.ma_household, world.pingjiang_staff)
    assert len(entry.detail) <= 80


def test_entries_cost_one_query(world, register):
    for days in range(5):
        consult(world.pingjianglu, register.ma_xiaodong, days_ago=days)
    user = world.pingjiang_staff
    user.has_perm("outreach.view_consultation")  # the permission cache, as on a page
    timeline_consultations.entries(register.ma_household, user)  # and the scope
    with CaptureQueriesContext(connection) as queries:
        found = timeline_consultations.entries(register.ma_household, user)
    assert len(found) == 5
    assert len(queries) == 1


def test_a_liaison_sees_no_consultation_on_the_timeline(world, register, login):
    consult(world.pingjianglu, register.ma_xiaodong)
    response = household_page(login(world.pingjianglu_liaison), register.ma_household)
    assert response.status_code == 200
    assert "consultations/" not in response.content.decode()
    assert timeline_consultations.entries(register.ma_household, world.pingjianglu_liaison) == []


def test_a_consultation_recorded_at_another_area_is_not_shown_to_who_cannot_see_it(world, register):
    # Recorded by the street office's window: the community's staff cannot see it.
    consult(world.pingjiang, register.ma_xiaodong)
    assert timeline_consultations.entries(register.ma_household, world.pingjianglu_staff) == []
    assert len(timeline_consultations.entries(register.ma_household, world.pingjiang_staff)) == 1


def test_staff_are_offered_to_record_one_for_the_head_of_household(world, register, login):
    response = household_page(login(world.pingjianglu_staff), register.ma_household)
    url = f"{reverse('outreach:consultation-create')}?person={register.ma_xiaodong.pk}"
    assert any(link == url for _label, link in response.context["timeline_actions"])
    assert url in response.content.decode().replace("&amp;", "&")


def test_the_first_member_stands_in_when_there_is_no_head(world, register):
    register.ma_xiaodong.archived_at = timezone.now()
    register.ma_xiaodong.save()
    ((_label, url),) = timeline_consultations.actions(register.ma_household, world.pingjiang_staff)
    assert url.endswith(f"?person={register.ma_wife.pk}")


def test_no_button_for_liaisons_or_those_who_only_see_the_household(world, register):
    assert timeline_consultations.actions(register.ma_household, world.pingjianglu_liaison) == []
    assert timeline_consultations.actions(register.daoqian_household, world.bureau) != []
    assert timeline_consultations.actions(register.daoqian_household, world.pingjiang_staff) == []
