"""A live Tongxin for the browser tests and the page-weight benchmark: the demo district on
its own database, served by gunicorn with the production settings (whitenoise's compressed,
far-future static files; no debug), on a free port of 127.0.0.1.

``start_site(workdir)`` migrates, seeds and collects the static files, then starts the server;
``site.stop()`` stops it. The database is a SQLite file in ``workdir`` unless a
``database_url`` (PostgreSQL) is given, which is emptied first.
"""

from __future__ import annotations

import datetime
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Tongxin-2026"  # the demo accounts' password (README, "Demo logins")
CHROMIUM = "/usr/bin/chromium"  # Debian's package; never a downloaded browser


def site_today() -> datetime.date:
    """Today where the site is (settings.TIME_ZONE, Asia/Shanghai), not on this machine's
    clock: from 16:00 UTC the two are different days."""
    return datetime.datetime.now(ZoneInfo("Asia/Shanghai")).date()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Site:
    base_url: str
    env: dict
    workdir: Path
    process: subprocess.Popen | None = None
    log: Path | None = None
    commands: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base_url + path

    def manage(self, *args: str) -> str:
        """Run ``manage.py`` against the site's database; its output."""
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
        )
        if done.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        return done.stdout

    def shell(self, code: str) -> str:
        """Run Python in ``manage.py shell`` on the site's database: what it printed."""
        return self.manage("shell", "--no-imports", "-c", code).strip()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def _empty_postgres(database_url: str) -> None:
    """Drop every table of the PostgreSQL database the site will use."""
    import psycopg

    name = database_url.rsplit("/", 1)[-1].split("?")[0]
    if "e2e" not in name:  # it drops every table: never a database not made for this
        raise RuntimeError(f"refusing to empty {name!r}: its name must contain 'e2e'")
    with psycopg.connect(database_url.replace("postgres://", "postgresql://", 1)) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


def start_site(
    workdir: Path, *, database_url: str | None = None, households: int = 80, workers: int = 2
) -> Site:
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    if database_url:
        _empty_postgres(database_url)
    else:
        database_url = f"sqlite:///{workdir / 'tongxin.sqlite3'}"
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="false",
        DATABASE_URL=database_url,
        STATIC_ROOT=str(workdir / "static"),
        MEDIA_ROOT=str(workdir / "media"),
        TONGXIN_DEMO_FORCE_PASSWORD_CHANGE="false",
        PYTHONUNBUFFERED="1",
    )
    port = free_port()
    site = Site(base_url=f"http://127.0.0.1:{port}", env=env, workdir=workdir)
    site.manage("migrate", "--noinput", "--verbosity", "0")
    site.manage("createcachetable")
    site.manage("seed_demo", "--households", str(households), "--years", "1", "--seed", "8")
    site.manage("collectstatic", "--noinput", "--verbosity", "0")
    site.log = workdir / "gunicorn.log"
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    site.process = subprocess.Popen(
        [gunicorn, "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
        + ["--threads", "4", "--worker-class", "gthread", "--timeout", "120"],
        cwd=ROOT,
        env=env,
        stdout=site.log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return site
        except OSError:
            if site.process.poll() is not None:
                break
            time.sleep(0.1)
    site.stop()
    raise RuntimeError(f"gunicorn did not start:\n{site.log.read_text()}")


if __name__ == "__main__":  # python -m tests.e2e.site DIR: serve until interrupted
    import json

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stop gunicorn too, in finally
    site = start_site(Path(sys.argv[1]))
    (site.workdir / "url").write_text(site.base_url)
    (site.workdir / "env.json").write_text(json.dumps(site.env))
    print(site.base_url, flush=True)
    try:
        site.process.wait()
    finally:
        site.stop()
