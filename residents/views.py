"""Pages of the register (逐户逐人登记): the list with its search and filters, a household with
its members and history, entering and editing a household, moving, archiving and restoring,
the printed register, revealing one ID number, and the export.

Views stay thin: records come through ``visible_to``/``changeable_by``, reading lives in
``selectors``, writing rules in ``operations``, masking in ``selectors.Presenter``.
"""

import ipaddress

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from network.access import can_change_area, get_changeable_or_404, get_visible_or_404, scope_for
from network.audit import AuditKind, record
from network.exports import client_ip, log_export
from network.models import Area, AreaLevel
from network.scoped import scoped_view
from network.versioning import StaleEdit
from residents import operations
from residents.ethnicity import lookup_table
from residents.exporters import EXPORTERS
from residents.forms import (
    HouseholdForm,
    HouseholdUpdateForm,
    MoveForm,
    RegisterFilterForm,
    person_formset,
)
from residents.models import Ethnicity, Household, IdNumberReveal, Person, PersonStatus
from residents.selectors import (
    PER_PAGE,
    Presenter,
    Viewer,
    filter_persons,
    flat_persons,
    from_scope_start,
    household_history,
    keyset_q,
    page_number,
    page_window,
    parse_cursor,
    present_persons,
    register_persons,
)
from residents.timeline import (
    actions_for,
    annotate_members,
    parse_before,
    remember_members,
    timeline_for,
)
from residents.typed_input import whole_number

EXPORT_CHUNK = 2000
NEW_MEMBER_FORMS = 4  # the member cards of a new household: one required, three spare


# ---------------------------------------------------------------- the list


@scoped_view("residents.view_person")
def person_list(request):
    viewer = Viewer.of(request.user)
    form = RegisterFilterForm(request.GET or None, user=request.user, viewer=viewer)
    number = page_number(request.GET.get("page"))
    after = parse_cursor(request.GET.get("after"))
    before = None if after else parse_cursor(request.GET.get("before"))
    # A search cuts each half at ``limit`` rows in ascending order, which is right from the
    # start or after a cursor; going back (before) it searches without that shortcut.
    limit = None if before else (PER_PAGE + 1 if after else number * PER_PAGE + 1)
    persons = register_persons(request.user).filter(keyset_q(after=after, before=before))
    if not form.filters.get("q"):  # a search finds its rows through its own indexes
        persons = from_scope_start(persons, request.user, form.filters.get("community"))
    persons = filter_persons(
        persons,
        form.filters,
        viewer,
        limit=limit,
    )
    page = page_window(flat_persons(persons), number, after=after, before=before)
    presenter = Presenter(viewer, timezone.localdate())
    return render(
        request,
        "residents/person_list.html",
        {
            "form": form,
            "page": page,
            "rows": [presenter.flat_row(person) for person in page.rows],
            # reversed once, not once per row: 50 reverse() calls were a tenth of the page
            "household_path": reverse("residents:household-detail", args=[0])[: -len("0/")],
            "viewer": viewer,
            "filtered": any(v for k, v in form.filters.items() if k != "status"),
        },
    )


@scoped_view("residents.view_person", "residents.export_households")
@require_GET
def person_export(request):
    """The list as a file, same filters and masking as the page; every export is logged."""
    exporter_class = EXPORTERS.get(request.GET.get("format", "xlsx"))
    if exporter_class is None:
        messages.error(request, _("Choose Excel (xlsx) or csv for the export."))
        return redirect("residents:person-list")
    viewer = Viewer.of(request.user)
    form = RegisterFilterForm(request.GET, user=request.user, viewer=viewer)
    filters = form.filters
    persons = filter_persons(register_persons(request.user), filters, viewer)
    exporter = exporter_class(viewer=viewer, today=timezone.localdate())
    content = exporter.export(flat_persons(persons).iterator(chunk_size=EXPORT_CHUNK))
    area = filters.get("community") or _scope_area(request.user)
    log_export(
        request=request,
        exporter=exporter.identifier,
        label=f"{exporter.label} · {area.name}" if area else str(exporter.label),
        file_format=exporter.file_format,
        row_count=exporter.row_count,
        filters=form.logged_filters(),
        area=area,
    )
    return FileResponse(
        content,
        as_attachment=True,
        filename=exporter.filename(),
        content_type=exporter.content_type,
    )


def _scope_area(user):
    """The one area a user's scope covers, for the export log (None with several)."""
    paths = scope_for(user).visible_paths
    if len(paths) != 1:
        return None
    return Area.objects.filter(pk=int(paths[0].strip("/").split("/")[-1])).first()


# ---------------------------------------------------------------- one household


def _ancestors(area: Area) -> list[Area]:
    """``area.ancestors()`` from the parents the query joined (no query), or by a query for
    a tree deeper than the join."""
    chain = []
    while area.parent_id is not None:
        if not Area.parent.is_cached(area):
            return area.ancestors() + chain[::-1]
        area = area.parent
        chain.append(area)
    return chain[::-1]


@scoped_view("residents.view_household")
def household_detail(request, pk):
    viewer = Viewer.of(request.user)
    # the community with the areas above it (district, sub-district, zone): the breadcrumb
    households = Household.objects.select_related("community__parent__parent__parent")
    if not viewer.staff:
        households = households.current()  # archived records are for staff only
    household = get_visible_or_404(households, request.user, pk=pk)
    members = household.members.select_related("ethnicity", "community")
    if not viewer.staff:
        members = members.filter(archived_at__isnull=True)
    # read once, with what the buttons above the timeline need to know of each member
    members = remember_members(household, annotate_members(members))
    today = timezone.localdate()
    can_change = (
        viewer.staff
        and request.user.has_perm("residents.change_person")
        and can_change_area(request.user, household.community)
    )
    return render(
        request,
        "residents/household_detail.html",
        {
            "household": household,
            "ancestors": _ancestors(household.community),
            "members": present_persons(members, viewer, today),
            "hardship": household.hardship_labels if viewer.sensitive else [],
            "honours": household.honours.all(),
            "history": household_history(household, viewer),
            "timeline_actions": actions_for(household, request.user),
            "timeline": timeline_for(
                household, request.user, before=parse_before(request.GET.get("before"))
            ),
            "viewer": viewer,
            "can_change": can_change,
            "move_form": (
                MoveForm(user=request.user, household=household)
                if can_change and not household.is_archived
                else None
            ),
        },
    )


@scoped_view("residents.view_household")
def household_timeline(request, pk):
    """One page of a household's timeline (the "Older" button swaps it in place with htmx;
    without JavaScript the same link opens the household page at that date)."""
    households = Household.objects.all()
    if not Viewer.of(request.user).staff:
        households = households.current()
    household = get_visible_or_404(households, request.user, pk=pk)
    return render(
        request,
        "residents/_timeline_entries.html",
        {
            "household": household,
            "timeline": timeline_for(
                household, request.user, before=parse_before(request.GET.get("before"))
            ),
        },
    )


def _ethnicity_table():
    return lookup_table(Ethnicity.objects.all())


def _edit_page(request, *, household, form, formset, title, conflicts=()):
    return render(
        request,
        "residents/household_form.html",
        {
            "form": form,
            "formset": formset,
            "household": household,
            "title": title,
            "ethnic_groups": Ethnicity.objects.values_list("name", flat=True),
            "conflicts": conflicts,
        },
    )


def _save_household(request, form, formset):
    """Save a household and its members in one transaction; False if the database refused
    (two people saving the same ID number at the same moment)."""
    try:
        with transaction.atomic():
            household = form.save()
            formset.instance = household
            formset.save()
    except IntegrityError:
        messages.error(
            request,
            _(
                "Nothing was saved: an ID number or household number was entered elsewhere "
                "at the same moment. Check and save again."
            ),
        )
        return None
    for warning in formset.id_warnings:
        messages.warning(request, warning)
    return household


@scoped_view("residents.add_household", "residents.add_person", "residents.view_sensitive")
@require_http_methods(["GET", "POST"])
def household_create(request):
    viewer = Viewer.of(request.user)
    initial = {}
    communities = Area.objects.changeable_by(request.user).filter(level=AreaLevel.COMMUNITY)
    wanted = whole_number(request.GET.get("community"))
    if wanted is not None and communities.filter(pk=wanted).exists():
        initial["community"] = wanted
    form = HouseholdForm(
        request.POST or None, user=request.user, prefix="household", initial=initial
    )
    formset = person_formset(extra=3, min_num=1, max_forms=NEW_MEMBER_FORMS)(
        request.POST or None,
        instance=Household(),
        prefix="members",
        form_kwargs={
            "user": request.user,
            "viewer": viewer,
            "ethnicity_table": _ethnicity_table(),
        },
    )
    if request.method == "POST":
        valid = form.is_valid()
        valid = formset.is_valid() and valid
        if valid:
            household = _save_household(request, form, formset)
            if household is not None:
                messages.success(request, _("Household %(a)s entered.") % {"a": household.address})
                return redirect("residents:household-detail", pk=household.pk)
        else:
            messages.error(request, _("Nothing was saved: correct the fields marked below."))
    return _edit_page(request, household=None, form=form, formset=formset, title=_("New household"))


@scoped_view(
    "residents.change_household",
    "residents.change_person",
    "residents.add_person",
    "residents.view_sensitive",
)
@require_http_methods(["GET", "POST"])
def household_update(request, pk):
    viewer = Viewer.of(request.user)
    household = get_changeable_or_404(
        Household.objects.select_related("community"), request.user, pk=pk
    )
    if household.is_archived and request.method != "POST":
        messages.warning(request, _("This household is archived; restore it before editing."))
        return redirect("residents:household-detail", pk=household.pk)
    form = HouseholdUpdateForm(
        request.POST or None, instance=household, user=request.user, prefix="household"
    )
    members = household.members.current().select_related("ethnicity")
    formset = person_formset(extra=2, max_forms=members.count() + 2)(
        request.POST or None,
        instance=household,
        queryset=members,
        prefix="members",
        form_kwargs={
            "user": request.user,
            "viewer": viewer,
            "ethnicity_table": _ethnicity_table(),
        },
    )
    conflicts = []
    if request.method == "POST":
        # A page loaded before someone else saved is refused first, whatever it holds: what
        # changed is shown, what this user typed is kept, nothing is written.
        conflicts = operations.household_edit_conflicts(
            household=household, form=form, formset=formset, viewer=viewer
        )
        if not conflicts and household.is_archived:
            messages.warning(request, _("This household is archived; restore it before editing."))
            return redirect("residents:household-detail", pk=household.pk)
        if not conflicts:
            valid = form.is_valid()
            valid = formset.is_valid() and valid
            if valid:
                saved, conflicts = _save_household_edit(request, household, form, formset, viewer)
                if saved:
                    messages.success(
                        request, _("Household %(a)s saved.") % {"a": household.address}
                    )
                    return redirect("residents:household-detail", pk=household.pk)
            else:
                messages.error(request, _("Nothing was saved: correct the fields marked below."))
    return _edit_page(
        request,
        household=household,
        form=form,
        formset=formset,
        title=_("Edit household %(a)s") % {"a": household.address},
        conflicts=conflicts,
    )


def _save_household_edit(request, household, form, formset, viewer) -> tuple[bool, list]:
    """(saved, conflicts): the edit saved with the next versions, or refused because a
    record changed since the page was loaded (found again under the row locks)."""
    try:
        operations.household_save_edit(
            household=household, form=form, formset=formset, viewer=viewer
        )
    except StaleEdit as stale:
        return False, stale.conflicts
    except IntegrityError:
        messages.error(
            request,
            _(
                "Nothing was saved: an ID number or household number was entered elsewhere "
                "at the same moment. Check and save again."
            ),
        )
        return False, []
    for warning in formset.id_warnings:
        messages.warning(request, warning)
    return True, []


# ---------------------------------------------------------------- moving and archiving


def _refused(request, exc: ValidationError):
    messages.error(request, " ".join(exc.messages))


@scoped_view("residents.change_household", "residents.change_person")
@require_POST
def household_move(request, pk):
    household = get_changeable_or_404(
        Household.objects.select_related("community"), request.user, pk=pk
    )
    form = MoveForm(request.POST, user=request.user, household=household)
    if household.is_archived:
        messages.error(request, _("Restore the household before moving it."))
    elif not form.is_valid():
        messages.error(request, _("Choose one of the communities you manage to move it to."))
    else:
        target = form.cleaned_data["community"]
        try:
            operations.household_move(by=request.user, household=household, community=target)
        except ValidationError as exc:
            _refused(request, exc)
        else:
            messages.success(request, _("Household moved to %(c)s.") % {"c": target.name})
    return redirect("residents:household-detail", pk=household.pk)


@scoped_view("residents.change_household", "residents.change_person")
@require_POST
def household_archive(request, pk):
    household = get_changeable_or_404(
        Household.objects.select_related("community"), request.user, pk=pk
    )
    if household.is_archived:
        messages.info(request, _("This household is already archived."))
    else:
        try:
            operations.household_archive(by=request.user, household=household)
        except ValidationError as exc:
            _refused(request, exc)
        else:
            messages.success(request, _("Household archived; it can be restored at any time."))
    return redirect("residents:household-detail", pk=household.pk)


@scoped_view("residents.change_household", "residents.change_person")
@require_POST
def household_restore(request, pk):
    household = get_changeable_or_404(
        Household.objects.select_related("community"), request.user, pk=pk
    )
    if not household.is_archived:
        messages.info(request, _("This household is not archived."))
    else:
        try:
            operations.household_restore(by=request.user, household=household)
        except ValidationError as exc:
            _refused(request, exc)
        else:
            messages.success(request, _("Household restored."))
    return redirect("residents:household-detail", pk=household.pk)


@scoped_view("residents.change_person")
@require_POST
def person_archive(request, pk):
    person = get_changeable_or_404(Person.objects.select_related("community"), request.user, pk=pk)
    if person.is_archived:
        messages.info(request, _("%(name)s is already archived.") % {"name": person.name})
    else:
        try:
            operations.person_archive(by=request.user, person=person)
        except ValidationError as exc:
            _refused(request, exc)
        else:
            messages.success(request, _("%(name)s archived.") % {"name": person.name})
    return redirect("residents:household-detail", pk=person.household_id)


@scoped_view("residents.change_person")
@require_POST
def person_restore(request, pk):
    person = get_changeable_or_404(
        Person.objects.select_related("community", "household"), request.user, pk=pk
    )
    if not person.is_archived:
        messages.info(request, _("%(name)s is not archived.") % {"name": person.name})
    elif person.household.is_archived:
        messages.error(request, _("Restore the household first; its members come back with it."))
    else:
        try:
            operations.person_restore(by=request.user, person=person)
        except ValidationError:
            messages.error(
                request,
                _(
                    "%(name)s cannot be restored: another active person in the register has "
                    "the same ID number."
                )
                % {"name": person.name},
            )
        else:
            messages.success(request, _("%(name)s restored.") % {"name": person.name})
    return redirect("residents:household-detail", pk=person.household_id)


# ---------------------------------------------------------------- one full ID number


def _valid_ip(request) -> str | None:
    address = client_ip(request)
    try:
        return str(ipaddress.ip_address(address)) if address else None
    except ValueError:
        return None


@scoped_view("residents.view_person", "residents.view_full_id_number")
@require_POST
@never_cache
def person_reveal_id(request, pk):
    """Show one full ID number, and log who looked at it, when and from where."""
    person = get_visible_or_404(Person, request.user, pk=pk)
    if person.id_number:
        IdNumberReveal.objects.create(
            person=person, user=request.user, ip_address=_valid_ip(request)
        )
        record(AuditKind.REVEAL_ID, request=request, obj=person, area_id=person.community_id)
    if request.headers.get("HX-Request"):
        return render(request, "residents/_id_number_revealed.html", {"person": person})
    if person.id_number:
        messages.info(
            request,
            _("ID number of %(name)s: %(number)s")
            % {"name": person.name, "number": person.id_number},
        )
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        back = reverse("residents:household-detail", args=[person.household_id])
    return redirect(back)


# ---------------------------------------------------------------- the printed register


@scoped_view("residents.view_person")
def register_print(request):
    """One community's register on A4 landscape, grouped by household, as the office files
    it: the sub-district and community in the title, the date, masked per role."""
    viewer = Viewer.of(request.user)
    communities = (
        Area.objects.visible_to(request.user).filter(level=AreaLevel.COMMUNITY).order_by("path")
    )
    wanted = whole_number(request.GET.get("community"))
    community = communities.filter(pk=wanted).first() if wanted is not None else None
    if community is None:
        return render(request, "residents/register_print_choose.html", {"communities": communities})
    today = timezone.localdate()
    households = (
        Household.objects.visible_to(request.user)
        .current()
        .filter(community=community)
        .order_by("ledger_number", "address", "pk")
    )
    persons = (
        Person.objects.visible_to(request.user)
        .current()
        .filter(
            community=community, status=PersonStatus.ACTIVE, household__archived_at__isnull=True
        )
        .select_related("household", "community", "ethnicity")
        .order_by("household_id", "pk")
    )
    presenter = Presenter(viewer, today)
    rows_by_household: dict[int, list] = {}
    for person in persons:
        rows_by_household.setdefault(person.household_id, []).append(presenter.row(person))
    groups = [(h, rows_by_household[h.pk]) for h in households if h.pk in rows_by_household]
    return render(
        request,
        "residents/register_print.html",
        {
            "community": community,
            "subdistrict": community.subdistrict(),
            "groups": groups,
            "person_count": sum(len(rows) for _h, rows in groups),
            "today": today,
            "viewer": viewer,
        },
    )
