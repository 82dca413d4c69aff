"""Page weight of the liaison's quick-log pages on a phone (issue 8 §2).

``python -m bench weight`` serves the demo district with gunicorn and the production settings
(tests/e2e/site.py: whitenoise's compressed, immutable static files, gzip-compressed pages)
from a fresh PostgreSQL database (default ``tongxin_weight``; ``--database-url``), opens each
quick-log page as the liaison ``pingjianglu_llz`` in Debian's headless Chromium at 360×740
(tests/e2e/weight.py), and writes the bytes transferred on a first visit (empty cache) and a
repeat visit (warm cache), and the time until the form can be used on emulated slow 3G, to
docs/performance.md. The browser test tests/e2e/test_page_weight.py holds the same budgets.
"""

import argparse
import datetime
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from bench import common

SECTION = "## Page weight"
PAGES = [
    ("Quick log, start", "/outreach/log/", "a[href='/outreach/log/meeting/']"),
    ("Quick log, a meeting", "/outreach/log/meeting/", "#log-meeting-form button[type=submit]"),
    ("Quick log, a visit", "/outreach/log/visit/", "main form button[type=submit]"),
]
DEFAULT_DATABASE = "postgres://tongxin:tongxin@127.0.0.1:5432/tongxin_weight"


def _kb(size: float) -> str:
    return f"{size / 1024:.1f} KB"


def measure_all(database_url: str, runs: int) -> dict:
    from playwright.sync_api import sync_playwright

    from tests.e2e.site import CHROMIUM, PASSWORD, start_site
    from tests.e2e.weight import measure

    work = Path(tempfile.mkdtemp(prefix="tongxin-weight-"))
    site = start_site(work, database_url=database_url)
    results = {}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM)
            for label, path, ready in PAGES:
                loads = [
                    measure(browser, site, "pingjianglu_llz", PASSWORD, path, ready)
                    for _ in range(runs)
                ]
                first = loads[0].first
                results[label] = {
                    "path": path,
                    "first": statistics.median(w.first.bytes for w in loads),
                    "repeat": statistics.median(w.repeat.bytes for w in loads),
                    "slow_3g_ms": statistics.median(w.slow_3g_ms for w in loads),
                    "parts": sorted(
                        (
                            (url.split("/static/")[-1] if "/static/" in url else path, size)
                            for url, size in first.requests
                            if size
                        ),
                        key=lambda part: -part[1],
                    ),
                }
            browser.close()
    finally:
        site.stop()
        shutil.rmtree(work, ignore_errors=True)
    return results


def report(argv: list[str], results: dict, runs: int) -> tuple[str, list]:
    from tests.e2e.weight import FIRST_LOAD_BUDGET, REPEAT_BUDGET

    targets = []
    lines = [
        SECTION,
        "",
        f"Measured {common.machine_line()}; headless Chromium "
        "(Debian's `chromium`) at 360×740 with touch, driven by Playwright, against gunicorn with "
        f"the production settings on 127.0.0.1. Median of {runs} runs per page. Bytes are what "
        "Chromium's network layer counts as transferred (compressed bodies and headers).",
        "",
        *common.command_block("weight", argv),
        "",
        "| page | first visit | target | met | repeat visit | target | met | usable on slow 3G |",
        "|---|---:|---:|---|---:|---:|---|---:|",
    ]
    for label, result in results.items():
        first = common.at_most(
            SECTION[3:],
            f"{label}: first visit",
            result["first"] / 1024,
            FIRST_LOAD_BUDGET / 1024,
            " KB",
        )
        repeat = common.at_most(
            SECTION[3:],
            f"{label}: repeat visit",
            result["repeat"] / 1024,
            REPEAT_BUDGET / 1024,
            " KB",
        )
        targets += [first, repeat]
        lines.append(
            f"| {label} (`{result['path']}`) | {_kb(result['first'])} | ≤ 100 KB | "
            f"{first.verdict} | {_kb(result['repeat'])} | ≤ 15 KB | {repeat.verdict} | "
            f"{result['slow_3g_ms'] / 1000:.2f} s |"
        )
    lines += [
        "",
        '"Usable on slow 3G": 400 kbit/s each way and 400 ms round trip (Chromium\'s network '
        "emulation, cache off), from the start of the navigation until the page's scripts have "
        "run (DOMContentLoaded ended) with the form's button on screen.",
        "",
        "What a first visit transfers (the first run), largest first:",
        "",
    ]
    for label, result in results.items():
        parts = ", ".join(f"{name} {_kb(size)}" for name, size in result["parts"])
        lines.append(f"- {label}: {parts}")
    lines += [
        "",
        "A repeat visit asks the server for the page alone: the static files have hashed names "
        "and are sent with `Cache-Control: max-age=315360000, public, immutable`, so the "
        "browser does not ask again (tests/e2e/test_page_weight.py checks the headers).",
    ]
    for target in targets:
        if target.met is False:
            lines += ["", f"{target.name}: {target.gap}. {common.reason_line(target)}"]
    return "\n".join(lines) + "\n", targets


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench weight", description=__doc__)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--output", type=Path, default=common.OUTPUT)
    parser.add_argument("--no-write", action="store_true", help="print, do not write the docs")
    args = parser.parse_args(argv)
    if "weight" not in args.database_url.rsplit("/", 1)[-1]:
        print("refusing to empty a database whose name does not contain 'weight'", file=sys.stderr)
        return 2
    started = datetime.datetime.now()
    results = measure_all(args.database_url, args.runs)
    text, targets = report(argv, results, args.runs)
    print(text)
    common.record(targets)
    if not args.no_write:
        common.write_section(text, args.output, SECTION)
    print(
        f"page weight measured in {(datetime.datetime.now() - started).seconds} s", file=sys.stderr
    )
    return 0 if all(t.met for t in targets) else 1
