"""Page weight of a page as a phone receives it (issue 8 §2), measured by Chromium itself.

``measure(browser, site, username, path)`` signs the user in through the login form in a
context of its own, then opens ``path`` in a fresh context holding only the session cookie
(an empty browser cache): the bytes that page's first load transfers (HTML, CSS, JS, fonts,
icons, compressed as sent, headers included) as Chromium's network layer counts them
(``Network.loadingFinished.encodedDataLength``). Then the same page again in the same
context, as on a repeat visit with the cache warm. Then, in another fresh context, the first
load under emulated slow 3G (400 kbit/s each way, 400 ms round trip): the milliseconds from
the navigation until the form can be used (its submit button visible and every deferred
script run, i.e. DOMContentLoaded has finished).
"""

from __future__ import annotations

from dataclasses import dataclass, field

PHONE = {"width": 360, "height": 740}
SLOW_3G = {
    "offline": False,
    "latency": 400,  # ms round trip
    "downloadThroughput": 400_000 / 8,  # bytes per second
    "uploadThroughput": 400_000 / 8,
}
FIRST_LOAD_BUDGET = 100 * 1024
REPEAT_BUDGET = 15 * 1024


@dataclass
class Load:
    bytes: int = 0
    requests: list[tuple[str, int]] = field(default_factory=list)  # (url, bytes)


@dataclass
class Weight:
    path: str
    first: Load
    repeat: Load
    slow_3g_ms: float

    def rows(self) -> list[tuple[str, int]]:
        return self.first.requests


def phone_context(browser, **options):
    return browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2, **options
    )


def signed_in_state(browser, site, username: str, password: str) -> dict:
    """The cookies of a user signed in through the login form (in a throw-away context)."""
    context = phone_context(browser)
    page = context.new_page()
    page.goto(site.url("/login/"))
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form[action='/login/'] button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)
    state = context.storage_state()
    context.close()
    return state


def _load(page, url: str, ready_selector: str) -> Load:
    """Open ``url``; every response's transferred bytes until the page has loaded."""
    session = page.context.new_cdp_session(page)
    session.send("Network.enable")
    urls: dict[str, str] = {}
    load = Load()

    def sent(event):
        urls[event["requestId"]] = event["request"]["url"]

    def finished(event):
        size = int(event["encodedDataLength"])
        load.bytes += size
        load.requests.append((urls.get(event["requestId"], "?"), size))

    session.on("Network.requestWillBeSent", sent)
    session.on("Network.loadingFinished", finished)
    page.goto(url, wait_until="load")
    page.wait_for_selector(ready_selector, state="visible")
    page.wait_for_load_state("networkidle")
    session.detach()
    return load


def measure(browser, site, username: str, password: str, path: str, ready_selector: str):
    state = signed_in_state(browser, site, username, password)
    context = phone_context(browser, storage_state=state)
    page = context.new_page()
    first = _load(page, site.url(path), ready_selector)
    page.goto(site.url("/"))  # away, then back as a user would come back to the page
    repeat = _load(page, site.url(path), ready_selector)
    context.close()

    context = phone_context(browser, storage_state=state)
    page = context.new_page()
    session = context.new_cdp_session(page)
    session.send("Network.enable")
    session.send("Network.setCacheDisabled", {"cacheDisabled": True})
    session.send("Network.emulateNetworkConditions", SLOW_3G)
    page.goto(site.url(path), wait_until="domcontentloaded", timeout=60_000)
    page.wait_for_selector(ready_selector, state="visible", timeout=60_000)
    usable_ms = page.evaluate(
        "() => { const n = performance.getEntriesByType('navigation')[0];"
        " return n.domContentLoadedEventEnd - n.startTime; }"
    )
    context.close()
    return Weight(path=path, first=first, repeat=repeat, slow_3g_ms=float(usable_ms))
