"""The register's first page of a sub-district whose households were registered after the
others': PostgreSQL starts at the scope's first household (``from_scope_start``), and the rows
shown are exactly the scope's first rows in (household, id) order, filtered or not."""

import re

from django.db import connection
from django.urls import reverse

from residents.models import Person
from residents.selectors import flat_persons, from_scope_start, register_persons
from tests.factories import HouseholdFactory, PersonFactory


def names_on(html):
    return re.findall(r"[马白]\d+之\d", html)


def fill(world):
    # 平江 first (low household ids), then 沧浪's 道前社区, then more of 平江.
    for n in range(30):
        PersonFactory(household=HouseholdFactory(community=world.pingjianglu), name=f"白{n}之0")
    for n in range(30):
        household = HouseholdFactory(community=world.daoqian, address=f"道前街{n + 1}号")
        for m in range(2):
            PersonFactory(household=household, name=f"马{n}之{m}")
    for n in range(30, 40):
        PersonFactory(household=HouseholdFactory(community=world.ganjiang), name=f"白{n}之0")


def test_a_late_sub_district_sees_its_own_first_page(world, login):
    fill(world)
    expected = list(
        Person.objects.filter(community=world.daoqian)
        .order_by("household_id", "id")
        .values_list("name", flat=True)[:50]
    )
    html = login(world.canglang_staff).get(reverse("residents:person-list")).content.decode()
    assert names_on(html) == expected
    assert not any(name.startswith("白") for name in names_on(html))


def test_the_start_follows_the_chosen_community(world, login):
    fill(world)
    client = login(world.pingjiang_staff)
    url = reverse("residents:person-list") + f"?community={world.ganjiang.pk}"
    assert names_on(client.get(url).content.decode()) == [f"白{n}之0" for n in range(30, 40)]


def test_the_bound_is_a_bound_only(world):
    fill(world)
    user = world.canglang_staff
    everyone = register_persons(user)
    started = from_scope_start(everyone, user)
    if connection.vendor != "postgresql":
        assert started is everyone  # SQLite: no bound, the order alone
        return
    # As the list reads it (flat_persons joins the households the bound also applies to).
    assert [row.id for row in flat_persons(started)] == [row.id for row in flat_persons(everyone)]
    assert len(flat_persons(started)) == 60
    # 平江's staff choosing 干将社区, whose households came last: 平江路社区's are below it.
    chosen = from_scope_start(register_persons(world.pingjiang_staff), user, world.ganjiang)
    assert {row.community__name for row in flat_persons(chosen)} == {world.ganjiang.name}
