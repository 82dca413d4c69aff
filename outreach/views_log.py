"""The phone-first log (issue 4 §8): a liaison logs a visit or a meeting on a 360-px phone
in under a minute. A double tap or a resent form never records twice (the hidden
``submission_key``); a form being filled is kept in the browser until the server confirms
it (static/js/tongxin-draft.js); the pages work without JavaScript."""

import uuid

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from network.access import get_visible_or_404, scope_for
from network.scoped import scoped_view
from outreach.common import default_group
from outreach.forms_log import QuickMeetingForm, QuickVisitForm, valid_pk
from outreach.models import Assistance, FollowUp, Meeting, Visit
from outreach.operations_log import quick_meeting_record, quick_visit_record
from outreach.selectors_log import (
    households_by_pk,
    last_meeting,
    last_meeting_kind,
    last_venue,
    last_visit_kind,
    member_names,
    nearest_festival,
    own_households,
    recent_records,
    search_households,
)
from outreach.selectors_visits import recordable_households
from residents.pages import posted_submission_key
from residents.typed_input import typed_text

VISIT_DRAFT = "log-visit"
MEETING_DRAFT = "log-meeting"
KINDS = {"visit": (Visit, "outreach.view_visit"), "meeting": (Meeting, "outreach.view_meeting")}


def _done(kind: str, record):
    return redirect("outreach:log-done", kind=kind, pk=record.pk)


def _already_recorded(model, key, user):
    """The record a submission key already made, when the user may see it. A key of a
    record they may not see is answered as if unused (a fresh key is drawn on save)."""
    if key is None:
        return None
    return model.objects.visible_to(user).filter(submission_key=key).first()


def _free_key(model, key, user):
    """The submitted key, unless a record the user may not see holds it already. A record
    of theirs holding it is the same form sent twice at once, saved by the other request
    since this one looked (``_already_recorded``): the key is kept, so that saving again
    fails on the unique key and the caller answers with that record, never a second one."""
    if key is None:
        return None
    holders = model.objects.filter(submission_key=key)
    if holders.exists() and not holders.visible_to(user).exists():
        return None
    return key


@scoped_view("outreach.add_visit")
@require_GET
def log_home(request):
    return render(
        request,
        "outreach/log/home.html",
        {"records": recent_records(request.user)},
    )


# ---------------------------------------------------------------- a visit


def _household_rows(households, chosen=None):
    return [
        {"household": h, "names": member_names(h), "checked": h.pk == chosen} for h in households
    ]


def _visit_page(request, form, *, search: str, status: int = 200):
    user = request.user
    chosen = None
    if form.is_bound:
        chosen = valid_pk(form.data.get("household"))
    else:
        chosen = valid_pk(form.initial.get("household"))
    own = own_households(user)
    found = search_households(user, search) if search else []
    shown = {h.pk for h in own} | {h.pk for h in found}
    if chosen is not None and chosen not in shown:
        own = households_by_pk(user, [chosen]) + own
    return render(
        request,
        "outreach/log/visit_form.html",
        {
            "form": form,
            "draft_key": VISIT_DRAFT,
            "search": search,
            "own": _household_rows(own, chosen),
            "found": _household_rows(found, chosen),
            "searched": bool(search),
        },
        status=status,
    )


def _visit_initial(request) -> dict:
    user = request.user
    initial = {
        "visited_on": timezone.localdate(),
        "kind": last_visit_kind(user),
        "festival": getattr(nearest_festival(), "pk", None),
        "submission_key": uuid.uuid4(),
        "liaison_group": getattr(default_group(user), "pk", None),
    }
    if request.GET.get("household"):
        pk = valid_pk(request.GET.get("household"))
        if pk is None:
            raise Http404
        # A household the user may not record for is not there for them: 404, no hint.
        household = get_visible_or_404(recordable_households(user), user, pk=pk)
        initial["household"] = household.pk
    return initial


@scoped_view("outreach.add_visit")
@require_http_methods(["GET", "POST"])
def log_visit(request):
    user = request.user
    search = typed_text(request.GET.get("q"))
    if request.method != "POST":
        form = QuickVisitForm(user=user, initial=_visit_initial(request))
        return _visit_page(request, form, search=search)
    key = posted_submission_key(request.POST)
    existing = _already_recorded(Visit, key, user)
    if existing is not None:  # a second tap, or the form sent again after a lost answer
        return _done("visit", existing)
    form = QuickVisitForm(request.POST, user=user)
    if not form.is_valid():
        return _visit_page(request, form, search=search)
    try:
        visit = quick_visit_record(data=form.cleaned_data, by=user, key=_free_key(Visit, key, user))
    except IntegrityError:
        # The same form sent twice at the same moment: the other one recorded it.
        existing = _already_recorded(Visit, key, user)
        if existing is None:
            raise
        visit = existing
    return _done("visit", visit)


@scoped_view("outreach.add_visit")
@require_GET
def log_households(request):
    """The household picker's search results (an htmx fragment): households the user may
    record a visit for, by a few pinyin letters of a member's name or part of the address."""
    search = typed_text(request.GET.get("q"))
    found = search_households(request.user, search) if search else []
    return render(
        request,
        "outreach/log/_household_results.html",
        {"found": _household_rows(found), "searched": bool(search), "search": search},
    )


# ---------------------------------------------------------------- a meeting


def _meeting_initial(request, form) -> dict:
    user = request.user
    initial = {
        "kind": last_meeting_kind(user),
        "held_on": timezone.localdate(),
        "submission_key": uuid.uuid4(),
        "other_attendees": 0,
    }
    if "held_by" in form.fields:
        last = last_meeting(user)
        value = ""
        if last is not None:
            value = form.held_by_value(group=last.liaison_group, area=last.area)
        if form.parse_held_by(value)[0] is None:  # staff: their own area first
            own = [pk for pk in scope_for(user).area_ids if pk in form.areas]
            group = default_group(user) or next(iter(form.groups.values()), None)
            if own:
                value = form.held_by_value(area=form.areas[own[0]])
            elif group is not None:
                value = form.held_by_value(group=group)
        initial["held_by"] = value
        group = form.parse_held_by(value)[1]
        initial["venue"] = last_venue(user, group)
    else:
        initial["venue"] = last_venue(user, next(iter(form.groups.values()), None))
    return initial


@scoped_view("outreach.add_meeting")
@require_http_methods(["GET", "POST"])
def log_meeting(request):
    user = request.user
    if request.method != "POST":
        form = QuickMeetingForm(user=user)
        form.initial.update(_meeting_initial(request, form))
        return _meeting_page(request, form)
    key = posted_submission_key(request.POST)
    existing = _already_recorded(Meeting, key, user)
    if existing is not None:
        return _done("meeting", existing)
    form = QuickMeetingForm(request.POST, user=user)
    if not form.is_valid():
        return _meeting_page(request, form)
    try:
        meeting = quick_meeting_record(
            data=form.cleaned_data, by=user, key=_free_key(Meeting, key, user)
        )
    except IntegrityError:
        existing = _already_recorded(Meeting, key, user)
        if existing is None:
            raise
        meeting = existing
    return _done("meeting", meeting)


def _meeting_page(request, form):
    return render(
        request,
        "outreach/log/meeting_form.html",
        {"form": form, "draft_key": MEETING_DRAFT},
    )


# ---------------------------------------------------------------- recorded


@scoped_view()
@require_GET
def log_done(request, kind, pk):
    """Recorded: what was saved, a way to log another, and the signal for the browser to
    drop the draft it kept."""
    if kind not in KINDS:
        raise Http404
    model, permission = KINDS[kind]
    if valid_pk(pk) is None:
        raise Http404
    if not request.user.has_perm(permission):
        raise PermissionDenied
    user = request.user
    if kind == "visit":
        record = get_visible_or_404(
            Visit.objects.select_related("household", "community", "festival", "pairing"),
            user,
            pk=pk,
        )
        context = {
            "follow_ups": list(FollowUp.objects.filter(visit=record).order_by("due_on", "id")),
            "assistance": list(Assistance.objects.filter(visit=record).order_by("id")),
            "draft_key": VISIT_DRAFT,
        }
    else:
        record = get_visible_or_404(
            Meeting.objects.select_related("area", "liaison_group"), user, pk=pk
        )
        context = {
            "liaisons": list(record.attending_liaisons.order_by("name", "id")),
            "users": list(record.attending_users.all()),
            "draft_key": MEETING_DRAFT,
        }
    return render(request, "outreach/log/done.html", {"kind": kind, "record": record, **context})
