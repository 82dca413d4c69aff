"""Photos sent with a visit: only images, shrunk, stripped of EXIF (a camera's GPS position
of a resident's home), and served only to users who may see the visit."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from outreach.models import Photo, Visit
from outreach.photos import MAX_PHOTOS, MAX_SIDE
from tests.outreach.test_visits_support import entry_data, make_visit, url

GPS_IFD = 0x8825


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def jpeg(name="jiafang.jpg", size=(800, 600), exif=False):
    image = Image.new("RGB", size, (200, 40, 30))
    out = io.BytesIO()
    if exif:
        data = Image.Exif()
        data[0x010F] = "Huawei"  # camera make
        data[GPS_IFD] = {1: "N", 2: (31.0, 19.0, 12.0), 3: "E", 4: (120.0, 37.0, 48.0)}
        image.save(out, "JPEG", exif=data)
    else:
        image.save(out, "JPEG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


def send(client, household, photos):
    data = entry_data(household)
    data["photos"] = photos
    return client.post(url("visit-create"), data)


def test_a_photo_is_stored_shrunk_and_without_exif(world, register, login):
    original = jpeg(size=(4000, 3000), exif=True)
    with Image.open(io.BytesIO(original.read())) as check:
        assert check.getexif().get(0x010F) == "Huawei"  # the test image does carry EXIF
    original.seek(0)
    client = login(world.pingjianglu_liaison)
    response = send(client, register.ma_household, [original, jpeg("menpai.jpg")])
    assert response.status_code == 302
    visit = Visit.objects.get()
    photos = list(visit.photos.order_by("id"))
    assert len(photos) == 2
    photo = photos[0]
    assert photo.uploaded_by == world.pingjianglu_liaison
    assert photo.community == world.pingjianglu
    assert photo.liaison_group == world.pingjianglu_group
    with photo.image.open("rb") as handle, Image.open(handle) as stored:
        assert max(stored.size) == MAX_SIDE
        assert stored.format == "JPEG"
        exif = stored.getexif()
        assert 0x010F not in exif
        assert GPS_IFD not in exif
    # the detail page shows thumbnails served through the scoped photo view
    page = client.get(url("visit-detail", visit.pk)).content.decode()
    assert url("photo", photo.pk) in page
    served = client.get(url("photo", photo.pk))
    assert served.status_code == 200
    assert served["Content-Type"] == "image/jpeg"


def test_a_file_that_is_not_an_image_is_refused_and_nothing_saved(world, register, login):
    fake = SimpleUploadedFile("zhaopian.jpg", b"%PDF-1.4 not a photo", content_type="image/jpeg")
    response = send(login(world.pingjianglu_liaison), register.ma_household, [fake])
    assert response.status_code == 200
    assert "photos" in response.context["form"].errors
    assert not Visit.objects.exists()
    assert not Photo.objects.exists()


def test_a_photo_of_another_communitys_visit_is_not_served(world, register, login):
    from outreach.photos import save_photos, shrunk_jpeg

    visit = make_visit(register.daoqian_household, group=world.daoqian_group)
    (photo,) = save_photos([shrunk_jpeg(jpeg())], by=world.daoqian_liaison, visit=visit)
    assert login(world.daoqian_liaison).get(url("photo", photo.pk)).status_code == 200
    assert login(world.pingjianglu_liaison).get(url("photo", photo.pk)).status_code == 404
    assert login(world.pingjiang_staff).get(url("photo", photo.pk)).status_code == 404


def test_photos_can_be_added_when_editing(world, register, login):
    visit = make_visit(register.ma_household, group=world.pingjianglu_group)
    data = entry_data(register.ma_household, visited_on=visit.visited_on.isoformat())
    data.pop("submission_key")
    data["version"] = str(visit.version)
    data["photos"] = [jpeg()]
    response = login(world.pingjianglu_liaison).post(url("visit-edit", visit.pk), data)
    assert response.status_code == 302
    assert visit.photos.count() == 1


def test_more_photos_than_allowed_are_refused_and_nothing_saved(world, register, login):
    photos = [jpeg(f"zhaopian{i}.jpg", size=(40, 30)) for i in range(MAX_PHOTOS + 1)]
    response = send(login(world.pingjianglu_liaison), register.ma_household, photos)
    assert response.status_code == 200
    assert "photos" in response.context["form"].errors
    assert not Visit.objects.exists()
    assert not Photo.objects.exists()


def test_the_edit_page_shows_the_current_photos_only(world, register, login):
    from outreach.photos import save_photos, shrunk_jpeg

    visit = make_visit(register.ma_household, group=world.pingjianglu_group)
    kept, archived = save_photos(
        [shrunk_jpeg(jpeg()), shrunk_jpeg(jpeg())], by=world.pingjianglu_liaison, visit=visit
    )
    archived.archived_at = timezone.now()
    archived.save()
    response = login(world.pingjianglu_liaison).get(url("visit-edit", visit.pk))
    assert response.context["photos"] == [kept]
    page = response.content.decode()
    assert url("photo", kept.pk) in page
    assert url("photo", archived.pk) not in page
