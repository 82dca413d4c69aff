"""What every benchmark shares: the machine, the child processes, timing pages against the
stock admin, targets with their verdicts, and writing a section of docs/performance.md.

A benchmark's parent process (``main``) never sets Django up: it starts one child process
per database (``run_child``), each of which measures and hands back JSON, then writes its
section and records its targets here (``record``), where ``python -m bench`` collects them
for the summary.
"""

import datetime
import json
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "performance.md"
QUERY_LIMIT = 15  # the most SQL queries a list or detail page may run
REASON_PLACEHOLDER = "Reason: (to be written)"

# Filled while benchmarks run in this process; ``python -m bench`` reads them.
RECORDED: list["Target"] = []
WRITTEN: list[tuple[str, Path]] = []
RUN_BY: str | None = None  # the whole command, when ``python -m bench`` runs the benchmark


# ---------------------------------------------------------------------------- the machine


def machine() -> dict:
    model = ""
    with open("/proc/cpuinfo", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = ""
    with open("/proc/meminfo", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    return {
        "cores": os.cpu_count(),
        "memory": memory,
        "cpu": model or platform.processor(),
        "python": platform.python_version(),
    }


def machine_line() -> str:
    m = machine()
    return (
        f"{datetime.date.today():%Y-%m-%d} on {m['cpu']}, {m['cores']} cores, {m['memory']} RAM, "
        f"Python {m['python']}"
    )


def python_path() -> str:
    python = Path(sys.executable)
    if python.is_relative_to(ROOT):
        python = python.relative_to(ROOT)
    return str(python)


def command_line(name: str, argv: list[str]) -> str:
    """The exact command that reproduces a benchmark's section."""
    words = [python_path(), "-m", "bench", *([name] if name else []), *argv]
    return " ".join(shlex.quote(str(a)) for a in words)


def command_block(name: str, argv: list[str]) -> list[str]:
    lines = ["```sh", command_line(name, argv), "```"]
    if RUN_BY:
        lines += ["", f"(run by `{RUN_BY}`, which runs every benchmark in turn)"]
    return lines


# ---------------------------------------------------------------------------- child processes


def run_child(name: str, argv: list[str], what: str) -> dict:
    """``python -m bench <name> --measure-into <file> <argv>`` in a child process (Django is
    set up once per process and per database); its JSON answer."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = Path(handle.name)
    command = [sys.executable, "-m", "bench", name, "--measure-into", str(out), *argv]
    print(f"== {what}", file=sys.stderr)
    try:
        if subprocess.run(command, cwd=ROOT, check=False).returncode != 0:
            raise SystemExit(f"The measurement {what} failed.")
        return json.loads(out.read_text(encoding="utf-8"))
    finally:
        out.unlink(missing_ok=True)


def write_json(path: str, data: dict) -> None:
    Path(path).write_text(json.dumps(data, ensure_ascii=False), "utf-8")


# ---------------------------------------------------------------------------- timing pages


def page_queries(client, url: str, runs: int = 3, before=None) -> dict:
    """Requests under CaptureQueriesContext: how many queries (the most of ``runs``), the
    median of their total time, and the slowest query seen. ``before`` runs untimed first."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts, totals, slowest, response = [], [], None, None
    for _ in range(runs):
        if before:
            before()
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        queries = captured.captured_queries
        counts.append(len(queries))
        totals.append(sum(float(q["time"]) for q in queries) * 1000)
        for query in queries:
            if slowest is None or float(query["time"]) > float(slowest["time"]):
                slowest = query
    return {
        "status": response.status_code,
        "queries": max(counts),
        "sql_ms": statistics.median(totals),
        "slowest": {"sql": slowest["sql"], "ms": float(slowest["time"]) * 1000} if slowest else {},
    }


def measure_urls(clients: dict, urls: dict, *, warmup: int, repeat: int, before=None) -> dict:
    """Warm up, count each page's queries, then time ``repeat`` rounds. The pages of a round
    are requested one after the other (ours, then the admin's), so that a busy machine slows
    both alike and the ratio stays fair. ``before`` (e.g. emptying the cache) runs before
    every request, outside the timed part."""
    results, times = {}, {who: [] for who in urls}
    for who, url in urls.items():
        try:
            for _ in range(warmup):
                if before:
                    before()
                clients[who].get(url)
            results[who] = {"url": url, **page_queries(clients[who], url, before=before)}
        except Exception as exc:  # a page under construction must not stop the others
            results[who] = {"url": url, "error": f"{type(exc).__name__}: {exc}"[:300]}
    working = [who for who in urls if "error" not in results[who]]
    for _ in range(repeat):
        for who in working:
            if before:
                before()
            started = time.perf_counter()
            clients[who].get(urls[who])
            times[who].append((time.perf_counter() - started) * 1000)
    for who in working:
        results[who]["median_ms"] = statistics.median(times[who])
        results[who]["min_ms"] = min(times[who])
    return results


def context_value(response, *names):
    context = getattr(response, "context", None)
    if context is None:
        return None
    for name in names:
        try:
            value = context[name]
        except KeyError:
            continue
        if value is not None:
            return value
    return None


def paging(client, url: str) -> tuple[int | None, int | None]:
    """(rows per page, number of pages) of a list page, read from its template context."""
    from django.test.utils import setup_test_environment, teardown_test_environment

    setup_test_environment()  # instruments rendering so response.context is kept (only here)
    try:
        response = client.get(url)
    finally:
        teardown_test_environment()
    page = context_value(response, "page_obj", "page")
    if page is not None and getattr(page, "paginator", None) is not None:
        return page.paginator.per_page, page.paginator.num_pages
    if page is not None and getattr(page, "per_page", None):  # a window that does not count
        return page.per_page, None
    changelist = context_value(response, "cl")
    if changelist is not None:
        return changelist.list_per_page, changelist.paginator.num_pages
    return None, None


def with_query(url: str, params: dict) -> str:
    from urllib.parse import urlencode

    return f"{url}?{urlencode(params)}" if params else url


def explain(sql: str) -> str:
    from django.db import connection

    if connection.vendor != "postgresql" or not sql.lstrip().upper().startswith("SELECT"):
        return ""
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


def explained(plan: dict) -> list[str]:
    """A query and its plan, as a report shows the slowest query of a page."""
    return [
        "Its slowest query, with `EXPLAIN (ANALYZE, BUFFERS)`:",
        "",
        "```sql",
        plan["sql"],
        "```",
        "",
        "```",
        plan["plan"] or "(no plan)",
        "```",
    ]


def server_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version" if connection.vendor == "postgresql" else "SELECT 1")
        return str(cursor.fetchone()[0])


def ratio(users: dict, ours: str = "bureau", theirs: str = "admin") -> float | None:
    ours_ms = users.get(ours, {}).get("median_ms")
    theirs_ms = users.get(theirs, {}).get("median_ms")
    return ours_ms / theirs_ms if ours_ms and theirs_ms else None


def cell(result: dict | None, key: str) -> str:
    if not result:
        return "not built"
    if "error" in result:
        return "error"
    if result.get("status") != 200:
        return f"HTTP {result.get('status')}"
    if key == "median_ms":
        return f"{result['median_ms']:.1f} ({result['sql_ms']:.1f})"
    return str(result[key])


# ---------------------------------------------------------------------------- targets


@dataclass
class Target:
    """One target of issue 8, as measured: ``met`` is None when it could not be measured."""

    section: str  # the heading of the section that shows it, without "## "
    name: str
    measured: str
    required: str
    met: bool | None
    gap: str = ""  # for a missed target: by how much

    @property
    def verdict(self) -> str:
        return {True: "met", False: "**missed**", None: "not measured"}[self.met]


def at_most(section: str, name: str, value: float | None, limit: float, unit: str = "") -> Target:
    """A ratio (or count) that must not exceed ``limit``."""
    if value is None:
        return Target(section, name, "—", f"≤ {limit:g}{unit}", None)
    shown = f"{value:.2f}{unit}" if isinstance(value, float) else f"{value}{unit}"
    gap = ""
    if value > limit:
        gap = f"{shown} against ≤ {limit:g}{unit}: {(value / limit - 1) * 100:.0f}% over"
    return Target(section, name, shown, f"≤ {limit:g}{unit}", value <= limit, gap)


def at_least(section: str, name: str, value: float | None, limit: float, shown=None) -> Target:
    if value is None:
        return Target(section, name, "—", f"≥ {limit:g}", None)
    shown = shown or f"{value:.2f}"
    gap = f"{shown} against ≥ {limit:g}: {(1 - value / limit) * 100:.0f}% short" * (value < limit)
    return Target(section, name, shown, f"≥ {limit:g}", value >= limit, gap)


def query_target(section: str, label: str, counts: list[int | None], sizes: list[str]) -> Target:
    """The same query count at every size, and at most QUERY_LIMIT."""
    name = f"{label}: SQL queries"
    required = f"same at {' and '.join(sizes)}, ≤ {QUERY_LIMIT}"
    known = [c for c in counts if c is not None]
    if not known:
        return Target(section, name, "—", required, None)
    measured = " / ".join("—" if c is None else str(c) for c in counts)
    same = len(set(known)) == 1 and len(known) == len(counts)
    small_enough = max(known) <= QUERY_LIMIT
    problems = []
    if len(known) < len(counts):
        problems.append("not measured at every size")
    elif not same:
        problems.append(f"the count changes with the size ({measured})")
    if not small_enough:
        problems.append(f"{max(known)} queries, {max(known) - QUERY_LIMIT} over {QUERY_LIMIT}")
    met = None if len(known) < len(counts) and small_enough else (same and small_enough)
    return Target(section, name, measured, required, met, "; ".join(problems) * (not met))


def targets_lines(targets: list[Target]) -> list[str]:
    """The targets of a section: a table, then the gap of each missed one and a line for the
    reason, which a person writes (the benchmark cannot know it)."""
    lines = [
        "### Targets",
        "",
        "| target | measured | required | result |",
        "|---|---:|---:|---|",
    ]
    for target in targets:
        lines.append(
            f"| {target.name} | {target.measured} | {target.required} | {target.verdict} |"
        )
    missed = [t for t in targets if t.met is False]
    if missed:
        lines += [""]
        for target in missed:
            lines += [f"- **Missed: {target.name}** — {target.gap}.", f"  {reason_line(target)}"]
    return lines


def reason_line(target: Target) -> str:
    """The reason a person wrote for this missed target (bench/reasons.py), or a placeholder."""
    from bench.reasons import REASONS

    reason = REASONS.get(target.name)
    return f"Reason: {reason}" if reason else REASON_PLACEHOLDER


def record(targets: list[Target]) -> None:
    RECORDED.extend(targets)


def anchor(heading: str) -> str:
    """GitHub's anchor of a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.lstrip("#").strip().lower())
    return "#" + text.replace(" ", "-")


# ---------------------------------------------------------------------------- the document


def write_section(text: str, path: Path = OUTPUT, section: str = "## Registry pages") -> None:
    """Replace a benchmark's section of docs/performance.md, keeping the others; a new one
    goes at the end (the summary goes first: ``write_summary``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    old = path.read_text(encoding="utf-8") if path.exists() else "# Performance\n"
    pattern = re.compile(rf"^{re.escape(section)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(old):
        new = pattern.sub(lambda _m: text.rstrip("\n") + "\n\n", old, count=1)
    else:
        new = old.rstrip("\n") + "\n\n" + text
    path.write_text(new.rstrip("\n") + "\n", encoding="utf-8")
    WRITTEN.append((section, path))
    print(f"Written: {section} in {path}", file=sys.stderr)


def write_summary(text: str, path: Path = OUTPUT, section: str = "## Summary") -> None:
    """The summary: replaced where it is, or put right under the title."""
    path.parent.mkdir(parents=True, exist_ok=True)
    old = path.read_text(encoding="utf-8") if path.exists() else "# Performance\n"
    if re.search(rf"^{re.escape(section)}\n", old, re.M):
        write_section(text, path, section)
        return
    title, _, rest = old.partition("\n")
    if not title.startswith("# "):
        title, rest = "# Performance", old
    new = f"{title}\n\n{text.rstrip()}\n\n{rest.lstrip()}"
    path.write_text(new.rstrip("\n") + "\n", encoding="utf-8")
    WRITTEN.append((section, path))
    print(f"Written: {section} in {path}", file=sys.stderr)


def as_dicts(targets: list[Target]) -> list[dict]:
    return [asdict(t) for t in targets]
