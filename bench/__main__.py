"""``python -m bench``: every benchmark in turn, on PostgreSQL, and the summary of the targets.

``python -m bench [--size full|small] [--regenerate]`` prepares the data set (reused when
there at that size), then runs registry, outreach, import, reports, load, weight and cluster,
each through its ``main(argv)``; each rewrites its section of docs/performance.md, and the
"Summary" at the top lists every target with its measured value and met / missed.

``python -m bench <name> [options]`` runs one benchmark (``bench/<name>_bench.py``) with its
own options (``--help`` for each); ``python -m bench --list`` lists them. See bench/README.md.
"""

import argparse
import datetime
import importlib
import re
import sys
import time
import traceback
from pathlib import Path

from bench import common, datagen

ORDER = ["registry", "outreach", "import", "reports", "load", "weight", "cluster"]
WHAT = {
    "registry": "register list, searches, deep page and household page against the admin",
    "outreach": "timeline, compliance page and outreach lists against the admin",
    "import": "ledger import against bulk_create and django-import-export",
    "reports": "annual summary against hand-written SQL; the service-card lists",
    "load": "gunicorn under locust: a street office's day; register list against the admin",
    "weight": "page weight of the liaison's phone page (Playwright)",
    "cluster": "two gunicorn servers behind nginx sharing one PostgreSQL",
}
# The section each benchmark writes (for the summary's links when it records no targets).
SECTIONS = {
    "registry": ["Registry pages"],
    "outreach": ["Outreach pages"],
    "import": ["Ledger import"],
    "reports": ["Annual summary", "Service pages"],
    "load": ["Load test"],
    "weight": ["Page weight"],
    "cluster": ["Two servers behind nginx"],
}


def available() -> list[str]:
    found = {p.stem.removesuffix("_bench") for p in Path(__file__).parent.glob("*_bench.py")}
    return [n for n in ORDER if n in found] + sorted(found - set(ORDER))


def _url(name: str) -> str:
    return datagen.with_database(datagen.DEFAULT_URL, name)


def arguments(name: str, size_name: str, options) -> list[str]:
    """The options a benchmark runs with at a size: none beyond the defaults at the full
    size (so each section's command is the short one), every size option otherwise."""
    size, small = datagen.SIZES[size_name], datagen.SIZES[datagen.COMPARED_WITH[size_name]]
    argv: list[str] = []
    full = size_name == "full"
    if name == "registry" and not full:
        argv += ["--persons", str(size.persons), "--households", str(size.households)]
        argv += ["--database-url", _url(size.register_db)]
        argv += ["--small-persons", str(small.persons), "--small-households", str(small.households)]
        argv += ["--small-database-url", _url(small.register_db)]
    if name in ("outreach", "reports") and not full:
        argv += ["--persons", str(size.persons), "--households", str(size.households)]
        argv += ["--log-rows", str(size.log_rows), "--household-years", str(size.household_years)]
        argv += ["--database-url", _url(size.outreach_db)]
        argv += ["--small-persons", str(small.persons), "--small-households", str(small.households)]
        argv += ["--small-log-rows", str(small.log_rows)]
        argv += ["--small-household-years", str(small.household_years)]
        argv += ["--small-database-url", _url(small.outreach_db)]
    if name == "reports" and not full:
        argv += ["--merchants", str(size.merchants), "--card-uses", str(size.card_uses)]
        argv += ["--small-merchants", str(small.merchants)]
        argv += ["--small-card-uses", str(small.card_uses)]
    if name == "import":
        argv += ["--rows", str(size.import_rows), "--database-url", _url(size.register_db)]
    if name == "load" and not full:
        argv += ["--users", str(size.load_users), "--seconds", str(size.load_seconds)]
        argv += ["--persons", str(size.persons), "--households", str(size.households)]
        argv += ["--database-url", _url(size.register_db)]
    if name in ("registry", "outreach", "reports") and options.repeat:
        argv += ["--repeat", str(options.repeat)]
    if name in ("registry", "outreach", "reports", "import", "load") and options.no_write:
        argv += ["--no-write"]
    return argv


def prepare_data(size_name: str, regenerate: bool) -> list[tuple[str, float]]:
    """The data sets of the size and of the smaller one its query counts are compared with:
    the register, and the outreach benchmarks' register with its logs and service cards."""
    timings = []
    for name in (size_name, datagen.COMPARED_WITH[size_name]):
        size = datagen.SIZES[name]
        for db, outreach in ((size.register_db, False), (size.outreach_db, True)):
            started = time.perf_counter()
            answer = datagen.prepare_in_child(
                _url(db), size, outreach=outreach, regenerate=regenerate
            )
            made = {k: v for k, v in answer["generated"].items() if v is not None}
            what = ", ".join(f"{k} generated in {v:.0f} s" for k, v in made.items()) or "reused"
            print(
                f"   {db}: {answer['households']:,} households, {answer['persons']:,} persons; "
                f"{what}",
                file=sys.stderr,
            )
            timings.append((f"data set `{db}`", time.perf_counter() - started))
    return timings


def run_one(name: str, argv: list[str]) -> tuple[int | None, str]:
    """A benchmark's ``main(argv)``; (exit code, what went wrong), never raising."""
    try:
        module = importlib.import_module(f"bench.{name}_bench")
    except ModuleNotFoundError as exc:
        if exc.name == f"bench.{name}_bench":
            return None, "not built yet"
        raise
    try:
        return module.main(argv) or 0, ""
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
        return code, "" if code == 0 else str(exc.code or "")
    except Exception as exc:  # one broken benchmark must not stop the others
        traceback.print_exc()
        return 1, f"{type(exc).__name__}: {exc}"


def earlier_rows(path: Path, sections: set[str]) -> list[str]:
    """The summary's rows of the sections this run did not measure (``--only``, ``--skip``),
    kept as the earlier run left them."""
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    found = re.search(r"^## Summary\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    kept = []
    for line in (found.group(1) if found else "").splitlines():
        match = re.match(r"^\| \[([^\]]+)\]\(#[^)]*\) \|", line)
        if match and match.group(1) not in sections:
            kept.append(line)
    return kept


def summary(
    rows: list[dict], timings: list[tuple[str, float]], command: str, kept: list[str] = ()
) -> str:
    targets = [t for row in rows for t in row["targets"]]
    met = sum(1 for t in targets if t.met)
    missed = sum(1 for t in targets if t.met is False)
    lines = [
        "## Summary",
        "",
        f"Measured {common.machine_line()}, by one command, which rewrites every section below "
        "(each names its own command, to run it alone):",
        "",
        "```sh",
        command,
        "```",
        "",
        f"{len(targets)} targets: {met} met, {missed} missed, "
        f"{len(targets) - met - missed} not measured. A missed target carries its gap and a "
        "reason in its section.",
        "",
        "| section | target | measured | required | result |",
        "|---|---|---:|---:|---|",
    ]
    for t in targets:
        lines.append(
            f"| [{t.section}]({common.anchor(t.section)}) | {t.name} | {t.measured} "
            f"| {t.required} | {t.verdict} |"
        )
    lines += list(kept)
    if kept:
        lines += [
            "",
            f"This run measured some sections only; the last {len(kept)} rows are kept from an "
            "earlier run (each section gives its date) and are not counted above.",
        ]
    lines += ["", "Wall time of each part on this run:", ""]
    lines += ["| part | seconds | exit |", "|---|---:|---|"]
    for part, seconds in timings:
        lines.append(f"| {part} | {seconds:,.0f} | — |")
    for row in rows:
        exit_text = {None: "not built yet", 0: "0"}.get(row["code"], str(row["code"]))
        lines.append(f"| {row['name']} | {row['seconds']:,.0f} | {exit_text} |")
    return "\n".join(lines) + "\n"


def fallback_targets(name: str, code: int | None, problem: str) -> list[common.Target]:
    """For a benchmark that recorded no targets: whether it ran and passed its own checks."""
    section = SECTIONS.get(name, [name])[0]
    if code is None:
        return [common.Target(section, f"{name}: runs", "not built yet", "exit 0", None)]
    return [
        common.Target(
            section,
            f"{name}: every check of the benchmark passes",
            f"exit {code}",
            "exit 0",
            code == 0,
            f"exit {code}" + (f" ({problem})" if problem else ""),
        )
    ]


def run_all(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--size",
        choices=["full", "small"],
        default="full",
        help="full: 100,000 persons and 1,000,000 log rows (query counts compared at 1,000); "
        "small: 1,000 persons and 10,000 log rows (compared at 300), a quick run",
    )
    parser.add_argument("--regenerate", action="store_true", help="generate the data afresh")
    parser.add_argument("--only", help="comma-separated benchmarks to run (default: all)")
    parser.add_argument("--skip", help="comma-separated benchmarks to leave out")
    parser.add_argument("--repeat", type=int, help="timed requests per page (default: each's)")
    parser.add_argument("--no-data", action="store_true", help="skip the data step")
    parser.add_argument(
        "--no-write", action="store_true", help="print only (weight and cluster write anyway)"
    )
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    options = parser.parse_args(argv)
    names = available()
    if options.list:
        for name in ORDER + [n for n in names if n not in ORDER]:
            state = "" if name in names else "  (not built yet)"
            print(f"{name:<10} {WHAT.get(name, '')}{state}")
        return 0
    chosen = [n for n in ORDER if n in (options.only.split(",") if options.only else ORDER)]
    chosen = [n for n in chosen if n not in (options.skip or "").split(",")]
    command = common.command_line("", argv)
    common.RUN_BY = command
    started_all = time.perf_counter()
    timings: list[tuple[str, float]] = []
    if not options.no_data:
        print(f"== the data set, size {options.size}", file=sys.stderr)
        timings = prepare_data(options.size, options.regenerate)
    rows = []
    for name in chosen:
        argv_of = arguments(name, options.size, options)
        print(f"\n===== {name}: {common.command_line(name, argv_of)}", file=sys.stderr)
        before, started = len(common.RECORDED), time.perf_counter()
        code, problem = run_one(name, argv_of)
        seconds = time.perf_counter() - started
        recorded = common.RECORDED[before:]
        if code is None:
            print(
                f"===== {name}: skipped, bench/{name}_bench.py does not exist yet", file=sys.stderr
            )
        elif code:
            print(f"===== {name}: exit {code} {problem}", file=sys.stderr)
        if not recorded or code is None:
            recorded = recorded + fallback_targets(name, code, problem)
        rows.append({"name": name, "code": code, "seconds": seconds, "targets": recorded})
    kept = earlier_rows(common.OUTPUT, {t.section for row in rows for t in row["targets"]})
    text = summary(rows, timings, command, kept=kept)
    if not options.no_write:
        common.write_summary(text)
    total = time.perf_counter() - started_all
    print("\n" + text)
    print("Sections written:")
    for section, path in common.WRITTEN:
        print(f"  {section:<32} {path}")
    print(f"\nTargets ({datetime.date.today():%Y-%m-%d}, {total / 60:.1f} minutes in all):")
    width = max((len(t.name) for row in rows for t in row["targets"]), default=10)
    for row in rows:
        for t in row["targets"]:
            print(f"  {t.name:<{width}}  {t.measured:>24}  {t.required:>28}  {t.verdict}")
    failed = [row["name"] for row in rows if row["code"]]
    return 1 if failed else 0


def main(argv: list[str]) -> int:
    names = available()
    if argv and argv[0] in names:
        module = importlib.import_module(f"bench.{argv[0]}_bench")
        return module.main(argv[1:]) or 0
    if argv and not argv[0].startswith("-"):
        print(f"unknown benchmark {argv[0]!r}; python -m bench --list", file=sys.stderr)
        return 2
    return run_all(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
