"""Browser tests (issue 8 §1): headless Chromium from Debian, driven by Playwright, against
the demo district served by gunicorn (tests/e2e/site.py).

They are not part of ``make test`` (each module is marked ``e2e``, which pyproject's addopts
deselect) but run by ``make e2e``, which .ci/run runs too. Each flow starts on the login page
and leaves a screenshot of its last page in ``$TONGXIN_E2E_SCREENSHOTS`` (default
build/e2e-screenshots).

``TONGXIN_E2E_DATABASE_URL`` (a PostgreSQL database, emptied first) serves the site from
PostgreSQL instead of a SQLite file. ``TONGXIN_E2E_RUNNING=<dir>`` uses a site already
started by ``python -m tests.e2e.site <dir>`` (its ``url`` and ``env.json``), to write tests
without seeding for each run.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.e2e.site import CHROMIUM, PASSWORD, ROOT, Site, start_site

SCREENSHOTS = Path(os.environ.get("TONGXIN_E2E_SCREENSHOTS", ROOT / "build" / "e2e-screenshots"))
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 360, "height": 740}


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    running = os.environ.get("TONGXIN_E2E_RUNNING")  # a site already up (while writing tests)
    if running:
        workdir = Path(running)
        env = json.loads((workdir / "env.json").read_text())
        yield Site(base_url=(workdir / "url").read_text().strip(), env=env, workdir=workdir)
        return
    site = start_site(
        tmp_path_factory.mktemp("e2e-site"),
        database_url=os.environ.get("TONGXIN_E2E_DATABASE_URL") or None,
    )
    yield site
    site.stop()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def screenshots():
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)
    return SCREENSHOTS


def _page(browser, screenshots, request, **options):
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **options)
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.console_errors = errors  # a test expecting an error answer clears them
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console",
        lambda message: errors.append(message.text) if message.type == "error" else None,
    )
    yield page
    page.screenshot(path=str(screenshots / f"{request.node.name}.png"), full_page=True)
    context.close()
    # A script error or a refused resource (a CSP violation is one) is a broken page.
    assert not errors, errors


@pytest.fixture
def desktop(browser, screenshots, request):
    yield from _page(browser, screenshots, request, viewport=DESKTOP)


@pytest.fixture
def phone(browser, screenshots, request):
    yield from _page(
        browser,
        screenshots,
        request,
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
    )


def sign_in(page, site, username: str, *, start: str = "/") -> None:
    """From the login page, as a user does: the page asked for, redirected to sign in."""
    page.goto(site.url(start))
    assert "/login/" in page.url
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lambda url: "/login/" not in url)
