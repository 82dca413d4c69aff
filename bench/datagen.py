"""The benchmark database: a PostgreSQL server, a database, the schema and one data set.

The data set is the demo district with ``residents.demo`` at a given size; it is generated
once and reused while its size matches, so repeated measurements do not pay for it again.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://tongxin:tongxin@127.0.0.1:5432/tongxin_bench"
SETTINGS = "config.settings.test"  # DEBUG off, no HTTPS redirect, the test client's host
SEED = 2026


@dataclass(frozen=True)
class Size:
    """One size of the data set and of the runs on it (``python -m bench --size``)."""

    households: int
    persons: int
    log_rows: int
    household_years: int  # years of logs on the timeline household
    merchants: int
    card_uses: int
    import_rows: int
    load_users: int
    load_seconds: int
    register_db: str  # the register alone (registry, import and load benchmarks)
    outreach_db: str  # the register, the logs and the service-card scheme (outreach, reports)


SIZES = {
    "full": Size(40_000, 100_000, 1_000_000, 5, 300, 100_000, 10_000, 50, 60,
                 "tongxin_bench", "tongxin_bench_outreach"),
    "small": Size(400, 1_000, 10_000, 1, 30, 1_000, 1_000, 10, 15,
                  "tongxin_bench_small", "tongxin_bench_outreach_small"),
    "tiny": Size(120, 300, 3_000, 1, 10, 300, 300, 5, 10,
                 "tongxin_bench_tiny", "tongxin_bench_outreach_tiny"),
}  # fmt: skip
# The query counts of a size are compared with those of a smaller one, in its own databases.
COMPARED_WITH = {"full": "small", "small": "tiny"}


def small_url(url: str) -> str:
    """The database of a benchmark's small pass: the same server, ``<name>_small``."""
    return with_database(url, database_name(url) + "_small")


def with_database(url: str, name: str) -> str:
    """The same server and role, another database."""
    parts = urlsplit(url)
    return parts._replace(path="/" + name).geturl()


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def is_postgres(url: str) -> bool:
    return urlsplit(url).scheme in {"postgres", "postgresql", "pgsql"}


def _run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, check=False, capture_output=True, text=True, **kwargs)


def _as_postgres(sql: str, port: int) -> str:
    """Run SQL as the postgres superuser (local server, run as root) and return its output."""
    result = _run(["runuser", "-u", "postgres", "--", "psql", "-p", str(port), "-qtAX", "-c", sql])
    if result.returncode != 0:
        raise SystemExit(f"psql failed: {result.stderr.strip()}")
    return result.stdout.strip()


def ensure_postgres(url: str) -> None:
    """Start the machine's server when none answers; create the role and database if missing.

    Only for a server on this machine; a remote URL must point at a ready database."""
    if not is_postgres(url):
        return
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 5432
    if host not in {"127.0.0.1", "localhost", "::1"}:
        return
    if _run(["pg_isready", "-q", "-h", host, "-p", str(port)]).returncode != 0:
        clusters = _run(["pg_lsclusters", "--no-header"]).stdout.split()
        if len(clusters) < 2:
            raise SystemExit("No PostgreSQL cluster on this machine (apt-get install postgresql).")
        print(f"Starting PostgreSQL {clusters[0]} {clusters[1]} …", file=sys.stderr)
        _run(["pg_ctlcluster", clusters[0], clusters[1], "start"])
        for _ in range(30):
            if _run(["pg_isready", "-q", "-h", host, "-p", str(port)]).returncode == 0:
                break
            time.sleep(1)
        else:
            raise SystemExit("PostgreSQL did not start.")
    if shutil.which("runuser") is None or os.geteuid() != 0:
        return  # not root: the database must exist already
    role, password, name = parts.username or "tongxin", parts.password or "", database_name(url)
    if _as_postgres(f"SELECT 1 FROM pg_roles WHERE rolname = '{role}'", port) != "1":
        _as_postgres(f"CREATE ROLE \"{role}\" LOGIN CREATEDB PASSWORD '{password}'", port)
    if _as_postgres(f"SELECT 1 FROM pg_database WHERE datname = '{name}'", port) != "1":
        print(f"Creating database {name} …", file=sys.stderr)
        _as_postgres(f'CREATE DATABASE "{name}" OWNER "{role}"', port)


def setup_django(url: str) -> None:
    """Point Django at the benchmark database, with persistent connections like a server."""
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DATABASE_CONN_MAX_AGE", "600")
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def register_size() -> tuple[int, int]:
    from residents.models import Household, Person

    return Household.objects.count(), Person.objects.count()


def _wipe_register(url: str) -> None:
    """Empty the register tables of a benchmark database (never of any other)."""
    from django.apps import apps
    from django.db import connection

    if not database_name(url).startswith("tongxin_bench"):
        raise SystemExit(f"Refusing to empty {database_name(url)}: not a tongxin_bench database.")
    keep = {"ethnicity", "historicalethnicity"}
    tables = [
        model._meta.db_table
        for model in apps.get_app_config("residents").get_models()
        if model._meta.model_name not in keep
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
        else:
            for table in tables:
                cursor.execute(f"DELETE FROM {table}")


def ensure_data(
    url: str, *, households: int, persons: int, seed: int = SEED, regenerate: bool = False
) -> float | None:
    """Generate the data set unless one of this size is there; return the seconds it took."""
    import io

    from django.core.management.base import OutputWrapper
    from django.db import connection

    from network import demo as network_demo
    from residents import demo as residents_demo

    if not regenerate and register_size() == (households, persons):
        return None
    if register_size() != (0, 0):
        _wipe_register(url)
    started = time.perf_counter()
    buffer = io.StringIO()
    out = OutputWrapper(buffer)  # adds the line ends the demo builders leave out
    network_demo.build(seed=seed, stdout=out)
    residents_demo.build(seed=seed, stdout=out, households=households, persons=persons)
    seconds = time.perf_counter() - started
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")  # fresh statistics, as a server would have
    print(buffer.getvalue().strip(), f"({seconds:.1f} s)", file=sys.stderr)
    return seconds


# ---------------------------------------------------------------------------- the data step


def prepare(args) -> dict:
    """In a child process: the register, and with ``--log-rows`` the outreach benchmark's logs
    and the reports benchmark's service-card scheme, each reused when there at this size."""
    setup_django(args.database_url)
    migrate()
    started = time.perf_counter()
    timings = {
        "register": ensure_data(
            args.database_url,
            households=args.households,
            persons=args.persons,
            seed=args.seed,
            regenerate=args.regenerate,
        )
    }
    if args.log_rows:
        from bench import outreach_bench, reports_bench

        options = reports_bench.parse(
            [
                *("--database-url", args.database_url, "--seed", str(args.seed)),
                *("--households", str(args.households), "--persons", str(args.persons)),
                *("--log-rows", str(args.log_rows)),
                *("--household-years", str(args.household_years)),
                *("--merchants", str(args.merchants), "--card-uses", str(args.card_uses)),
            ]
            + (["--regenerate"] if args.regenerate else [])
        )
        timings["logs"] = outreach_bench.ensure_logs(options)
        timings["extras"] = reports_bench.ensure_extras(options)
    households, persons = register_size()
    return {
        "database": database_name(args.database_url),
        "households": households,
        "persons": persons,
        "generated": timings,
        "seconds": time.perf_counter() - started,
    }


def prepare_in_child(url: str, size: Size, *, outreach: bool, regenerate: bool) -> dict:
    """Run ``prepare`` for one database in a child process; its answer."""
    import tempfile

    ensure_postgres(url)
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = Path(handle.name)
    command = [sys.executable, "-m", "bench.datagen", "--database-url", url, "--into", str(out)]
    command += ["--households", str(size.households), "--persons", str(size.persons)]
    if outreach:
        command += ["--log-rows", str(size.log_rows), "--household-years"]
        command += [str(size.household_years), "--merchants", str(size.merchants)]
        command += ["--card-uses", str(size.card_uses)]
    command += ["--regenerate"] if regenerate else []
    print(f"== data set in {database_name(url)}", file=sys.stderr)
    try:
        if subprocess.run(command, cwd=ROOT, check=False).returncode != 0:
            raise SystemExit(f"Preparing the data set in {database_name(url)} failed.")
        return json.loads(out.read_text(encoding="utf-8"))
    finally:
        out.unlink(missing_ok=True)


def main(argv) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.datagen", description=prepare.__doc__)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--households", type=int, default=SIZES["full"].households)
    parser.add_argument("--persons", type=int, default=SIZES["full"].persons)
    parser.add_argument("--log-rows", type=int, default=0, help="0: the register only")
    parser.add_argument("--household-years", type=int, default=SIZES["full"].household_years)
    parser.add_argument("--merchants", type=int, default=SIZES["full"].merchants)
    parser.add_argument("--card-uses", type=int, default=SIZES["full"].card_uses)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--into", help="write the answer as JSON to this file")
    args = parser.parse_args(argv)
    ensure_postgres(args.database_url)
    data = prepare(args)
    if args.into:
        Path(args.into).write_text(json.dumps(data), encoding="utf-8")
    else:
        print(json.dumps(data, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
