"""Hostile input against every URL of the reports, as the district bureau, sub-district staff
(平江街道), community staff (平江路社区), a liaison (平江路社区) and a user with no post.

Walks the "reports" namespace like tests/services/test_bad_input_sweep.py, so a new URL is
swept without writing anything here (but it must say in ID_KINDS what its ids are and in
QUERY which query parameters it reads, or the first test fails). For each URL and user: each
query parameter the URL reads, one at a time, set to the hostile values of its kind (a
foreign, non-numeric or huge area id, a NUL byte, very long and SQL-ish text, bad periods,
formats and years) with the others left good; non-numeric, huge and foreign ids in the path
(another sub-district's report or budget area, and for the community the other community's),
unknown figure keys and actions; garbage POST bodies and stale revisions to every action.

Never a 500; a foreign record is a 404 that shows nothing of it; a refused request changes
nothing (rows counted, each report's status, revision and narrative compared); a liaison and
a user with no post get 403 on every page. Runs on SQLite and on PostgreSQL, which rejects
NUL characters in SQL strings (a DataError, so a 500, unless the input is checked first).

One test per URL name, each with its own small copy of the data; the walk takes one hostile
value set per parameter kind, not their cartesian product, so the file stays fast.
"""

import logging
from dataclasses import dataclass

import pytest
from django.db import connection
from django.urls import reverse
from django.utils.html import escape

from network.models import ExportLog
from reports import workflow
from reports.models import (
    Budget,
    FigureRule,
    Report,
    ReportDefinition,
    ReportEvent,
    ReportStatus,
    SnapshotFigure,
)
from reports.periods import PeriodError, parse_period
from tests.network.test_url_walk import walk
from tests.reports.test_workflow import make_definition

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"
NUL = "\x00"
LONG = "1" * 10_000
LONG_TEXT = "马晓东" * 3_000
SQL = "2025' OR 1=1; DROP TABLE reports_report; --"
KEYS = ["minority_persons", "minority_households", "visits", "minority_share"]
S = ReportStatus

# What each URL's ids stand for, one kind per id in the URL's order.
ID_KINDS = {
    "figure-records": ("key",),
    "chart": ("chart",),
    "report-export": ("report",),
    "report-print": ("report",),
    "budget-edit": ("area", "year"),
    "report-detail": ("report",),
    "report-edit": ("report",),
    "report-records": ("submitted", "key"),
    "report-action": ("report", "action"),
}
# The query parameters each URL reads (the others are ignored: no use sending them).
QUERY = {
    "summary": ("area", "period"),
    "figure-records": ("area", "period", "page"),
    "chart": ("area", "period"),
    "summary-export": ("area", "period", "format"),
    "summary-print": ("area", "period"),
    "report-export": ("format",),
    "report-print": (),
    "quality": ("area", "period"),
    "budget-list": ("area", "year"),
    "budget-edit": (),
    "report-list": ("status", "area", "page"),
    "report-generate": ("definition",),
    "report-detail": (),
    "report-edit": (),
    "report-records": ("page",),
    "report-action": (),
}
# List pages: a filter value that does not fit is dropped, not refused (ListFilterForm).
LIST_FILTERS = {"report-list"}
# GET writes an export log here (that is their job).
EXPORTS = {"summary-export", "summary-print", "report-export", "report-print"}

BAD_PERIODS = ["2025-13", "２０２５－Ｑ５", "abc", "9999", "2025-02-30..2025-03-01"]
BAD_PERIODS += [NUL, "2025" + NUL, LONG, SQL, "2025-03-01..2099-01-01"]
HOSTILE = {
    "area": ["abc", HUGE, NUL, "-1", "0", "１" + NUL, SQL],
    "period": BAD_PERIODS,
    "format": ["pdf", "PDF ", NUL, LONG, SQL],
    "year": ["0", "99999", NUL, HUGE, "abc", "２０２５" + NUL],
    "page": ["-1", HUGE, NUL, "abc"],
    "status": ["xx", NUL, SQL],
    "definition": [NUL, HUGE, "abc", "-1"],
}
# Hostile values of the ids in the path: numbers the int converter takes, and slugs.
HOSTILE_IDS = {
    "report": ["0", HUGE],
    "submitted": ["0", HUGE],
    "area": ["0", HUGE],
    "year": ["0", "99999", HUGE],
    "key": ["no_such_figure", "a" * 3_000, "MINORITY_PERSONS"],
    "chart": ["no-such-chart", "a" * 3_000],
    "action": ["delete", "SUBMIT", "submit_report", "a" * 3_000],
}
ID_TEXTS = ["abc", "１", "%00", "1%00"]  # no int converter matches them


# ---------------------------------------------------------------- the data


@dataclass
class Data:
    users: dict  # who -> User
    own: dict  # kind -> an id the bureau, 平江街道 and 平江路社区 may all see
    query: dict  # parameter -> a good value
    foreign: dict  # (who, kind) -> [pk]: records the user may not see
    secrets: dict  # who -> what no page shown to them may show
    foreign_pages: dict  # who -> pages no response to them may redirect to
    world: object
    nanmen: object  # a closed community of 沧浪街道
    data_pages: list  # pages of the foreign records, which the bureau may read
    draft: Report
    submitted: Report


USERS = ("bureau", "subdistrict", "community", "liaison", "no_post")
DENIED = {"liaison", "no_post"}  # nothing of the reports for them


@pytest.fixture
def data(reports_world):
    """Reports of 平江路社区 (a draft for the year, a submitted half-year), of 干将社区 (the
    other community of 平江街道) and of 道前社区 (the other sub-district, submitted), each
    with text no one outside may read; budgets of 平江路社区, 干将社区 and 沧浪街道."""
    w = reports_world.world
    year = make_definition(w, keys=[*KEYS, "retired_figure"])  # a key the catalogue lost
    half = make_definition(
        w, title="2025年上半年小结", period="2025-H1", keys=KEYS[:1], narrative_template="一、概况"
    )
    canglang = make_definition(w, area=w.canglang, title="沧浪街道专项小结", keys=KEYS[:2])

    draft = workflow.generate(year, w.pingjianglu, w.pingjianglu_staff)
    submitted = workflow.generate(half, w.pingjianglu, w.pingjianglu_staff)
    workflow.submit(submitted, w.pingjianglu_staff, "平江路社区上半年请审核")
    ganjiang = workflow.generate(year, w.ganjiang, w.pingjiang_staff)
    Report.objects.filter(pk=ganjiang.pk).update(narrative="干将社区邻区总结正文")
    daoqian = workflow.generate(canglang, w.daoqian, w.canglang_staff)
    Report.objects.filter(pk=daoqian.pk).update(narrative="道前社区外区总结正文")
    daoqian.refresh_from_db()
    workflow.submit(daoqian, w.canglang_staff, "沧浪外区提交说明")

    Budget.objects.create(area=w.pingjianglu, year=2025, amount="8000", note="平江路本区经费")
    Budget.objects.create(area=w.ganjiang, year=2025, amount="12345", note="干将社区邻区经费备注")
    Budget.objects.create(area=w.canglang, year=2025, amount="54321", note="沧浪街道外区经费备注")

    detail = "reports:report-detail"
    other_sub = ("道前社区外区总结正文", "沧浪外区提交说明", "沧浪街道专项小结")
    other_sub += ("沧浪街道外区经费备注", "54321", "阿依吐尔逊", "沙德明")
    other_community = ("干将社区邻区总结正文", "干将社区邻区经费备注", "12345", "穆桂芳")
    foreign = {}
    for who in USERS:
        reports, areas = [daoqian.pk], [w.canglang.pk, w.daoqian.pk]
        if who == "community":
            reports, areas = [daoqian.pk, ganjiang.pk], [*areas, w.ganjiang.pk]
        if who == "bureau":  # sees the whole district
            reports, areas = [], []
        foreign |= {(who, "report"): reports, (who, "submitted"): reports[:1]}
        foreign |= {(who, "area"): areas, (who, "definition"): [canglang.pk] * bool(areas)}
    data_pages = [  # where the bureau reads every secret: the sweep's checks can fail
        reverse(detail, args=[daoqian.pk]),
        reverse(detail, args=[ganjiang.pk]),
        f"{reverse('reports:budget-list')}?area={w.canglang.pk}&year=2025",
        f"{reverse('reports:budget-list')}?area={w.pingjiang.pk}&year=2025",
    ]
    for area in (w.daoqian, w.ganjiang):
        records = reverse("reports:figure-records", args=["minority_persons"])
        data_pages.append(f"{records}?area={area.pk}&period=2025")
    foreign_pages = {
        "bureau": (),
        "subdistrict": (reverse(detail, args=[daoqian.pk]),),
        "community": (reverse(detail, args=[daoqian.pk]), reverse(detail, args=[ganjiang.pk])),
    }
    return Data(
        users={
            "bureau": w.bureau,
            "subdistrict": w.pingjiang_staff,
            "community": w.pingjianglu_staff,
            "liaison": w.pingjianglu_liaison,
            "no_post": w.no_post,
        },
        own={
            "report": draft.pk,
            "submitted": submitted.pk,
            "key": "minority_persons",
            "chart": "visits-by-month",
            "area": w.pingjianglu.pk,
            "year": 2025,
            "action": "submit",
        },
        query={
            "area": w.pingjianglu.pk,
            "period": "2025",
            "format": "csv",
            "year": "2025",
            "page": "1",
            "status": "draft",
            "definition": year.pk,
        },
        foreign=foreign,
        secrets={
            "bureau": (),
            "subdistrict": other_sub,
            "community": other_sub + other_community,
            "liaison": other_sub + other_community,
            "no_post": other_sub + other_community,
        },
        foreign_pages={**foreign_pages, "liaison": (), "no_post": ()},
        world=w,
        nanmen=reports_world.nanmen,
        data_pages=data_pages,
        draft=draft,
        submitted=submitted,
    )


# ---------------------------------------------------------------- helpers


def reports_patterns():
    return [pattern for namespace, pattern in walk() if namespace == "reports"]


def id_names(pattern) -> list[str]:
    return list(getattr(pattern.pattern, "converters", {}))


def url(pattern, *ids) -> str:
    kwargs = dict(zip(id_names(pattern), ids, strict=True))
    return reverse(f"reports:{pattern.name}", kwargs=kwargs)


def raw_url(pattern, *texts) -> str:
    """The URL with ``texts`` in place of its ids (values no converter would produce)."""
    markers = []
    for n, converter in enumerate(pattern.pattern.converters.values()):
        markers.append(str(918273645 + n) if converter.regex == "[0-9]+" else f"marker{n}x")
    path = url(pattern, *markers)
    for marker, text in zip(markers, texts, strict=True):
        path = path.replace(marker, text)
    return path


def own_ids(pattern, data) -> list:
    return [data.own[kind] for kind in ID_KINDS.get(pattern.name, ())]


def own_url(pattern, data) -> str:
    return url(pattern, *own_ids(pattern, data))


def own_query(pattern, data) -> dict:
    return {name: data.query[name] for name in QUERY[pattern.name]}


TRACKED = [Report, ReportEvent, SnapshotFigure, ReportDefinition, FigureRule, Budget]


def _count_sql(model) -> str:
    return f"(SELECT COUNT(*) FROM {connection.ops.quote_name(model._meta.db_table)})"


def snapshot(*, exports=True) -> dict:
    """Row counts that any write to the reports changes, and what each report and budget
    holds."""
    models = [*TRACKED, Report.history.model, Budget.history.model]
    if exports:
        models.append(ExportLog)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(_count_sql(model) for model in models))
        counts = dict(zip([m.__name__ for m in models], cursor.fetchone(), strict=True))
    counts["reports"] = sorted(Report.objects.values_list("pk", "status", "revision", "narrative"))
    counts["budgets"] = sorted(Budget.objects.values_list("pk", "amount", "note"))
    return counts


def _exports() -> int:
    return ExportLog.objects.count()


def _text(response) -> str:
    if response is None or response.streaming:
        return ""
    return response.content.decode(errors="replace")


def _short(value) -> str:
    text = repr(value)
    return text if len(text) < 160 else text[:150] + "…"


class Sweep:
    """Sends requests, collecting every failure instead of stopping at the first."""

    def __init__(self, client, data):
        self.client = client
        self.data = data
        self.who = None
        self.exports = True  # whether the requests may log exports (to check each one)
        self.failures: list[str] = []

    def as_(self, who):
        self.who = who
        self.client.force_login(self.data.users[who])

    def send(self, method, path, params=None):
        """The response, or None when the view raised. It may show none of the user's
        secrets, redirect to no foreign report, and log no export unless it is a 200."""
        label = f"{self.who}: {method.upper()} {_short(path)}"
        exports = _exports() if self.exports else 0
        try:
            response = getattr(self.client, method)(path, params or {})
        except Exception as exc:  # noqa: BLE001 - a view that raised is what we look for
            self.failures.append(f"{label}: {type(exc).__name__} {_short(exc)} {_short(params)}")
            return None
        if response.status_code >= 500:
            self.failures.append(f"{label}: {response.status_code} with {_short(params)}")
        location = response.get("Location", "")
        for page in self.data.foreign_pages[self.who]:
            self.expect(page not in location, f"{label} redirects to {page} with {_short(params)}")
        text = _text(response)
        for secret in self.data.secrets[self.who]:
            self.expect(secret not in text, f"{label} shows {secret!r} with {_short(params)}")
        if self.exports and response.status_code != 200:
            self.expect(_exports() == exports, f"{label} logged a refused export {_short(params)}")
        return response

    def status(self, response, allowed, what):
        if response is not None:
            self.expect(
                response.status_code in allowed,
                f"{self.who}: {what}: {response.status_code} not in {sorted(allowed)}",
            )

    def expect(self, condition, message):
        if not condition:
            self.failures.append(message)


@pytest.fixture(autouse=True)
def quiet_refusals(caplog):
    """The sweep expects hundreds of 403 and 404: formatting each warning would take most of
    the time. Errors are still logged."""
    caplog.set_level(logging.ERROR, logger="django.request")


# ---------------------------------------------------------------- the sweep


PATTERNS = [pytest.param(p, id=p.name) for p in reports_patterns()]


def test_the_sweep_knows_every_url_its_ids_and_its_query():
    patterns = reports_patterns()
    names = {p.name for p in patterns}
    assert names == set(QUERY), names ^ set(QUERY)
    assert {p.name for p in patterns if id_names(p)} == set(ID_KINDS)
    for pattern in patterns:
        assert len(ID_KINDS.get(pattern.name, ())) == len(id_names(pattern)), pattern.name
    assert EXPORTS | set(POST_BODIES) <= names


def test_the_bureau_reads_every_secret_on_the_foreign_records_pages(data, client):
    """What the others may not see is there to be seen, so the sweep's checks can fail."""
    client.force_login(data.users["bureau"])
    shown = "".join(client.get(page).content.decode() for page in data.data_pages)
    assert [s for s in data.secrets["community"] if s not in shown] == []


def test_the_bureau_holds_every_permission_the_pages_ask(world):
    """The sweep does not fetch the bureau's pages once to see whether its role is refused."""
    asked = ["view_summary", "view_report", "add_report", "change_report", "export_reports"]
    asked += ["view_budget", "add_budget", "change_budget"]
    assert world.bureau.has_perms([f"reports.{p}" for p in asked])


@pytest.mark.parametrize("pattern", PATTERNS)
def test_hostile_input(data, client, pattern):
    sweep = Sweep(client, data)
    sweep.exports = pattern.name in EXPORTS  # the snapshots count them for the others
    for who in USERS:
        sweep.as_(who)
        if who in DENIED:
            _sweep_denied(sweep, pattern)
        else:
            _sweep(sweep, pattern)
    check = EXTRA_CHECKS.get(pattern.name)
    if check is not None:
        check(sweep, data)
    assert sweep.failures == [], "\n".join(f[:300] for f in sweep.failures)


def _sweep_denied(sweep, pattern):
    """A liaison or a user without a post: 403 on the page whatever is sent."""
    data = sweep.data
    before = snapshot()
    paths = [own_url(pattern, data)]
    kinds = ID_KINDS.get(pattern.name, ())
    if kinds:
        paths.append(raw_url(pattern, *[HUGE if k in {"report", "area"} else "0" for k in kinds]))
        foreign = [
            data.foreign[("subdistrict", k)][0]
            if k in {"report", "submitted", "area"}
            else data.own[k]
            for k in kinds
        ]
        paths.append(url(pattern, *foreign))
    query = own_query(pattern, data)
    for path in paths:
        sweep.status(sweep.send("get", path, query), {403}, f"GET {path}")
        sweep.status(sweep.send("get", path, {**query, "area": NUL}), {403}, f"GET {path}")
        for body in [*POST_BODIES.get(pattern.name, [{}])[:2], good_body(pattern.name, data)]:
            sweep.status(sweep.send("post", path, body), {403}, f"POST {path}")
    sweep.expect(snapshot() == before, f"{sweep.who} changed the database via {pattern.name}")


def good_body(name, data) -> dict:
    """What the owner of the draft would post to take the URL's step (refused the denied)."""
    revision = _current(data.draft).revision
    return {
        "report-generate": {"definition": data.query["definition"], "area": data.own["area"]},
        "report-edit": {"narrative": "平江路社区总结", "revision": revision},
        "report-action": {"comment": "请审核", "revision": revision},
        "budget-edit": {"amount": "9000", "note": "平江路社区追加"},
    }.get(name, {})


def _period_message(value) -> str:
    try:
        parse_period(value)
    except PeriodError as exc:
        return str(exc)
    return ""


def _number_positions(pattern) -> list[int]:
    converters = pattern.pattern.converters.values()
    return [n for n, converter in enumerate(converters) if converter.regex == "[0-9]+"]


def _filter_dropped(sweep, unfiltered, response, what):
    """A list's filter that does not fit is dropped (house rule for list pages): the list is
    the one shown without it (``unfiltered``), so nothing of the area named is shown."""
    sweep.status(response, {200}, what)
    if response is None or unfiltered is None or response.status_code != 200:
        return
    shown = list(response.context["page"].object_list)
    sweep.expect(shown == list(unfiltered.context["page"].object_list), f"{what}: filtered")


def _says_wrong(response, message) -> bool:
    """The page shows the period's message, or its form says the field is wrong (a NUL
    byte, too long) in Django's own words."""
    if escape(message) in _text(response):
        return True
    form = (response.context or {}).get("form")
    return bool(form is not None and form.is_bound and form.errors.get("period"))


# Sub-district staff (who may do the most in the area they share with the others) get every
# hostile value; the bureau and the community every other one (and their own foreign ids).
FULL = {"subdistrict"}


def _sweep(sweep, pattern):
    data, who, name = sweep.data, sweep.who, pattern.name
    path = own_url(pattern, data)
    query = own_query(pattern, data)
    before = snapshot(exports=name not in EXPORTS)

    # The page itself (its role may refuse it: then everything below is a 403 too; the
    # bureau holds every permission the pages ask, see the first test, and is spared the
    # cost), then each parameter it reads set to hostile values, one at a time.
    first = sweep.send("get", path, query) if who != "bureau" else None
    role_refused = first is not None and first.status_code == 403
    refused_allowed = {403} if role_refused else set()
    for param in QUERY[name]:
        without = None  # the list without this filter
        if name in LIST_FILTERS:
            without = sweep.send("get", path, {k: v for k, v in query.items() if k != param})
        for value in HOSTILE[param] if who in FULL else HOSTILE[param][::2]:
            response = sweep.send("get", path, {**query, param: value})
            what = f"GET {path} {param}={_short(value)}"
            sweep.status(response, {200, 400, 404} | refused_allowed, what)
            if param == "area" and name in LIST_FILTERS:
                _filter_dropped(sweep, without, response, what)
            elif param == "area":  # an id that is not one of the user's areas
                sweep.status(response, {404} | refused_allowed, what)
            if param == "format":
                sweep.status(response, {400} | refused_allowed, what)
            message = _period_message(value) if param == "period" else ""
            if message and response is not None and response.status_code in {200, 400}:
                sweep.expect(_says_wrong(response, message), f"{what}: no message")
        for pk in data.foreign.get((who, param), []):
            response = sweep.send("get", path, {**query, param: pk})
            what = f"GET {path} {param}=<foreign {pk}>"
            if param == "definition":  # only the form's starting choice: never shown
                sweep.status(response, {200} | refused_allowed, what)
            elif name in LIST_FILTERS:
                _filter_dropped(sweep, without, response, what)
            else:
                sweep.status(response, {404} | refused_allowed, what)
    sweep.expect(snapshot(exports=name not in EXPORTS) == before, f"{who}: GET {name} changed")

    # Garbage bodies (a GET-only page refuses any POST).
    before = snapshot()
    bodies = POST_BODIES.get(name, [{"area": NUL, "period": NUL, "comment": NUL}])
    for body in bodies if who in FULL else bodies[:3]:
        response = sweep.send("post", path, body)
        if name not in POST_BODIES:
            sweep.status(response, {405} | refused_allowed, f"POST {path}")
    sweep.expect(snapshot() == before, f"{who}: POST {name} with garbage changed the database")

    kinds = ID_KINDS.get(name, ())
    if not kinds:
        return
    own = own_ids(pattern, data)
    # Ids no converter matches (the resolver refuses them, whoever asks: once).
    if who == "bureau":
        for text in ID_TEXTS:
            for position in _number_positions(pattern):
                ids = [str(x) for x in own]
                ids[position] = text
                hostile = raw_url(pattern, *ids)
                sweep.status(sweep.send("get", hostile), {404}, f"GET {hostile}")
    # Numbers and slugs that match but name nothing.
    for position, kind in enumerate(kinds):
        for text in HOSTILE_IDS[kind]:
            ids = [str(x) for x in own]
            ids[position] = text
            hostile = raw_url(pattern, *ids)
            for method in ("get", "post"):
                response = sweep.send(method, hostile, query if method == "get" else {})
                sweep.status(response, {404, 405} | refused_allowed, f"{method} {hostile}")
    # Records outside the user's part of the district: 404 (or the role's refusal).
    for position, kind in enumerate(kinds):
        for pk in data.foreign.get((who, kind), []):
            ids = [*own[:position], pk, *own[position + 1 :]]
            foreign_path = url(pattern, *ids)
            for method in ("get", "post"):
                response = sweep.send(method, foreign_path, query if method == "get" else {})
                allowed = {404, 405} | refused_allowed  # 405: the other method only
                sweep.status(response, allowed, f"{method.upper()} {foreign_path}")
    sweep.expect(snapshot() == before, f"{who}: hostile ids for {name} changed the database")


# ---------------------------------------------------------------- POST bodies

GENERATE_BODIES = [
    {},
    {"definition": NUL, "area": NUL},
    {"definition": HUGE, "area": HUGE},
    {"definition": "abc", "area": SQL},
    {"definition": LONG, "area": LONG},
    {"definition": "-1", "area": "0"},
]
NARRATIVE_BODIES = [
    {},
    {"narrative": "一、概况\n平江路社区" + NUL, "revision": NUL},
    {"narrative": "x" * 50_001, "revision": ""},
    {"narrative": "一、概况", "revision": HUGE},
    {"narrative": "一、概况", "revision": "abc"},
]
ACTION_BODIES = [
    {},
    {"comment": "请审核"},
    {"comment": NUL, "revision": NUL},
    {"comment": "请审核", "revision": ""},
    {"comment": "请审核", "revision": HUGE},
    {"comment": "请审核", "revision": "-1"},
    {"comment": LONG_TEXT, "revision": "abc"},
    {"comment": SQL, "revision": SQL},
]
BUDGET_BODIES = [
    {},
    {"amount": NUL, "note": NUL},
    {"amount": "abc", "note": "经费"},
    {"amount": "1e400", "note": "经费"},
    {"amount": "NaN", "note": "经费"},
    {"amount": "-1", "note": "经费"},
    {"amount": HUGE, "note": "经费"},
    {"amount": "１２" * 20, "note": "经费"},
    {"amount": "9000", "note": "经费" + NUL},
    {"amount": "9000", "note": LONG_TEXT},
]
POST_BODIES = {
    "report-generate": GENERATE_BODIES,
    "report-edit": NARRATIVE_BODIES,
    "report-action": ACTION_BODIES,
    "budget-edit": BUDGET_BODIES,
}


# ---------------------------------------------------------------- checks of single URLs


def _refused_then_accepted(sweep, path, bodies, control, changed):
    """Each body changes nothing; the ``control`` body (good, the same form) goes through,
    so the refusals above are the bodies' doing."""
    before = snapshot()
    for body in bodies:
        response = sweep.send("post", path, body)
        sweep.status(response, {200, 302, 404}, f"POST {path} {_short(body)}")
    sweep.expect(snapshot() == before, f"{sweep.who}: a refused POST {path} changed something")
    response = sweep.send("post", path, control)
    sweep.status(response, {302}, f"the control POST {path} {_short(control)}")
    sweep.expect(changed(), f"{sweep.who}: the control POST {path} changed nothing")


def check_generate(sweep, data):
    """A definition or an area the user may not use: nothing generated."""
    w = data.world
    good = {"definition": data.query["definition"], "area": w.pingjianglu.pk}
    foreign_definition = data.foreign[("subdistrict", "definition")][0]
    count = Report.objects.count()
    for who, foreign in (
        ("subdistrict", [{"area": w.daoqian.pk}, {"definition": foreign_definition}]),
        ("community", [{"area": w.ganjiang.pk}, {"area": w.pingjiang.pk}]),
    ):
        sweep.as_(who)
        _refused_then_accepted(
            sweep,
            reverse("reports:report-generate"),
            [{**good, **change} for change in foreign],
            good,
            lambda n=count: Report.objects.count() == n + 1,
        )
        count += 1


def _current(report) -> Report:
    return Report.objects.get(pk=report.pk)


def check_edit(sweep, data):
    """A stale revision, a NUL byte, text too long: refused, the narrative kept. Then text
    with template syntax and markup is saved and shown as text, never run."""
    report = data.draft
    path = reverse("reports:report-edit", args=[report.pk])
    revision = _current(report).revision
    hostile = "一、概况\n{{ no_such_key }} {% debug %} {{ area }} <script>alert(1)</script>"
    stale = [
        {"narrative": "平江路社区新的总结", "revision": revision - 1},
        {"narrative": "平江路社区" + NUL, "revision": revision},
        {"narrative": "马" * 50_001, "revision": revision},
    ]
    sweep.as_("community")
    _refused_then_accepted(
        sweep,
        path,
        stale,
        {"narrative": hostile, "revision": revision},
        lambda: _current(report).narrative == hostile,
    )
    detail = reverse("reports:report-detail", args=[report.pk])
    pages = [
        detail,
        reverse("reports:report-print", args=[report.pk]),
        reverse("reports:report-export", args=[report.pk]) + "?format=csv",
        reverse("reports:report-export", args=[report.pk]) + "?format=docx",
    ]
    for page in pages:
        response = sweep.send("get", page)
        sweep.status(response, {200}, f"GET {page} with a hostile narrative")
        sweep.expect("<script>alert(1)" not in _text(response), f"{page} runs the narrative")


def check_action(sweep, data):
    """Every step with a stale, missing or garbage revision: refused, the report as it was,
    for every report the user may see; a NUL in the comment never reaches the database; the
    same step with the page's revision goes through."""
    before = snapshot()
    for who in ("bureau", "subdistrict", "community"):
        sweep.as_(who)
        for report in (data.draft, data.submitted):
            revision = _current(report).revision
            for action in workflow.STEPS:
                path = reverse("reports:report-action", args=[report.pk, action])
                body = {"comment": "请补充说明", "revision": revision - 1}
                sweep.status(sweep.send("post", path, body), {302, 403}, f"POST {path} stale")
                body = {"comment": "长" * 2_001, "revision": revision}
                sweep.status(sweep.send("post", path, body), {302, 403}, f"POST {path} long")
    sweep.expect(snapshot() == before, "a stale or refused step changed a report")

    # The step with the page's revision and a NUL in its comment.
    sweep.as_("community")
    report = data.draft
    path = reverse("reports:report-action", args=[report.pk, "submit"])
    body = {"comment": "请审核" + NUL + "谢谢", "revision": _current(report).revision}
    sweep.status(sweep.send("post", path, body), {302}, "submit with a NUL in the comment")
    sweep.expect(_current(report).status == S.SUBMITTED, "a good submit was refused")
    comments = ReportEvent.objects.filter(report=report).values_list("comment", flat=True)
    sweep.expect(all(NUL not in c for c in comments), "a NUL byte went into a comment")

    # Frozen now, with a figure key the catalogue no longer has among its figures.
    for name in ("report-detail", "report-print"):
        page = reverse(f"reports:{name}", args=[report.pk])
        sweep.status(sweep.send("get", page), {200}, f"GET {page} frozen")
    page = reverse("reports:report-export", args=[report.pk])
    sweep.status(sweep.send("get", page, {"format": "xlsx"}), {200}, f"GET {page} frozen")
    page = reverse("reports:report-records", args=[report.pk, "retired_figure"])
    sweep.status(sweep.send("get", page), {404}, f"GET {page}")


def check_budget(sweep, data):
    """A budget of another sub-district's area or a closed one: 404, nothing saved; garbage
    amounts refused; a good amount saved."""
    w = data.world
    sweep.as_("subdistrict")
    before = snapshot()
    for area in (w.canglang, w.daoqian, w.district):
        path = reverse("reports:budget-edit", args=[area.pk, 2025])
        response = sweep.send("post", path, {"amount": "1", "note": "越权"})
        sweep.status(response, {403, 404}, f"POST {path}")
    closed = reverse("reports:budget-edit", args=[data.nanmen.pk, 2025])  # a closed community
    sweep.status(sweep.send("post", closed, {"amount": "1"}), {404}, f"POST {closed}")
    sweep.expect(snapshot() == before, "a foreign budget was set")
    path = reverse("reports:budget-edit", args=[w.pingjianglu.pk, 2025])
    _refused_then_accepted(
        sweep,
        path,
        [BUDGET_BODIES[1], BUDGET_BODIES[-1]],  # the sweep sent the others
        {"amount": "９０００元", "note": "平江路社区追加"},
        lambda: Budget.objects.filter(area=w.pingjianglu, year=2025, amount=9000).exists(),
    )


def check_records(sweep, data):
    """A figure the report does not hold, a draft's (not frozen) records: 404."""
    sweep.as_("community")
    for report, key in ((data.submitted, "visits"), (data.draft, "minority_persons")):
        path = reverse("reports:report-records", args=[report.pk, key])
        sweep.status(sweep.send("get", path), {404}, f"GET {path}")


EXTRA_CHECKS = {
    "report-generate": check_generate,
    "report-edit": check_edit,
    "report-action": check_action,
    "budget-edit": check_budget,
    "report-records": check_records,
}
