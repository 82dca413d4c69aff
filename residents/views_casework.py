"""Casework pages of the register: duplicates and merging, residence permits, handovers to
another sub-district, dibao standards and the minority dibao roster. Thin views: the rules
live in duplicates.py, merging.py, permits.py, handover.py and dibao.py."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import IntegrityError
from django.db.models import Prefetch, Q
from django.db.models.functions import Length
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from network.access import (
    can_change_area,
    get_changeable_or_404,
    scope_for,
    visible_q,
)
from network.exports import log_export
from network.models import Area
from network.scoped import scoped_view
from residents import dibao, handover, merging, permits
from residents.duplicates import later_duplicates, pairs_for
from residents.forms_casework import (
    DibaoStandardForm,
    HandoverDeclineForm,
    HandoverSendForm,
    KeepForm,
    RosterForm,
)
from residents.models import DibaoStandard, Household, Person, PersonStatus
from residents.typed_input import typed_text

PAGE_SIZE = 50


def _active_members():
    return Prefetch(
        "members",
        queryset=Person.objects.filter(archived_at__isnull=True, status=PersonStatus.ACTIVE)
        .select_related("ethnicity")
        .order_by("pk"),
        to_attr="active_members",
    )


# ---------------------------------------------------------------- duplicates and merging


@scoped_view("residents.view_person")
def duplicate_list(request):
    later = later_duplicates(request.user).select_related("household", "community", "ethnicity")
    page = Paginator(later, 25).get_page(request.GET.get("page"))
    pairs = pairs_for(request.user, list(page))
    for pair in pairs:
        pair.changeable = can_change_area(request.user, pair.first.community) and can_change_area(
            request.user, pair.second.community
        )
    return render(
        request,
        "residents/casework/duplicate_list.html",
        {"page": page, "pairs": pairs},
    )


def _describe_person(person):
    return f"#{person.pk} {person.name} · {person.community.name} · {person.household.address}"


def _describe_household(household):
    return f"#{household.pk} {household.address} · {household.community.name}"


def _merge_page(request, *, a, b, preview, merge, describe, template_name):
    """Choose the record to keep (GET ?keep=), see what will happen, then confirm (POST)."""
    data = request.POST if request.method == "POST" else None
    if data is None and "keep" in request.GET:
        data = request.GET
    form = KeepForm(data, records=[a, b], describe=describe)
    plan = None
    if form.is_valid():
        kept, other = (a, b) if form.cleaned_data["keep"] == a.pk else (b, a)
        try:
            if request.method == "POST":
                plan = merge(by=request.user, kept=kept, other=other)
            else:
                plan = preview(by=request.user, kept=kept, other=other)
        except ValidationError as exc:
            form.add_error(None, exc.messages)
            plan = None
        except IntegrityError:
            form.add_error(None, _("The records could not be merged; nothing was changed."))
            plan = None
        else:
            if request.method == "POST":
                messages.success(
                    request,
                    _("Merged: #%(other)s is archived, #%(kept)s kept.")
                    % {"other": other.pk, "kept": kept.pk},
                )
                if plan.stays:
                    messages.warning(
                        request,
                        _("Kept with the archived record (the kept one already has them): %(s)s")
                        % {"s": "; ".join(plan.stays)},
                    )
                return redirect("residents:duplicate-list")
    return render(request, template_name, {"a": a, "b": b, "form": form, "plan": plan})


@scoped_view("residents.merge_records", "residents.change_person")
@require_http_methods(["GET", "POST"])
def person_merge(request, first, second):
    persons = Person.objects.select_related("household", "community", "ethnicity")
    a = get_changeable_or_404(persons, request.user, pk=first)
    b = get_changeable_or_404(persons, request.user, pk=second)
    return _merge_page(
        request,
        a=a,
        b=b,
        preview=merging.person_merge_preview,
        merge=merging.person_merge,
        describe=_describe_person,
        template_name="residents/casework/person_merge.html",
    )


@scoped_view("residents.merge_records", "residents.change_household")
@require_http_methods(["GET", "POST"])
def household_merge(request, first, second):
    households = Household.objects.select_related("community", "handover_to").prefetch_related(
        _active_members(), "honours"
    )
    a = get_changeable_or_404(households, request.user, pk=first)
    b = get_changeable_or_404(households, request.user, pk=second)
    return _merge_page(
        request,
        a=a,
        b=b,
        preview=merging.household_merge_preview,
        merge=merging.household_merge,
        describe=_describe_household,
        template_name="residents/casework/household_merge.html",
    )


# ---------------------------------------------------------------- residence permits


@scoped_view("residents.view_person")
def permit_list(request):
    days = permits.DEFAULT_DAYS
    if "days" in request.GET:
        asked = permits.parse_days(request.GET["days"])
        if asked is None:
            messages.error(
                request,
                _("Enter the number of days as a whole number from 0 to %(max)d.")
                % {"max": permits.MAX_DAYS},
            )
        else:
            days = asked
    today = timezone.localdate()
    page = Paginator(permits.expiring_permits(request.user, days, today), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    sensitive = request.user.has_perm("residents.view_sensitive")
    for person in page:
        person.days_left = permits.days_left(person, today)
        number = person.residence_permit_number
        person.permit_shown = number if sensitive else permits.mask_permit_number(number)
    return render(request, "residents/casework/permit_list.html", {"page": page, "days": days})


# ---------------------------------------------------------------- handovers


HANDOVER_PERMS = ("residents.hand_over_household", "residents.change_household")


@scoped_view(*HANDOVER_PERMS)
def handover_list(request):
    incoming = (
        handover.incoming_households(request.user)
        .select_related("community", "handover_to")
        .prefetch_related(_active_members())
        .order_by("handover_sent_at", "pk")
    )
    page = Paginator(incoming, PAGE_SIZE).get_page(request.GET.get("page"))
    outgoing = (
        handover.outgoing_households(request.user)
        .select_related("community", "handover_to")
        .order_by("-handover_sent_at", "pk")
    )
    query = typed_text(request.GET.get("q"))
    found = []
    if query:
        found = (
            Household.objects.changeable_by(request.user)
            .current()
            .filter(handover_to__isnull=True)
            .filter(Q(address__icontains=query) | Q(ledger_number__icontains=query))
            .select_related("community")
            .order_by("address", "pk")[:20]
        )
    return render(
        request,
        "residents/casework/handover_list.html",
        {"page": page, "outgoing": outgoing[:100], "query": query, "found": found},
    )


@scoped_view(*HANDOVER_PERMS)
@require_http_methods(["GET", "POST"])
def handover_send(request, pk):
    household = get_changeable_or_404(
        Household.objects.select_related("community", "handover_to").prefetch_related(
            _active_members()
        ),
        request.user,
        pk=pk,
    )
    form = HandoverSendForm(request.POST or None, household=household)
    if request.method == "POST" and form.is_valid():
        try:
            handover.handover_send(
                by=request.user, household=household, community=form.cleaned_data["community"]
            )
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            messages.success(
                request,
                _("%(h)s is sent to %(c)s; it stays with you until they accept.")
                % {"h": household.address, "c": household.handover_to.name},
            )
            return redirect("residents:handover-list")
    return render(
        request, "residents/casework/handover_send.html", {"household": household, "form": form}
    )


@scoped_view(*HANDOVER_PERMS)
@require_POST
def handover_cancel(request, pk):
    household = get_changeable_or_404(
        Household.objects.select_related("community", "handover_to"), request.user, pk=pk
    )
    try:
        handover.handover_cancel(by=request.user, household=household)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Handover of %(h)s cancelled.") % {"h": household.address})
    return redirect("residents:handover-list")


@scoped_view(*HANDOVER_PERMS)
@require_POST
def handover_accept(request, pk):
    household = handover.get_incoming_or_404(request.user, pk)
    try:
        handover.handover_accept(by=request.user, household=household)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("%(h)s now belongs to %(c)s, with its members and history.")
            % {"h": household.address, "c": household.community.name},
        )
    return redirect("residents:handover-list")


@scoped_view(*HANDOVER_PERMS)
@require_http_methods(["GET", "POST"])
def handover_decline(request, pk):
    household = handover.get_incoming_or_404(request.user, pk)
    form = HandoverDeclineForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            handover.handover_decline(
                by=request.user, household=household, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            messages.success(request, _("Handover of %(h)s declined.") % {"h": household.address})
            return redirect("residents:handover-list")
    return render(
        request,
        "residents/casework/handover_decline.html",
        {"household": household, "members": household.members.current(), "form": form},
    )


# ---------------------------------------------------------------- dibao standards and roster


@scoped_view("residents.view_dibaostandard")
def dibao_standard_list(request):
    """Standards of the user's areas, and those set above them (which apply to them too)."""
    scope = scope_for(request.user)
    above = {
        area_id
        for path in Area.objects.filter(pk__in=scope.area_ids).values_list("path", flat=True)
        for area_id in (int(part) for part in path.strip("/").split("/"))
    }
    standards = (
        DibaoStandard.objects.filter(visible_q(request.user, DibaoStandard) | Q(area_id__in=above))
        .select_related("area")
        .order_by("-year", "area__path")
    )
    page = Paginator(standards, PAGE_SIZE).get_page(request.GET.get("page"))
    for standard in page:
        standard.changeable = can_change_area(request.user, standard.area)
    return render(request, "residents/casework/dibao_standard_list.html", {"page": page})


@scoped_view("residents.add_dibaostandard")
@require_http_methods(["GET", "POST"])
def dibao_standard_create(request):
    form = DibaoStandardForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        standard = form.save()
        messages.success(request, _("Dibao standard saved: %(s)s") % {"s": standard})
        return redirect("residents:dibao-standard-list")
    return render(
        request,
        "residents/casework/form.html",
        {"form": form, "title": _("New dibao standard"), "cancel": "residents:dibao-standard-list"},
    )


@scoped_view("residents.change_dibaostandard")
@require_http_methods(["GET", "POST"])
def dibao_standard_update(request, pk):
    standard = get_changeable_or_404(
        DibaoStandard.objects.select_related("area"), request.user, pk=pk
    )
    form = DibaoStandardForm(request.POST or None, instance=standard, user=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Dibao standard saved: %(s)s") % {"s": standard})
        return redirect("residents:dibao-standard-list")
    return render(
        request,
        "residents/casework/form.html",
        {
            "form": form,
            "title": _("Edit dibao standard"),
            "cancel": "residents:dibao-standard-list",
        },
    )


def _roster_choice(request):
    """(form, area, month) from ?area=&month=, defaulting to the user's widest area and this
    month; area and month are None when the input is wrong (the form says why)."""
    data = request.GET.copy()
    if not data.get("area"):
        top = Area.objects.visible_to(request.user).order_by(Length("path"), "path").first()
        data["area"] = str(top.pk) if top else ""
    if not data.get("month"):
        data["month"] = timezone.localdate().strftime("%Y-%m")
    form = RosterForm(data, user=request.user)
    if form.is_valid():
        return form, form.cleaned_data["area"], form.cleaned_data["month"]
    return form, None, None


ROSTER_PERMS = ("residents.view_household", "residents.view_sensitive")


@scoped_view(*ROSTER_PERMS)
def dibao_roster(request):
    form, area, month = _roster_choice(request)
    roster = dibao.build_roster(request.user, area, month) if area else None
    return render(request, "residents/casework/dibao_roster.html", {"form": form, "roster": roster})


@scoped_view(*ROSTER_PERMS, "residents.export_households")
@require_GET
def dibao_roster_xlsx(request):
    form, area, month = _roster_choice(request)
    if area is None:
        messages.error(request, _("Choose an area and a month to download the roster."))
        return redirect("residents:dibao-roster")
    roster = dibao.build_roster(request.user, area, month)
    content = dibao.roster_xlsx(roster)
    log_export(
        request=request,
        exporter="dibao_roster",
        label=_("Minority dibao supplement roster, %(area)s, %(month)s")
        % {"area": area.name, "month": month.strftime("%Y-%m")},
        file_format="xlsx",
        row_count=roster.household_count,
        filters={"area": area.pk, "month": month.strftime("%Y-%m")},
        area=area,
    )
    response = HttpResponse(
        content,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    filename = f"dibao-roster-{area.code or area.pk}-{month:%Y-%m}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
