"""Pages of pairings (结对): the list with its filters and export, one pairing with its
visits and history, recording and changing, ending, archiving and restoring, and the
handover of pairings whose partner has left. Thin views: the reads live in
selectors_pairings.py, the writes in operations_pairings.py."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from network.access import can_change_area, get_changeable_or_404, get_visible_or_404
from network.scoped import scoped_view
from outreach import operations_pairings as operations
from outreach.forms_pairings import (
    HandoverForm,
    HouseholdSearchForm,
    PairingEndForm,
    PairingFilterForm,
    PairingForm,
)
from outreach.models import Pairing, PairingKind
from outreach.selectors_pairings import (
    assistance_total,
    filter_pairings,
    handover_reason,
    has_ended,
    household_search,
    pairing_history,
    pairing_rows,
    pairing_visits,
    pairings_awaiting_handover,
    pairings_for,
    partner_name,
    partner_type,
    with_progress,
)
from outreach.selectors_visits import visible_areas
from residents.archiving import archive_or_restore, refused
from residents.models import Household
from residents.pages import page_of, xlsx_export
from residents.typed_input import whole_number

VIEW = "outreach.view_pairing"
CHANGE = ("outreach.view_pairing", "outreach.change_pairing")


def _decorate(pairings, user, today):
    """What a row shows beyond the fields: partner, whether it has ended or is behind, and
    whether the user may act on it. No query: the rows come with what they need."""
    for pairing in pairings:
        pairing.partner_name = partner_name(pairing)
        pairing.partner_type = partner_type(pairing)
        pairing.ended = has_ended(pairing, today)
        expected = getattr(pairing, "visits_expected", None)
        done = getattr(pairing, "visits_done", None)
        pairing.behind = (
            not pairing.ended and expected is not None and done is not None and done < expected
        )
        pairing.changeable = can_change_area(user, pairing.community)
    return pairings


# ---------------------------------------------------------------- the list and its export


def _filtered(request, today):
    form = PairingFilterForm(request.GET or None, user=request.user)
    areas = visible_areas(request.user)
    form.share_areas(areas)
    records = filter_pairings(
        with_progress(pairing_rows(request.user, areas), today),
        form.filters,
        today=today,
    )
    return form, records


@scoped_view(VIEW)
@require_http_methods(["GET"])
def pairing_list(request):
    today = timezone.localdate()
    form, records = _filtered(request, today)
    page = page_of(request, records)
    _decorate(page.object_list, request.user, today)
    # What each row shows, worked out once a page in Python: the template's per-row
    # {% url %}, get_kind_display and date filters were most of the page's time.
    kinds = {value: str(label) for value, label in PairingKind.choices}
    for pairing in page.object_list:
        pairing.kind_label = kinds.get(pairing.kind, pairing.kind)
        pairing.start_text = pairing.start_date.isoformat() if pairing.start_date else ""
        pairing.end_text = pairing.end_date.isoformat() if pairing.end_date else ""
    return render(
        request,
        "outreach/pairings/pairing_list.html",
        {
            "form": form,
            "page": page,
            "today": today,
            "detail_path": reverse("outreach:pairing-detail", args=[0])[: -len("0/")],
        },
    )


@scoped_view(VIEW, "outreach.export_outreach")
@require_http_methods(["GET"])
def pairing_export(request):
    today = timezone.localdate()
    form, records = _filtered(request, today)

    def rows():
        for p in records.iterator(chunk_size=2000):
            status = _("Ended") if has_ended(p, today) else _("Current")
            yield [
                p.household.address,
                p.community.name,
                p.person.name if p.person_id else "",
                p.get_kind_display(),
                partner_name(p),
                partner_type(p),
                p.start_date,
                p.end_date,
                p.visits_per_year,
                p.visits_done,
                p.visits_expected,
                status,
                _("Archived") if p.is_archived else "",
                p.note,
            ]

    return xlsx_export(
        request,
        header=[
            _("Household"),
            _("Community"),
            _("Paired person"),
            _("Kind"),
            _("Partner"),
            _("Partner is"),
            _("Since"),
            _("Until"),
            _("Visits a year"),
            _("Visits this year"),
            _("Expected so far"),
            _("Status"),
            _("Archived"),
            _("Note"),
        ],
        rows=rows(),
        identifier="outreach-pairings",
        label=_("Pairings"),
        sheet=_("Pairings"),
        filename="pairings",
        filters=form.logged_filters(),
        area=form.filters.get("area"),
    )


# ---------------------------------------------------------------- one pairing


@scoped_view(VIEW)
@require_http_methods(["GET"])
def pairing_detail(request, pk):
    user = request.user
    today = timezone.localdate()
    records = with_progress(pairings_for(user), today)
    pairing = get_visible_or_404(records, user, pk=pk)
    _decorate([pairing], user, today)
    successors = list(
        pairing.successors.visible_to(user).select_related(
            "partner_user", "partner_liaison", "partner_person"
        )
    )
    for successor in successors:
        successor.partner_name = partner_name(successor)
    # The pairing it was handed over from (None when outside the user's scope).
    predecessor = None
    if pairing.succeeds_id:
        predecessor = pairings_for(user).filter(pk=pairing.succeeds_id).first()
        if predecessor is not None:
            predecessor.partner_name = partner_name(predecessor)
    may_change = pairing.changeable and user.has_perm("outreach.change_pairing")
    may_hand_over = (
        may_change
        and user.has_perms(["outreach.hand_over_pairing", "outreach.add_pairing"])
        and not pairing.is_archived
        and not pairing.ended
    )
    return render(
        request,
        "outreach/pairings/pairing_detail.html",
        {
            "pairing": pairing,
            "visits": page_of(request, pairing_visits(pairing, user)),
            "assistance_total": assistance_total(pairing, user),
            "successors": successors,
            "predecessor": predecessor,
            "history": pairing_history(pairing),
            "may_change": may_change,
            "may_hand_over": may_hand_over,
            "end_form": (
                PairingEndForm(pairing=pairing)
                if may_change and not pairing.is_archived and pairing.end_date is None
                else None
            ),
            "today": today,
        },
    )


def _household_from(request):
    """The household a new pairing is for (``?household=``), which the user must manage;
    None when not given, 404 when given and not theirs."""
    raw = request.GET.get("household")
    if raw in (None, ""):
        return None
    pk = whole_number(raw)
    if pk is None:
        raise Http404
    households = Household.objects.current().select_related("community")
    return get_changeable_or_404(households, request.user, pk=pk)


@scoped_view(VIEW, "outreach.add_pairing")
@require_http_methods(["GET", "POST"])
def pairing_create(request):
    household = _household_from(request)
    if household is None:
        search = HouseholdSearchForm(request.GET or None)
        text = search.cleaned_data["q"] if search.is_valid() else ""
        return render(
            request,
            "outreach/pairings/pairing_choose_household.html",
            {
                "search": search,
                "query": text,
                "found": household_search(request.user, text),
            },
        )
    form = PairingForm(request.POST or None, user=request.user, household=household)
    if request.method == "POST" and form.is_valid():
        try:
            pairing = operations.pairing_create(by=request.user, pairing=form.instance)
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            messages.success(
                request,
                _("Pairing of %(partner)s with %(address)s recorded.")
                % {"partner": partner_name(pairing), "address": household.address},
            )
            return redirect("outreach:pairing-detail", pk=pairing.pk)
    if request.method == "POST":
        messages.error(request, _("Nothing was saved: correct the fields marked below."))
    return render(
        request,
        "outreach/pairings/pairing_form.html",
        {"form": form, "household": household, "title": _("New pairing")},
    )


@scoped_view(*CHANGE)
@require_http_methods(["GET", "POST"])
def pairing_edit(request, pk):
    records = Pairing.objects.select_related("household", "community", "household__community")
    pairing = get_changeable_or_404(records, request.user, pk=pk)
    if pairing.is_archived:
        messages.error(request, _("Restore the pairing before changing it."))
        return redirect("outreach:pairing-detail", pk=pairing.pk)
    form = PairingForm(
        request.POST or None, instance=pairing, user=request.user, household=pairing.household
    )
    if request.method == "POST" and form.is_valid():
        try:
            operations.pairing_update(by=request.user, pairing=form.instance)
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            messages.success(request, _("Pairing saved."))
            return redirect("outreach:pairing-detail", pk=pairing.pk)
    if request.method == "POST":
        messages.error(request, _("Nothing was saved: correct the fields marked below."))
    return render(
        request,
        "outreach/pairings/pairing_form.html",
        {
            "form": form,
            "household": pairing.household,
            "pairing": pairing,
            "title": _("Edit pairing"),
        },
    )


def _changeable(request, pk):
    return get_changeable_or_404(Pairing.objects.select_related("community"), request.user, pk=pk)


@scoped_view(*CHANGE)
@require_POST
def pairing_end(request, pk):
    pairing = _changeable(request, pk)
    form = PairingEndForm(request.POST, pairing=pairing)
    if not form.is_valid():
        messages.error(request, " ".join(m for ms in form.errors.values() for m in ms))
        return redirect("outreach:pairing-detail", pk=pairing.pk)
    try:
        operations.pairing_end(by=request.user, pairing=pairing, on=form.cleaned_data["end_date"])
    except ValidationError as exc:
        refused(request, exc)
    else:
        messages.success(
            request,
            _("Pairing ended; its last day is %(date)s.") % {"date": pairing.end_date.isoformat()},
        )
    return redirect("outreach:pairing-detail", pk=pairing.pk)


def _archived(request, pk, *, archived: bool):
    pairing = _changeable(request, pk)
    change = operations.pairing_archive if archived else operations.pairing_restore
    return archive_or_restore(
        request,
        pairing,
        archived=archived,
        done=_("Pairing archived; it can be restored at any time.")
        if archived
        else _("Pairing restored."),
        already=_("This pairing is already archived.")
        if archived
        else _("This pairing is not archived."),
        change=lambda: change(by=request.user, pairing=pairing),
        detail="outreach:pairing-detail",
    )


@scoped_view(*CHANGE)
@require_POST
def pairing_archive(request, pk):
    return _archived(request, pk, archived=True)


@scoped_view(*CHANGE)
@require_POST
def pairing_restore(request, pk):
    return _archived(request, pk, archived=False)


# ---------------------------------------------------------------- handover


@scoped_view(VIEW)
@require_http_methods(["GET"])
def pairing_handover_list(request):
    today = timezone.localdate()
    page = page_of(request, pairings_awaiting_handover(request.user, today))
    _decorate(page.object_list, request.user, today)
    for pairing in page.object_list:
        pairing.why = handover_reason(pairing)
    return render(
        request,
        "outreach/pairings/handover_list.html",
        {
            "page": page,
            "may_hand_over": request.user.has_perms(
                ["outreach.hand_over_pairing", "outreach.add_pairing", "outreach.change_pairing"]
            ),
        },
    )


@scoped_view(
    "outreach.view_pairing",
    "outreach.hand_over_pairing",
    "outreach.add_pairing",
    "outreach.change_pairing",
)
@require_http_methods(["GET", "POST"])
def pairing_handover(request, pk):
    today = timezone.localdate()
    records = pairings_for(request.user)
    pairing = get_changeable_or_404(records, request.user, pk=pk)
    if pairing.is_archived or has_ended(pairing, today):
        messages.error(request, _("Only a current pairing can be handed over."))
        return redirect("outreach:pairing-detail", pk=pairing.pk)
    pairing.partner_name = partner_name(pairing)
    form = HandoverForm(request.POST or None, user=request.user, pairing=pairing)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            successor = operations.pairing_hand_over(
                by=request.user,
                pairing=pairing,
                successor_user=data.get("successor_user"),
                successor_liaison=data.get("successor_liaison"),
                on=data["on"],
            )
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            messages.success(
                request,
                _("Handed over to %(name)s from %(date)s.")
                % {"name": partner_name(successor), "date": successor.start_date.isoformat()},
            )
            return redirect("outreach:pairing-detail", pk=successor.pk)
    return render(
        request,
        "outreach/pairings/handover_form.html",
        {
            "form": form,
            "pairing": pairing,
            "cancel_url": reverse("outreach:pairing-detail", args=[pairing.pk]),
        },
    )
