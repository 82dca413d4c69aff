"""An area's yearly budget (经费) and what was spent beside it.

Spent on activities: the costs of the meetings and activities (not archived) held that year
by the area or any area under it. Spent on assistance: the cash and goods given on visits
(not archived) made that year in the area's subtree. Assistance given as a *service* (a free
haircut, legal advice) is valued in yuan on the visit but is not money paid out of the budget
— a volunteer or partner merchant gives it — so it is shown beside the spending
(``services``) and not counted in it.

``budget_summaries`` works out any number of areas of one subtree in four queries (budgets,
meeting costs by area, assistance by community, the area paths), so a list of a sub-district's
communities costs the same as one area.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, Sum

from network.models import Area
from outreach.models import Assistance, AssistanceKind, Meeting
from reports.models import Budget

ZERO = Decimal("0.00")
SPENDING_KINDS = (AssistanceKind.CASH, AssistanceKind.GOODS)


@dataclass
class BudgetSummary:
    area: Area
    year: int
    budget: Budget | None  # the row set for the area and year, if any
    activities: Decimal = ZERO  # meeting and activity costs
    assistance: Decimal = ZERO  # cash and goods given on visits
    services: Decimal = ZERO  # services given on visits, valued; not counted as spent

    @property
    def amount(self) -> Decimal | None:
        return self.budget.amount if self.budget is not None else None

    @property
    def note(self) -> str:
        return self.budget.note if self.budget is not None else ""

    @property
    def total(self) -> Decimal:
        return self.activities + self.assistance

    @property
    def remaining(self) -> Decimal | None:
        return None if self.amount is None else self.amount - self.total

    @property
    def share_spent(self) -> Decimal | None:
        """What was spent as a percentage of the budget, to one decimal; None without a
        budget (or with a budget of nothing)."""
        if not self.amount:
            return None
        return (self.total * 100 / self.amount).quantize(Decimal("0.1"))

    @property
    def overspent(self) -> bool:
        return self.remaining is not None and self.remaining < 0


def budget_summary(area: Area, year: int) -> BudgetSummary:
    """The budget of ``area`` for ``year`` and what its subtree spent that year."""
    return budget_summaries([area], year)[0]


def budget_summaries(areas: list[Area], year: int) -> list[BudgetSummary]:
    """``budget_summary`` for each of ``areas`` (in their order), in four queries whatever
    their number; all of ``areas`` lie in the subtree of the widest of them."""
    if not areas:
        return []
    top = min(areas, key=lambda a: len(a.path))
    subtree = Q(path__startswith=top.path)
    paths = dict(Area.objects.filter(subtree).values_list("pk", "path"))
    for area in areas:
        paths.setdefault(area.pk, area.path)
    budgets = {
        b.area_id: b for b in Budget.objects.filter(area__in=[a.pk for a in areas], year=year)
    }
    meeting_costs = dict(
        Meeting.objects.filter(
            archived_at__isnull=True,
            held_on__year=year,
            area__path__startswith=top.path,
        )
        .order_by()
        .values("area")
        .annotate(total=Sum("cost"))
        .values_list("area", "total")
    )
    given: dict[int, tuple[Decimal, Decimal]] = {}
    for community, spent, services in (
        Assistance.objects.filter(
            visit__archived_at__isnull=True,
            visit__visited_on__year=year,
            visit__community__path__startswith=top.path,
        )
        .order_by()
        .values("visit__community")
        .annotate(
            spent=Sum("value", filter=Q(kind__in=SPENDING_KINDS)),
            services=Sum("value", filter=Q(kind=AssistanceKind.SERVICE)),
        )
        .values_list("visit__community", "spent", "services")
    ):
        given[community] = (spent or ZERO, services or ZERO)

    def under(area: Area, groups: dict):
        return [v for pk, v in groups.items() if paths.get(pk, "\0").startswith(area.path)]

    summaries = []
    for area in areas:
        spent = under(area, given)
        summaries.append(
            BudgetSummary(
                area=area,
                year=year,
                budget=budgets.get(area.pk),
                activities=sum((c or ZERO for c in under(area, meeting_costs)), ZERO),
                assistance=sum((s for s, _ in spent), ZERO),
                services=sum((v for _, v in spent), ZERO),
            )
        )
    return summaries
