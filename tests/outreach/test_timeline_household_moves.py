"""A household that moves to another community takes its outreach records with it: its visits,
pairings and the photos of its visits are seen by the new community's staff, no longer by the
old community's."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from outreach.models import Pairing, PairingKind
from outreach.photos import save_photos, shrunk_jpeg
from tests.outreach.test_visits_support import make_visit


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def jpeg():
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (30, 120, 60)).save(out, "JPEG")
    return SimpleUploadedFile("menkou.jpg", out.getvalue(), content_type="image/jpeg")


def test_visits_pairings_and_photos_follow_a_household_that_moves(world, register, login):
    household = register.ma_household
    visit = make_visit(household, group=world.pingjianglu_group)
    (photo,) = save_photos([shrunk_jpeg(jpeg())], by=world.pingjianglu_liaison, visit=visit)
    pairing = Pairing.objects.create(
        household=household,
        kind=PairingKind.ASSISTANCE,
        partner_user=world.pingjianglu_staff,
        start_date=visit.visited_on,
    )
    photo_url = reverse("outreach:photo", args=[photo.pk])
    visit_url = reverse("outreach:visit-detail", args=[visit.pk])
    assert login(world.pingjianglu_staff).get(photo_url).status_code == 200

    household.community = world.ganjiang
    household.save()

    for record in (visit, pairing, photo):
        record.refresh_from_db()
        assert record.community == world.ganjiang, record
    old = login(world.pingjianglu_staff)
    assert old.get(photo_url).status_code == 404
    assert old.get(visit_url).status_code == 404
    # 干将社区 lies in 平江街道: its staff still see the visit and its photo, now in 干将
    new = login(world.pingjiang_staff)
    assert new.get(photo_url).status_code == 200
    assert new.get(visit_url).status_code == 200


def test_photos_follow_a_visit_corrected_to_another_household_or_group(world, register, login):
    """A visit entered on the wrong household and then corrected: its photos go with it."""
    visit = make_visit(register.ma_household, group=world.pingjianglu_group)
    (photo,) = save_photos([shrunk_jpeg(jpeg())], by=world.pingjianglu_liaison, visit=visit)
    photo_url = reverse("outreach:photo", args=[photo.pk])
    assert login(world.pingjianglu_liaison).get(photo_url).status_code == 200

    visit.household = register.bai_household
    visit.liaison_group = world.ganjiang_group
    visit.save()

    photo.refresh_from_db()
    assert (photo.community, photo.liaison_group) == (world.ganjiang, world.ganjiang_group)
    assert login(world.pingjianglu_liaison).get(photo_url).status_code == 404
    assert login(world.pingjiang_staff).get(photo_url).status_code == 200


def test_photos_follow_a_meeting_moved_to_another_group(world, register, login):
    from outreach.models import Meeting, MeetingKind

    meeting = Meeting.objects.create(
        kind=MeetingKind.LIAISON,
        area=world.pingjianglu,
        liaison_group=world.pingjianglu_group,
        other_attendees=6,
    )
    (photo,) = save_photos([shrunk_jpeg(jpeg())], by=world.pingjianglu_staff, meeting=meeting)
    meeting.liaison_group = world.daoqian_group
    meeting.save()
    photo.refresh_from_db()
    assert (photo.community, photo.liaison_group) == (world.daoqian, world.daoqian_group)
    assert (
        login(world.pingjianglu_liaison).get(reverse("outreach:photo", args=[photo.pk])).status_code
        == 404
    )
