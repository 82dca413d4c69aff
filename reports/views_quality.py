"""The data-quality page and the budget pages (issue 6, section 3).

An area picked in the query string or the URL that the user may not see is a 404; a period or
year that cannot be read is said in a message on the page and nothing is worked out. Setting
a budget needs the budget permissions and an area the user manages (a community sees its
budget; its sub-district sets it).
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from network.access import can_change_area, can_see_area, get_visible_or_404, scope_for
from network.models import Area
from network.scoped import scoped_view
from reports.budget import budget_summaries
from reports.forms_quality import AreaPeriodForm, AreaYearForm, BudgetForm
from reports.models import Budget
from reports.periods import FIRST_YEAR, LAST_YEAR, PeriodError, parse_period
from reports.quality import quality_checks
from residents.pages import history_entries
from residents.typed_input import MAX_ID, whole_number


def chosen_area(request, raw=None) -> Area:
    """The area named by ``?area=`` (404 when the user may not see it or it is no number),
    else the user's own area: that of their first post, or the top of the tree."""
    raw = request.GET.get("area") if raw is None else raw
    visible = Area.objects.visible_to(request.user).filter(is_active=True)
    if raw not in (None, ""):
        pk = whole_number(raw)
        if pk is None or not 0 < pk <= MAX_ID:
            raise Http404
        return get_visible_or_404(visible, request.user, pk=pk)
    own = visible.filter(pk__in=scope_for(request.user).area_ids).order_by("path").first()
    area = own or visible.order_by("path").first()
    if area is None:
        raise Http404
    return area


def _year(raw, default: int) -> tuple[int | None, str]:
    """(year, "") or (None, a message for the user)."""
    if raw in (None, ""):
        return default, ""
    year = whole_number(raw)
    if year is None or not FIRST_YEAR <= year <= LAST_YEAR:
        return None, _("“%(text)s” is not a year: write a year from %(first)s to %(last)s.") % {
            "text": str(raw)[:20],
            "first": FIRST_YEAR,
            "last": LAST_YEAR,
        }
    return year, ""


def _may_set_budget(user, area: Area, exists: bool) -> bool:
    permission = "reports.change_budget" if exists else "reports.add_budget"
    return user.has_perm(permission) and can_change_area(user, area)


# ---------------------------------------------------------------- data-quality checks


@scoped_view("reports.view_summary")
@require_GET
def quality(request):
    area = chosen_area(request)
    raw_period = request.GET.get("period") or str(timezone.localdate().year)
    period, error, checks = None, "", []
    try:
        period = parse_period(raw_period)
    except PeriodError as exc:
        error = str(exc)
    if period is not None:
        checks = quality_checks(request.user, area, period)
    form = AreaPeriodForm(
        initial={"area": area.pk, "period": period.key if period else raw_period[:40]},
        user=request.user,
    )
    return render(
        request,
        "reports/quality.html",
        {
            "area": area,
            "period": period,
            "error": error,
            "checks": checks,
            "form": form,
            "problems": sum(1 for check in checks if check.count),
        },
    )


# ---------------------------------------------------------------- budgets


@scoped_view("reports.view_budget")
@require_GET
def budget_list(request):
    """The chosen area and its child areas, each with its budget for the year and what was
    spent beside it (a fixed number of queries whatever the number of rows)."""
    user = request.user
    area = chosen_area(request)
    year, error = _year(request.GET.get("year"), timezone.localdate().year)
    rows = []
    if year is not None:
        children = list(
            Area.objects.visible_to(user)
            .filter(parent=area, is_active=True)
            .order_by(F("code").asc(nulls_last=True), "name", "pk")  # zones after, everywhere
        )
        rows = budget_summaries([area, *children], year)
        may_add = user.has_perm("reports.add_budget")
        may_change = user.has_perm("reports.change_budget")  # the edit page needs it
        for row in rows:
            allowed = may_change and (row.budget is not None or may_add)
            row.edit_url = (
                reverse("reports:budget-edit", args=[row.area.pk, year])
                if allowed and can_change_area(user, row.area)
                else ""
            )
    form = AreaYearForm(
        initial={"area": area.pk, "year": year or request.GET.get("year", "")[:10]}, user=user
    )
    return render(
        request,
        "reports/budget_list.html",
        {"area": area, "year": year, "error": error, "rows": rows, "form": form},
    )


@scoped_view("reports.view_budget", "reports.change_budget")
@require_http_methods(["GET", "POST"])
def budget_edit(request, area_pk: int, year: int):
    user = request.user
    if not FIRST_YEAR <= year <= LAST_YEAR or area_pk > MAX_ID:
        raise Http404
    area = get_visible_or_404(Area.objects.filter(is_active=True), user, pk=area_pk)
    budget = Budget.objects.filter(area=area, year=year).first()
    if not _may_set_budget(user, area, exists=budget is not None):
        raise PermissionDenied(_("You may see this budget but not set it."))
    form = BudgetForm(request.POST or None, instance=budget)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                Budget.objects.update_or_create(
                    area=area,
                    year=year,
                    defaults={
                        "amount": form.cleaned_data["amount"],
                        "note": form.cleaned_data["note"],
                    },
                )
        except IntegrityError:
            # someone else set the same budget at the same moment
            messages.error(request, _("The budget was changed meanwhile; please try again."))
        else:
            messages.success(
                request,
                _("The budget of %(area)s for %(year)s is saved.")
                % {"area": area.name, "year": year},
            )
            back = area.parent if area.parent and can_see_area(user, area.parent) else area
            return redirect(f"{reverse('reports:budget-list')}?area={back.pk}&year={year}")
    history = history_entries(budget.history.select_related("history_user")) if budget else []
    return render(
        request,
        "reports/budget_form.html",
        {
            "area": area,
            "year": year,
            "budget": budget,
            "form": form,
            "history": history,
            "summary": budget_summaries([area], year)[0],
        },
    )
