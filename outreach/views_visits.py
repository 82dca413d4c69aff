"""Desk pages of visits (走访): list, detail, one-page entry and edit, archive and restore,
the xlsx export, and the open follow-ups. Thin views: reads in selectors_visits, the
entry (form, formsets and the one transaction) in forms_visits."""

import uuid
from decimal import Decimal

from django.contrib import messages
from django.db import IntegrityError
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from network.access import get_changeable_or_404, get_visible_or_404
from network.models import User
from network.scoped import scoped_view
from network.versioning import StaleEdit
from outreach import selectors_visits as selectors
from outreach.forms_visits import (
    FollowUpFilterForm,
    FollowUpUpdateForm,
    VisitEntry,
    VisitFilterForm,
)
from outreach.models import (
    FollowUp,
    FollowUpStatus,
    Liaison,
    Pairing,
    Photo,
    Visit,
    VisitKind,
)
from outreach.photos import archived_photos
from residents.archiving import archive_or_restore
from residents.pages import page_of, xlsx_export
from residents.typed_input import typed_text, whole_number

# ---------------------------------------------------------------- list and export


@scoped_view("outreach.view_visit")
@require_GET
def visit_list(request):
    form = VisitFilterForm(request.GET or None, user=request.user)
    areas = selectors.visible_areas(request.user)
    form.share_areas(areas)
    visits = selectors.visit_list(user=request.user, filters=form.filters, areas=areas)
    page = page_of(request, visits)
    # What each row shows, worked out once a page in Python: the template's per-row
    # {% url %}, get_kind_display and date filter were much of the page's time.
    kinds = {value: str(label) for value, label in VisitKind.choices}
    for visit in page:
        visit.visitor_names = selectors.visitor_names(visit)
        visit.kind_label = kinds.get(visit.kind, visit.kind)
        visit.visited_text = visit.visited_on.isoformat() if visit.visited_on else ""
    return render(
        request,
        "outreach/visits/visit_list.html",
        {
            "form": form,
            "page": page,
            "detail_path": reverse("outreach:visit-detail", args=[0])[: -len("0/")],
            "may_add": request.user.has_perm("outreach.add_visit"),
            "may_export": request.user.has_perm("outreach.export_outreach"),
            "today": timezone.localdate(),
        },
    )


@scoped_view("outreach.view_visit", "outreach.export_outreach")
@require_GET
def visit_export(request):
    form = VisitFilterForm(request.GET or None, user=request.user)
    filters = form.filters
    visits = selectors.for_export(selectors.visit_list(user=request.user, filters=filters))

    def follow_up_text(visit):
        return "；".join(
            f"{f.action}（{f.due_on:%Y-%m-%d} {f.get_status_display()}）"
            for f in visit.follow_ups.all()
        )

    rows = (
        [
            visit.household.address,
            visit.community.name,
            visit.visited_on,
            visit.get_kind_display(),
            visit.festival.name if visit.festival else "",
            "、".join(selectors.visitor_names(visit)),
            visit.learned,
            visit.needs,
            follow_up_text(visit),
            visit.assistance_total.quantize(Decimal("0.01")),
        ]
        for visit in visits.iterator(chunk_size=500)
    )
    return xlsx_export(
        request,
        header=[
            _("Household"),
            _("Community"),
            _("Date"),
            _("Kind"),
            _("Festival"),
            _("Visitors"),
            _("What was learned"),
            _("Needs raised"),
            _("Follow-ups"),
            _("Assistance (yuan)"),
        ],
        rows=rows,
        identifier="outreach.visits",
        label=_("Visits"),
        sheet=_("Visits"),
        filename="visits",
        filters=form.logged_filters(),
        area=filters.get("area"),
    )


# ---------------------------------------------------------------- one visit


def _detail_queryset():
    return Visit.objects.select_related(
        "household",
        "community",
        "festival",
        "liaison_group",
        "pairing",
        "created_by",
    ).prefetch_related(
        Prefetch("visitors", queryset=User.objects.order_by("real_name", "username")),
        Prefetch("visiting_liaisons", queryset=Liaison.objects.order_by("name", "id")),
        Prefetch("follow_ups", queryset=FollowUp.objects.select_related("assignee")),
        "assistance",
        Prefetch(
            "photos",
            queryset=Photo.objects.filter(archived_at__isnull=True).select_related("uploaded_by"),
            to_attr="current_photos",
        ),
    )


@scoped_view("outreach.view_visit")
@require_GET
def visit_detail(request, pk):
    visit = get_visible_or_404(_detail_queryset(), request.user, pk=pk)
    may_change = (
        request.user.has_perm("outreach.change_visit")
        and Visit.objects.changeable_by(request.user).filter(pk=visit.pk).exists()
    )
    follow_ups = list(visit.follow_ups.all())
    assistance = list(visit.assistance.all())
    return render(
        request,
        "outreach/visits/visit_detail.html",
        {
            "visit": visit,
            "visitor_names": selectors.visitor_names(visit),
            "follow_ups": follow_ups,
            "assistance": assistance,
            "assistance_total": sum((a.value for a in assistance), start=Decimal("0")),
            "photos": visit.current_photos,
            "archived_photos": archived_photos(visit, may_change),
            "history": selectors.visit_history(visit),
            "may_change": may_change,
            "may_update_follow_ups": (
                may_change
                and not visit.is_archived
                and request.user.has_perm("outreach.change_followup")
            ),
            "today": timezone.localdate(),
        },
    )


def _entry_page(request, entry, *, title, visit=None, conflicts=()):
    return render(
        request,
        "outreach/visits/visit_form.html",
        {
            "conflicts": conflicts,
            "entry": entry,
            "form": entry.form,
            "title": title,
            "visit": visit,
            # The photos the visit has already (editing): thumbnails above the upload.
            "photos": list(visit.photos.current()) if visit is not None else [],
            "search": typed_text(request.GET.get("q")),
        },
    )


def _create_initial(request):
    """Defaults: today, the household (``?household=``) or pairing (``?pairing=``) the
    page was opened for, the user as a visitor and their own liaison record."""
    user = request.user
    initial = {
        "visited_on": timezone.localdate(),
        "kind": VisitKind.CARE,
        "visitors": [user.pk],
        "visiting_liaisons": list(
            Liaison.objects.visible_to(user)
            .filter(user=user, archived_at__isnull=True)
            .values_list("pk", flat=True)
        ),
        "submission_key": uuid.uuid4(),
    }
    pairing_pk = whole_number(request.GET.get("pairing"))
    household_pk = whole_number(request.GET.get("household"))
    if pairing_pk is not None:
        pairing = get_visible_or_404(Pairing.objects.current(), user, pk=pairing_pk)
        initial.update(pairing=pairing.pk, kind=VisitKind.PAIRING)
        household_pk = pairing.household_id
    if household_pk is not None:
        # A household the user may not record for is not there for them: 404, no hint.
        household = get_visible_or_404(selectors.recordable_households(user), user, pk=household_pk)
        initial["household"] = household.pk
    elif request.GET.get("household"):
        raise Http404
    return initial


@scoped_view("outreach.add_visit")
@require_http_methods(["GET", "POST"])
def visit_create(request):
    user = request.user
    search = request.GET.get("q", "")
    if request.method != "POST":
        entry = VisitEntry(user=user, initial=_create_initial(request), search=search)
        return _entry_page(request, entry, title=_("Record a visit"))
    entry = VisitEntry(request.POST, request.FILES, user=user, search=search)
    key = entry.submission_key
    if key is not None:
        # A second tap or a resent form: the visit exists already, show it.
        existing = Visit.objects.filter(submission_key=key).first()
        if existing is not None:
            get_visible_or_404(Visit.objects.all(), user, pk=existing.pk)
            messages.info(request, _("This visit was already recorded."))
            return redirect("outreach:visit-detail", pk=existing.pk)
    if not entry.is_valid():
        return _entry_page(request, entry, title=_("Record a visit"))
    try:
        visit = entry.save(by=user)
    except IntegrityError:
        # Two submissions of the same form at the same moment: one of them won.
        existing = Visit.objects.visible_to(user).filter(submission_key=key).first()
        if key is None or existing is None:
            raise
        return redirect("outreach:visit-detail", pk=existing.pk)
    messages.success(request, _("The visit is recorded."))
    return redirect("outreach:visit-detail", pk=visit.pk)


@scoped_view("outreach.change_visit")
@require_http_methods(["GET", "POST"])
def visit_edit(request, pk):
    user = request.user
    visit = get_changeable_or_404(
        Visit.objects.select_related("household__community", "liaison_group__community"),
        user,
        pk=pk,
    )
    archived = _("This visit is archived; restore it before editing.")
    if visit.is_archived and request.method != "POST":
        messages.warning(request, archived)
        return redirect("outreach:visit-detail", pk=visit.pk)
    search = request.GET.get("q", "")
    title = _("Edit visit")
    if request.method != "POST":
        entry = VisitEntry(user=user, instance=visit, search=search)
        return _entry_page(request, entry, title=title, visit=visit)
    entry = VisitEntry(request.POST, request.FILES, user=user, instance=visit, search=search)
    # A page loaded before someone else saved is refused first, whatever it holds: what
    # changed is shown, what this user typed is kept, nothing is written.
    conflicts = entry.conflicts()
    if not conflicts and visit.is_archived:
        messages.warning(request, archived)
        return redirect("outreach:visit-detail", pk=visit.pk)
    if conflicts or not entry.is_valid():
        return _entry_page(request, entry, title=title, visit=visit, conflicts=conflicts)
    try:
        entry.save(by=user)
    except StaleEdit as stale:  # saved by someone else a moment ago, under the row lock
        return _entry_page(request, entry, title=title, visit=visit, conflicts=stale.conflicts)
    messages.success(request, _("The visit is saved."))
    return redirect("outreach:visit-detail", pk=visit.pk)


def _set_archived(request, pk, *, archived: bool):
    return archive_or_restore(
        request,
        get_changeable_or_404(Visit, request.user, pk=pk),
        archived=archived,
        done=_("The visit is archived; it stays on record and can be restored.")
        if archived
        else _("The visit is restored."),
        detail="outreach:visit-detail",
    )


@scoped_view("outreach.change_visit")
@require_POST
def visit_archive(request, pk):
    return _set_archived(request, pk, archived=True)


@scoped_view("outreach.change_visit")
@require_POST
def visit_restore(request, pk):
    return _set_archived(request, pk, archived=False)


# ---------------------------------------------------------------- follow-ups


@scoped_view("outreach.view_followup")
@require_GET
def followup_list(request):
    user = request.user
    today = timezone.localdate()
    form = FollowUpFilterForm(request.GET or None, user=user)
    filters = form.filters
    follow_ups = FollowUp.objects.visible_to(user).filter(
        status=FollowUpStatus.OPEN, visit__archived_at__isnull=True
    )
    if filters.get("overdue"):
        follow_ups = follow_ups.filter(due_on__lt=today)
    if filters.get("mine"):
        follow_ups = follow_ups.filter(assignee=user)
    if filters.get("due_before"):
        follow_ups = follow_ups.filter(due_on__lt=filters["due_before"])
    if filters.get("area") is not None:
        follow_ups = follow_ups.filter(visit__community__path__startswith=filters["area"].path)
    follow_ups = follow_ups.select_related(
        "visit__household", "visit__community", "assignee"
    ).order_by("due_on", "id")
    page = page_of(request, follow_ups)
    changeable: set[int] = set()
    if user.has_perm("outreach.change_followup"):
        changeable = set(
            FollowUp.objects.changeable_by(user)
            .filter(pk__in=[f.pk for f in page])
            .values_list("pk", flat=True)
        )
    for follow_up in page:
        follow_up.may_change = follow_up.pk in changeable
    return render(
        request,
        "outreach/visits/followup_list.html",
        {"form": form, "page": page, "today": today},
    )


@scoped_view("outreach.change_followup")
@require_POST
def followup_update(request, pk):
    follow_up = get_changeable_or_404(
        FollowUp.objects.filter(visit__archived_at__isnull=True).select_related("visit"),
        request.user,
        pk=pk,
    )
    form = FollowUpUpdateForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The follow-up was not changed: choose what to do with it."))
    else:
        action = form.cleaned_data["action"]
        note = form.cleaned_data["note"].strip()
        if action == FollowUpUpdateForm.DONE:
            follow_up.status = FollowUpStatus.DONE
            follow_up.done_on = timezone.localdate()
        elif action == FollowUpUpdateForm.DROPPED:
            follow_up.status = FollowUpStatus.DROPPED
            follow_up.done_on = None
        else:
            follow_up.status = FollowUpStatus.OPEN
            follow_up.done_on = None
        if note:
            follow_up.note = note
        follow_up.save()
        messages.success(
            request,
            _("Follow-up “%(action)s”: %(status)s.")
            % {"action": follow_up.action, "status": follow_up.get_status_display()},
        )
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(reverse("outreach:visit-detail", kwargs={"pk": follow_up.visit_id}))
