"""Load test: 50 concurrent users for 60 seconds against gunicorn on 127.0.0.1.

``python -m bench load`` prepares the benchmark database (the registry benchmark's data set:
the demo district with 100,000 persons), gives each simulated user a signed-in session of a
street-office account, starts gunicorn with the production settings, and lets locust
(``bench/locustfile.py``) mix the register list, searches, household pages and logging
visits. It then checks that no answer was a 5xx and that the database holds exactly the
visits that were acknowledged, and writes the figures to docs/performance.md.
"""

import argparse
import datetime
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

from bench import datagen
from bench.registry_bench import _machine, write_section

ROOT = datagen.ROOT
OUTPUT = ROOT / "docs" / "performance.md"
SECTION = "## Load test"
USERS = ["pingjianglu", "daoqian", "pingjiang", "canglang", "shuangta"]
SEARCHES = ["马", "马晓", "maxiao", "mxd", "平江路", "ayt", "古丽", "白"]


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
    sessions = []
    for index in range(args.users):
        user = User.objects.get(username=USERS[index % len(USERS)])
        if getattr(user, "must_change_password", False):
            user.must_change_password = False
            user.save(update_fields=["must_change_password"])
        households = list(
            recordable_households(user).order_by("?").values_list("pk", flat=True)[:200]
        )
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[-1]
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        sessions.append(
            {
                "user": user.username,
                "key": store.session_key,
                "csrf": secrets.token_hex(16),  # a 32-character secret, as Django keeps one
                "households": households,
            }
        )
    return {
        "sessions": sessions,
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


def run_load(args, plan: dict) -> dict:
    static_root = tempfile.mkdtemp(prefix="tongxin-static-")
    env = _server_environment(args, static_root)
    python = sys.executable
    subprocess.run(
        [python, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
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
        with tempfile.TemporaryDirectory() as work:
            plan_file, result_file = Path(work, "plan.json"), Path(work, "result.json")
            plan_file.write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
            locust_env = dict(os.environ)
            locust_env.update(
                TONGXIN_LOAD_PLAN=str(plan_file), TONGXIN_LOAD_RESULT=str(result_file)
            )
            prefix = str(Path(work, "stats"))
            print(
                f"== {args.users} users for {args.seconds} s against gunicorn "
                f"({args.workers} workers × {args.threads} threads) on port {port}",
                file=sys.stderr,
            )
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
                ],
                cwd=ROOT,
                env=locust_env,
                capture_output=True,
                text=True,
                timeout=args.seconds + 120,
                check=False,
            )
            Path(str(server_log) + ".locust").write_text(load.stdout + load.stderr)
            if not result_file.exists():
                raise SystemExit(f"locust failed:\n{load.stdout}\n{load.stderr}")
            result = json.loads(result_file.read_text(encoding="utf-8"))
            result["pages"] = _read_stats(Path(prefix + "_stats.csv"))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    log = server_log.read_text(encoding="utf-8", errors="replace")
    result["server_errors_logged"] = log.count("Traceback")
    result["server_log"] = str(server_log)
    return result


def _warm_up(port: int, plan: dict, requests: int) -> None:
    """Each worker imports the URLs and templates on its first requests: not measured."""
    from concurrent.futures import ThreadPoolExecutor
    from urllib.request import Request, urlopen

    session = plan["sessions"][0]
    paths = ["/register/", f"/register/households/{session['households'][0]}/", "/outreach/log/"]

    def get(index: int) -> None:
        request = Request(f"http://127.0.0.1:{port}{paths[index % len(paths)]}")
        request.add_header("Cookie", f"sessionid={session['key']}")
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


def report(args, plan: dict, result: dict, after: dict, load: tuple[float, float]) -> str:
    machine = _machine()
    statuses = result["statuses"]
    acknowledged = result["acknowledged_visits"]
    written = after["visits"] - plan["visits_before"]
    lines = [
        SECTION,
        "",
        f"Measured {datetime.date.today():%Y-%m-%d} on {machine['cpu']}, {machine['cores']} "
        f"cores, {machine['memory']} RAM; Python {machine['python']}. gunicorn "
        f"({args.workers} workers × {args.threads} threads, gthread) with the production "
        "settings on 127.0.0.1, PostgreSQL on the same machine, locust on the same machine too "
        "(it takes a share of the cores).",
        "",
        "```sh",
        f".venv/bin/python -m bench load --users {args.users} --seconds {args.seconds}",
        "```",
        "",
        f"{args.users} concurrent users (sessions of street-office accounts of 平江路社区, "
        "道前社区, 平江街道, 沧浪街道 and 双塔街道), each waiting 0.2–1 s between clicks, for "
        f"{args.seconds} s over the register of {args.persons:,} persons: the register list "
        "and its pages, searches (马晓, maxiao, mxd, 平江路 …), household pages and logging a "
        "visit (form, then POST), in the ratio 3 : 3 : 3 : 1.",
        f"Load average (1 min) when it started and ended: {load[0]:.1f} and {load[1]:.1f}.",
        "",
        "| page | requests | failures | median ms | 95th percentile ms | requests/s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for page in result["pages"]:
        lines.append(
            f"| {page['name']} | {page['requests']:,} | {page['failures']} | "
            f"{page['median_ms']:.0f} | {page['p95_ms']:.0f} | {page['rps']:.1f} |"
        )
    lines += [
        "",
        "Answers by status: "
        + ", ".join(f"{k}: {v:,}" for k, v in sorted(statuses.items()))
        + f". Tracebacks in the server log: {result['server_errors_logged']}.",
        f"Visits acknowledged (302 to the done page): {len(acknowledged):,}; visits written "
        f"to the database during the run: {written:,}; "
        + (
            "the same visits."
            if sorted(after["new_visit_ids"]) == acknowledged
            else "**they differ.**"
        ),
        "",
    ]
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
    parser.add_argument("--no-write", action="store_true", help="print, do not write the docs")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--step", choices=["prepare", "count"], help=argparse.SUPPRESS)
    parser.add_argument("--step-output", help=argparse.SUPPRESS)
    parser.add_argument("--after-pk", type=int, default=0, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv) -> int:
    args = parse(argv)
    if args.step:
        data = prepare(args) if args.step == "prepare" else count_after(args, args.after_pk)
        Path(args.step_output).write_text(json.dumps(data), encoding="utf-8")
        return 0
    datagen.ensure_postgres(args.database_url)
    os.environ["TONGXIN_LOAD_SECRET_KEY"] = secrets.token_urlsafe(50)
    plan = _in_child(args, "prepare")
    load_before = os.getloadavg()[0]
    result = run_load(args, plan)
    load_after = os.getloadavg()[0]
    after = _in_child(args, "count", after_pk=plan["visit_ids_before_max"])
    text = report(args, plan, result, after, (load_before, load_after))
    print(text)
    if not args.no_write:
        write_section(text, args.output, SECTION)
    five_hundreds = result["statuses"].get("5xx", 0)
    same = sorted(after["new_visit_ids"]) == result["acknowledged_visits"]
    if five_hundreds or not same or result["server_errors_logged"]:
        print("FAILED: 5xx answers, server errors or lost or extra visits", file=sys.stderr)
        return 1
    return 0
