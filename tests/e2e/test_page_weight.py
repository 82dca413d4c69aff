"""Page weight on phones (issue 8 §2): the liaison's quick-log pages transfer at most 100 KB
(compressed, everything the page loads) on a first visit and at most 15 KB on a repeat visit
with the cache warm; static files are compressed and cached for a year, immutable. Under
emulated slow 3G the time until the form can be used is recorded (and printed)."""

import pytest

from tests.e2e.site import PASSWORD
from tests.e2e.weight import FIRST_LOAD_BUDGET, REPEAT_BUDGET, measure, signed_in_state

pytestmark = pytest.mark.e2e

QUICK_LOG = [
    ("/outreach/log/", "a[href='/outreach/log/meeting/']"),
    ("/outreach/log/meeting/", "#log-meeting-form button[type=submit]"),
    ("/outreach/log/visit/", "main form button[type=submit]"),
]


@pytest.mark.parametrize(("path", "ready"), QUICK_LOG)
def test_quick_log_page_weight(site, browser, path, ready):
    weight = measure(browser, site, "pingjianglu_llz", PASSWORD, path, ready)
    print(
        f"\n{path}: first load {weight.first.bytes / 1024:.1f} KB, repeat "
        f"{weight.repeat.bytes / 1024:.1f} KB, usable after {weight.slow_3g_ms / 1000:.2f} s "
        "on slow 3G"
    )
    assert weight.first.bytes <= FIRST_LOAD_BUDGET, weight.first.requests
    assert weight.repeat.bytes <= REPEAT_BUDGET, weight.repeat.requests
    # A repeat visit asks the server for the page alone: every static file comes from the cache.
    assert [url for url, size in weight.repeat.requests if size] == [site.url(path)]
    assert 0 < weight.slow_3g_ms < 30_000


def test_static_files_compressed_and_cached_for_a_year(site, browser):
    state = signed_in_state(browser, site, "pingjianglu_llz", PASSWORD)
    context = browser.new_context(storage_state=state)
    page = context.new_page()
    answers = []
    page.on("response", lambda answer: answers.append(answer))
    page.goto(site.url("/outreach/log/meeting/"))
    page.wait_for_load_state("networkidle")
    statics = [a for a in answers if "/static/" in a.url]
    assert {a.url.rsplit(".", 1)[-1] for a in statics} >= {"css", "js"}
    for answer in statics:
        headers = answer.all_headers()
        assert "max-age=315360000" in headers["cache-control"], answer.url
        assert "immutable" in headers["cache-control"], answer.url
        if answer.url.endswith((".css", ".js")):
            assert headers.get("content-encoding") in {"br", "gzip"}, answer.url
    page_answer = next(a for a in answers if a.url == site.url("/outreach/log/meeting/"))
    assert page_answer.all_headers().get("content-encoding") == "gzip"
    context.close()
