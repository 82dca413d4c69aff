"""Street-office staff at a desktop browser (1366×768): find a household by the pinyin
initials of a member, log a visit with a follow-up, and see it on the household's timeline."""

import datetime
import json

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import sign_in
from tests.e2e.site import site_today

pytestmark = pytest.mark.e2e

FIND_MEMBER = """
import json
from collections import Counter
from residents.models import Person
people = list(Person.objects.filter(
    household__community__name="平江路社区", archived_at=None, household__archived_at=None,
    status="active",
).select_related("household"))
count = Counter(p.name_initials for p in Person.objects.all())
person = next(p for p in people if len(p.name_initials) == 3 and count[p.name_initials] == 1)
print(json.dumps({"name": person.name, "initials": person.name_initials,
                  "household": person.household_id, "address": person.household.address}))
"""


def test_find_by_initials_log_a_visit_with_a_follow_up(site, desktop):
    member = json.loads(site.shell(FIND_MEMBER))
    page = desktop
    sign_in(page, site, "pingjiang")

    page.get_by_role("link", name="台账").first.click()
    search = page.get_by_role("searchbox").or_(page.locator("input[name=q]")).first
    search.fill(member["initials"].upper())  # as typed, capitals and all
    search.press("Enter")
    page.wait_for_url(f"**q={member['initials'].upper()}**")
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(1)
    rows.first.get_by_role("link", name=member["name"]).click()
    page.wait_for_url(lambda url: f"/register/households/{member['household']}/" in url)
    assert member["address"] in page.inner_text("h1")

    page.get_by_role("link", name="登记走访").click()
    page.wait_for_url("**/outreach/visits/new/**")
    today = site_today()
    learned = "老人腿脚不便，近来很少下楼，希望社区卫生服务站上门测血压。"
    action = "联系平江社区卫生服务站上门测血压"
    page.get_by_label("日期", exact=True).fill(today.isoformat())
    page.get_by_label("类别", exact=True).first.select_option(label="关心访问")
    page.get_by_label("了解到的情况").fill(learned)
    page.get_by_label("事项").first.fill(action)
    due = today + datetime.timedelta(days=7)
    page.get_by_label("期限").first.fill(due.isoformat())
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(lambda url: "/new/" not in url)
    saved = page.inner_text("main")  # the visit's own page
    assert action in saved and due.isoformat() in saved

    page.goto(site.url(f"/register/households/{member['household']}/"))
    timeline = page.locator("main").inner_text()
    assert learned in timeline
    entry = page.locator("li, .list-group-item, article").filter(has_text=learned).last
    assert "1 项后续事项未办结" in entry.inner_text()
    assert today.isoformat() in entry.inner_text()
