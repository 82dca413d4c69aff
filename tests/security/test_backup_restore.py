"""Backups (issue 7 §3): what the README's "Backups (备份与恢复)" section says, done on the
database the suite runs on — a seeded demo district is backed up, restored into an empty
database, and gives exactly the same report figures.

The test database is in memory (SQLite) or inside a rolled-back transaction (PostgreSQL), so
the test works on real databases of its own through ``manage.py`` in subprocesses, as an
operator would: SQLite files in ``tmp_path``; on PostgreSQL two databases created and dropped
here (the role needs CREATEDB, as the README's role has).

Slow by nature (about 20 s on SQLite, 35 s on PostgreSQL: most of it is ``migrate`` and
``seed_demo`` on a fresh database, which commit normally in a subprocess): it is the one test
that proves a backup can be restored, so it runs in ``make test`` with everything else.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext

DISTRICT = "320508000000"  # 姑苏区 of the demo
TIMEOUT = 300  # seconds per command, far above what they take


def manage(*args, database_url: str) -> str:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
    }
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert done.returncode == 0, f"manage.py {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def seed_and_measure(database_url: str) -> dict:
    """Migrate an empty database, load a small demo district, and return its figures."""
    manage("migrate", "--noinput", database_url=database_url)
    manage("seed_demo", "--households", "40", "--years", "1", database_url=database_url)
    return figures(database_url)


def figures(database_url: str) -> dict:
    period = str(timezone.localdate().year)
    out = manage(
        "figures", "--area", DISTRICT, "--period", period, "--format", "json",
        database_url=database_url,
    )  # fmt: skip
    return json.loads(out)


def assert_same_and_not_empty(before: dict, after: dict) -> None:
    assert after == before
    counted = before["figures"]
    assert counted["minority_persons"] > 0
    assert counted["visits"] > 0
    assert counted["cards_issued"] > 0


@pytest.mark.django_db
def test_a_backup_restored_into_an_empty_database_gives_the_same_figures(tmp_path):
    if connection.vendor == "postgresql":
        backup_and_restore_postgresql(tmp_path)
    else:
        backup_and_restore_sqlite(tmp_path)


def backup_and_restore_sqlite(tmp_path):
    live = tmp_path / "db.sqlite3"
    before = seed_and_measure(f"sqlite:///{live}")

    # README: manage.py backup_sqlite FILE, while the app runs
    backup = tmp_path / "tongxin-backup.sqlite3"
    manage("backup_sqlite", str(backup), database_url=f"sqlite:///{live}")
    assert backup.stat().st_size > 0
    assert not list(tmp_path.glob("*.partial"))
    # README: restore = (stop the app and) copy the backup to where the database lives;
    # here a new place, so the restored copy is read on its own
    restored_dir = tmp_path / "restored"
    restored_dir.mkdir()
    restored = restored_dir / "db.sqlite3"
    shutil.copyfile(backup, restored)
    live.unlink()  # the original is gone: the figures can only come from the backup
    after = figures(f"sqlite:///{restored}")
    assert_same_and_not_empty(before, after)


def _url(settings_dict, name: str) -> str:
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or "5432"
    return f"postgres://{user}:{password}@{host}:{port}/{name}"


def backup_and_restore_postgresql(tmp_path):
    import psycopg
    from psycopg import sql

    missing = [tool for tool in ("pg_dump", "pg_restore") if shutil.which(tool) is None]
    if missing:
        pytest.skip(
            f"{' and '.join(missing)} not installed (apt-get install postgresql-client): "
            "the PostgreSQL backup cannot be tested"
        )
    settings_dict = connection.settings_dict
    base = settings_dict["NAME"][:40]
    source, target = f"{base}_backup_src", f"{base}_backup_dst"
    admin = psycopg.connect(_url(settings_dict, "postgres"), autocommit=True)

    def drop(name):
        """Drop a database left by an earlier run. Plain DROP stops an autovacuum worker on
        it by itself; FORCE (needed for a stray connection) refuses to, for a role that may
        not signal superuser processes, so it is the second try, and the first again after."""
        plain = sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name))
        forced = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        for attempt in range(10):
            try:
                admin.execute(plain if attempt % 2 == 0 else forced)
                return
            except (psycopg.errors.ObjectInUse, psycopg.errors.InsufficientPrivilege):
                time.sleep(0.5)
        admin.execute(plain)

    try:
        for name in (source, target):
            drop(name)
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        before = seed_and_measure(_url(settings_dict, source))

        # README: pg_dump --format=custom, restore into an empty database
        dump = tmp_path / "tongxin.dump"
        subprocess.run(
            ["pg_dump", "--format=custom", f"--file={dump}", _url(settings_dict, source)],
            check=True,
            capture_output=True,
            timeout=TIMEOUT,
        )
        drop(source)  # the original is gone: the figures can only come from the dump
        restore = subprocess.run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                f"--dbname={_url(settings_dict, target)}",
                str(dump),
            ],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
        assert restore.returncode == 0, restore.stderr
        after = figures(_url(settings_dict, target))
        assert_same_and_not_empty(before, after)
    finally:
        for name in (source, target):
            drop(name)
        admin.close()


@pytest.mark.django_db
def test_backup_sqlite_refuses_what_it_cannot_copy(tmp_path):
    """The suite's own database is in memory (SQLite) or PostgreSQL: nothing to copy, a
    message instead of a half-written file."""
    target = tmp_path / "tongxin-backup.sqlite3"
    if connection.vendor == "postgresql":
        expected = gettext(
            "The database is not SQLite: back up PostgreSQL with pg_dump (README, Backups)."
        )
    else:
        name = settings.DATABASES["default"]["NAME"]
        expected = gettext("No SQLite database file at %(path)s.") % {"path": Path(str(name))}
    with pytest.raises(CommandError, match=re.escape(expected)):
        call_command("backup_sqlite", str(target), stdout=StringIO())
    assert list(tmp_path.iterdir()) == []
