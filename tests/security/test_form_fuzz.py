"""Hypothesis feeds every form of the project hostile values: never a 500, a refusal says what
is wrong in Chinese, and a refused post writes nothing.

The forms are found, not listed: the URL patterns are walked (like
tests/network/test_url_walk.py), each page is opened by the first role allowed to use it (ids
of its own records, tests/security/walk.py), and the fields are read from the page's HTML as a
browser would (inputs, selects, textareas and the hidden management fields of formsets). Each
post starts from what the page would send with every empty box filled plausibly, and puts
hostile values (tests.security.forms, HOSTILE below) into one or more of its fields, or a list
of values where one is expected. The search boxes and filters of the lists (GET forms) get the
same values in their query strings.

After each post: the status is below 500; a page showing a bound form with errors has a
message with Chinese characters among them; and unless the post succeeded (a redirect), no
table of the Tongxin apps has a row more or less (walk.snapshot: one query). Hypothesis is
derandomized, so CI sees the same values on every run.
"""

from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from network.scoped import ACCOUNT, LOGIN, SCOPED
from tests.security.forms import baseline, forms_of
from tests.security.test_id_walk import ID_KINDS, allowed_methods
from tests.security.walk import build_town, changed, has_cjk, routes, snapshot

HOSTILE_TEXT = [
    "'; DROP TABLE residents_person; --",
    "' OR '1'='1",
    '"><script>alert(1)</script>',
    "<img src=x onerror=alert(1)>",
    "{{ request.user.password }}{% debug %}",
    "马\x00晓东",
    "\x00",
    "\x01\x08\x0b\x1f\x7f",
    "\u202e\u200b\ufeff",
    "😀👨‍👩‍👧𠀀𪚥",
    "-1",
    "-99999999",
    str(10**30),
    "1e400",
    "NaN",
    "-0",
    "9" * 40,
    "１２３４５",
    "１３５Ｘ",
    "²³",
    "2025-02-30",
    "0000-00-00",
    "9999-12-31",
    "2025-13-01",
    "２０２６-０３-０１",
    "2026-03-01T25:61",
    "../../../etc/passwd",
    "%00%ff",
    "",
    " ",
]
LONG = st.builds(
    lambda unit, n: unit * n,
    st.sampled_from(["马", "x", "😀", "<", "'", "\x00", "1"]),
    st.integers(10_000, 12_000),
)
ODD_TEXT = st.text(
    alphabet=st.characters(
        codec="utf-8", categories=["Cc", "Cf", "So", "Lo", "Nd", "No", "Zs", "Sm", "Po"]
    ),
    min_size=1,
    max_size=30,
)
ONE = st.one_of(st.sampled_from(HOSTILE_TEXT), ODD_TEXT, LONG)
HOSTILE = st.one_of(ONE, st.lists(st.sampled_from(HOSTILE_TEXT), min_size=2, max_size=3))

SKIPPED = {
    "login",  # the sign-in, throttled by django-axes: its own tests
    "logout",
    "set_language",
}
# Which roles may open a page, tried in this order: the first that gets the form fuzzes it.
ROLES = ["subdistrict", "district", "community", "liaison", "till"]
POST_EXAMPLES = 4
GET_EXAMPLES = 2


# Pages whose form appears once a record is chosen (a household to pair or survey, the
# person to keep of two), and pages better fuzzed with another of the estate's records.
STEP_QUERY = {
    "outreach:liaison-create": {"community": "area"},
    "outreach:pairing-create": {"household": "household"},
    "services:survey-create": {"household": "household"},
    "residents:person-merge": {"keep": "person"},
    "residents:household-merge": {"keep": "household"},
}
OTHER_IDS = {"services:consent-person": {"pk": "person2"}}  # no consent yet: the form to give it


def _ids(route, town):
    kinds = OTHER_IDS.get(route.name) or ID_KINDS.get(route.name, {})
    return {k: (v[1:] if v.startswith("=") else town.own.ids[v]) for k, v in kinds.items()}


def _open(client, town, route):
    """The first role's page with a form: (role, path, html), or None."""
    if route.name == "services:card-verify":
        return None
    path = route.url(**_ids(route, town))
    step = {k: town.own.ids[v] for k, v in STEP_QUERY.get(route.name, {}).items()}
    if step:
        path = f"{path}?{urlencode(step)}"
    for role in ROLES:
        client.force_login(town.users[role])
        response = client.get(path)
        html_page = response.get("Content-Type", "").startswith("text/html")
        if response.status_code == 200 and not response.streaming and html_page:
            html = response.content.decode()
            if "<form" in html:
                return role, path, html
    return None


def _own_forms(html, path, method):
    bare = path.split("?")[0]
    return [
        f
        for f in forms_of(html)
        if f.method == method
        and f.action.replace("&amp;", "&") in {"", path, bare, "."}
        and f.names()
    ]


def _errors(response) -> list[str]:
    """The errors of every bound form and formset on the page."""
    found = []
    contexts = response.context or []
    if not isinstance(contexts, list):
        contexts = [contexts]
    seen = set()
    for context in contexts:
        for sub in context.dicts:
            for value in dict(sub).values():
                for form in (value, getattr(value, "form", None)):
                    if id(form) in seen or not getattr(form, "is_bound", False):
                        continue
                    seen.add(id(form))
                    errors = getattr(form, "errors", None)
                    if isinstance(errors, dict):
                        found += [str(e) for es in errors.values() for e in es]
                    elif isinstance(errors, list):  # a formset
                        found += [str(e) for d in errors for es in d.values() for e in es]
                        found += [str(e) for e in form.non_form_errors()]
    return found


def _short(body) -> str:
    text = repr(body)
    return text if len(text) < 300 else text[:300] + "…"


class Fuzz:
    def __init__(self, client):
        self.client = client
        self.failures: list[str] = []
        self.posts = 0
        self.gets = 0

    def post(self, route, path, body):
        self.posts += 1
        before = snapshot()
        response = self.client.post(path, body)
        what = f"POST {route.name} {_short(body)}"
        if response.status_code >= 500:
            self.failures.append(f"{what}: {response.status_code}")
            return
        if response.status_code in {301, 302, 303}:
            return  # accepted (or sent elsewhere): what it wrote is the form's to say
        after = snapshot()
        if changed(before, after):
            self.failures.append(
                f"{what}: refused ({response.status_code}) but wrote to {changed(before, after)}"
            )
        if response.status_code == 200:
            errors = _errors(response)
            if errors and not any(has_cjk(e) for e in errors):
                self.failures.append(f"{what}: errors without Chinese {errors[:3]}")

    def get(self, route, path, query, *, writes):
        self.gets += 1
        before = snapshot()
        response = self.client.get(path, query)
        what = f"GET {route.name} {_short(query)}"
        if response.status_code >= 500:
            self.failures.append(f"{what}: {response.status_code}")
        elif not writes and changed(before, snapshot()):
            self.failures.append(f"{what}: wrote to {changed(before, snapshot())}")


def _fuzz_form(fuzz, route, path, form, method):
    base = baseline(form)
    names = form.names()

    @settings(
        max_examples=POST_EXAMPLES if method == "post" else GET_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        changes=st.dictionaries(st.sampled_from(names), HOSTILE, min_size=1, max_size=4),
        everything=st.booleans(),
        value=HOSTILE,
    )
    def run(changes, everything, value):
        body = {**base, **changes}
        if everything:
            body = {**dict.fromkeys(names, value), **changes}
        if method == "post":
            fuzz.post(route, path, body)
        else:
            writes = "export" in route.name or route.name.endswith("xlsx")
            fuzz.get(route, path.split("?")[0], body, writes=writes)

    run()


NAMESPACES = ["network", "residents", "outreach", "services", "reports", None]


def _routes_of(namespace):
    return [
        r
        for r in routes((SCOPED, ACCOUNT, LOGIN))
        if r.namespace == namespace and r.pattern.name not in SKIPPED
    ]


@pytest.mark.parametrize("namespace", [pytest.param(n, id=str(n)) for n in NAMESPACES])
def test_every_form_refuses_hostile_values_without_a_500(world, client, namespace):
    town = build_town(world)
    client.raise_request_exception = False
    fuzz = Fuzz(client)
    fuzzed = []
    for route in _routes_of(namespace):
        methods = allowed_methods(route.pattern.callback)
        if methods == {"POST"}:
            continue  # a button's action (archive, end …): tests/security/test_id_walk.py
        opened = _open(client, town, route)
        if opened is None:
            continue
        _role, path, html = opened
        if methods is None or "POST" in methods:
            for form in _own_forms(html, path, "post"):
                _fuzz_form(fuzz, route, path, form, "post")
                fuzzed.append(("post", route.name))
        for form in _own_forms(html, path, "get"):
            _fuzz_form(fuzz, route, path, form, "get")
            fuzzed.append(("get", route.name))
    assert "\n".join(fuzz.failures) == ""
    assert fuzzed, namespace
    print(namespace, len(fuzzed), "forms", fuzz.posts, "posts", fuzz.gets, "gets")
