"""Desk pages for meetings and activities (issue 4, sections 4 and 6): a filtered list,
a detail page with attendees, photos and history, create and edit, archive and restore, and
an xlsx export. Thin views: the reads live in selectors_meetings.py, the rules in
forms_meetings.py, who may see what in network.access."""

import uuid

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from network.access import get_changeable_or_404, get_visible_or_404
from network.scoped import scoped_view
from outreach.forms_meetings import ATTENDEE_FIELDS, MeetingFilterForm, MeetingForm
from outreach.models import Meeting, MeetingKind
from outreach.photos import archived_photos, save_photos
from outreach.selectors_meetings import (
    hidden_attendee_count,
    meeting_export_rows,
    meeting_history,
    meeting_list,
    meeting_photos,
    visible_attendees_prefetch,
    with_attendee_counts,
)
from outreach.selectors_visits import visible_areas
from residents.archiving import archive_or_restore
from residents.pages import page_of, posted_submission_key, xlsx_export
from residents.typed_input import whole_number


def _detail(meeting):
    return redirect("outreach:meeting-detail", pk=meeting.pk)


# ---------------------------------------------------------------- list and export


@scoped_view("outreach.view_meeting")
@require_GET
def meeting_list_view(request):
    form = MeetingFilterForm(request.GET or None, user=request.user)
    areas = visible_areas(request.user)
    form.share_areas(areas)
    page = page_of(request, meeting_list(user=request.user, filters=form.filters, areas=areas))
    # What each row shows, worked out once a page in Python: the template's per-row
    # {% url %}, get_kind_display and date filter were most of the page's time.
    kinds = {value: str(label) for value, label in MeetingKind.choices}
    for meeting in page.object_list:
        meeting.kind_label = kinds.get(meeting.kind, meeting.kind)
        meeting.held_text = meeting.held_on.isoformat() if meeting.held_on else ""
        meeting.name_text = meeting.title or f"{meeting.held_on} {meeting.kind_label}"
    return render(
        request,
        "outreach/meetings/meeting_list.html",
        {
            "form": form,
            "page": page,
            "detail_path": reverse("outreach:meeting-detail", args=[0])[: -len("0/")],
            "may_add": request.user.has_perm("outreach.add_meeting"),
            "may_export": request.user.has_perm("outreach.export_outreach"),
        },
    )


EXPORT_HEADER = [
    gettext_lazy("Date"),
    gettext_lazy("Kind"),
    gettext_lazy("Title"),
    gettext_lazy("Held by"),
    gettext_lazy("Liaison group"),
    gettext_lazy("Venue"),
    gettext_lazy("Staff attending"),
    gettext_lazy("Liaisons attending"),
    gettext_lazy("Residents attending"),
    gettext_lazy("Other attendees"),
    gettext_lazy("Attendees in all"),
    gettext_lazy("Cost (yuan)"),
    gettext_lazy("Minutes"),
    gettext_lazy("Decisions"),
    gettext_lazy("Recorded by"),
    gettext_lazy("Archived"),
]


@scoped_view("outreach.view_meeting", "outreach.export_outreach")
@require_GET
def meeting_export(request):
    """The list as filtered, every row, with attendees the exporting user may see by name."""
    form = MeetingFilterForm(request.GET or None, user=request.user)
    filters = form.filters
    meetings = (
        meeting_list(user=request.user, filters=filters)
        .select_related("created_by")
        .prefetch_related(*visible_attendees_prefetch(request.user))
    )
    return xlsx_export(
        request,
        header=EXPORT_HEADER,
        rows=meeting_export_rows(meetings),
        identifier="outreach_meetings",
        label=_("Meetings and activities"),
        sheet=_("Meetings"),
        filename="meetings",
        filters=form.logged_filters(),
        area=filters.get("area"),
    )


# ---------------------------------------------------------------- detail


@scoped_view("outreach.view_meeting")
@require_GET
def meeting_detail(request, pk):
    meetings = with_attendee_counts(
        Meeting.objects.select_related("area", "liaison_group", "created_by")
    ).prefetch_related(*visible_attendees_prefetch(request.user))
    meeting = get_visible_or_404(meetings, request.user, pk=pk)
    may_change = (
        request.user.has_perm("outreach.change_meeting")
        and Meeting.objects.changeable_by(request.user).filter(pk=meeting.pk).exists()
    )
    return render(
        request,
        "outreach/meetings/meeting_detail.html",
        {
            "meeting": meeting,
            "hidden_attendees": hidden_attendee_count(meeting),
            "photos": meeting_photos(meeting, request.user),
            "archived_photos": archived_photos(meeting, may_change),
            "history": meeting_history(meeting),
            "may_change": may_change,
        },
    )


# ---------------------------------------------------------------- create and edit


def _initial_from_query(request) -> dict:
    """What the form shows when the chosen area changes (htmx reloads the attendee boxes):
    the area or group, and the ticks so far. Unchecked here; the form offers only what the
    user may see."""
    if "held_by" not in request.GET:
        return {}
    initial = {"held_by": request.GET["held_by"][:40]}
    for name in ATTENDEE_FIELDS:
        ids = [whole_number(v) for v in request.GET.getlist(name)[:1000]]
        initial[name] = [i for i in ids if i is not None]
    return initial


def _already_recorded(request, key):
    if key is None:
        return None
    return Meeting.objects.visible_to(request.user).filter(submission_key=key).first()


def _save(request, form):
    with transaction.atomic():
        meeting = form.save(commit=False)
        if form.creating:
            meeting.created_by = request.user
            key = form.cleaned_data.get("submission_key")
            if key is not None and not Meeting.objects.filter(submission_key=key).exists():
                meeting.submission_key = key
        meeting.save()
        form.save_m2m()
        save_photos(form.cleaned_data.get("photos") or [], by=request.user, meeting=meeting)
    return meeting


@scoped_view("outreach.add_meeting")
@require_http_methods(["GET", "POST"])
def meeting_create(request):
    if request.method == "POST":
        key = posted_submission_key(request.POST)
        existing = _already_recorded(request, key)
        if existing is not None:  # a double tap or a retried submission
            messages.info(request, _("This meeting was already recorded; nothing was added."))
            return _detail(existing)
        data = request.POST.copy()  # a garbled key only means a fresh one, never an error
        data["submission_key"] = str(key or uuid.uuid4())
        form = MeetingForm(data, request.FILES, user=request.user)
        if form.is_valid():
            try:
                meeting = _save(request, form)
            except IntegrityError:  # the same key saved at the same moment
                existing = _already_recorded(request, form.cleaned_data.get("submission_key"))
                if existing is None:
                    raise
                return _detail(existing)
            messages.success(request, _("The meeting is recorded."))
            return _detail(meeting)
    else:
        form = MeetingForm(user=request.user, initial=_initial_from_query(request))
    form.reload_attendees_from(request.path)
    return render(
        request,
        "outreach/meetings/meeting_form.html",
        {"form": form, "title": _("Record a meeting or activity"), "meeting": None},
    )


@scoped_view("outreach.change_meeting")
@require_http_methods(["GET", "POST"])
def meeting_edit(request, pk):
    meeting = get_changeable_or_404(
        Meeting.objects.select_related("area", "liaison_group"), request.user, pk=pk
    )
    if meeting.is_archived:
        messages.warning(request, _("Restore the meeting before changing it."))
        return _detail(meeting)
    if request.method == "POST":
        form = MeetingForm(request.POST, request.FILES, user=request.user, instance=meeting)
        if form.is_valid():
            _save(request, form)
            messages.success(request, _("The meeting is saved."))
            return _detail(meeting)
    else:
        form = MeetingForm(
            user=request.user, instance=meeting, initial=_initial_from_query(request)
        )
    form.reload_attendees_from(request.path)
    return render(
        request,
        "outreach/meetings/meeting_form.html",
        {"form": form, "title": _("Change the meeting record"), "meeting": meeting},
    )


# ---------------------------------------------------------------- archive and restore


def _archived(request, pk, *, archived: bool):
    return archive_or_restore(
        request,
        get_changeable_or_404(Meeting, request.user, pk=pk),
        archived=archived,
        done=_("The meeting is archived; it is kept and can be restored.")
        if archived
        else _("The meeting is restored."),
        detail="outreach:meeting-detail",
    )


@scoped_view("outreach.change_meeting")
@require_POST
def meeting_archive(request, pk):
    return _archived(request, pk, archived=True)


@scoped_view("outreach.change_meeting")
@require_POST
def meeting_restore(request, pk):
    return _archived(request, pk, archived=False)
