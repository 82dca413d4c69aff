"""A wrong photo (someone's ID card in view, another family's door) is archived, not
deleted: staff who may change the visit put it aside, it is no longer served, and it can be
restored; nobody outside the visit's areas or without the right can touch it."""

import io

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from PIL import Image

from network.models import AuditEvent, AuditKind
from outreach.models import Photo
from tests.outreach.test_visits_support import make_visit


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def jpeg_bytes():
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (30, 90, 160)).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
def photo(world, register):
    visit = make_visit(register.ma_household, group=world.pingjianglu_group)
    return Photo.objects.create(
        visit=visit,
        community=visit.community,
        liaison_group=visit.liaison_group,
        image=ContentFile(jpeg_bytes(), name="menpai.jpg"),
        caption="马家门牌",
        uploaded_by=world.pingjianglu_liaison,
    )


def detail(photo):
    return reverse("outreach:visit-detail", args=[photo.visit_id])


def test_staff_archive_a_photo_and_restore_it(world, photo, login):
    client = login(world.pingjianglu_staff)
    page = client.get(detail(photo)).content.decode()
    assert reverse("outreach:photo-archive", args=[photo.pk]) in page
    assert 'data-tx-confirm="' in page  # asked first in the browser

    response = client.post(reverse("outreach:photo-archive", args=[photo.pk]))
    assert response.status_code == 302 and response["Location"] == detail(photo)
    photo.refresh_from_db()
    assert photo.archived_at is not None and photo.image  # kept, file and all
    assert client.get(reverse("outreach:photo", args=[photo.pk])).status_code == 404
    page = client.get(detail(photo)).content.decode()
    assert f'src="{reverse("outreach:photo", args=[photo.pk])}"' not in page
    assert "马家门牌" in page and reverse("outreach:photo-restore", args=[photo.pk]) in page
    assert AuditEvent.objects.filter(kind=AuditKind.ARCHIVE, object_id=str(photo.pk)).exists()

    client.post(reverse("outreach:photo-restore", args=[photo.pk]))
    photo.refresh_from_db()
    assert photo.archived_at is None
    assert client.get(reverse("outreach:photo", args=[photo.pk])).status_code == 200
    assert AuditEvent.objects.filter(kind=AuditKind.RESTORE, object_id=str(photo.pk)).exists()


def test_others_cannot_archive_or_restore(world, photo, login, client):
    archive = reverse("outreach:photo-archive", args=[photo.pk])
    assert login(world.canglang_staff).post(archive).status_code == 404  # another sub-district
    assert client.get(archive).status_code == 405  # POST only
    client.logout()
    assert client.post(archive).status_code == 302  # signed out: to the sign-in page
    assert (
        login(world.pingjianglu_staff)
        .post(reverse("outreach:photo-archive", args=[987654]))
        .status_code
        == 404
    )
    photo.refresh_from_db()
    assert photo.archived_at is None
