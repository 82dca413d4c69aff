"""Pages of the two-way service survey (双向服务意向调查表): record what a household wants
and what it can offer, edit, archive and restore, the list with its export, and the
summary per area that shows which merchants to sign next.

Staff record surveys where they manage; a liaison records them in their own community
(``Survey.objects.changeable_by``). Thin views: reading lives in ``selectors_survey``,
the rules in the forms."""

import datetime
import uuid

from django.contrib import messages
from django.db import IntegrityError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from network.access import get_changeable_or_404, get_visible_or_404, scope_for
from network.scoped import scoped_view
from residents.archiving import archive_or_restore
from residents.models import Household, Relation
from residents.pages import page_of, posted_submission_key, xlsx_export
from residents.typed_input import MAX_ID, typed_text, whole_number
from services.forms_survey import SummaryForm, SurveyFilterForm, SurveyForm
from services.models import Survey, SurveyDirection
from services.selectors_survey import (
    answer_text,
    answers_of,
    default_area,
    filter_surveys,
    recordable_households,
    respondents,
    search_households,
    survey_history,
    survey_summary,
    surveys_for,
)

VIEW = "services.view_survey"
ADD = ("services.add_survey", "services.add_surveyanswer")
CHANGE = ("services.change_survey", "services.change_surveyanswer")
EXPORT = "services.export_services"


def _may_record_somewhere(user) -> bool:
    scope = scope_for(user)
    return scope.everything or bool(scope.changeable_paths or scope.liaison_only_paths)


def _with_answers(surveys):
    """Set ``wants`` and ``offers`` on each survey, from its prefetched answers."""
    for survey in surveys:
        survey.wants = answers_of(survey, SurveyDirection.WANTS)
        survey.offers = answers_of(survey, SurveyDirection.OFFERS)
    return surveys


# ---------------------------------------------------------------- the list


@scoped_view(VIEW)
@require_GET
def survey_list(request):
    form = SurveyFilterForm(request.GET or None, user=request.user)
    page = page_of(request, filter_surveys(surveys_for(request.user), form.filters))
    _with_answers(page.object_list)
    return render(
        request,
        "services/survey/survey_list.html",
        {
            "form": form,
            "page": page,
            "can_add": request.user.has_perms(ADD) and _may_record_somewhere(request.user),
            "can_export": request.user.has_perm(EXPORT),
        },
    )


@scoped_view(VIEW, EXPORT)
@require_GET
def survey_export(request):
    """The list as an xlsx file, with the list's filters; every export is logged."""
    form = SurveyFilterForm(request.GET or None, user=request.user)
    filters = form.filters
    records = filter_surveys(surveys_for(request.user), filters)
    header = [
        _("Surveyed on"),
        _("Community"),
        _("Household number"),
        _("Address"),
        _("Respondent"),
        _("Wants"),
        _("Can offer"),
        _("Note"),
        _("Recorded by"),
    ]

    def rows():
        # chunks of 500 keep the answers prefetched, a query per chunk
        for survey in records.iterator(chunk_size=500):
            _with_answers([survey])
            yield [
                survey.surveyed_on,
                survey.household.community.name,
                survey.household.ledger_number,
                survey.household.address,
                survey.respondent.name if survey.respondent_id else "",
                "；".join(answer_text(a) for a in survey.wants),
                "；".join(answer_text(a) for a in survey.offers),
                survey.note,
                survey.recorded_by.display_name if survey.recorded_by_id else "",
            ]

    area = filters.get("area")
    label = _("Two-way service surveys")
    return xlsx_export(
        request,
        header=header,
        rows=rows(),
        identifier="services.surveys",
        label=f"{label} · {area.name}" if area else label,
        sheet=label,
        filename="service-surveys",
        filters=form.logged_filters(),
        area=area,
    )


# ---------------------------------------------------------------- create and edit


def _form_page(request, form, *, survey, household, title):
    return render(
        request,
        "services/survey/survey_form.html",
        {"form": form, "survey": survey, "household": household, "title": title},
    )


def _choose_household(request):
    """Step one of recording a survey: find the household (search box), then choose it."""
    text = typed_text(request.GET.get("q"), 50)
    found = search_households(recordable_households(request.user), text) if text else []
    return render(
        request,
        "services/survey/household_choose.html",
        {"searched": text, "found": found},
    )


def _already_recorded(request, key: uuid.UUID):
    """A second tap or a resent form: the page of the survey already made under ``key``
    (404 if the user may not see it); ``None`` if there is none."""
    existing = Survey.objects.filter(submission_key=key).first()
    if existing is None:
        return None
    get_visible_or_404(Survey.objects.all(), request.user, pk=existing.pk)
    messages.info(request, _("This survey was already recorded."))
    return redirect("services:survey-detail", pk=existing.pk)


@scoped_view(VIEW, *ADD)
@require_http_methods(["GET", "POST"])
def survey_create(request):
    raw = request.GET.get("household")
    if not raw:
        if request.method == "POST":
            raise Http404
        if not _may_record_somewhere(request.user):
            messages.error(request, _("You may record surveys in no community."))
        return _choose_household(request)
    pk = whole_number(raw)
    if pk is None or not 0 < pk <= MAX_ID:
        raise Http404
    # A household the user may not survey is not there for them: 404, no hint.
    household = get_visible_or_404(recordable_households(request.user), request.user, pk=pk)
    title = _("Two-way service survey of %(address)s") % {"address": household.address}
    if request.method == "GET":
        initial = {"surveyed_on": timezone.localdate(), "submission_key": uuid.uuid4()}
        members = list(respondents(household))
        if members:
            heads = [p.pk for p in members if p.relation == Relation.HEAD]
            initial["respondent"] = (heads or [members[0].pk])[0]
        form = SurveyForm(initial=initial, household=household)
        return _form_page(request, form, survey=None, household=household, title=title)
    data = request.POST.copy()
    key = posted_submission_key(data)
    if key is not None:
        earlier = _already_recorded(request, key)
        if earlier is not None:
            return earlier
    key = key or uuid.uuid4()  # none or a garbled one: a fresh key
    data["submission_key"] = str(key)
    form = SurveyForm(data, household=household)
    if not form.is_valid():
        messages.error(request, _("Nothing was saved: correct the fields marked below."))
        return _form_page(request, form, survey=None, household=household, title=title)
    try:
        survey = form.save_for(request.user)
    except IntegrityError:
        # The same form sent twice at the same moment: the other request saved it.
        earlier = _already_recorded(request, key)
        if earlier is None:
            raise
        return earlier
    messages.success(request, _("Survey recorded."))
    return redirect("services:survey-detail", pk=survey.pk)


def _changeable(request, pk):
    records = Survey.objects.select_related("household__community", "respondent")
    return get_changeable_or_404(records, request.user, pk=pk)


@scoped_view(VIEW, *CHANGE)
@require_http_methods(["GET", "POST"])
def survey_edit(request, pk):
    survey = _changeable(request, pk)
    if survey.is_archived:
        messages.error(request, _("Restore this survey before editing it."))
        return redirect("services:survey-detail", pk=survey.pk)
    household = survey.household
    title = _("Edit the survey of %(date)s") % {"date": survey.surveyed_on.isoformat()}
    if request.method == "POST":
        form = SurveyForm(request.POST, instance=survey, household=household)
        if form.is_valid():
            form.save_for(request.user)
            messages.success(request, _("Survey saved."))
            return redirect("services:survey-detail", pk=survey.pk)
        messages.error(request, _("Nothing was saved: correct the fields marked below."))
    else:
        form = SurveyForm(instance=survey, household=household)
    return _form_page(request, form, survey=survey, household=household, title=title)


# ---------------------------------------------------------------- one survey


@scoped_view(VIEW)
@require_GET
def survey_detail(request, pk):
    records = Survey.objects.select_related(
        "household__community", "respondent", "recorded_by"
    ).prefetch_related("answers")
    survey = get_visible_or_404(records, request.user, pk=pk)
    _with_answers([survey])
    can_change = (
        request.user.has_perms(CHANGE)
        and Survey.objects.changeable_by(request.user).filter(pk=survey.pk).exists()
    )
    return render(
        request,
        "services/survey/survey_detail.html",
        {
            "survey": survey,
            "history": survey_history(survey),
            "can_change": can_change,
            "can_see_household": Household.objects.visible_to(request.user)
            .filter(pk=survey.household_id, archived_at__isnull=True)
            .exists(),
        },
    )


def _archived(request, pk, *, archived: bool):
    return archive_or_restore(
        request,
        _changeable(request, pk),
        archived=archived,
        done=_("Survey archived: it no longer shows in the lists or the summary.")
        if archived
        else _("Survey restored."),
        already=_("This survey is already archived.")
        if archived
        else _("This survey is not archived."),
        detail="services:survey-detail",
    )


@scoped_view(VIEW, *CHANGE)
@require_POST
def survey_archive(request, pk):
    return _archived(request, pk, archived=True)


@scoped_view(VIEW, *CHANGE)
@require_POST
def survey_restore(request, pk):
    return _archived(request, pk, archived=False)


# ---------------------------------------------------------------- the summary


def _period(filters, today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The period asked for; by default this year up to today. Dates typed the wrong way
    round are swapped."""
    start = filters.get("date_from") or today.replace(month=1, day=1)
    end = filters.get("date_to") or max(today, start)
    return (end, start) if start > end else (start, end)


@scoped_view(VIEW)
@require_GET
def survey_summary_page(request):
    """What households want and offer, per child area, beside the merchants that offer it:
    the categories wanted where no merchant offers them are the merchants to sign next."""
    form = SummaryForm(request.GET or None, user=request.user)
    filters = form.filters
    today = timezone.localdate()
    area = filters.get("area") or default_area(request.user, form.fields["area"].queryset)
    start, end = _period(filters, today)
    summary = survey_summary(request.user, area, start, end, today) if area else None
    if area is not None:  # show what is summarised, the defaults filled in
        form = SummaryForm({"area": area.pk, "date_from": start, "date_to": end}, user=request.user)
    return render(
        request,
        "services/survey/survey_summary.html",
        {"form": form, "summary": summary},
    )
