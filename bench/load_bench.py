"""Load test: 50 concurrent users for 60 seconds against gunicorn on 127.0.0.1.

``python -m bench load`` prepares the benchmark database (the registry benchmark's data set:
the demo district with 100,000 persons), gives each simulated user a signed-in session of a
street-office account, starts gunicorn with the production settings, and lets locust
(``bench/locustfile.py``) mix the register list, searches, household pages and logging
visits. It then checks that no answer was a 5xx and that the database holds exactly the
visits that were acknowledged.

Beside that mixed run, against the same server with the same number of users for the same
time, two throughput runs with no pause between clicks: the register list alone
(``/register/``, the street-office sessions) and Django's stock admin changelist of the same
persons alone (``/admin/residents/person/``, superuser sessions). Target: zero errors in every
run, and the register list's requests per second at least twice the admin's. Writes the
section "Load test" of docs/performance.md.
"""

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import common, datagen
from bench.common import machine as _machine
from bench.common import write_section

ROOT = datagen.ROOT
OUTPUT = ROOT / "docs" / "performance.md"
SECTION = "## Load test"
USERS = ["pingjianglu", "daoqian", "pingjiang", "canglang", "shuangta"]
SUPERUSER = "admin"
SEARCHES = ["马", "马晓", "maxiao", "mxd", "平江路", "ayt", "古丽", "白"]
TARGET = 2.0  # the register list's requests/second at least twice the admin changelist's
# name → (locust user class in bench/locustfile.py, what it does)
SCENARIOS = {
    "mixed": ("StreetOfficeStaff", "the mixed day of street-office staff"),
    "register": ("RegisterListReader", "the register list alone, no pause"),
    "admin": ("AdminChangelistReader", "the stock admin changelist alone, no pause"),
}
NAME = "Load test"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def prepare(args) -> dict:
    """Run in a child process: the data set, the sessions, the visits already there."""
    datagen.setup_django(args.database_url)
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone

    from network.models import User
    from outreach.models import Visit
    from outreach.selectors_visits import recordable_households

    # The sessions are signed with the key the server will run with.
    settings.SECRET_KEY = os.environ["TONGXIN_LOAD_SECRET_KEY"]
    datagen.migrate()
    datagen.ensure_data(
        args.database_url, households=args.households, persons=args.persons, seed=args.seed
    )

    def session_of(user) -> str:
        if getattr(user, "must_change_password", False):
            user.must_change_password = False
            user.save(update_fields=["must_change_password"])
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[-1]
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        return store.session_key

    sessions, admin_sessions = [], []
    for index in range(args.users):
        user = User.objects.get(username=USERS[index % len(USERS)])
        households = list(
            recordable_households(user).order_by("?").values_list("pk", flat=True)[:200]
        )
        sessions.append(
            {
                "user": user.username,
                "key": session_of(user),
                "csrf": secrets.token_hex(16),  # a 32-character secret, as Django keeps one
                "households": households,
            }
        )
    superuser = User.objects.get(username=SUPERUSER)
    for _ in range(args.users):
        admin_sessions.append(
            {"user": SUPERUSER, "key": session_of(superuser), "csrf": secrets.token_hex(16)}
        )
    return {
        "sessions": sessions,
        "admin_sessions": admin_sessions,
        "searches": SEARCHES,
        "today": timezone.localdate().isoformat(),
        "visits_before": Visit.objects.count(),
        "visit_ids_before_max": Visit.objects.order_by("-pk").values_list("pk", flat=True).first()
        or 0,
    }


def count_after(args, after_pk: int) -> dict:
    datagen.setup_django(args.database_url)
    from outreach.models import Visit

    return {
        "visits": Visit.objects.count(),
        "new_visit_ids": list(Visit.objects.filter(pk__gt=after_pk).values_list("pk", flat=True)),
    }


def _in_child(args, step: str, **extra) -> dict:
    """Django is set up once per process and per database: each step in its own process."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = handle.name
    command = [sys.executable, "-m", "bench", "load", "--step", step, "--step-output", out]
    command += ["--database-url", args.database_url, "--users", str(args.users)]
    command += ["--persons", str(args.persons), "--households", str(args.households)]
    command += ["--seed", str(args.seed), "--after-pk", str(extra.get("after_pk", 0))]
    if subprocess.run(command, cwd=ROOT, check=False).returncode != 0:
        raise SystemExit(f"The load test's step {step!r} failed.")
    data = json.loads(Path(out).read_text(encoding="utf-8"))
    Path(out).unlink()
    return data


def _server_environment(args, static_root: str) -> dict:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY=os.environ["TONGXIN_LOAD_SECRET_KEY"],
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false",
        DATABASE_URL=args.database_url,
        DATABASE_CONN_MAX_AGE="60",
        STATIC_ROOT=static_root,
        LOG_LEVEL="WARNING",
    )
    return env


class _CpuMeter:
    """CPU seconds of the server's processes (gunicorn, by process group), of PostgreSQL's
    backends for the benchmark database (by their process title) and of locust (the child
    this process waits for), sampled from /proc twice a second during a run, so the report can
    say where the machine's time went and whether the load generator was the bottleneck.
    A process that ends between samples loses at most half a second; without /proc (not
    Linux) nothing is measured."""

    def __init__(self, server_group: int, database: str):
        import re
        import threading

        self.group = server_group
        # A backend's title: "postgres: 15/main: <user> <database> 127.0.0.1(port) idle".
        self.title = re.compile(rf"^postgres: .* \S+ {re.escape(database)} ")
        self.tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        self.first: dict = {}
        self.last: dict = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _read(self, starting: bool) -> None:
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[2]) == self.group:
                    kind = "server"
                else:
                    title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
                    if not self.title.match(title.decode(errors="replace")):
                        continue
                    kind = "postgres"
            except (OSError, IndexError, ValueError):
                continue
            seconds = (int(fields[11]) + int(fields[12])) / self.tick
            self.first.setdefault((kind, pid), seconds if starting else 0.0)
            self.last[(kind, pid)] = seconds

    def _run(self) -> None:
        while not self.stop.wait(0.5):
            self._read(starting=False)

    def __enter__(self):
        import resource

        self.children = resource.getrusage(resource.RUSAGE_CHILDREN)
        if Path("/proc/self/stat").exists():
            self._read(starting=True)
            self.thread.start()
        return self

    def __exit__(self, *exc):
        import resource

        if self.thread.is_alive():
            self.stop.set()
            self.thread.join()
            self._read(starting=False)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.seconds = {
            kind: sum(self.last[k] - self.first[k] for k in self.last if k[0] == kind)
            for kind in ("server", "postgres")
        }
        if not self.last:
            self.seconds = {}
        self.seconds["locust"] = (after.ru_utime + after.ru_stime) - (
            self.children.ru_utime + self.children.ru_stime
        )
        return False


def _locust(
    args, plan: dict, port: int, scenario: str, server_log: Path, server_group: int
) -> dict:
    """One headless locust run of a scenario's user class; its figures."""
    user_class = SCENARIOS[scenario][0]
    python = sys.executable
    with tempfile.TemporaryDirectory() as work:
        plan_file, result_file = Path(work, "plan.json"), Path(work, "result.json")
        plan_file.write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
        locust_env = dict(os.environ)
        locust_env.update(TONGXIN_LOAD_PLAN=str(plan_file), TONGXIN_LOAD_RESULT=str(result_file))
        prefix = str(Path(work, "stats"))
        print(
            f"== {scenario}: {args.users} users for {args.seconds} s against gunicorn "
            f"({args.workers} workers × {args.threads} threads) on port {port}",
            file=sys.stderr,
        )
        load_before = os.getloadavg()[0]
        database = args.database_url.rsplit("/", 1)[-1].split("?")[0]
        with _CpuMeter(server_group, database) as meter:
            load = subprocess.run(
                [
                    str(Path(python).parent / "locust"),
                    "-f",
                    str(ROOT / "bench" / "locustfile.py"),
                    "--headless",
                    "--users",
                    str(args.users),
                    "--spawn-rate",
                    str(args.users),
                    "--run-time",
                    f"{args.seconds}s",
                    "--host",
                    f"http://127.0.0.1:{port}",
                    "--csv",
                    prefix,
                    "--only-summary",
                    "--stop-timeout",
                    "10",
                    "--exit-code-on-error",
                    "0",
                    user_class,
                ],
                cwd=ROOT,
                env=locust_env,
                capture_output=True,
                text=True,
                timeout=args.seconds + 120,
                check=False,
            )
        Path(f"{server_log}.{scenario}.locust").write_text(load.stdout + load.stderr)
        if not result_file.exists():
            raise SystemExit(f"locust failed:\n{load.stdout}\n{load.stderr}")
        result = json.loads(result_file.read_text(encoding="utf-8"))
        result["pages"] = _read_stats(Path(prefix + "_stats.csv"))
        result["load"] = [load_before, os.getloadavg()[0]]
        result["cpu_seconds"] = meter.seconds
    return result


def run_load(args, plan: dict) -> dict:
    """Start gunicorn once, then each scenario in turn against it; the figures by scenario."""
    static_root = tempfile.mkdtemp(prefix="tongxin-static-")
    env = _server_environment(args, static_root)
    python = sys.executable
    subprocess.run(
        [python, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    # The production settings may keep the cache in a table (a no-op when it exists or when
    # the cache is another kind).
    subprocess.run([python, "manage.py", "createcachetable"], cwd=ROOT, env=env, check=True)
    port = _free_port()
    server_log = Path(tempfile.mkstemp(prefix="tongxin-gunicorn-", suffix=".log")[1])
    server = subprocess.Popen(
        [
            str(Path(python).parent / "gunicorn"),
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
            "--worker-class",
            "gthread",
            "--timeout",
            "60",
        ],
        cwd=ROOT,
        env=env,
        stdout=server_log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    results = {}
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise SystemExit(f"gunicorn did not start: see {server_log}")
        _warm_up(port, plan, args.workers * args.threads * 3)
        for scenario in args.scenarios:
            results[scenario] = _locust(args, plan, port, scenario, server_log, server.pid)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    log = server_log.read_text(encoding="utf-8", errors="replace")
    return {
        "scenarios": results,
        "server_errors_logged": log.count("Traceback"),
        "server_log": str(server_log),
    }


def _warm_up(port: int, plan: dict, requests: int) -> None:
    """Each worker imports the URLs and templates on its first requests: not measured."""
    from concurrent.futures import ThreadPoolExecutor
    from urllib.request import Request, urlopen

    session, admin_session = plan["sessions"][0], plan["admin_sessions"][0]
    paths = ["/register/", f"/register/households/{session['households'][0]}/", "/outreach/log/"]
    paths.append("/admin/residents/person/")

    def get(index: int) -> None:
        path = paths[index % len(paths)]
        request = Request(f"http://127.0.0.1:{port}{path}")
        key = admin_session["key"] if path.startswith("/admin/") else session["key"]
        request.add_header("Cookie", f"sessionid={key}")
        with urlopen(request, timeout=60) as response:
            response.read()

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(get, range(requests)))


def _read_stats(path: Path) -> list[dict]:
    import csv

    rows = []
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            rows.append(
                {
                    "name": row["Name"] if row["Name"] != "Aggregated" else "all",
                    "requests": int(row["Request Count"]),
                    "failures": int(row["Failure Count"]),
                    "median_ms": float(row["Median Response Time"] or 0),
                    "p95_ms": float(row["95%"] or 0) if row.get("95%") not in (None, "N/A") else 0,
                    "rps": float(row["Requests/s"] or 0),
                }
            )
    return rows


def _errors(result: dict) -> int:
    """Answers that were not what a user expects: 5xx, no answer, locust's failures."""
    statuses = result["statuses"]
    failures = next((p["failures"] for p in result["pages"] if p["name"] == "all"), 0)
    return statuses.get("5xx", 0) + statuses.get("no answer", 0) + failures


def _rps(result: dict | None) -> float | None:
    if not result:
        return None
    return next((p["rps"] for p in result["pages"] if p["name"] == "all"), None)


def targets(plan: dict, result: dict, after: dict) -> list[common.Target]:
    runs = result["scenarios"]
    errors = sum(_errors(r) for r in runs.values()) + result["server_errors_logged"]
    mixed = runs.get("mixed")
    lost = 0
    if mixed is not None:
        lost = len(set(after["new_visit_ids"]) ^ set(mixed["acknowledged_visits"]))
    found = [
        common.Target(
            NAME,
            "Load test: errors (5xx, failures, tracebacks, visits lost or extra), every run",
            str(errors + lost),
            "0",
            errors + lost == 0,
            f"{errors} errors and {lost} visits lost or extra" if errors + lost else "",
        )
    ]
    ours, theirs = _rps(runs.get("register")), _rps(runs.get("admin"))
    share = ours / theirs if ours and theirs else None
    found.append(
        common.at_least(
            NAME,
            "Load test: register list req/s / admin changelist's",
            share,
            TARGET,
            shown=None if share is None else f"{share:.2f} ({ours:.1f} / {theirs:.1f} req/s)",
        )
    )
    return found


def _cpu_per_request(result: dict) -> dict:
    """CPU milliseconds per request of the server, PostgreSQL and locust (see _CpuMeter)."""
    requests = next((p["requests"] for p in result["pages"] if p["name"] == "all"), 0)
    seconds = result.get("cpu_seconds") or {}
    return {k: 1000 * v / requests for k, v in seconds.items()} if requests else {}


def _cpu_cells(result: dict) -> str:
    per = _cpu_per_request(result)
    return " | ".join(
        f"{per[k]:.1f}" if k in per else "–" for k in ("server", "postgres", "locust")
    )


def _cpu_line(result: dict) -> str:
    per = _cpu_per_request(result)
    if "server" not in per:
        return ""
    return (
        f"CPU per request: gunicorn {per['server']:.1f} ms, PostgreSQL {per['postgres']:.1f} ms, "
        f"locust {per['locust']:.1f} ms."
    )


def _page_table(result: dict) -> list[str]:
    lines = [
        "| page | requests | failures | median ms | 95th percentile ms | requests/s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for page in result["pages"]:
        lines.append(
            f"| {page['name']} | {page['requests']:,} | {page['failures']} | "
            f"{page['median_ms']:.0f} | {page['p95_ms']:.0f} | {page['rps']:.1f} |"
        )
    statuses = result["statuses"]
    lines += [
        "",
        "Answers by status: " + ", ".join(f"{k}: {v:,}" for k, v in sorted(statuses.items())) + ". "
        f"Load average (1 min) when it started and ended: {result['load'][0]:.1f} and "
        f"{result['load'][1]:.1f}. " + _cpu_line(result),
    ]
    return lines


def report(args, plan: dict, result: dict, after: dict, *, argv, found) -> str:
    machine = _machine()
    runs = result["scenarios"]
    lines = [
        "## Load test",
        "",
        f"Measured {common.machine_line()}. gunicorn ({args.workers} workers × {args.threads} "
        "threads, gthread) with the production settings on 127.0.0.1, PostgreSQL on the same "
        f"machine ({machine['cores']} cores), locust on the same machine too (it takes a share "
        f"of the cores). One server for every run, {args.users} users for {args.seconds} s in "
        f"each, over the register of {args.persons:,} persons. Targets: no error in any run; "
        f"the register list's requests per second at least {TARGET:g}× the stock admin "
        "changelist's under the same load.",
        "",
        *common.command_block("load", argv),
        "",
        *common.targets_lines(found),
    ]
    mixed = runs.get("mixed")
    if mixed:
        acknowledged = mixed["acknowledged_visits"]
        written = after["visits"] - plan["visits_before"]
        lines += [
            "",
            "### A street office's day",
            "",
            f"{args.users} concurrent users (sessions of street-office accounts of 平江路社区, "
            "道前社区, 平江街道, 沧浪街道 and 双塔街道), each waiting 0.2–1 s between clicks: "
            "the register list and its pages, searches (马晓, maxiao, mxd, 平江路 …), household "
            "pages and logging a visit (form, then POST), in the ratio 3 : 3 : 3 : 1.",
            "",
            *_page_table(mixed),
            f"Visits acknowledged (302 to the done page): {len(acknowledged):,}; visits written "
            f"to the database during the run: {written:,}; "
            + (
                "the same visits."
                if sorted(after["new_visit_ids"]) == acknowledged
                else "**they differ.**"
            ),
        ]
    if runs.get("register") or runs.get("admin"):
        ours, theirs = _rps(runs.get("register")), _rps(runs.get("admin"))
        lines += [
            "",
            "### Register list against the stock admin changelist",
            "",
            f"The same {args.users} users for {args.seconds} s each, no pause between clicks (so "
            "the server, not the users' pace, sets the throughput): the register list "
            "`/register/` alone with the street-office sessions, then Django's stock changelist "
            "of the same persons `/admin/residents/person/` alone with superuser sessions (50 "
            "rows a page each). The CPU the machine spent per request, sampled from /proc "
            "during each run: the gunicorn workers, the PostgreSQL backends of the benchmark "
            "database, and locust itself — the load generator shares the two cores, and its "
            "share per request shows whether it, rather than the server, limited the run (a "
            "client that saturates first would measure the client, unfairly to the faster "
            "page). With the machine to itself, a run's requests per second come near the "
            "cores divided by the sum of the three.",
            "",
            "| run | requests | failures | median ms | 95th percentile ms | requests/s "
            "| CPU ms/request: gunicorn | PostgreSQL | locust |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for scenario in ("register", "admin"):
            run = runs.get(scenario)
            if not run:
                continue
            page = next(p for p in run["pages"] if p["name"] == "all")
            lines.append(
                f"| {SCENARIOS[scenario][1]} | {page['requests']:,} | {page['failures']} | "
                f"{page['median_ms']:.0f} | {page['p95_ms']:.0f} | {page['rps']:.1f} | "
                f"{_cpu_cells(run)} |"
            )
        if ours and theirs:
            lines += [
                "",
                f"Register list / admin changelist: **{ours / theirs:.2f}**× the requests.",
            ]
        for scenario in ("register", "admin"):
            if runs.get(scenario):
                statuses = runs[scenario]["statuses"]
                lines.append(
                    f"{SCENARIOS[scenario][1].capitalize()}: answers by status "
                    + ", ".join(f"{k}: {v:,}" for k, v in sorted(statuses.items()))
                    + "."
                )
    lines += ["", f"Tracebacks in the server log: {result['server_errors_logged']}.", ""]
    return "\n".join(lines)


def parse(argv):
    parser = argparse.ArgumentParser(prog="python -m bench load", description=__doc__)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) * 2 + 1)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--households", type=int, default=40_000)
    parser.add_argument("--seed", type=int, default=datagen.SEED)
    parser.add_argument("--database-url", default=datagen.DEFAULT_URL)
    parser.add_argument(
        "--scenarios",
        type=lambda text: [s for s in text.split(",") if s],
        default=list(SCENARIOS),
        help=f"comma-separated, of {', '.join(SCENARIOS)} (default: all, in that order)",
    )
    parser.add_argument("--no-write", action="store_true", help="print, do not write the docs")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--step", choices=["prepare", "count"], help=argparse.SUPPRESS)
    parser.add_argument("--step-output", help=argparse.SUPPRESS)
    parser.add_argument("--after-pk", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    unknown = [s for s in args.scenarios if s not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(unknown)}")
    return args


def main(argv) -> int:
    args = parse(argv)
    if args.step:
        data = prepare(args) if args.step == "prepare" else count_after(args, args.after_pk)
        Path(args.step_output).write_text(json.dumps(data), encoding="utf-8")
        return 0
    datagen.ensure_postgres(args.database_url)
    os.environ["TONGXIN_LOAD_SECRET_KEY"] = secrets.token_urlsafe(50)
    plan = _in_child(args, "prepare")
    result = run_load(args, plan)
    after = _in_child(args, "count", after_pk=plan["visit_ids_before_max"])
    found = targets(plan, result, after)
    text = report(args, plan, result, after, argv=argv, found=found)
    print(text)
    common.record(found)
    if not args.no_write:
        write_section(text, args.output, SECTION)
    if found[0].met is False:
        print("FAILED: 5xx answers, server errors or lost or extra visits", file=sys.stderr)
        return 1
    return 0
