"""A figure with no list of records of its own (meetings due, festival visits due) links to
the page that shows what it counts: the compliance table for the same area and dates."""

import re

from django.urls import reverse


def test_meetings_due_opens_the_compliance_table_of_the_same_area_and_dates(world, login):
    client = login(world.pingjiang_staff)
    page = client.get(reverse("reports:summary"), {"area": world.pingjiang.pk, "period": "2025"})
    assert page.status_code == 200
    html = page.content.decode()
    links = re.findall(r'href="(/outreach/compliance/\?[^"]+)"', html)
    assert links, "the meetings due should link to the compliance table"
    link = links[0].replace("&amp;", "&")
    assert f"area={world.pingjiang.pk}" in link
    assert "date_from=2025-01-01" in link and "date_to=2025-12-31" in link
    assert client.get(link).status_code == 200
