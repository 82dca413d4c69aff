"""Pages of consultations (来访、热线、接待窗口): who came or called, about what, who handles
it and how it ended. Staff only: liaisons have no permission on consultations.

Thin views: reading lives in ``selectors_consultations``, the rules in the form and model.
"""

import uuid

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from network.access import can_change_area, get_changeable_or_404, get_visible_or_404, scope_for
from network.scoped import scoped_view
from outreach.forms_consultations import (
    DATETIME_LOCAL,
    ConsultationFilterForm,
    ConsultationForm,
    consultation_areas,
)
from outreach.models import Channel, Consultation, ConsultationStatus, Topic
from outreach.selectors_consultations import (
    OVERDUE_DAYS,
    consultations_for,
    days_open,
    filter_consultations,
    persons_found,
    received_on,
    status_history,
    who_came,
)
from outreach.selectors_visits import visible_areas
from residents.archiving import archive_or_restore
from residents.models import Person
from residents.pages import existing_by_key, page_of, posted_submission_key, xlsx_export
from residents.typed_input import typed_text, whole_number

VIEW = "outreach.view_consultation"
ADD = "outreach.add_consultation"
CHANGE = "outreach.change_consultation"
EXPORT = "outreach.export_outreach"


def _with_days(records, today):
    """Set ``days`` on each record: days to resolve once closed, else days open so far."""
    for record in records:
        record.open_days = days_open(record, today)
        record.days = record.days_to_resolve if record.open_days is None else record.open_days
        record.overdue = record.open_days is not None and record.open_days > OVERDUE_DAYS
    return records


# ---------------------------------------------------------------- the list


@scoped_view(VIEW)
@require_GET
def consultation_list(request):
    form = ConsultationFilterForm(request.GET or None, user=request.user)
    today = timezone.localdate()
    areas = visible_areas(request.user)
    form.share_areas(areas)
    records = filter_consultations(
        consultations_for(request.user, areas), form.filters, today=today
    )
    page = page_of(request, records)
    _with_days(page.object_list, today)
    # What each row shows, worked out once a page in Python: the template's per-row
    # {% url %}, get_…_display, date filter and badge include were most of the page's time.
    labels = {
        field: {value: str(label) for value, label in choices}
        for field, choices in (
            ("channel", Channel.choices),
            ("topic", Topic.choices),
            ("status", ConsultationStatus.choices),
        )
    }
    for record in page.object_list:
        record.channel_label = labels["channel"].get(record.channel, record.channel)
        record.topic_label = labels["topic"].get(record.topic, record.topic)
        record.status_label = labels["status"].get(record.status, record.status)
        record.received_text = timezone.localtime(record.received_at).strftime("%Y-%m-%d %H:%M")
    return render(
        request,
        "outreach/consultations/consultation_list.html",
        {
            "form": form,
            "page": page,
            "detail_path": reverse("outreach:consultation-detail", args=[0])[: -len("0/")],
            "overdue_days": OVERDUE_DAYS,
            "can_add": request.user.has_perm(ADD) and _may_record_somewhere(request.user),
            "can_export": request.user.has_perm(EXPORT),
        },
    )


def _may_record_somewhere(user) -> bool:
    scope = scope_for(user)
    return scope.everything or bool(scope.changeable_paths)


# ---------------------------------------------------------------- create and edit


def _visible_person(user, raw):
    """The current person with the typed id ``raw``, if ``user`` may see them; else None."""
    pk = whole_number(raw)
    if pk is None:
        return None
    persons = Person.objects.visible_to(user).current().select_related("household", "community")
    return persons.filter(pk=pk).first()


def _posted_person(request):
    """The person posted in the form, if the user may see them (to keep in the box)."""
    return _visible_person(request.user, request.POST.get("person"))


def _refind(request, *, instance, title):
    """The Find button: show the form again as typed, with the persons the search found.
    Nothing is validated or saved yet."""
    initial = request.POST.dict()
    for name in ("csrfmiddlewaretoken", "find"):
        initial.pop(name, None)
    chosen = _posted_person(request)
    text = typed_text(request.POST.get("person_search"), 50)
    found = persons_found(request.user, text)
    if len(found) == 1:
        initial["person"] = found[0].pk  # one person found: take them
    persons = list(found)
    if chosen is not None and all(p.pk != chosen.pk for p in found):
        persons.insert(0, chosen)
    form = ConsultationForm(initial=initial, instance=instance, user=request.user, persons=persons)
    return _form_page(
        request, form, instance=instance, title=title, searched=text, found=len(found)
    )


def _form_page(request, form, *, instance, title, searched="", found=None):
    return render(
        request,
        "outreach/consultations/consultation_form.html",
        {
            "form": form,
            "consultation": instance,
            "title": title,
            "searched": searched,
            "found": found,
        },
    )


def _initial_for_create(request, areas):
    """Now, the user as handler, open; with ``?person=`` that person and their community."""
    initial = {
        "submission_key": str(uuid.uuid4()),
        "received_at": timezone.localtime().strftime(DATETIME_LOCAL),
        "handler": request.user.pk,
        "status": ConsultationStatus.OPEN,
    }
    person = _visible_person(request.user, request.GET.get("person"))
    if person is not None:
        initial["person"] = person.pk
        fitting = [a for a in areas if person.community.path.startswith(a.path)]
        if fitting:
            initial["community"] = fitting[-1].pk  # the nearest: the community itself
    elif len(areas) == 1:
        initial["community"] = areas[0].pk
    else:
        own = set(scope_for(request.user).area_ids)
        mine = [a for a in areas if a.pk in own]
        if mine:
            initial["community"] = mine[0].pk
    return initial, person


@scoped_view(VIEW, ADD)
@require_http_methods(["GET", "POST"])
def consultation_create(request):
    title = _("Record a consultation")
    if request.method == "GET":
        areas = list(consultation_areas(request.user))
        if not areas:
            messages.error(request, _("You manage no area in which to record a consultation."))
        initial, person = _initial_for_create(request, areas)
        form = ConsultationForm(
            initial=initial, user=request.user, persons=[person] if person else []
        )
        return _form_page(request, form, instance=None, title=title)

    data = request.POST
    key = posted_submission_key(data)
    existing = existing_by_key(Consultation, request.user, key)
    if existing:
        messages.info(request, _("This consultation was already recorded."))
        return redirect("outreach:consultation-detail", pk=existing.pk)
    if existing is False or key is None:  # taken out of sight, or garbled: a fresh key
        data = data.copy()
        data["submission_key"] = str(uuid.uuid4())
    if "find" in data:
        return _refind(request, instance=None, title=title)
    chosen = _posted_person(request)
    form = ConsultationForm(data, user=request.user, persons=[chosen] if chosen else [])
    if form.is_valid():
        try:
            with transaction.atomic():
                consultation = form.save()
        except IntegrityError:
            # The same form sent twice at the same moment: the other request saved it.
            existing = existing_by_key(
                Consultation, request.user, form.cleaned_data.get("submission_key")
            )
            if existing:
                return redirect("outreach:consultation-detail", pk=existing.pk)
            messages.error(request, _("Nothing was saved: send the form again."))
            return _form_page(request, form, instance=None, title=title)
        messages.success(request, _("Consultation recorded."))
        return redirect("outreach:consultation-detail", pk=consultation.pk)
    messages.error(request, _("Nothing was saved: correct the fields marked below."))
    return _form_page(request, form, instance=None, title=title)


def _changeable(request, pk):
    records = Consultation.objects.select_related("person__household", "community", "handler")
    return get_changeable_or_404(records, request.user, pk=pk)


@scoped_view(VIEW, CHANGE)
@require_http_methods(["GET", "POST"])
def consultation_edit(request, pk):
    consultation = _changeable(request, pk)
    if consultation.is_archived:
        messages.error(request, _("Restore this consultation before editing it."))
        return redirect("outreach:consultation-detail", pk=consultation.pk)
    title = _("Edit consultation of %(date)s") % {"date": received_on(consultation)}
    if request.method == "POST" and "find" in request.POST:
        return _refind(request, instance=consultation, title=title)
    if request.method == "POST":
        chosen = _posted_person(request)
        form = ConsultationForm(
            request.POST,
            instance=consultation,
            user=request.user,
            persons=[chosen] if chosen else [],
        )
        if form.is_valid():
            form.save()
            messages.success(request, _("Consultation saved."))
            return redirect("outreach:consultation-detail", pk=consultation.pk)
        messages.error(request, _("Nothing was saved: correct the fields marked below."))
    else:
        person = consultation.person
        form = ConsultationForm(
            instance=consultation, user=request.user, persons=[person] if person else []
        )
    return _form_page(request, form, instance=consultation, title=title)


# ---------------------------------------------------------------- one consultation


@scoped_view(VIEW)
@require_GET
def consultation_detail(request, pk):
    records = Consultation.objects.select_related("person__household", "community", "handler")
    consultation = get_visible_or_404(records, request.user, pk=pk)
    _with_days([consultation], timezone.localdate())
    return render(
        request,
        "outreach/consultations/consultation_detail.html",
        {
            "consultation": consultation,
            "who": who_came(consultation),
            "history": status_history(consultation),
            "overdue_days": OVERDUE_DAYS,
            "can_change": request.user.has_perm(CHANGE)
            and can_change_area(request.user, consultation.community),
        },
    )


def _archived(request, pk, *, archived: bool):
    return archive_or_restore(
        request,
        _changeable(request, pk),
        archived=archived,
        done=_("Consultation archived: it no longer shows in the lists.")
        if archived
        else _("Consultation restored."),
        already=_("This consultation is already archived.")
        if archived
        else _("This consultation is not archived."),
        detail="outreach:consultation-detail",
    )


@scoped_view(VIEW, CHANGE)
@require_POST
def consultation_archive(request, pk):
    return _archived(request, pk, archived=True)


@scoped_view(VIEW, CHANGE)
@require_POST
def consultation_restore(request, pk):
    return _archived(request, pk, archived=False)


# ---------------------------------------------------------------- export


@scoped_view(VIEW, EXPORT)
@require_GET
def consultation_export(request):
    """The list as an xlsx file, with the list's filters; every export is logged."""
    form = ConsultationFilterForm(request.GET or None, user=request.user)
    today = timezone.localdate()
    filters = form.filters
    records = filter_consultations(
        consultations_for(request.user).select_related("person__household"),
        filters,
        today=today,
    )
    channels, topics = dict(Channel.choices), dict(Topic.choices)
    statuses = dict(ConsultationStatus.choices)
    header = [
        _("Received at"),
        _("Area"),
        _("Who came"),
        _("Address"),
        _("Visitor's phone"),
        _("Channel"),
        _("Topic"),
        _("What they asked"),
        _("Status"),
        _("Handled by"),
        _("Referred to"),
        _("Resolution"),
        _("Closed on"),
        _("Days to resolve"),
    ]

    def rows():
        for c in records.iterator(chunk_size=2000):
            yield [
                c.received_at,
                c.community.name,
                who_came(c),
                c.person.household.address if c.person_id else "",
                c.visitor_phone,
                str(channels.get(c.channel, c.channel)),
                str(topics.get(c.topic, c.topic)),
                c.summary,
                str(statuses.get(c.status, c.status)),
                c.handler.display_name if c.handler_id else "",
                c.referred_to,
                c.resolution,
                c.closed_on,
                c.days_to_resolve,
            ]

    area = filters.get("area")
    label = _("Consultations")
    return xlsx_export(
        request,
        header=header,
        rows=rows(),
        identifier="outreach.consultations",
        label=f"{label} · {area.name}" if area else label,
        sheet=label,
        filename="consultations",
        filters=form.logged_filters(),
        area=area,
    )
