"""Every URL that takes an id, for every role: another area's ids, ids that do not exist and
ids no record could have. Never a 200 outside the user's scope, never a 500.

Walks the URL patterns (like tests/network/test_url_walk.py), so a new URL with an id fails
the first test until ID_KINDS says what its ids stand for. The records come from
``tests.security.walk.build_town``: the same records in 平江路社区 (the users' own), in 道前社区
(沧浪街道: foreign to every user of 平江街道) and in 御窑社区 (相城区, a district next door:
foreign to the district bureau too).

The walk is GET only (a GET changes nothing, so it can be sent to every URL as every role);
URLs that refuse GET (archive, restore, end …) get POSTs with foreign and impossible ids from
the roles that could act on their own records. ``card-verify`` takes a signed token, not an
id: it is public by design (the QR code of a card) and shows a card of any area, so it gets
forged and garbled tokens only.
"""

import pytest
from django.core import signing
from django.urls import Resolver404, resolve

from network.scoped import ACCOUNT, LOGIN, PUBLIC, SCOPED
from tests.security.walk import HUGE, build_town, routes, snapshot

# What each URL's ids stand for: a kind of record of an estate (walk.build_estate), or a
# fixed value (``=…``) that is not an area's record (figure keys, actions, years).
ID_KINDS = {
    "network:area-detail": {"pk": "area"},
    "network:liaisongroup-update": {"pk": "liaisongroup"},
    "network:user-detail": {"pk": "user"},
    "network:user-update": {"pk": "user"},
    "network:post-create": {"user_pk": "user"},
    "network:post-end": {"pk": "post"},
    "network:audit-export": {"file_format": "=csv"},  # the audit log's own filters scope it
    "residents:household-detail": {"pk": "household"},
    "residents:household-timeline": {"pk": "household"},
    "residents:household-update": {"pk": "household"},
    "residents:household-move": {"pk": "household"},
    "residents:household-archive": {"pk": "household"},
    "residents:household-restore": {"pk": "household"},
    "residents:person-archive": {"pk": "person"},
    "residents:person-restore": {"pk": "person"},
    "residents:person-reveal-id": {"pk": "person"},
    "residents:person-merge": {"first": "person", "second": "person2"},
    "residents:household-merge": {"first": "household", "second": "household2"},
    "residents:handover-send": {"pk": "household"},
    "residents:handover-cancel": {"pk": "household"},
    "residents:handover-accept": {"pk": "incoming"},
    "residents:handover-decline": {"pk": "incoming"},
    "residents:dibao-standard-update": {"pk": "standard"},
    "outreach:liaison-detail": {"pk": "liaison"},
    "outreach:liaison-edit": {"pk": "liaison"},
    "outreach:liaison-archive": {"pk": "liaison"},
    "outreach:liaison-restore": {"pk": "liaison"},
    "outreach:membership-add": {"pk": "liaison"},
    "outreach:membership-end": {"pk": "membership"},
    "outreach:zonepost-add": {"pk": "liaison"},
    "outreach:zonepost-end": {"pk": "zonepost"},
    "outreach:workgroup-detail": {"pk": "workgroup"},
    "outreach:workgroup-edit": {"pk": "workgroup"},
    "outreach:workgroup-archive": {"pk": "workgroup"},
    "outreach:workgroup-restore": {"pk": "workgroup"},
    "outreach:workgroup-member-add": {"pk": "workgroup"},
    "outreach:workgroup-member-end": {"pk": "workgroupmember"},
    "outreach:pairing-detail": {"pk": "pairing"},
    "outreach:pairing-edit": {"pk": "pairing"},
    "outreach:pairing-end": {"pk": "pairing"},
    "outreach:pairing-archive": {"pk": "pairing"},
    "outreach:pairing-restore": {"pk": "pairing"},
    "outreach:pairing-handover": {"pk": "pairing"},
    "outreach:visit-detail": {"pk": "visit"},
    "outreach:visit-edit": {"pk": "visit"},
    "outreach:visit-archive": {"pk": "visit"},
    "outreach:visit-restore": {"pk": "visit"},
    "outreach:followup-update": {"pk": "followup"},
    "outreach:meeting-detail": {"pk": "meeting"},
    "outreach:meeting-edit": {"pk": "meeting"},
    "outreach:meeting-archive": {"pk": "meeting"},
    "outreach:meeting-restore": {"pk": "meeting"},
    "outreach:consultation-detail": {"pk": "consultation"},
    "outreach:consultation-edit": {"pk": "consultation"},
    "outreach:consultation-archive": {"pk": "consultation"},
    "outreach:consultation-restore": {"pk": "consultation"},
    "outreach:log-done": {"kind": "=visit", "pk": "visit"},
    "outreach:photo": {"pk": "photo"},
    "outreach:photo-archive": {"pk": "photo"},
    "outreach:photo-restore": {"pk": "photo"},
    "services:merchant-detail": {"pk": "merchant"},
    "services:merchant-edit": {"pk": "merchant"},
    "services:merchant-archive": {"pk": "merchant"},
    "services:merchant-restore": {"pk": "merchant"},
    "services:agreement-detail": {"pk": "agreement"},
    "services:agreement-edit": {"pk": "agreement"},
    "services:agreement-renew": {"pk": "agreement"},
    "services:agreement-document": {"pk": "agreement"},
    "services:agreement-archive": {"pk": "agreement"},
    "services:agreement-restore": {"pk": "agreement"},
    "services:card-detail": {"pk": "card"},
    "services:card-print": {"pk": "card"},
    "services:card-reissue": {"pk": "card"},
    "services:card-revoke": {"pk": "card"},
    "services:card-verify": {"token": "=token"},
    "services:consent-person": {"pk": "person"},
    "services:consent-withdraw": {"pk": "consent"},
    "services:use-detail": {"pk": "use"},
    "services:use-void": {"pk": "use"},
    "services:use-restore": {"pk": "use"},
    "services:settlement": {"merchant_pk": "merchant"},
    "services:settlement-export": {"merchant_pk": "merchant"},
    "services:merchant-accounts": {"merchant_pk": "merchant"},
    "services:merchant-account-switch": {"merchant_pk": "merchant", "pk": "account"},
    "services:survey-detail": {"pk": "survey"},
    "services:survey-edit": {"pk": "survey"},
    "services:survey-archive": {"pk": "survey"},
    "services:survey-restore": {"pk": "survey"},
    # The area of these two is a query parameter (?area=…), walked like an id.
    "reports:figure-records": {"key": "=minority_persons"},
    "reports:chart": {"name": "=visits-by-month"},
    "reports:report-export": {"pk": "report"},
    "reports:report-print": {"pk": "report"},
    "reports:report-detail": {"pk": "report"},
    "reports:report-edit": {"pk": "report"},
    "reports:report-records": {"pk": "report", "key": "=minority_persons"},
    "reports:report-action": {"pk": "report", "action": "=submit"},
    "reports:budget-edit": {"area_pk": "area", "year": "=2025"},
}
AREA_IN_QUERY = {"reports:figure-records", "reports:chart"}
# Ids that no converter of their kind lets through (the resolver's 404 whoever asks).
REFUSED_BY_CONVERTER = {"int": ["abc", "-1", "１２３", "%00", "1e3", "²"]}
# Texts a str or slug converter lets through: each goes to the view.
THROUGH_TEXT = ["abc", "-1", HUGE, "１２３", "%00", "x" * 300, "%F0%9F%98%80", "..%2F..%2F"]
MISSING_ID = "987654"

ROLES = ["district", "subdistrict", "community", "liaison", "till", "no_post", "ended_post"]
ROLES_SIGNED_OUT = [*ROLES, "signed_out"]
# Whom each role's foreign records belong to: the bureau's are in the next district, the
# others' in 沧浪街道. Users who see nothing get the own records (which they may not see
# either: the till sees its merchant only through the till's pages).
FOREIGN = {"district": "far", "subdistrict": "canglang", "community": "canglang"}
FOREIGN |= {"liaison": "canglang"}
FOREIGN |= dict.fromkeys(["till", "no_post", "ended_post", "signed_out"], "own")
REFUSED = {400, 403, 404, 405}

ID_ROUTES = [r for r in routes((SCOPED, ACCOUNT, PUBLIC, LOGIN)) if r.converters]


def test_every_url_with_an_id_says_what_its_ids_are():
    assert {r.name: set(r.converters) for r in ID_ROUTES} == {
        name: set(kinds) for name, kinds in ID_KINDS.items()
    }


def test_ids_no_converter_lets_through_never_reach_a_view(client):
    """The resolver refuses them, whoever asks; one request each proves it is a 404."""
    client.raise_request_exception = False
    checked = 0
    for route in ID_ROUTES:
        for key, kind in route.converters.items():
            for text in REFUSED_BY_CONVERTER.get(kind, []):
                texts = dict.fromkeys(route.converters, "1") | {key: text}
                path = route.raw_url(**texts)
                with pytest.raises(Resolver404):
                    resolve(path.replace("%00", "\x00"))
                assert client.get(path).status_code == 404, path
                checked += 1
    assert checked > 500


def _value(estate, kind):
    if kind.startswith("="):
        return kind[1:]
    return estate.ids[kind]


def _ids(route, estate, *, foreign_at=None, foreign=None):
    """The route's ids from ``estate``; the one at ``foreign_at`` from ``foreign``."""
    return {
        key: _value(foreign if key == foreign_at else estate, kind)
        for key, kind in ID_KINDS[route.name].items()
    }


def _token(town, estate):
    from services.cards import verification_token
    from services.models import ServiceCard

    return verification_token(ServiceCard.objects.get(pk=estate.ids["card"]))


def allowed_methods(callback) -> set[str] | None:
    """The methods a view's ``require_http_methods`` (``require_POST`` …) lets through, read
    from the decorator's closure; None when it declares none."""
    func = callback
    while func is not None:
        code = getattr(func, "__code__", None)
        if code is not None and "request_method_list" in code.co_freevars:
            cell = func.__closure__[code.co_freevars.index("request_method_list")]
            return set(cell.cell_contents)
        func = getattr(func, "__wrapped__", None)
    return None


def post_only(route) -> bool:
    return allowed_methods(route.pattern.callback) == {"POST"}


class Walk:
    def __init__(self, client, role):
        self.client = client
        self.role = role
        self.failures = []
        self.sent = 0

    def send(self, method, path, data=None, *, allowed, what, secrets=()):
        self.sent += 1
        response = getattr(self.client, method)(path, data or {})
        status = response.status_code
        if self.role == "signed_out":
            # To the login page, or a 404 from the resolver before any view.
            if status != 404 and "/login/" not in response.get("Location", ""):
                self.failures.append(f"{self.role} {method} {path} ({what}): {status}")
            return response
        if status not in allowed:
            self.failures.append(f"{self.role} {method} {path} ({what}): {status}")
        if not response.streaming and secrets:
            text = response.content.decode(errors="replace")
            shown = [s for s in secrets if s in text]
            if shown:
                self.failures.append(f"{self.role} {method} {path} ({what}) shows {shown}")
        return response


def _foreign_paths(route, town, role):
    """(path, query, what) for every way the route can name a foreign record."""
    own = town.own
    foreign = getattr(town, FOREIGN[role])
    kinds = ID_KINDS[route.name]
    record_keys = [k for k, kind in kinds.items() if not kind.startswith("=")]
    if route.name in AREA_IN_QUERY:
        query = {"area": foreign.ids["area"], "period": "2025"}
        yield route.url(**_ids(route, own)), query, "foreign area in the query"
        query = {"area": foreign.subdistrict.pk, "period": "2025"}
        yield route.url(**_ids(route, own)), query, "foreign sub-district in the query"
        return
    if not record_keys:  # a format or a token: nothing of an area to name
        return
    yield route.url(**_ids(route, foreign)), {}, "all ids foreign"
    if len(record_keys) > 1:  # e.g. merging one's own person with a foreign one
        for key in record_keys:
            yield route.url(**_ids(route, own, foreign_at=key, foreign=foreign)), {}, key


def _impossible_paths(route, town, *, full: bool):
    """Ids that name nothing: missing, beyond any column (SQLite's and PostgreSQL's bigint),
    and (for str and slug converters, which let anything through) garbage text."""
    own = town.own
    for key in ID_KINDS[route.name]:
        converter = route.converters[key]
        if converter == "int":
            texts = [MISSING_ID, HUGE] if full else [str(2**63)]
        else:
            texts = THROUGH_TEXT if full else THROUGH_TEXT[:3]
        for text in texts:
            values = {k: str(v) for k, v in _ids(route, own).items()} | {key: text}
            yield route.raw_url(**values), f"{key}={text[:20]}"


# Roles holding a current post reach the views: they get every foreign and impossible id
# (the sub-district staff the longest lists). The others are turned away before any view
# looks at an id: one request per URL, with the own area's ids, proves it.
IN_SCOPE = ["district", "subdistrict", "community", "liaison"]
# Whose walk adds ids that name nothing (the sub-district staff every kind of them; the others
# differ from it only in the role's permissions, checked before any id is looked up).
IMPOSSIBLE_IDS = {"subdistrict": True, "district": False}


@pytest.mark.parametrize("role", ROLES_SIGNED_OUT)
def test_foreign_and_impossible_ids_are_refused_for_every_role(world, client, role):
    """GET every URL with an id: with another area's ids (each id of a two-id URL in turn),
    with ids that do not exist and with ids too large for any column; a role that may see
    nothing gets its own area's ids. Each is refused (400, 403, 404, 405; signed out: sent
    to the login page), never a 200 and never a 500, and shows nothing of the record."""
    town = build_town(world)
    client.raise_request_exception = False
    user = town.users[role]
    if user is not None:
        client.force_login(user)
    walk = Walk(client, role)
    foreign = getattr(town, FOREIGN[role])
    before = snapshot()
    for route in ID_ROUTES:
        if route.name == "services:card-verify":
            continue  # public: below
        if role not in IN_SCOPE:
            path = route.url(**_ids(route, town.own))
            query = {"area": town.own.ids["area"], "period": "2025"}
            walk.send("get", path, query, allowed=REFUSED, what="own ids", secrets=foreign.secrets)
            continue
        for path, query, what in _foreign_paths(route, town, role):
            walk.send("get", path, query, allowed=REFUSED, what=what, secrets=foreign.secrets)
        if role in IMPOSSIBLE_IDS:
            for path, what in _impossible_paths(route, town, full=IMPOSSIBLE_IDS[role]):
                walk.send("get", path, allowed=REFUSED, what=what)
    # Forged, garbled and unknown tokens for the public card check: a 404 for everyone.
    verify = next(r for r in ID_ROUTES if r.name == "services:card-verify")
    good = _token(town, town.own)
    tokens = [good[:-1] + ("A" if good[-1] != "A" else "B"), signing.dumps("0010000016")]
    for token in [*tokens, *THROUGH_TEXT[:4]]:
        response = client.get(verify.url(token=token))
        assert response.status_code == 404, token
    written = [t for t, v in snapshot().items() if v != before[t]]
    assert "\n".join(walk.failures) == ""
    assert written == [], f"GETs with refused ids wrote to {written}"
    assert walk.sent > len(ID_ROUTES) - 2


def test_own_ids_open_the_pages_so_the_foreign_refusals_mean_something(world, client):
    """The walk's GETs with the sub-district's own ids: the pages open, so a 404 for the
    foreign id of the same kind is the scope's doing, not a wrong id."""
    town = build_town(world)
    client.raise_request_exception = False
    refused = {}
    for role in ("subdistrict", "district"):
        client.force_login(town.users[role])
        for route in ID_ROUTES:
            if post_only(route) or (role == "district" and route.name not in refused):
                continue
            if route.name == "services:card-verify":
                path, query = route.url(token=_token(town, town.own)), {}
            else:
                path = route.url(**_ids(route, town.own))
                query = {"area": town.own.ids["area"], "period": "2025"}
            status = client.get(path, query).status_code
            if status == 200:
                refused.pop(route.name, None)
            else:
                refused[route.name] = status
    assert refused == EXPECTED_SHUT


# Own-id pages neither the sub-district nor the bureau opens with a GET, and why.
EXPECTED_SHUT = {
    "outreach:photo": 404,  # the photo's file is not stored in these tests
    "services:agreement-document": 404,  # the agreement has no scanned copy
    "reports:report-records": 404,  # a draft's figures are not frozen: no records to list
}


# POST-only URLs (archive, restore, end …): the roles that act on their own records POST
# another area's ids and impossible ones.
POSTING_ROLES = ["district", "subdistrict", "liaison", "till"]


def test_there_are_post_only_urls_to_walk():
    names = {r.name for r in ID_ROUTES if post_only(r)}
    assert {"residents:household-archive", "outreach:visit-restore"} <= names
    assert len(names) >= 25


@pytest.mark.parametrize("role", POSTING_ROLES)
def test_posts_with_foreign_or_impossible_ids_change_nothing(world, client, role):
    town = build_town(world)
    client.raise_request_exception = False
    client.force_login(town.users[role])
    walk = Walk(client, role)
    foreign = getattr(town, FOREIGN[role])
    before = snapshot()
    body = {"reason": "越权操作", "end_date": "2026-01-01", "comment": "越权"}
    for route in (r for r in ID_ROUTES if post_only(r)):
        if role not in IN_SCOPE:
            path = route.url(**_ids(route, town.own))
            walk.send("post", path, body, allowed={403, 404}, what="own ids")
            continue
        for path, _query, what in _foreign_paths(route, town, role):
            walk.send("post", path, body, allowed={403, 404}, what=what, secrets=foreign.secrets)
        if role == "subdistrict":
            for path, what in _impossible_paths(route, town, full=False):
                walk.send("post", path, body, allowed={403, 404}, what=what)
    after = snapshot()
    assert "\n".join(walk.failures) == ""
    assert [t for t in before if before[t] != after[t]] == []
