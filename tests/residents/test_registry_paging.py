"""Paging the register by cursor: every person once, forwards and back, and a deep page
costs the same queries as the first."""

import re

from django.urls import reverse

from tests.factories import HouseholdFactory, PersonFactory


def fill(world, households=45):
    for n in range(households):
        household = HouseholdFactory(community=world.daoqian, address=f"道前街{n + 1}号")
        for m in range(3):
            PersonFactory(household=household, name=f"马{n}之{m}", birth_date="1990-01-01")


def names_on(page_html):
    return re.findall(r"马\d+之\d", page_html)


def follow(client, url):
    html = client.get(url).content.decode()
    return html, names_on(html)


def link(html, label):
    match = re.search(r'href="(\?[^"]*)"[^>]*>' + label, html)
    return match and match.group(1).replace("&amp;", "&")


def test_next_and_previous_walk_every_person_once(world, login):
    fill(world)
    client = login(world.canglang_staff)
    base = reverse("residents:person-list")
    html, first = follow(client, base)
    seen, pages = list(first), [first]
    while next_url := link(html, "下一页|Next"):
        html, rows = follow(client, base + next_url)
        pages.append(rows)
        seen.extend(rows)
    assert len(seen) == 135 == len(set(seen))
    assert [len(p) for p in pages] == [50, 50, 35]
    back_url = link(html, "上一页|Previous")
    _html, previous = follow(client, base + back_url)
    assert previous == pages[1]


def test_cursor_keeps_search_and_filters(world, login):
    fill(world)
    client = login(world.canglang_staff)
    base = reverse("residents:person-list")
    html, first = follow(client, base + "?q=%E9%81%93%E5%89%8D%E8%A1%97")  # 道前街 (address)
    assert len(first) == 50
    html, second = follow(client, base + link(html, "下一页|Next"))
    assert len(second) == 50 and not set(first) & set(second)


def test_garbage_cursor_is_ignored(world, login):
    fill(world, households=2)
    client = login(world.canglang_staff)
    for cursor in ["abc", "1.2.3", "99999999999999999999.1", "-1.5", "1.\x00"]:
        response = client.get(reverse("residents:person-list"), {"after": cursor})
        assert response.status_code == 200
        assert len(names_on(response.content.decode())) == 6


def test_deep_page_by_cursor_costs_the_same_queries(world, login, django_assert_num_queries):
    fill(world)
    client = login(world.canglang_staff)
    url = reverse("residents:person-list")
    client.get(url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as first:
        html = client.get(url).content.decode()
    with CaptureQueriesContext(connection) as deep:
        client.get(url + link(html, "下一页|Next"))
    assert len(deep) == len(first)


def test_filter_options_are_escaped_and_keep_the_chosen_value(world, login):
    from network.models import Area, AreaLevel

    Area.objects.create(
        code="320508002009",
        name='<b>"新"社区</b>',
        level=AreaLevel.COMMUNITY,
        parent=world.canglang,
    )
    client = login(world.canglang_staff)
    page = client.get(reverse("residents:person-list"), {"community": world.daoqian.pk}).content
    page = page.decode()
    assert "<b>" not in page
    assert "&lt;b&gt;&quot;新&quot;社区&lt;/b&gt;" in page
    assert re.search(f'<option value="{world.daoqian.pk}" selected>[^<]*道前社区</option>', page)
