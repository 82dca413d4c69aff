"""The users of the load test (``python -m bench load``), run by locust against gunicorn.

Each simulated user holds a session prepared by ``bench/load_bench.py`` (signing in 50 users
would measure password hashing, not the pages) and mixes what street-office staff do all
day: the register list and its next pages, searches, household pages and logging a visit.
The plan (sessions, households, searches) comes from the file named by ``TONGXIN_LOAD_PLAN``;
at the end the counts of answers by status and of acknowledged visits are written to the
file named by ``TONGXIN_LOAD_RESULT``.

``bench/load_bench.py`` names the user class of each run: ``StreetOfficeStaff`` (that mixed
day), ``RegisterListReader`` (the register list alone) and ``AdminChangelistReader`` (the
stock admin's changelist of the same persons alone, as a superuser); the last two do not pause
between clicks, so the server's throughput, not the users' pace, is measured.
"""

import json
import os
import random
import re
import threading
import uuid
from collections import Counter

from locust import HttpUser, between, constant, events, task

PLAN = json.loads(open(os.environ["TONGXIN_LOAD_PLAN"], encoding="utf-8").read())  # noqa: SIM115
RESULT = os.environ["TONGXIN_LOAD_RESULT"]
_SESSIONS = iter(PLAN["sessions"] * 10)
_ADMIN_SESSIONS = iter(PLAN.get("admin_sessions", []) * 10)
_LOCK = threading.Lock()
STATUSES: Counter = Counter()
ACKNOWLEDGED_VISITS: list[int] = []
DONE_URL = re.compile(r"/outreach/log/done/visit/(\d+)/")


@events.request.add_listener
def count_status(request_type, name, response, exception, **kwargs):
    status = getattr(response, "status_code", 0) if response is not None else 0
    STATUSES[f"{status // 100}xx" if status else "no answer"] += 1


@events.test_stop.add_listener
def write_result(environment, **kwargs):
    with open(RESULT, "w", encoding="utf-8") as handle:
        json.dump(
            {"statuses": dict(STATUSES), "acknowledged_visits": sorted(ACKNOWLEDGED_VISITS)},
            handle,
        )


class _SignedIn(HttpUser):
    """A user holding one of the prepared sessions (no tasks of its own)."""

    abstract = True
    sessions = _SESSIONS

    def on_start(self):
        with _LOCK:
            session = next(self.sessions)
        self.households = session.get("households", [])
        # The production settings mark cookies Secure; the bench talks plain HTTP to gunicorn
        # on 127.0.0.1, so the cookies are set here and kept without that flag.
        self.client.cookies.set("sessionid", session["key"])
        self.client.cookies.set("csrftoken", session["csrf"])
        self.csrf = session["csrf"]

    def _keep_cookies(self):
        for cookie in self.client.cookies:
            cookie.secure = False

    def _get(self, url, name):
        with self.client.get(url, name=name, allow_redirects=False, catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"{r.status_code}")
        self._keep_cookies()


class StreetOfficeStaff(_SignedIn):
    wait_time = between(0.2, 1.0)  # a short look at each page before the next click

    @task(3)
    def register_list(self):
        page = random.choice(["", "?page=2", "?page=5"])
        self._get(f"/register/{page}", "register list")

    @task(3)
    def register_search(self):
        term = random.choice(PLAN["searches"])
        self._get(f"/register/?q={term}", "register search")

    @task(3)
    def household_page(self):
        self._get(f"/register/households/{random.choice(self.households)}/", "household page")

    @task(1)
    def log_visit(self):
        household = random.choice(self.households)
        self._get(f"/outreach/log/visit/?household={household}", "visit form")
        data = {
            "csrfmiddlewaretoken": self.csrf,
            "household": household,
            "visited_on": PLAN["today"],
            "kind": "care",
            "learned": "身体还好，孩子在苏州读大学。",
            "needs": "",
            "submission_key": str(uuid.uuid4()),
        }
        with self.client.post(
            "/outreach/log/visit/",
            data=data,
            name="log a visit",
            allow_redirects=False,
            catch_response=True,
        ) as r:
            match = DONE_URL.search(r.headers.get("Location", ""))
            if r.status_code == 302 and match:
                with _LOCK:
                    ACKNOWLEDGED_VISITS.append(int(match[1]))
            else:
                r.failure(f"not recorded: {r.status_code}")
        self._keep_cookies()


class RegisterListReader(_SignedIn):
    """The register list, again and again, with no pause: its throughput."""

    wait_time = constant(0)

    @task
    def register_list_only(self):
        self._get("/register/", "register list")


class AdminChangelistReader(_SignedIn):
    """Django's stock changelist of the same persons, as a superuser, with no pause."""

    wait_time = constant(0)
    sessions = _ADMIN_SESSIONS

    @task
    def admin_changelist_only(self):
        self._get("/admin/residents/person/", "admin changelist")
