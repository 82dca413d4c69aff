"""The benchmark database: a PostgreSQL server, a database, the schema and one data set.

The data set is the demo district with ``residents.demo`` at a given size; it is generated
once and reused while its size matches, so repeated measurements do not pay for it again.
"""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://tongxin:tongxin@127.0.0.1:5432/tongxin_bench"
SETTINGS = "config.settings.test"  # DEBUG off, no HTTPS redirect, the test client's host
SEED = 2026


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
