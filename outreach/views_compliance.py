"""Compliance pages for staff: what is due, done and overdue by unit, the households and
meetings behind each number, and the festival-visit list for the festivals ahead.

Every figure and every drill-down row comes from ``outreach.compliance``, so a number and
its list cannot disagree. Drill-down parameters that do not fit (an obligation or unit outside
the user's scope, a period that is not in the span) give 404, never a hint.
"""

import datetime
from urllib.parse import quote_plus

from django import forms
from django.db.models import Count, OuterRef, Q, Subquery
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import localize
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from network.models import Area, AreaLevel
from network.scoped import scoped_view
from outreach import compliance
from outreach.festivals import upcoming
from outreach.models import Festival, ObligationKind, Visit, VisitKind
from residents.models import Person, PersonStatus
from residents.pages import AreaField, ListFilterForm, page_of, style_widgets

PERMISSIONS = ("outreach.view_compliance",)
WHICH_LABELS = {
    "due": gettext_lazy("Due"),
    "done": gettext_lazy("Done"),
    "overdue": gettext_lazy("Overdue"),
}
UPCOMING_DAYS = 45
DRILL_PARAMS = ("obligation", "unit", "which", "period", "page")


class ComplianceForm(ListFilterForm):
    """Area and span (GET). A value that does not fit is dropped and said, never a 500."""

    area = AreaField(
        label=gettext_lazy("Area"),
        queryset=Area.objects.none(),
        required=False,
        empty_label=gettext_lazy("All I may see"),
    )
    year = forms.IntegerField(label=gettext_lazy("Year"), required=False)
    quarter = forms.TypedChoiceField(
        label=gettext_lazy("Quarter"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[
            ("", gettext_lazy("Whole year")),
            (1, gettext_lazy("Q1")),
            (2, gettext_lazy("Q2")),
            (3, gettext_lazy("Q3")),
            (4, gettext_lazy("Q4")),
        ],
    )
    date_from = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, data=None, *, user, today, **kwargs):
        super().__init__(data, **kwargs)
        self.today = today
        self.fields["area"].queryset = (
            Area.objects.visible_to(user).exclude(level=AreaLevel.DISTRICT).order_by("path")
        )
        self.fields["year"].widget = forms.Select(
            choices=[(y, y) for y in range(today.year, today.year - 6, -1)]
        )
        style_widgets(self.fields)

    def clean_year(self):
        year = self.cleaned_data.get("year")
        if year is not None and not 2000 <= year <= self.today.year:
            raise forms.ValidationError(_("Choose a year from 2000 to this year."))
        return year

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        problem = None
        if start and end and start > end:
            problem = _("The start date is after the end date.")
        elif start and (end or self.today) - start > datetime.timedelta(
            days=366 * compliance.MAX_SPAN_YEARS
        ):
            problem = _("Choose at most %(n)s years.") % {"n": compliance.MAX_SPAN_YEARS}
        if problem:
            self.add_error(None, problem)
            data.pop("date_from", None)
            data.pop("date_to", None)
        return data


def _context(request, *, cached=False):
    today = timezone.localdate()
    form = ComplianceForm(request.GET or None, user=request.user, today=today)
    filters = form.filters
    span = compliance.report_span(
        today,
        year=filters.get("year"),
        quarter=filters.get("quarter"),
        date_from=filters.get("date_from"),
        date_to=filters.get("date_to"),
    )
    context = compliance.build_context(
        request.user, area=filters.get("area"), span=span, today=today, cached=cached
    )
    return form, context


def _drill(request, context, kinds):
    """(obligation, units, occasions) named by ?obligation=&unit=&period=, or 404."""
    obligation = context.obligation(request.GET.get("obligation", ""))
    if obligation is None or obligation.kind not in kinds:
        raise Http404
    key = request.GET.get("unit", "")
    if key:
        unit = context.unit(obligation, key)
        if unit is None:
            raise Http404
        units = [unit]
    else:
        units = context.units_of(obligation)
    judged, current = compliance.occasions(obligation, context.span, context.today)
    period = request.GET.get("period", "")
    if period:
        chosen = [o for o in [*judged, current] if o is not None and o.key == period]
        if not chosen:
            raise Http404
    else:
        chosen = judged
    return obligation, units, chosen


def _which(request, allowed=compliance.WHICH):
    which = request.GET.get("which", "due")
    if which not in allowed:
        raise Http404
    return which


class DrillLinks:
    """The links from the report's numbers to the lists behind them, with the page's own
    filters kept (as ``{% querystring %}`` would), made once per page here rather than by a
    template tag per number: a district's report has hundreds of them."""

    def __init__(self, request):
        kept = request.GET.copy()
        for name in DRILL_PARAMS:
            kept.pop(name, None)
        self.kept = kept.urlencode()
        self.meetings = reverse("outreach:compliance-meetings")
        self.households = reverse("outreach:compliance-households")
        self.titles = {which: escape(label) for which, label in WHICH_LABELS.items()}

    def href(self, obligation, which: str, unit_key: str | None = None, period=None) -> str:
        path = self.meetings if obligation.kind == ObligationKind.MEETING else self.households
        params = [self.kept] if self.kept else []
        params.append(f"obligation={obligation.pk}")
        if unit_key:
            params.append(f"unit={quote_plus(unit_key)}")
        params.append(f"which={which}")
        if period:
            params.append(f"period={quote_plus(period)}")
        return f"{path}?{'&'.join(params)}"

    def hrefs(self, obligation, unit_key: str | None = None) -> dict[str, str]:
        return {which: self.href(obligation, which, unit_key) for which in compliance.WHICH}

    def cells(self, obligation, figures, unit_key: str | None = None) -> str:
        """Due, done and overdue as three table cells, each a link to its list."""
        overdue_css = ' class="link-secondary"'
        if figures.overdue:
            overdue_css = ' class="fw-bold link-danger"'
        return mark_safe(  # every value escaped here
            "".join(
                f'<td class="text-end"><a href="{escape(self.href(obligation, which, unit_key))}"'
                f' title="{self.titles[which]}"{css}>{escape(localize(getattr(figures, which)))}'
                "</a></td>"
                for which, css in (("due", ""), ("done", ""), ("overdue", overdue_css))
            )
        )

    def attach(self, report) -> None:
        """Give each figure and each column total its links."""
        for figure in report.figures:
            key = figure.unit.key
            figure.cells = self.cells(figure.obligation, figure, key)
            if figure.current:
                figure.current_links = {
                    which: self.href(figure.obligation, which, key, figure.current.key)
                    for which in ("due", "done")
                }
        for section in report.sections:
            for column in section.columns:
                for part in column.parts:
                    part.cells = self.cells(part.obligation, part.totals)
                    part.hrefs = self.hrefs(part.obligation)


@scoped_view(*PERMISSIONS)
@require_GET
def compliance_report(request):
    form, context = _context(request, cached=True)
    report = compliance.compliance_report(context)
    DrillLinks(request).attach(report)
    return render(
        request,
        "outreach/compliance/report.html",
        {"form": form, "report": report, "span": context.span, "today": context.today},
    )


def _members_of(household_ids):
    names: dict[int, list[str]] = {}
    members = (
        Person.objects.filter(
            household_id__in=household_ids, status=PersonStatus.ACTIVE, archived_at__isnull=True
        )
        .order_by("household_id", "pk")
        .values_list("household_id", "name")
    )
    for household_id, name in members:
        names.setdefault(household_id, []).append(name)
    return names


@scoped_view(*PERMISSIONS)
@require_GET
def compliance_households(request):
    form, context = _context(request)
    obligation, units, chosen = _drill(request, context, compliance.HOUSEHOLD_KINDS)
    which = _which(request)
    rows = compliance.household_rows(context, obligation, units, chosen, which)
    page = page_of(request, rows)
    names = _members_of([row["id"] for row in page.object_list])
    for row in page.object_list:
        row["occasion"] = chosen[row["occasion_index"]]
        row["members"] = names.get(row["id"], [])
    return render(
        request,
        "outreach/compliance/households.html",
        {
            "form": form,
            "span": context.span,
            "obligation": obligation,
            "unit": units[0] if request.GET.get("unit") else None,
            "occasions": chosen,
            "which": which,
            "which_choices": WHICH_LABELS.items(),
            "page": page,
        },
    )


@scoped_view(*PERMISSIONS)
@require_GET
def compliance_meetings(request):
    form, context = _context(request)
    obligation, units, chosen = _drill(request, context, {ObligationKind.MEETING})
    which = _which(request)
    if which == "done":
        rows = compliance.meetings_counted(context, obligation, units, chosen)
    else:
        rows = compliance.meeting_periods(context, obligation, units, chosen, which)
    return render(
        request,
        "outreach/compliance/meetings.html",
        {
            "form": form,
            "span": context.span,
            "obligation": obligation,
            "unit": units[0] if request.GET.get("unit") else None,
            "occasions": chosen,
            "which": which,
            "which_choices": WHICH_LABELS.items(),
            "page": page_of(request, rows),
        },
    )


# ---------------------------------------------------------------- festival visits


class FestivalVisitsForm(ListFilterForm):
    area = AreaField(
        label=gettext_lazy("Area"),
        queryset=Area.objects.none(),
        required=False,
        empty_label=gettext_lazy("All I may see"),
    )
    show = forms.ChoiceField(
        label=gettext_lazy("Show"),
        required=False,
        choices=[
            ("", gettext_lazy("All households")),
            ("todo", gettext_lazy("Not visited yet")),
            ("visited", gettext_lazy("Visited")),
        ],
    )

    def __init__(self, data=None, *, user, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["area"].queryset = (
            Area.objects.visible_to(user).exclude(level=AreaLevel.DISTRICT).order_by("path")
        )
        style_widgets(self.fields)


def _occasion_key(festival, day) -> str:
    return f"{festival.pk}:{day.isoformat()}"


@scoped_view(*PERMISSIONS, "outreach.view_festival")
@require_GET
def festival_visits(request):
    """The households to visit for each festival of the next 45 days (and of the past week,
    whose visits still count), with whether each has been visited yet."""
    today = timezone.localdate()
    form = FestivalVisitsForm(request.GET or None, user=request.user)
    filters = form.filters
    area = filters.get("area")
    festivals = Festival.objects.filter(is_active=True).prefetch_related("ethnicities")
    since = today - datetime.timedelta(days=compliance.GRACE_DAYS)
    ahead = upcoming(festivals, since, days=UPCOMING_DAYS + compliance.GRACE_DAYS)
    choices = []
    for festival, day in ahead:
        due = compliance.festival_households(request.user, festival, area)
        counts = due.aggregate(
            due=Count("pk"),
            visited=Count("pk", filter=Q(compliance.festival_visited(festival, day))),
        )
        choices.append(
            {
                "key": _occasion_key(festival, day),
                "festival": festival,
                "day": day,
                "days_left": (day - today).days,
                "days_ago": (today - day).days,
                **counts,
            }
        )
    wanted = request.GET.get("occasion", "")
    selected = next((c for c in choices if c["key"] == wanted), choices[0] if choices else None)
    page = None
    if selected is not None:
        festival, day = selected["festival"], selected["day"]
        window = datetime.timedelta(days=compliance.WINDOW_DAYS)
        last_visit = (
            Visit.objects.filter(
                household=OuterRef("pk"),
                archived_at__isnull=True,
                kind=VisitKind.FESTIVAL,
                festival_id=festival.pk,
                visited_on__gte=day - window,
                visited_on__lte=day + window,
            )
            .order_by("-visited_on")
            .values("visited_on")[:1]
        )
        households = (
            compliance.festival_households(request.user, festival, area)
            .annotate(visited_on=Subquery(last_visit))
            .select_related("community")
            .order_by("community__path", "address", "pk")
        )
        if filters.get("show") == "todo":
            households = households.filter(visited_on__isnull=True)
        elif filters.get("show") == "visited":
            households = households.filter(visited_on__isnull=False)
        page = page_of(request, households)
        names = _members_of([h.pk for h in page.object_list])
        for household in page.object_list:
            household.member_names = names.get(household.pk, [])
    return render(
        request,
        "outreach/compliance/festival_visits.html",
        {
            "form": form,
            "choices": choices,
            "selected": selected,
            "page": page,
            "today": today,
            "days": UPCOMING_DAYS,
        },
    )
