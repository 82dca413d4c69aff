"""A community liaison on a phone (360×740, touch): log a liaison meeting with its attendees
in a few taps; the draft survives a reload; submitting twice records one meeting. And a
household of another community, typed into the address bar, is not found."""

import json
import time

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e

COUNT_MEETINGS = """
from outreach.models import Meeting
print(Meeting.objects.filter(minutes__contains={marker!r}).count())
"""


def test_log_a_meeting_in_a_few_taps(site, phone):
    page = phone
    sign_in(page, site, "pingjianglu_llz")
    page.get_by_role("link", name="快速记录").tap()
    page.wait_for_url("**/outreach/log/")
    page.get_by_role("link", name="记一次会议").tap()
    page.wait_for_url("**/outreach/log/meeting/")

    marker = f"会议{time.time_ns()}"
    minutes = f"学习民族团结进步创建工作要点，商议重阳节敬老活动分工。{marker}"
    form = page.locator("#log-meeting-form")
    form.get_by_text("联络员会议", exact=True).tap()
    assert form.get_by_label("白梅").is_checked()  # the liaison logging it: ticked already
    form.get_by_text("纳立新", exact=True).tap()
    form.get_by_text("马丽华", exact=True).tap()
    form.get_by_label("地点").fill("平江路社区民族之家")
    form.get_by_label("会议记录").fill(minutes)

    # The connection drops, the page is reloaded: what was typed is still there.
    page.reload()
    expect(page.get_by_text("已恢复草稿")).to_be_visible()
    assert form.get_by_label("会议记录").input_value() == minutes
    assert form.get_by_label("联络员会议").is_checked()
    assert form.get_by_label("纳立新").is_checked() and form.get_by_label("马丽华").is_checked()
    assert not form.get_by_label("沈美玲").is_checked()

    # The same form sent twice (an impatient double tap, then a resend of the same form).
    sent = form.evaluate("f => Object.fromEntries(new FormData(f).entries())")
    sent["attending_liaisons"] = form.evaluate("f => new FormData(f).getAll('attending_liaisons')")
    button = page.get_by_role("button", name="保存会议")
    button.dblclick()
    page.wait_for_url("**/outreach/log/done/meeting/*/")
    done_url = page.url
    assert "会议已记录" in page.inner_text("main")
    assert "白梅、纳立新、马丽华" in page.inner_text("main")
    resend = page.request.post(
        site.url("/outreach/log/meeting/"),
        multipart=None,
        form=None,
        data=_urlencoded(sent),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Referer": site.url("/outreach/log/meeting/"),
        },
    )
    assert resend.ok and resend.url == done_url  # the meeting already recorded
    assert site.shell(COUNT_MEETINGS.format(marker=marker)) == "1"

    # Recorded: the draft is gone, the form opens empty.
    page.goto(site.url("/outreach/log/meeting/"))
    assert not page.get_by_text("已恢复草稿").is_visible()
    assert page.get_by_label("会议记录").input_value() == ""
    page.goto(done_url)


def _urlencoded(values: dict) -> str:
    from urllib.parse import urlencode

    pairs = []
    for name, value in values.items():
        for one in value if isinstance(value, list) else [value]:
            pairs.append((name, one))
    return urlencode(pairs)


FOREIGN_HOUSEHOLD = """
import json
from residents.models import Household
household = Household.objects.filter(community__name="道前社区").first()
print(json.dumps({"pk": household.pk, "address": household.address}))
"""


def test_another_communitys_household_is_not_found(site, phone):
    household = json.loads(site.shell(FOREIGN_HOUSEHOLD))
    page = phone
    sign_in(page, site, "pingjianglu_llz")
    for path in (
        f"/register/households/{household['pk']}/",
        f"/outreach/visits/new/?household={household['pk']}",
    ):
        answer = page.goto(site.url(path))
        assert answer.status == 404
        assert page.get_by_role("heading", name="页面不存在").is_visible()
        assert "不在您负责的区域内" in page.inner_text("main")
        assert household["address"] not in page.content()
    page.console_errors.clear()  # the two 404 answers, expected
