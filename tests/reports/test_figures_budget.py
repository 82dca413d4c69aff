"""The budget figures of the summary (seed 003: 每年下拨X万多元): an area's own budget for the
period's year, else those of the areas below it; what was spent beside it."""

from decimal import Decimal

from reports import catalogue
from reports.models import Budget
from reports.periods import parse_period
from tests.reports.test_budget import meeting

KEYS = ["budget", "budget_spent", "budget_spent_share"]
YEAR = parse_period("2025")


def test_budget_spent_and_share_for_a_sub_district_its_communities_and_the_district(world):
    Budget.objects.create(area=world.pingjiang, year=2025, amount=Decimal("50000"), note="年初预算")
    Budget.objects.create(area=world.pingjianglu, year=2025, amount=Decimal("8000"))
    Budget.objects.create(area=world.daoqian, year=2025, amount=Decimal("6000"))
    Budget.objects.create(area=world.pingjiang, year=2024, amount=Decimal("1"))  # another year
    meeting(world.pingjiang, Decimal("1500.00"))
    meeting(world.pingjianglu, Decimal("500.00"))
    meeting(world.pingjianglu, Decimal("999.00"), archived=True)
    areas = [world.district, world.pingjiang, world.pingjianglu, world.ganjiang, world.canglang]
    found = catalogue.compute(KEYS, areas, YEAR)

    def value(key, area):
        return found.value(key, area)

    # its own budget, not its own plus its community's
    assert value("budget", world.pingjiang) == Decimal("50000.00")
    assert value("budget", world.pingjianglu) == Decimal("8000.00")
    assert value("budget", world.ganjiang) is None  # nothing set, nothing below
    # 沧浪街道 has none of its own: 道前社区's; the district adds up its sub-districts'
    assert value("budget", world.canglang) == Decimal("6000.00")
    assert value("budget", world.district) == Decimal("56000.00")
    assert value("budget_spent", world.pingjiang) == Decimal("2000.00")
    assert value("budget_spent", world.pingjianglu) == Decimal("500.00")
    assert value("budget_spent_share", world.pingjiang) == Decimal("4.0")
    assert value("budget_spent_share", world.ganjiang) is None
    listed = catalogue.records("budget", world.district, YEAR)
    assert sum(b.amount for b in listed) == value("budget", world.district)
