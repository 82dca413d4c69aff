"""Two gunicorn servers behind nginx, sharing one PostgreSQL: does everything work whichever
server answers?

``python -m bench cluster`` makes a fresh database (default ``tongxin_cluster``: migrated, the
cache table made, a small demo seeded), starts two gunicorn servers (A and B) with the
production settings, one SECRET_KEY and one MEDIA_ROOT, and its own nginx on 127.0.0.1 in
front of them (``bench/cluster/nginx.conf.template``; nginx is installed with apt-get when
missing, and its system service is never left running). Then, as a browser would and through
nginx only, it signs in, logs a visit with a photo on A, reads both back from B, opens the
compliance page on A then B and shows B read the figures A cached, signs out on B and shows the
session is gone on A, and locks an account out by failing on both servers. nginx adds
``X-Tongxin-Upstream`` (the server that answered) to every answer, and the header
``X-Tongxin-Server: a|b`` chooses the server; without it nginx takes turns.

nginx speaks TLS (a throw-away self-signed certificate made with ``openssl``) and passes
``X-Forwarded-Proto: https`` as in production, so the production settings run unweakened:
secure cookies, the HTTPS redirect, HSTS and CSRF's origin check all stay on.

Everything it started is stopped, also on failure. It prints a report, exits non-zero when any
check fails, and writes the section "## Two servers behind nginx" of docs/performance.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import io
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from bench import common, datagen

ROOT = datagen.ROOT
OUTPUT = common.OUTPUT
SECTION = "## Two servers behind nginx"
TEMPLATE = Path(__file__).resolve().parent / "cluster" / "nginx.conf.template"
DEFAULT_URL = datagen.with_database(datagen.DEFAULT_URL, "tongxin_cluster")
PASSWORD = "Tongxin-2026"  # README, "Demo logins"
STAFF = "pingjianglu"  # community staff of 平江路社区: logs visits, reads compliance
LOCKED = "canglang"  # the account the lock-out check locks
# Variables that would change what the checks expect (the lock-out after 5 failures, no
# two-factor step, no idle timeout within the run); the servers run with the defaults.
UNSET = {
    "DJANGO_SETTINGS_MODULE",
    "SECURE_SSL_REDIRECT",
    "AXES_FAILURE_LIMIT",
    "AXES_COOLOFF_MINUTES",
    "TONGXIN_REQUIRE_2FA_FOR",
    "SESSION_IDLE_TIMEOUT",
    "CSRF_TRUSTED_ORIGINS",
}
SBIN = os.pathsep.join(["/usr/local/sbin", "/usr/sbin", "/sbin"])


# ---------------------------------------------------------------- checks


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class Results:
    checks: list[Check] = field(default_factory=list)

    def add(self, name: str, ok: bool, detail: str) -> bool:
        self.checks.append(Check(name, bool(ok), detail))
        mark = "ok  " if ok else "FAIL"
        print(f"  [{mark}] {name}: {detail}", file=sys.stderr)
        return bool(ok)

    @property
    def failed(self) -> list[Check]:
        return [check for check in self.checks if not check.ok]


# ---------------------------------------------------------------- HTML forms


@dataclass
class Form:
    action: str
    method: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    options: dict[str, list[str]] = field(default_factory=dict)  # select name → values
    files: list[str] = field(default_factory=list)

    def data(self, **changes) -> list[tuple[str, str]]:
        """The fields as a browser would send them, with ``changes`` replacing values."""
        kept = [(name, value) for name, value in self.fields if name not in changes]
        return kept + [(name, value) for name, value in changes.items()]

    def value(self, name: str) -> str:
        return next((value for key, value in self.fields if key == name), "")


class _FormParser(HTMLParser):
    """The forms of a page: inputs with their values, checked boxes, selected options and
    textareas, the way a browser builds what it sends."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: tuple[str, bool] | None = None  # name, whether an option was chosen
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = {key: value or "" for key, value in attrs}
        if tag == "form":
            self._form = Form(attrs.get("action", ""), attrs.get("method", "get").lower())
            self.forms.append(self._form)
        if self._form is None or "disabled" in attrs:
            return
        name = attrs.get("name", "")
        if tag == "input" and name:
            kind = attrs.get("type", "text").lower()
            if kind == "file":
                self._form.files.append(name)
            elif kind in {"checkbox", "radio"}:
                if "checked" in attrs:
                    self._form.fields.append((name, attrs.get("value", "on")))
            elif kind not in {"submit", "button", "image", "reset"}:
                self._form.fields.append((name, attrs.get("value", "")))
        elif tag == "select" and name:
            self._select = (name, False)
            self._form.options[name] = []
        elif tag == "option" and self._select is not None:
            select, _chosen = self._select
            value = attrs.get("value", "")
            self._form.options[select].append(value)
            if "selected" in attrs:
                self._form.fields.append((select, value))
                self._select = (select, True)
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []

    def handle_data(self, data):
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            self._form.fields.append((self._textarea, "".join(self._text).lstrip("\n")))
            self._textarea = None


def forms_of(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


# ---------------------------------------------------------------- the client (through nginx)


class Client:
    """A browser stand-in that talks to nginx only: keeps its cookies (secure ones too, it is
    https), sends Origin and Referer with every POST as a browser does, and notes which server
    answered each request (nginx's X-Tongxin-Upstream)."""

    def __init__(self, base: str, certificate: Path, servers: dict[str, str]):
        import requests

        self.base = base
        self.session = requests.Session()
        # Only the throw-away certificate is trusted, and no proxy or CA bundle from the
        # environment is used (requests lets REQUESTS_CA_BUNDLE override ``verify``).
        self.session.trust_env = False
        self.session.verify = str(certificate)
        self.servers = servers  # "a" → "127.0.0.1:port"
        self.by_address = {address: name for name, address in servers.items()}

    def answered_by(self, response) -> str:
        """ "a", "b", or what nginx said when it is neither (several tries, or none)."""
        upstream = response.headers.get("X-Tongxin-Upstream", "")
        return self.by_address.get(upstream, upstream or "nobody")

    def get(self, path: str, server: str | None = None, **kwargs):
        headers = kwargs.pop("headers", {})
        if server:
            headers["X-Tongxin-Server"] = server
        kwargs.setdefault("allow_redirects", False)
        return self.session.get(urljoin(self.base, path), headers=headers, timeout=60, **kwargs)

    def post(self, path: str, server: str, data, *, referer: str, files=None, **kwargs):
        headers = {
            "X-Tongxin-Server": server,
            "Origin": self.base.rstrip("/"),
            "Referer": urljoin(self.base, referer),
        }
        headers.update(kwargs.pop("headers", {}))
        return self.session.post(
            urljoin(self.base, path),
            data=data,
            files=files,
            headers=headers,
            timeout=60,
            allow_redirects=False,
            **kwargs,
        )

    def form(self, path: str, server: str, *, action: str | None = None, having: str = ""):
        """GET ``path`` on ``server``: the response and its first POST form that goes to
        ``action`` and has a field named ``having`` (None when there is none)."""
        response = self.get(path, server)
        for candidate in forms_of(response.text):
            names = {name for name, _value in candidate.fields} | set(candidate.options)
            if candidate.method != "post" or (action is not None and candidate.action != action):
                continue
            if not having or having in names:
                return response, candidate
        return response, None


def _path_of(location: str) -> str:
    return urlsplit(location).path if location else ""


def _photo_jpeg() -> bytes:
    """A 640×480 photo, as a phone's camera would send (re-encoded by the server)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (640, 480), (196, 32, 40))
    draw = ImageDraw.Draw(image)
    for step in range(0, 640, 40):
        draw.rectangle([step, 200, step + 20, 280], fill=(250, 220, 90))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


# ---------------------------------------------------------------- the checks, in order


def run_checks(client: Client, database_url: str, media_root: Path, results: Results) -> None:
    """Each check in turn, added to ``results``."""
    by = client.answered_by

    # Round robin: without the choosing header, nginx takes turns.
    seen = []
    for _ in range(4):
        response = client.get("/healthz")
        seen.append((response.status_code, by(response)))
    answered = sorted({who for _status, who in seen})
    results.add(
        "nginx takes turns (4 requests to /healthz, no server chosen)",
        all(status == 200 for status, _who in seen) and answered == ["a", "b"],
        "answered by " + ", ".join(who.upper() for _status, who in seen),
    )

    # Sign in on A, on the sign-in page, with the CSRF token of its form.
    page, form = client.form("/login/", "a", having="username")
    form = form or Form("/login/", "post")  # without its form, the POST is refused
    response = client.post(
        "/login/",
        "a",
        form.data(username=STAFF, password=PASSWORD),
        referer="/login/",
    )
    cookie = next((c for c in client.session.cookies if c.name == "sessionid"), None)
    signed_in = response.status_code == 302 and cookie is not None
    secure = bool(cookie and cookie.secure and cookie.has_nonstandard_attr("HttpOnly"))
    results.add(
        f"sign in as {STAFF} on A (login page and its CSRF token)",
        page.status_code == 200
        and by(page) == "a"
        and signed_in
        and by(response) == "a"
        and secure,
        f"login page {page.status_code} from {by(page).upper()}, POST {response.status_code} "
        f"from {by(response).upper()} → {_path_of(response.headers.get('Location', ''))}; "
        f"session cookie {'Secure, HttpOnly' if secure else 'without Secure/HttpOnly'}",
    )
    if not signed_in:
        return
    old_session = cookie.value

    # Log a visit with a photo on A.
    marker = f"集群检查{uuid.uuid4().hex[:8]}"
    learned = f"{marker}：马大姐说孙子下月入学，想问助学结对的手续。"
    page, form = client.form("/outreach/visits/new/", "a", having="household")
    visit_path, photo_paths = "", []
    if form is not None and page.status_code == 200:
        households = [value for value in form.options.get("household", []) if value]
        kinds = [value for value in form.options.get("kind", []) if value]
        changes = {"learned": learned}
        if households:
            changes["household"] = households[0]
        if not form.value("kind") and kinds:
            changes["kind"] = kinds[0]
        files = [("photos", ("走访照片.jpg", _photo_jpeg(), "image/jpeg"))]
        media_before = _files_under(media_root)
        response = client.post(
            "/outreach/visits/new/", "a", form.data(**changes), referer=page.url, files=files
        )
        visit_path = _path_of(response.headers.get("Location", ""))
        stored = _files_under(media_root) - media_before
        ok = response.status_code == 302 and re.fullmatch(r"/outreach/visits/\d+/", visit_path)
        results.add(
            "log a visit with a photo on A (the visit form of /outreach/visits/new/)",
            ok and by(page) == "a" and by(response) == "a" and len(stored) == 1,
            f"form {page.status_code} from {by(page).upper()}, POST {response.status_code} from "
            f"{by(response).upper()} → {visit_path or _form_errors(response.text)}; "
            f"{len(stored)} file written under the shared MEDIA_ROOT",
        )
        household = changes.get("household") or form.value("household")
    else:
        results.add(
            "log a visit with a photo on A (the visit form of /outreach/visits/new/)",
            False,
            f"the visit form answered {page.status_code} from {by(page).upper()}",
        )
        household = ""

    if visit_path:
        # Read it back from B: the visit, the household timeline, the visit list.
        detail = client.get(visit_path, "b")
        timeline = client.get(f"/register/households/{household}/timeline/", "b")
        listing = client.get("/outreach/visits/", "b")
        results.add(
            "read the visit from B (its page, the household timeline, the visit list)",
            all(r.status_code == 200 and by(r) == "b" for r in (detail, timeline, listing))
            and marker in detail.text
            and marker in timeline.text
            and visit_path in listing.text,
            f"visit page {detail.status_code}, timeline {timeline.status_code}, list "
            f"{listing.status_code}, all from "
            + ", ".join(sorted({by(r).upper() for r in (detail, timeline, listing)}))
            + f"; the text logged on A {'is' if marker in detail.text else 'is NOT'} there",
        )
        # Download the photo from B.
        photo_paths = sorted(set(re.findall(r"/outreach/photos/\d+/", detail.text)))
        photo = client.get(photo_paths[0], "b") if photo_paths else None
        size = _image_size(photo.content) if photo is not None else None
        results.add(
            "download the photo uploaded on A from B",
            photo is not None
            and photo.status_code == 200
            and by(photo) == "b"
            and photo.headers.get("Content-Type", "").startswith("image/")
            and size == (640, 480),
            (
                f"{photo.status_code} from {by(photo).upper()}, "
                f"{photo.headers.get('Content-Type', '')}, {len(photo.content):,} bytes, "
                f"{size[0]}×{size[1]} as uploaded"
                if photo is not None and size
                else "no photo on the visit page"
                if photo is None
                else f"{photo.status_code} from {by(photo).upper()}, not an image"
            ),
        )
        # nginx never serves MEDIA_ROOT itself.
        stored = sorted(_files_under(media_root))
        if stored:
            direct = client.get("/media/" + stored[0], "b")
            results.add(
                "nginx refuses /media/ (uploads only through the app's checked views)",
                direct.status_code == 404 and by(direct) == "nobody",
                f"/media/… {direct.status_code}, answered by nginx itself",
            )

    # The compliance page on A, then B: B reads the figures A cached in the shared cache.
    # A computes and writes an entry; B writes nothing (it read the entry, or it keeps no
    # cache in the table); emptied, the table gets B's own entry (B does use it): so B read A's.
    before = _cache_rows(database_url)
    on_a = client.get("/outreach/compliance/", "a")
    after_a = _cache_rows(database_url)
    on_b = client.get("/outreach/compliance/", "b")
    after_b = _cache_rows(database_url)
    _query(database_url, "DELETE FROM tongxin_cache")
    again_b = client.get("/outreach/compliance/", "b")
    rewritten = _cache_rows(database_url)
    written = sorted(
        key
        for key, expires in after_a.items()
        if before.get(key) != expires and "outreach:compliance:" in key
    )
    reused = bool(written) and sorted(rewritten) == written
    same_page = _figures(on_a.text) == _figures(on_b.text) == _figures(again_b.text)
    pages = (on_a, on_b, again_b)
    results.add(
        "compliance figures computed on A are read from the shared cache on B",
        all(page.status_code == 200 for page in pages)
        and [by(page) for page in pages] == ["a", "b", "b"]
        and bool(written)
        and after_b == after_a
        and reused
        and same_page,
        f"A {on_a.status_code} wrote {len(written)} entry to the tongxin_cache table; "
        f"B {on_b.status_code} "
        + ("wrote nothing" if after_b == after_a else "changed the table")
        + f"; with the table emptied, B {again_b.status_code} "
        + (
            "wrote the same entry (B uses the table: it had read A's)"
            if reused
            else f"wrote {len(rewritten)} entry (B keeps its cache elsewhere)"
        )
        + ("; the same figures on every page" if same_page else "; the pages' figures differ"),
    )

    # Sign out on B: the session is gone on A too.
    page, form = client.form("/outreach/visits/", "b", action="/logout/")
    if form is not None:
        response = client.post("/logout/", "b", form.data(), referer="/outreach/visits/")
        signed_out = response.status_code in {200, 302} and by(response) == "b"
    else:
        response, signed_out = page, False
    client.session.cookies.clear()
    again = client.get("/outreach/visits/", "a", cookies={"sessionid": old_session})
    gone = again.status_code == 302 and _path_of(again.headers["Location"]) == "/login/"
    rows = _session_rows(database_url, old_session)
    results.add(
        "sign out on B, then the old session cookie on A",
        signed_out and gone and by(again) == "a" and rows == 0,
        f"sign-out {response.status_code} from {by(response).upper()}; A answers the old "
        f"cookie with {again.status_code} → {_path_of(again.headers.get('Location', ''))}; "
        f"{rows} session row left in the database",
    )

    # Lock-outs (django-axes) are in the database: failures on A and B add up.
    failures = []
    limit = 5  # AXES_FAILURE_LIMIT's default (the servers run with it)
    for attempt in range(limit):
        server = "ab"[attempt % 2]
        page, form = client.form("/login/", server, having="username")
        form = form or Form("/login/", "post")
        response = client.post(
            "/login/",
            server,
            form.data(username=LOCKED, password=PASSWORD + "-wrong"),
            referer="/login/",
        )
        failures.append((by(response), response.status_code))
    page, form = client.form("/login/", "b", having="username")
    form = form or Form("/login/", "post")
    right = client.post(
        "/login/", "b", form.data(username=LOCKED, password=PASSWORD), referer="/login/"
    )
    spread = {who for who, _status in failures}
    results.add(
        f"{limit} wrong passwords for {LOCKED} on A and B lock the name on both",
        spread == {"a", "b"} and right.status_code == 429 and by(right) == "b",
        "wrong passwords answered by "
        + ", ".join(f"{who.upper()} {status}" for who, status in failures)
        + f"; then the right password on {by(right).upper()}: {right.status_code}"
        + (" (locked out)" if right.status_code == 429 else ""),
    )


def _form_errors(html: str) -> str:
    found = re.findall(r'class="(?:invalid-feedback|alert alert-danger)[^"]*"[^>]*>(.*?)<', html)
    return "form refused: " + ("; ".join(found[:4]) or "no redirect")


def _image_size(content: bytes) -> tuple[int, int] | None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(content)) as image:
            return image.size
    except UnidentifiedImageError:
        return None


def _figures(html: str) -> str:
    """The page without what changes from one request to the next (CSRF tokens)."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)
    main = re.search(r"<main.*</main>", html, re.S)
    return main.group(0) if main else html


def _files_under(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def _query(database_url: str, sql: str, params=()) -> list[tuple]:
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as connection:
        cursor = connection.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def _cache_rows(database_url: str) -> dict[str, str]:
    rows = _query(database_url, "SELECT cache_key, expires::text FROM tongxin_cache")
    return dict(rows)


def _session_rows(database_url: str, key: str) -> int:
    return _query(
        database_url, "SELECT count(*) FROM django_session WHERE session_key = %s", (key,)
    )[0][0]


# ---------------------------------------------------------------- the cluster


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def ensure_nginx() -> str:
    """nginx's path, installing Debian's package when missing (as root). The package starts
    its system service; that service is stopped again straight away."""
    found = shutil.which("nginx", path=os.environ.get("PATH", "") + os.pathsep + SBIN)
    if found:
        return found
    if os.geteuid() != 0:
        raise SystemExit("nginx is missing: sudo apt-get install -y nginx")
    print("Installing nginx (apt-get install -y nginx) …", file=sys.stderr)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive", RUNLEVEL="1")
    command = ["apt-get", "install", "-y", "--no-install-recommends", "nginx"]
    if subprocess.run(command, env=env, check=False).returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, check=False)
        subprocess.run(command, env=env, check=True)
    found = shutil.which("nginx", path=os.environ.get("PATH", "") + os.pathsep + SBIN)
    if not found:
        raise SystemExit("apt-get installed no nginx.")
    _stop_system_nginx(found)
    return found


def _stop_system_nginx(nginx: str) -> None:
    """Stop the service the package may have started (its pid file is /run/nginx.pid)."""
    pid_file = Path("/run/nginx.pid")
    if not pid_file.exists():
        return
    for command in (["service", "nginx", "stop"], [nginx, "-s", "quit"]):
        if shutil.which(command[0], path=os.environ.get("PATH", "") + os.pathsep + SBIN):
            subprocess.run(command, check=False, capture_output=True)
        for _ in range(50):
            if not pid_file.exists():
                return
            time.sleep(0.1)


def fresh_database(url: str) -> None:
    """Drop and create the database (only one whose name says it is the cluster check's)."""
    name = datagen.database_name(url)
    if "cluster" not in name:
        raise SystemExit(
            f"Refusing to drop {name!r}: the cluster check recreates its database, so its "
            "name must contain 'cluster' (e.g. tongxin_cluster)."
        )
    datagen.ensure_postgres(url)
    import psycopg
    from psycopg import sql

    with psycopg.connect(datagen.with_database(url, "postgres"), autocommit=True) as connection:
        identifier = sql.Identifier(name)
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(identifier))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(identifier))


class Cluster:
    """Two gunicorn servers and an nginx, each in its own process group, all stopped by
    ``stop()`` whatever happened."""

    def __init__(self, args, work: Path):
        self.args = args
        self.work = work
        self.media_root = work / "media"
        self.static_root = work / "static"
        self.prefix = work / "nginx"
        self.processes: list[tuple[str, subprocess.Popen]] = []
        self.logs: dict[str, Path] = {}
        self.ports = {"a": _free_port(), "b": _free_port()}
        self.port = _free_port()
        self.secret_key = secrets.token_urlsafe(50)

    @property
    def base(self) -> str:
        return f"https://127.0.0.1:{self.port}/"

    @property
    def servers(self) -> dict[str, str]:
        return {name: f"127.0.0.1:{port}" for name, port in self.ports.items()}

    def environment(self, server: str | None = None) -> dict:
        """The production settings of server "a" or "b" (None: the management commands);
        the same for both unless ``--unshare``."""
        unshared = set(self.args.unshare or ())
        env = {k: v for k, v in os.environ.items() if k not in UNSET}
        secret_key = self.secret_key
        if "secret-key" in unshared and server == "b":
            secret_key = secrets.token_urlsafe(50)
        media_root = self.media_root
        if "media" in unshared and server == "b":
            media_root = self.work / "media-b"
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings.production",
            SECRET_KEY=secret_key,  # the same on every server: sessions, CSRF, signing
            ALLOWED_HOSTS="127.0.0.1",
            DATABASE_URL=self.args.database_url,
            DATABASE_CONN_MAX_AGE="60",
            MEDIA_ROOT=str(media_root),  # the same directory for every server
            STATIC_ROOT=str(self.static_root),
            TRUSTED_PROXY_COUNT="1",  # nginx in front
            TONGXIN_CACHE="local" if "cache" in unshared and server else "database",
            TONGXIN_DEMO_FORCE_PASSWORD_CHANGE="false",
            LOG_LEVEL="WARNING",
        )
        return env

    def _manage(self, *arguments: str, background: bool = False):
        log = self.work / f"manage-{arguments[0]}.log"
        self.logs[arguments[0]] = log
        command = [sys.executable, "manage.py", *arguments]
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.environment(),
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append((f"manage.py {arguments[0]}", process))
        if background:
            return process
        return self._finish(process, arguments[0])

    def _finish(self, process: subprocess.Popen, name: str) -> None:
        if process.wait(timeout=300) != 0:
            tail = self.logs[name].read_text(errors="replace")[-2000:]
            raise SystemExit(f"manage.py {name} failed:\n{tail}")

    def prepare(self) -> None:
        """A fresh database with the cache table and a small demo; the static files."""
        self.media_root.mkdir()
        fresh_database(self.args.database_url)
        static = self._manage("collectstatic", "--noinput", "--verbosity", "0", background=True)
        self._manage("migrate", "--verbosity", "0")
        self._manage("createcachetable")
        self._manage("seed_demo", "--households", str(self.args.households), "--years", "0")
        self._finish(static, "collectstatic")

    def start(self, nginx: str) -> None:
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        for name, port in self.ports.items():
            log = self.work / f"gunicorn-{name}.log"
            self.logs[f"gunicorn-{name}"] = log
            process = subprocess.Popen(
                [
                    gunicorn,
                    "config.wsgi",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    str(self.args.workers),
                    "--threads",
                    "2",
                    "--worker-class",
                    "gthread",
                    "--timeout",
                    "60",
                ],
                cwd=ROOT,
                env=self.environment(name),
                stdout=log.open("w"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            self.processes.append((f"gunicorn {name.upper()}", process))
        self._certificate()
        conf = self.prefix / "nginx.conf"
        text = TEMPLATE.read_text(encoding="utf-8")
        for key, value in {
            "@PREFIX@": str(self.prefix),
            "@PORT_A@": str(self.ports["a"]),
            "@PORT_B@": str(self.ports["b"]),
            "@PORT@": str(self.port),
        }.items():
            text = text.replace(key, value)
        conf.write_text(text, encoding="utf-8")
        error_log = str(self.prefix / "error.log")
        self.logs["nginx"] = self.prefix / "error.log"
        base = [nginx, "-p", str(self.prefix), "-c", str(conf), "-e", error_log]
        tested = subprocess.run([*base, "-t"], capture_output=True, text=True, check=False)
        if tested.returncode != 0:
            raise SystemExit(f"nginx refused its configuration:\n{tested.stderr}")
        process = subprocess.Popen(
            base,
            stdout=(self.work / "nginx.out").open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append(("nginx", process))
        for name, port in [*self.ports.items(), ("nginx", self.port)]:
            self._wait_for(name, port)

    def _certificate(self) -> None:
        """A throw-away self-signed certificate for 127.0.0.1."""
        self.prefix.mkdir(mode=0o755)
        command = [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(self.prefix / "key.pem"),
            "-out",
            str(self.prefix / "cert.pem"),
        ]
        made = subprocess.run(command, capture_output=True, text=True, check=False)
        if made.returncode != 0:
            raise SystemExit(f"openssl could not make a certificate:\n{made.stderr}")
        # nginx's worker (user nobody) makes its temporary folders under the prefix.
        self.work.chmod(0o711)

    @property
    def certificate(self) -> Path:
        return self.prefix / "cert.pem"

    def _wait_for(self, name: str, port: int) -> None:
        for _ in range(300):
            for label, process in self.processes:
                if process.poll() is not None and not label.startswith("manage.py"):
                    raise SystemExit(f"{label} stopped at start:\n{self.tail(label)}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        raise SystemExit(f"{name} did not start on port {port}.")

    def tail(self, label: str) -> str:
        key = {"gunicorn A": "gunicorn-a", "gunicorn B": "gunicorn-b"}.get(label, label)
        log = self.logs.get(key)
        return log.read_text(errors="replace")[-2000:] if log and log.exists() else ""

    def stop(self) -> None:
        """Stop every process group started, newest first: TERM, then KILL after 15 s."""
        for _label, process in reversed(self.processes):
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        for _label, process in reversed(self.processes):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)

    def tracebacks(self) -> int:
        return sum(
            self.logs[name].read_text(errors="replace").count("Traceback")
            for name in ("gunicorn-a", "gunicorn-b")
            if name in self.logs and self.logs[name].exists()
        )


# ---------------------------------------------------------------- the report


def _nginx_version(nginx: str) -> str:
    found = subprocess.run([nginx, "-v"], capture_output=True, text=True, check=False)
    return found.stderr.strip().rsplit("/", 1)[-1] or "?"


def report(args, argv: list[str], results: Results, facts: dict) -> str:
    machine = common.machine()
    passed = len(results.checks) - len(results.failed)
    lines = [
        SECTION,
        "",
        f"Checked {datetime.date.today():%Y-%m-%d} on {machine['cpu']}, {machine['cores']} "
        f"cores, {machine['memory']} RAM; Python {machine['python']}, nginx "
        f"{facts['nginx']}. Two gunicorn servers, A and B ({args.workers} workers × 2 threads "
        "each), with the production settings, one SECRET_KEY and one MEDIA_ROOT, behind nginx "
        "with TLS on 127.0.0.1 (`bench/cluster/nginx.conf.template`), sharing a PostgreSQL "
        f"database made afresh (`{datagen.database_name(args.database_url)}`: migrated, "
        f"`createcachetable`, `seed_demo --households {args.households} --years 0`). The "
        "client talks to nginx only; `X-Tongxin-Server` chooses the server and nginx's "
        "`X-Tongxin-Upstream` says which one answered.",
        "",
        *common.command_block("cluster", argv),
        "",
        "| check | result | what happened |",
        "|---|---|---|",
    ]
    for check in results.checks:
        detail = check.detail.replace("|", "\\|")
        lines.append(f"| {check.name} | {'passed' if check.ok else '**failed**'} | {detail} |")
    lines += [
        "",
        f"{passed} of {len(results.checks)} checks passed; tracebacks in the servers' logs: "
        f"{facts['tracebacks']}. Setting up (database, migrations, demo, static files, "
        f"servers) took {facts['setup_s']:.0f} s, the checks {facts['checks_s']:.0f} s.",
        "",
    ]
    return "\n".join(lines)


def parse(argv):
    parser = argparse.ArgumentParser(prog="python -m bench cluster", description=__doc__)
    parser.add_argument(
        "--database-url",
        default=DEFAULT_URL,
        help="the database to recreate (its name must contain 'cluster'); default %(default)s",
    )
    parser.add_argument("--households", type=int, default=60, help="demo households to seed")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per server")
    parser.add_argument(
        "--unshare",
        action="append",
        choices=["cache", "media", "secret-key"],
        help="give each server its own (memory cache, MEDIA_ROOT, SECRET_KEY) to see the "
        "checks that need it shared fail; the docs are not written then",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs)")
    parser.add_argument("--no-write", action="store_true", help="print, do not write the docs")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    return parser.parse_args(argv)


def main(argv) -> int:
    args = parse(argv)
    started = time.perf_counter()
    nginx = ensure_nginx()
    work = Path(tempfile.mkdtemp(prefix="tongxin-cluster-"))
    cluster = Cluster(args, work)
    results, facts = Results(), {"nginx": _nginx_version(nginx)}
    try:
        print("== Two servers behind nginx: preparing the database …", file=sys.stderr)
        cluster.prepare()
        cluster.start(nginx)
        facts["setup_s"] = time.perf_counter() - started
        print(
            f"== nginx on {cluster.base} in front of A ({cluster.servers['a']}) and "
            f"B ({cluster.servers['b']})",
            file=sys.stderr,
        )
        checking = time.perf_counter()
        client = Client(cluster.base, cluster.certificate, cluster.servers)
        try:
            run_checks(client, args.database_url, cluster.media_root, results)
        except Exception as error:  # a check that cannot go on is a failed check, reported
            results.add("the checks ran to the end", False, f"{type(error).__name__}: {error}")
        facts["checks_s"] = time.perf_counter() - checking
    finally:
        cluster.stop()
        facts["tracebacks"] = cluster.tracebacks()
        if results.failed or facts["tracebacks"] or args.keep:
            print(f"Logs kept in {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    text = report(args, argv, results, facts)
    print(text)
    passed = len(results.checks) - len(results.failed)
    every = bool(results.checks) and not results.failed and not facts["tracebacks"]
    name = "every check passes, no traceback in the servers' logs"
    total = f"{passed} of {len(results.checks)}"
    if not args.unshare:
        common.record([common.Target(SECTION[3:], name, total, "all", every)])
    if not args.no_write and not args.unshare:
        common.write_section(text, args.output, SECTION)
    if results.failed or facts["tracebacks"] or not results.checks:
        print(
            f"FAILED: {len(results.failed)} check(s) failed, "
            f"{facts['tracebacks']} traceback(s) in the servers' logs",
            file=sys.stderr,
        )
        return 1
    print(f"All {len(results.checks)} checks passed.", file=sys.stderr)
    return 0
