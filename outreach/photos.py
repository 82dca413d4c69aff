"""Photos of visits and meetings: checked, shrunk, stripped, and served only in scope.

An upload must be an image Pillow can read (JPEG, PNG or WebP) of at most ``MAX_BYTES``. It
is re-encoded as JPEG no larger than ``MAX_SIDE`` pixels, which drops EXIF data (camera
GPS positions of residents' homes must not leak) and anything hidden after the image.
Files live under MEDIA_ROOT, which the web server must not serve: ``photo_view`` sends a
photo only to users who may see its visit or meeting.
"""

import io

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from network.access import get_changeable_or_404, get_visible_or_404
from network.scoped import scoped_view
from outreach.models import Photo

MAX_BYTES = 8 * 1024 * 1024
MAX_SIDE = 1600
MAX_PHOTOS = 6
FORMATS = {"JPEG", "PNG", "WEBP", "MPO"}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Several image files in one input (Django's documented multiple-upload pattern)."""

    widget = MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"})

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", gettext_lazy("Photos"))
        kwargs.setdefault(
            "help_text",
            gettext_lazy("Up to 6 photos, JPEG, PNG or WebP, at most 8 MB each."),
        )
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        if len(files) > MAX_PHOTOS:
            raise ValidationError(_("At most %(n)d photos at a time.") % {"n": MAX_PHOTOS})
        return [shrunk_jpeg(f) for f in files]


def shrunk_jpeg(upload) -> ContentFile:
    """The upload as a re-encoded JPEG, or a ValidationError saying what is wrong."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if upload.size > MAX_BYTES:
        raise ValidationError(
            _("%(name)s is larger than 8 MB; send a smaller photo.") % {"name": upload.name}
        )
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            if image.format not in FORMATS:
                raise ValidationError(
                    _("%(name)s is not a JPEG, PNG or WebP photo.") % {"name": upload.name}
                )
            if image.width * image.height > 50_000_000:
                raise ValidationError(_("%(name)s has too many pixels.") % {"name": upload.name})
            image = ImageOps.exif_transpose(image)
            image = image.convert("RGB")
            image.thumbnail((MAX_SIDE, MAX_SIDE))
            out = io.BytesIO()
            image.save(out, "JPEG", quality=82, optimize=True)
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ValidationError(
            _("%(name)s is not a photo that can be read.") % {"name": upload.name}
        ) from exc
    return ContentFile(out.getvalue(), name="photo.jpg")


def save_photos(files, *, by, visit=None, meeting=None, caption: str = "") -> list[Photo]:
    """Store cleaned photos (from ``PhotosField``) for a visit or a meeting."""
    saved = []
    with transaction.atomic():
        for content in files:
            photo = Photo(visit=visit, meeting=meeting, uploaded_by=by, caption=caption)
            photo.image.save(content.name, content, save=False)
            photo.save()
            saved.append(photo)
    return saved


@scoped_view()
@require_GET
def photo_view(request, pk):
    """A photo, for users who may see the record it belongs to (404 for everyone else)."""
    photo = get_visible_or_404(Photo.objects.current(), request.user, pk=pk)
    model = "visit" if photo.visit_id else "meeting"
    if not request.user.has_perm(f"outreach.view_{model}"):
        raise Http404
    try:
        handle = photo.image.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(handle, content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# ---------------------------------------------------------------- archive and restore


def _photo_set_archived(request, pk, *, archived: bool):
    """A photo put aside (a wrong picture, someone's ID card in view) or brought back, by
    staff who may change its visit or meeting; never deleted. 404 outside their areas."""
    photo = get_changeable_or_404(
        Photo.objects.select_related("visit", "meeting"), request.user, pk=pk
    )
    record = photo.visit or photo.meeting
    model = "visit" if photo.visit_id else "meeting"
    if not request.user.has_perm(f"outreach.change_{model}"):
        raise PermissionDenied(_("Your role does not allow this."))
    if archived != (photo.archived_at is not None):
        photo.archived_at = timezone.now() if archived else None
        photo.save(update_fields=["archived_at"])
    messages.success(
        request,
        _("The photo was archived: it is kept and can be restored below.")
        if archived
        else _("The photo was restored."),
    )
    return redirect(f"outreach:{model}-detail", pk=record.pk)


@scoped_view()
@require_POST
def photo_archive(request, pk):
    return _photo_set_archived(request, pk, archived=True)


@scoped_view()
@require_POST
def photo_restore(request, pk):
    return _photo_set_archived(request, pk, archived=False)


def archived_photos(record, may_change: bool) -> list:
    """The photos of a visit or meeting that were put aside, for those who may restore them."""
    if not may_change:
        return []
    return list(record.photos.filter(archived_at__isnull=False).order_by("-archived_at", "-pk"))
