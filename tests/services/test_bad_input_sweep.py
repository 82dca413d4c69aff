"""Hostile input against every URL of the services, as sub-district staff (平江街道), community
staff (平江路社区), a liaison (平江路社区) and 马记清真拉面馆's till login.

Walks the "services" namespace like tests/residents/test_bad_input_sweep.py, so a new URL is
swept without writing anything here (a URL with an id must say in ID_KINDS what its ids are,
or the first test fails). For each URL and user: garbage query parameters, garbage POST
bodies, non-numeric and huge ids, the ids of records of the other sub-district (沧浪街道) and,
for community staff and the liaison, of the other community (干将社区), and query parameters
naming those records. Never a 500; a foreign id is a 404 (or the role's own refusal) that
shows nothing of the foreign record; the till login is refused every staff page and staff
every till page; refused input leaves the database as it was. The public card check gets
garbage tokens, the till garbage card numbers, item ids, values and submission keys.

One test per URL name, each with its own copy of the data (one fixture), so the file stays
fast on both databases. Runs on SQLite and on PostgreSQL, which rejects NUL characters in
SQL strings (a DataError, so a 500, unless the input is checked first).
"""

import datetime
import logging
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.core import signing
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from network.models import ExportLog, User
from network.scoped import ACCOUNT, PUBLIC
from services import cards as card_rules
from services.cards import record_consent, verification_token
from services.models import (
    Agreement,
    AgreementItem,
    CardUse,
    Consent,
    Merchant,
    MerchantAccount,
    ServiceCard,
    Survey,
    SurveyAnswer,
    UseChannel,
)
from tests.factories import PersonFactory, UserFactory
from tests.network.test_url_walk import walk

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"
BEYOND_BIGINT = str(2**63)
NUL = "\x00"
LONG = "1" * 10_000

# What each URL's ids stand for, one kind per id in the URL's order.
ID_KINDS = {
    "merchant-detail": ("merchant",),
    "merchant-edit": ("merchant",),
    "merchant-archive": ("merchant",),
    "merchant-restore": ("merchant",),
    "agreement-detail": ("agreement",),
    "agreement-edit": ("agreement",),
    "agreement-renew": ("agreement",),
    "agreement-document": ("agreement",),
    "agreement-archive": ("agreement",),
    "agreement-restore": ("agreement",),
    "card-detail": ("card",),
    "card-print": ("card",),
    "card-reissue": ("card",),
    "card-revoke": ("card",),
    "card-verify": ("token",),
    "consent-person": ("person",),
    "consent-withdraw": ("consent",),
    "use-detail": ("use",),
    "use-void": ("use",),
    "use-restore": ("use",),
    "settlement": ("merchant",),
    "settlement-export": ("merchant",),
    "merchant-accounts": ("merchant",),
    "merchant-account-switch": ("merchant", "account"),
    "survey-detail": ("survey",),
    "survey-edit": ("survey",),
    "survey-archive": ("survey",),
    "survey-restore": ("survey",),
}
# GET writes an export log here (that is their job).
EXPORTS = {
    "merchant-export",
    "agreement-export",
    "card-export",
    "use-export",
    "survey-export",
    "settlement-export",
}
# A POST acts on the user's own record whatever its body (or with any text as its reason):
# users who may do it get hostile ids and foreign records only, not garbage bodies.
ACTING = {
    "merchant-archive",
    "agreement-archive",
    "survey-archive",
    "merchant-account-switch",
    "use-void",
}
# POST to these changes merchants, agreements, cards, consents, uses or till logins.
MERCHANT_WRITES = {
    "merchant-create",
    "merchant-edit",
    "merchant-archive",
    "merchant-restore",
    "agreement-create",
    "agreement-edit",
    "agreement-renew",
    "agreement-archive",
    "agreement-restore",
    "merchant-import",
    "merchant-import-confirm",
    "agreement-import",
    "agreement-import-confirm",
    "merchant-accounts",
    "merchant-account-switch",
}
CARD_WRITES = {
    "card-issue",
    "card-reissue",
    "card-revoke",
    "consent-person",
    "consent-withdraw",
    "use-create",
    "use-void",
    "use-restore",
}
# Whose POST to these is refused (403, or 404/405 before anything is read).
REFUSED_WRITES = {
    "subdistrict": set(),
    "community": MERCHANT_WRITES,
    "liaison": MERCHANT_WRITES | CARD_WRITES,
    "till": set(),
}

ID_TEXTS = ["abc", "１", "%00"]  # no int converter matches them

CARD_NUMBERS = [
    NUL,
    "001" + NUL + "0000016",
    "１２３４５６７８９０",
    "００１－０００００１－７",  # a check digit that does not fit
    LONG,
    "😀" * 10,
    "👨‍👩‍👧",
    "' OR 1=1 --",
    "1; DROP TABLE services_servicecard; --",
    "%",
    "²" * 10,
    "٠٠١٠٠٠٠٠١٦",  # Arabic-Indic digits
    "-1",
    "",
    " ",
]
ITEM_IDS = [NUL, "abc", "-1", "0", HUGE, BEYOND_BIGINT, "²", "1.5", "1e3", "１" * 30, "", " "]
SUBMISSION_KEYS = [
    NUL,
    "abc",
    HUGE,
    LONG,
    "' OR 1=1 --",
    "00000000-0000-0000-0000-00000000000" + NUL,
    "{" + "0" * 31 + "}",
]
VALUES = ["abc", NUL, "-1", HUGE, "1e400", "NaN", "Infinity", "sNaN", "100000000", "¥abc"]
VALUES += ["１２" * 8]

DATES = ["2025-02-30", "0001-01-01", "9999-12-31", "２０２５-０１-０１", "2025-1" + NUL]
IDS = ["²", HUGE, NUL, "-1", BEYOND_BIGINT]
# Four rounds: every list has at most four values (the parameters of one kind share the
# values between them).
GARBAGE_VALUES = {
    "page": ["-1", HUGE, "²１２", NUL],
    "q": ["马" * 500 + "%_\\'\" OR 1=1 --", "😀👨‍👩‍👧１２", "马" + NUL + "晓东", "平江路" + NUL],
    "area": IDS[:4],
    "serves": IDS[1:],
    "community": IDS[::-1][:4],
    "merchant": IDS[1:][::-1],
    "person": IDS[:4],
    "household": IDS[1:],
    "card": IDS[::-1][:4],
    "item": ["0", "1.5", "１" * 30, NUL],
    "category": ["xx", NUL, "medical" + NUL],
    "status": ["xx", NUL],
    "scheme": ["xx", NUL],
    "state": ["xx", NUL],
    "channel": ["xx", NUL],
    "wants": ["xx", NUL],
    "offers": [NUL, "xx"],
    "archived": ["xx", NUL, "on"],
    "issued_from": DATES[:4],
    "issued_to": DATES[1:],
    "date_from": DATES[1:],
    "date_to": DATES[:4][::-1],
    "used_on": DATES[1:],
    "year": ["-1", HUGE, "²", "９９９９" + NUL],
    "quarter": ["5", "abc", NUL, "²"],
    "month": ["13", "2025-13", NUL, "0"],
    "card_number": CARD_NUMBERS[:4],
    "number": CARD_NUMBERS[4:8],
    "submission_key": SUBMISSION_KEYS[:4],
    "format": ["xlsx", "csv", "pdf", NUL],
    "token": [NUL, "abc", LONG],
    "next": ["//evil.example.com", NUL],
    "keep": ["abc", HUGE, NUL],
}


def garbage_rounds() -> list[dict]:
    """Every garbage value at least once, all parameters in every request: round i takes the
    i-th value of each list (lists are reused from the start)."""
    rounds = max(len(values) for values in GARBAGE_VALUES.values())
    return [
        {name: values[i % len(values)] for name, values in GARBAGE_VALUES.items()}
        for i in range(rounds)
    ]


FIELDS = [
    # merchants and agreements
    "name",
    "category",
    "area",
    "address",
    "contact_person",
    "phone",
    "licence_number",
    "serves",
    "note",
    "submission_key",
    "merchant",
    "number",
    "status",
    "signed_on",
    "valid_from",
    "valid_to",
    "terminated_on",
    "document",
    "remove_document",
    # cards, consents, uses
    "person",
    "scheme",
    "issued_on",
    "valid_until",
    "on",
    "reason",
    "given_on",
    "form_reference",
    "withdrawn_on",
    "card_number",
    "used_on",
    "item",
    "value_before",
    "value_after",
    # till logins, surveys, imports
    "username",
    "real_name",
    "password1",
    "password2",
    "respondent",
    "surveyed_on",
    "wants_medical",
    "wants_medical_detail",
    "offers_tailoring",
    "offers_tailoring_detail",
    "token",
    "file",
    "q",
    "household",
]
ITEM_FORM_FIELDS = [
    "id",
    "category",
    "description",
    "benefit_kind",
    "percent_off",
    "fixed_price",
    "usual_price",
    "conditions",
    "is_withdrawn",
    "DELETE",
]


def _body(value):
    """Every field any services form reads, set to ``value``."""
    body = dict.fromkeys(FIELDS, value)
    for name in ITEM_FORM_FIELDS:
        body[f"items-0-{name}"] = value
    for name in ("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS"):
        body[f"items-{name}"] = value
    return body


def _typed_body(day, number, wrong_id):
    """Each field with garbage of its own type: impossible dates, numbers, ids."""
    body = _body("😀" * 60)
    for name in FIELDS:
        if name.endswith("_on") or name.startswith("valid_") or name == "on":
            body[name] = day
    for name in ("merchant", "area", "serves", "person", "item", "respondent", "household"):
        body[name] = wrong_id
    body |= {"value_before": number, "value_after": number, "items-0-percent_off": number}
    body |= {"items-0-fixed_price": number, "items-0-id": wrong_id, "items-INITIAL_FORMS": "1"}
    body |= {"items-TOTAL_FORMS": "-1", "items-MAX_NUM_FORMS": "-1"}
    return body


HUGE_NUMBERS = _body("9" * 300)  # 300-digit ids and amounts, and numbers of forms
GARBAGE_BODIES = [
    {},
    _body(NUL),
    _body("马" + NUL + "晓东"),
    HUGE_NUMBERS,
    _typed_body("0001-01-01", "1e400", HUGE),
    _typed_body("9999-12-31", "NaN", BEYOND_BIGINT),
]
# The users who may do an ACTING URL's action get these instead (what must be refused).
ACTING_BODIES = {
    "use-void": [{}, {"reason": NUL}, {"reason": " \x00\x01 "}, {"reason": "长" * 201}],
}


def services_patterns():
    return [pattern for namespace, pattern in walk() if namespace == "services"]


def id_names(pattern) -> list[str]:
    return list(getattr(pattern.pattern, "converters", {}))


def url(pattern, *ids) -> str:
    return reverse(
        f"services:{pattern.name}", kwargs=dict(zip(id_names(pattern), ids, strict=True))
    )


def raw_url(pattern, *texts) -> str:
    """The URL with ``texts`` in place of its ids (values no converter would produce)."""
    markers = [918273645 + n for n in range(len(id_names(pattern)))]
    path = url(pattern, *markers)
    for marker, text in zip(markers, texts, strict=True):
        path = path.replace(str(marker), text)
    return path


def access_of(pattern) -> str | None:
    return getattr(pattern.callback, "tongxin_access", None)


PATTERNS = [pytest.param(p, id=p.name) for p in services_patterns()]


# ---------------------------------------------------------------- the data


@dataclass
class Foreign:
    pk: int
    secrets: tuple[str, ...]  # what no page may show of it


@dataclass
class Data:
    users: dict  # who -> User
    own: dict  # kind -> pk (the same for every user; a token for "token")
    foreign: dict  # (who, kind) -> [Foreign]
    secrets: dict  # who -> what no page shown to them may show
    foreign_pages: tuple  # where no response may redirect
    query: dict  # query parameters naming foreign records
    partners: object
    world: object
    register: object
    extra: dict = field(default_factory=dict)


USERS = ("subdistrict", "community", "liaison", "till")
DETAIL_PAGES = {
    "merchant": ("merchant-detail", "settlement"),
    "agreement": ("agreement-detail",),
    "card": ("card-detail",),
    "use": ("use-detail",),
    "survey": ("survey-detail",),
    "person": ("consent-person",),
}


@pytest.fixture
def data(world, register, partners):
    """The partners, plus a use and a survey in each of 平江路社区 (own), 干将社区 (another
    community of the same sub-district) and 道前社区 (the other sub-district), and a till
    login of the other sub-district's merchant."""
    p, r = partners, register
    today = timezone.localdate()
    staff = world.pingjiang_staff

    def use(card, merchant, item, note):
        return CardUse.objects.create(
            card=card,
            merchant=merchant,
            item=item,
            used_on=today - datetime.timedelta(days=3),
            value_before=Decimal("30.00"),
            value_after=Decimal("24.00"),
            channel=UseChannel.DESK,
            note=note,
            recorded_by=staff,
        )

    def survey(household, respondent, note, category):
        made = Survey.objects.create(
            household=household, respondent=respondent, note=note, recorded_by=staff
        )
        SurveyAnswer.objects.create(survey=made, direction="wants", category=category)
        return made

    ma_use = use(p.ma_card, p.lamian, p.noodles, "平江路本区午餐")
    bai_use = use(p.bai_card, p.lamian, p.home_cooking, "干将邻区套餐记录")
    ayt_use = use(p.ayt_card, p.repair, p.repair_visit, "道前外区上门维修")
    ma_survey = survey(r.ma_household, r.ma_xiaodong, "平江路本区调查", "medical")
    bai_survey = survey(r.bai_household, r.bai_lan, "干将邻区调查备注", "tailoring")
    dq_survey = survey(r.daoqian_household, r.aytursun, "道前外区调查备注", "moving")
    repair_till = UserFactory(username="suchengweixiu", real_name="苏城维修收银")
    repair_account = MerchantAccount.objects.create(user=repair_till, merchant=p.repair)
    own_account = MerchantAccount.objects.get(user=p.lamian_till)
    consents = {c.person_id: c for c in Consent.objects.all()}

    ayt = ("阿依吐尔逊", r.aytursun.id_number)
    ayt_card = (p.ayt_card.number, p.ayt_card.display_number, *ayt)
    other_sub = {
        "merchant": [Foreign(p.repair.pk, ("苏城家电维修部", "周师傅"))],
        "agreement": [Foreign(p.repair_agreement.pk, ("CL-2026-02", "上门维修家电"))],
        "card": [Foreign(p.ayt_card.pk, ayt_card)],
        "use": [Foreign(ayt_use.pk, ("道前外区上门维修", *ayt_card))],
        "survey": [Foreign(dq_survey.pk, ("道前外区调查备注", "道前街45号", *ayt))],
        "person": [Foreign(r.aytursun.pk, ayt)],
        "consent": [Foreign(consents[r.aytursun.pk].pk, (*ayt, "CL-0007"))],
        "account": [Foreign(repair_account.pk, ("suchengweixiu", "苏城维修收银"))],
    }
    bai = ("白兰", r.bai_lan.id_number)
    bai_card = (p.bai_card.number, p.bai_card.display_number, *bai)
    other_community = {
        "card": [Foreign(p.bai_card.pk, bai_card), Foreign(p.bai_lost.pk, bai)],
        "use": [Foreign(bai_use.pk, ("干将邻区套餐记录", *bai_card))],
        "survey": [Foreign(bai_survey.pk, ("干将邻区调查备注", "干将东路88号", *bai))],
        "person": [Foreign(r.bai_lan.pk, bai)],
        "consent": [Foreign(consents[r.bai_lan.pk].pk, bai)],
    }
    foreign = {}
    for who in USERS:
        for kind, records in other_sub.items():
            extra = other_community.get(kind, []) if who in {"community", "liaison"} else []
            foreign[(who, kind)] = records + extra
    persons = [r.ma_xiaodong, r.ma_wife, r.bai_lan, r.aytursun]
    names = [f.secrets for records in other_sub.values() for f in records]
    # No services page shows an id number, not even of the user's own residents.
    names.append(tuple(person.id_number for person in persons))
    staff_secrets = tuple(sorted({secret for group in names for secret in group}))
    # A redirect to a foreign record's page would say that it exists.
    foreign_pages = tuple(
        reverse(f"services:{name}", args=[records[0].pk])
        for kind, records in other_sub.items()
        for name in DETAIL_PAGES.get(kind, ())
    )
    community_secrets = staff_secrets + ("干将邻区套餐记录", "干将邻区调查备注", "白兰")
    # A till shows masked names only: no full name, no household address.
    till_secrets = (
        *staff_secrets,
        *[person.name for person in persons],
        "平江路112号3幢201室",
        "干将东路88号",
        "道前街45号",
    )
    return Data(
        users={
            "subdistrict": world.pingjiang_staff,
            "community": world.pingjianglu_staff,
            "liaison": world.pingjianglu_liaison,
            "till": p.lamian_till,
        },
        own={
            "merchant": p.lamian.pk,
            "agreement": p.lamian_agreement.pk,
            "card": p.ma_card.pk,
            "use": ma_use.pk,
            "survey": ma_survey.pk,
            "person": r.ma_xiaodong.pk,
            "consent": consents[r.ma_xiaodong.pk].pk,
            "account": own_account.pk,
            "token": verification_token(p.ma_card),
            "household": r.ma_household.pk,
        },
        foreign=foreign,
        foreign_pages=foreign_pages,
        secrets={
            "subdistrict": staff_secrets,
            "community": community_secrets,
            "liaison": community_secrets,
            "till": till_secrets,
        },
        query={
            "merchant": p.repair.pk,
            "area": world.canglang.pk,
            "serves": world.daoqian.pk,
            "community": world.daoqian.pk,
            "person": r.aytursun.pk,
            "household": r.daoqian_household.pk,
            "respondent": r.aytursun.pk,
            "item": p.repair_visit.pk,
            "card": p.ayt_card.pk,
            "submission_key": str(ayt_use.submission_key),
            "q": "阿依",
        },
        partners=p,
        world=world,
        register=r,
        extra={"ayt_use": ayt_use},
    )


TRACKED = [Merchant, Agreement, AgreementItem, Consent, ServiceCard, CardUse, MerchantAccount]
TRACKED += [Survey, SurveyAnswer]


def _count_sql(model, where="") -> str:
    return f"(SELECT COUNT(*) FROM {connection.ops.quote_name(model._meta.db_table)}{where})"


def snapshot(*, exports=True):
    """Counts that any write to the services changes (every save leaves a history row), in
    one query: the sweep takes a thousand of them."""
    models = [*TRACKED, *[model.history.model for model in TRACKED], User]
    names = [model.__name__ for model in models] + ["active users"]
    counts = [_count_sql(model) for model in models]
    counts.append(_count_sql(User, " WHERE is_active = %s"))
    if exports:
        names.append("exports")
        counts.append(_count_sql(ExportLog))
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(counts), [True])
        return dict(zip(names, cursor.fetchone(), strict=True))


# Query strings without which a URL's form is never reached.
OWN_QUERY = {"survey-create": "household"}


def own_url(pattern, data) -> str:
    kinds = ID_KINDS.get(pattern.name, ())
    path = url(pattern, *[data.own[kind] for kind in kinds])
    if pattern.name in OWN_QUERY:
        name = OWN_QUERY[pattern.name]
        path += f"?{name}={data.own[name]}"
    return path


def _text(response) -> str:
    if response is None or response.streaming:
        return ""
    return response.content.decode(errors="replace")


class Sweep:
    """Sends requests, collecting every failure instead of stopping at the first."""

    def __init__(self, client, data):
        self.client = client
        self.data = data
        self.who = None
        self.failures: list[str] = []

    def as_(self, who):
        self.who = who
        self.client.force_login(self.data.users[who])

    def send(self, method, path, params=None, secrets=None):
        """The response, or None when the view raised. ``secrets``: what it may not show
        (by default whatever the user may never see); no response may redirect to a
        foreign record's page."""
        label = f"{self.who}: {method.upper()} {path}"
        try:
            response = getattr(self.client, method)(path, params or {})
        except Exception as exc:  # noqa: BLE001 - a view that raised is what we look for
            error = f"{type(exc).__name__} {_short(exc)}"
            self.failures.append(f"{label}: {error} with {_short(params)}")
            return None
        if response.status_code >= 500:
            self.failures.append(f"{label}: {response.status_code} with {_short(params)}")
        location = response.get("Location", "")
        for page in self.data.foreign_pages:
            self.expect(page not in location, f"{label} redirects to {page} with {_short(params)}")
        text = _text(response)
        for secret in self.data.secrets[self.who] if secrets is None else secrets:
            self.expect(secret not in text, f"{label} shows {secret!r} with {_short(params)}")
        return response

    def status(self, response, allowed, what):
        if response is not None:
            self.expect(response.status_code in allowed, f"{self.who}: {what}: {response}")

    def expect(self, condition, message):
        if not condition:
            self.failures.append(message)


def _short(value) -> str:
    text = repr(value)
    return text if len(text) < 160 else text[:150] + "…"


# ---------------------------------------------------------------- the sweep


@pytest.fixture(autouse=True)
def quiet_refusals(caplog):
    """The sweep expects thousands of 403, 404 and 405: formatting each one's warning (with
    its traceback) would take most of the time. Errors are still logged."""
    caplog.set_level(logging.ERROR, logger="django.request")


def test_every_url_with_an_id_says_what_its_ids_are():
    patterns = services_patterns()
    assert {p.name for p in patterns if id_names(p)} == set(ID_KINDS)
    for pattern in patterns:
        if pattern.name in ID_KINDS:
            assert len(ID_KINDS[pattern.name]) == len(id_names(pattern)), pattern.name


def test_the_sweep_knows_every_changing_and_export_url():
    names = {p.name for p in services_patterns()}
    for listed in (EXPORTS, ACTING, MERCHANT_WRITES, CARD_WRITES, set(ACTING_BODIES)):
        assert listed <= names, listed - names


@pytest.mark.parametrize("pattern", PATTERNS)
def test_hostile_input(data, client, pattern):
    sweep = Sweep(client, data)
    access = access_of(pattern)
    for who in USERS:
        sweep.as_(who)
        if access == PUBLIC:
            _sweep_public(sweep, pattern)
        elif (who == "till") != (access == ACCOUNT):
            _sweep_refused_everything(sweep, pattern)
        else:
            _sweep(sweep, pattern)
    check = EXTRA_CHECKS.get(pattern.name)
    if check is not None:
        check(sweep, data)
    assert sweep.failures == [], "\n".join(f[:300] for f in sweep.failures)


def _sweep_refused_everything(sweep, pattern):
    """The till login on a staff page, staff on a till page: 403 whatever is sent."""
    data = sweep.data
    before = snapshot()
    paths = [own_url(pattern, data)]
    kinds = ID_KINDS.get(pattern.name, ())
    if kinds:
        paths += [raw_url(pattern, *[HUGE] * len(kinds))]
        paths += [url(pattern, *[data.foreign[(sweep.who, k)][0].pk for k in kinds])]
    for path in paths:
        sweep.status(sweep.send("get", path, garbage_rounds()[3]), {403}, f"GET {path}")
        sweep.status(sweep.send("post", path, data.query), {403}, f"POST {path}")
    sweep.expect(snapshot() == before, f"{sweep.who} changed the database via {pattern.name}")


# Sub-district staff (who may do the most) and the till on its own pages get every garbage
# value; community staff and the liaison a sample, for their scoping; a role refused a page
# (403 without parameters) one request of each kind.
FULL = {"subdistrict", "till"}
SAME_FORMSET = {"agreement-edit", "agreement-renew"}
SAMPLE_BODIES = [_body(NUL), GARBAGE_BODIES[-1]]


def _sweep(sweep, pattern):
    data, who, name = sweep.data, sweep.who, pattern.name
    path = own_url(pattern, data)
    counted = name not in EXPORTS  # an export's GET logs the export: that is its job
    before = snapshot(exports=counted)

    # Garbage query parameters, and parameters naming foreign records.
    first = sweep.send("get", path)
    role_refused = first is not None and first.status_code == 403
    rounds = garbage_rounds()
    if role_refused:
        rounds = rounds[3:4]
    elif who not in FULL:
        rounds = rounds[1::2]
    for params in [*rounds, data.query]:
        response = sweep.send("get", path, params)
        if role_refused:
            sweep.status(response, {403}, f"GET {path} refused without parameters")
        elif access_of(pattern) == ACCOUNT:
            sweep.status(response, {200}, f"GET {path}")
    sweep.expect(snapshot(exports=counted) == before, f"{who}: GET {path} changed the database")

    # Garbage bodies.
    before = snapshot()
    refused = name in REFUSED_WRITES[who] or role_refused
    bodies = [*(GARBAGE_BODIES if who in FULL else SAMPLE_BODIES), data.query]
    if name in SAME_FORMSET:  # 50 item forms rendered: once, on agreement-create, is enough
        bodies = [body for body in bodies if body is not HUGE_NUMBERS]
    if refused:
        bodies = [SAMPLE_BODIES[0], data.query]
    elif name in ACTING:
        bodies = ACTING_BODIES.get(name, [])
    for body in bodies:
        response = sweep.send("post", path, body)
        if refused:
            sweep.status(response, {403, 404, 405}, f"POST {path} by a role refused it")
    sweep.expect(snapshot() == before, f"{who}: POST {path} changed the database")

    kinds = ID_KINDS.get(name, ())
    if not kinds:
        return
    # Ids no converter matches (once: the resolver refuses them), and numbers that match.
    own = [data.own[kind] for kind in kinds]
    if who == "subdistrict":  # the URL resolver refuses them, whoever asks
        for text in ID_TEXTS:
            hostile = raw_url(pattern, *[text] * len(kinds))
            sweep.status(sweep.send("get", hostile), {404}, f"GET {hostile}")
    texts = ["0", HUGE, BEYOND_BIGINT] if who in FULL else [HUGE]
    for text in texts:
        combos = {tuple([text] * len(kinds)), tuple([*map(str, own[:-1]), text])}
        for ids in combos:
            hostile = raw_url(pattern, *ids)
            response = sweep.send("get", hostile)
            sweep.status(response, {403, 404, 405}, f"GET {hostile}")
            if response is not None and response.status_code == 405:  # a POST-only view
                response = sweep.send("post", hostile)
                sweep.status(response, {403, 404}, f"POST {hostile}")

    # Records outside the user's part of the district: 404 (or the role's refusal).
    allowed = {403, 404, 405} if role_refused else {404, 405}
    requests = [("get", {})] if role_refused else [("get", {}), ("post", data.query)]
    for position, kind in enumerate(kinds):
        for record in data.foreign[(who, kind)]:
            ids = own[:position] + [record.pk] + own[position + 1 :]
            foreign_path = url(pattern, *ids)
            for method, body in requests:
                response = sweep.send(method, foreign_path, body, secrets=record.secrets)
                sweep.status(response, allowed, f"{method.upper()} {foreign_path}")
    sweep.expect(snapshot() == before, f"{who}: hostile ids for {name} changed the database")


def _sweep_public(sweep, pattern):
    """The public card check: only ``card-verify`` is public; its sweep is its own."""
    assert pattern.name == "card-verify", f"a new public services URL: {pattern.name}"


# ---------------------------------------------------------------- the public card check


def _bad_tokens(data) -> list[str]:
    card = data.partners.ma_card
    good = verification_token(card)
    salt = card_rules._SIGNING_SALT
    return [
        NUL,
        "%00",
        "a" + NUL + "b",
        LONG,
        "😀" * 20,
        "' OR 1=1 --",
        "..",
        "-1",
        HUGE,
        good[:-1] + ("A" if good[-1] != "A" else "B"),  # tampered signature
        good + ":x",
        good.upper(),
        "x" * 199 + ":",
        signing.dumps(card.number),  # signed without the card salt
        signing.dumps("0000000000", salt=salt),  # a number no card has
        signing.dumps(["0010000016"], salt=salt),  # not a string
        signing.dumps("1" * 50, salt=salt),  # longer than any card number
    ]


def check_card_verify(sweep, data):
    """Garbage tokens: 404 for anyone (signed out too), never a 500, nothing of any card."""
    pattern = next(p for p in services_patterns() if p.name == "card-verify")
    before = snapshot()
    secrets = (*data.secrets["till"], data.partners.ma_card.number, "马晓东")
    for who in (None, "subdistrict", "till"):
        if who is None:
            sweep.client.logout()
            sweep.who = "till"  # the strictest secrets
        else:
            sweep.as_(who)
        for token in _bad_tokens(data):
            path = raw_url(pattern, token)
            response = sweep.send("get", path, garbage_rounds()[0], secrets=secrets)
            sweep.status(response, {404}, f"GET {path}")
            sweep.status(sweep.send("post", path, {}, secrets=secrets), {404, 405}, "POST")
    # The genuine token still works (so a 404 above is the check, not a broken page).
    good = sweep.send("get", own_url(pattern, data), secrets=data.secrets["till"])
    sweep.status(good, {200}, "the genuine token")
    sweep.expect(snapshot() == before, "the public card check changed the database")


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param("0010000016" + NUL, id="nul"),
        pytest.param("٠٠١٠٠٠٠٠١٦", id="arabic-indic-digits"),
        pytest.param("", id="empty"),
    ],
)
def test_a_genuinely_signed_token_naming_no_card_is_a_404(data, client, payload):
    """Only the office's key signs tokens, but one that names no card (an old format, a
    key shared with another service) is still a plain "unknown card", never an error."""
    token = signing.dumps(payload, salt=card_rules._SIGNING_SALT)
    path = reverse("services:card-verify", kwargs={"token": token})
    assert client.get(path).status_code == 404


# ---------------------------------------------------------------- the till


def _full_width(text) -> str:
    return text.translate({48 + i: 0xFF10 + i for i in range(10)})


def check_till_card(sweep, data):
    """Garbage card numbers at the till: a refusal, never a 500; a real card typed in
    full-width digits is found, and shows its holder's name masked only."""
    p = data.partners
    sweep.as_("till")
    path = reverse("services:till-card")
    before = snapshot()
    for number in CARD_NUMBERS:
        response = sweep.send("get", path, {"number": number})
        sweep.status(response, {200}, f"GET {path} number={_short(number)}")
        if response is not None and response.status_code == 200:
            sweep.expect(
                response.context["card"] is None and response.context["refusal"],
                f"number {_short(number)} was taken for a card",
            )
    response = sweep.send("get", path, {"number": _full_width(p.ma_card.display_number)})
    if response is not None:
        shown = response.context["card"]
        sweep.expect(shown is not None and shown.holder == "马*东", "full-width number not found")
    sweep.expect(snapshot() == before, "the till's card page changed the database")


def _confirm(sweep, body):
    return sweep.send("post", reverse("services:till-confirm"), body)


def check_till_confirm(sweep, data):
    """Tap 2 with garbage: nothing recorded unless card, service and value are all good;
    another merchant's service or use is refused and never shown."""
    p = data.partners
    sweep.as_("till")
    good = {
        "number": _full_width(p.ma_card.number),
        "item": str(p.noodles.pk),
        "value_before": "30",
        "submission_key": str(uuid.uuid4()),
    }
    before = snapshot()
    for number in [*CARD_NUMBERS, p.bai_lost.number]:
        _confirm(sweep, {**good, "number": number, "submission_key": str(uuid.uuid4())})
    for item in [*ITEM_IDS, str(p.repair_visit.pk), str(p.expired_item.pk)]:
        _confirm(sweep, {**good, "item": item, "submission_key": str(uuid.uuid4())})
        sweep.send("get", reverse("services:till-confirm"), {**good, "item": item})
    for value in VALUES:
        _confirm(sweep, {**good, "value_before": value, "submission_key": str(uuid.uuid4())})
    foreign_key = str(data.extra["ayt_use"].submission_key)
    for key in [*SUBMISSION_KEYS, foreign_key]:
        _confirm(sweep, {**good, "submission_key": key, "value_before": "abc"})
    sweep.expect(snapshot() == before, "refused till input changed the database")

    # A garbled key, or one of another merchant's use, records a fresh use of its own.
    for key in (NUL, foreign_key):
        response = _confirm(sweep, {**good, "submission_key": key})
        sweep.status(response, {302}, f"a good use with the key {key!r}")
    made = CardUse.objects.filter(merchant=p.lamian, channel=UseChannel.TILL)
    sweep.expect(made.count() == 2, f"{made.count()} uses recorded, not 2")
    sweep.expect(
        not made.filter(submission_key=foreign_key).exists(), "took another merchant's key"
    )


# ---------------------------------------------------------------- foreign records in forms


def _refused_then_accepted(sweep, path, foreign_bodies, control, changed):
    """Each body naming a record outside the user's area changes nothing and shows nothing
    of it; the same form with the user's own records (``control``) goes through, so the
    refusals above are the foreign records' doing."""
    before = snapshot()
    for body in foreign_bodies:
        typed = {str(value) for value in body.values()}  # a form may show what was typed
        secrets = [x for x in sweep.data.secrets[sweep.who] if x not in typed]
        response = sweep.send("post", path, body, secrets=secrets)
        sweep.status(response, {200, 302, 404}, f"POST {path}")
    sweep.expect(snapshot() == before, f"{sweep.who}: a foreign record went in via {path}")
    response = sweep.send("post", path, control)
    sweep.status(response, {302}, f"the control POST {path} {_short(control)}")
    sweep.expect(changed(), f"{sweep.who}: the control POST {path} changed nothing")


def _today(offset=0) -> str:
    return (timezone.localdate() + datetime.timedelta(days=offset)).isoformat()


def check_use_create(sweep, data):
    p = data.partners
    path = reverse("services:use-create")
    base = {
        "card_number": p.ma_card.display_number,
        "merchant": p.lamian.pk,
        "used_on": _today(),
        "item": p.noodles.pk,
        "value_before": "30",
    }
    foreign = [
        {"card_number": p.ayt_card.display_number},
        {"merchant": p.repair.pk, "item": p.repair_visit.pk},
        {"item": p.repair_visit.pk},
        {"item": p.expired_item.pk},
    ]
    for who, extra in (("subdistrict", []), ("community", [{"card_number": p.bai_card.number}])):
        sweep.as_(who)
        count = CardUse.objects.count()
        bodies = [{**base, **change, "submission_key": str(uuid.uuid4())} for change in foreign]
        bodies += [{**base, **change} for change in extra]
        bodies += [{**base, "submission_key": str(data.extra["ayt_use"].submission_key)}]
        # (the last: a use taken under another area's key records a fresh one, so it is the
        # control; a redirect to the other area's use would show in the secrets check)
        _refused_then_accepted(
            sweep, path, bodies[:-1], bodies[-1], lambda n=count: CardUse.objects.count() == n + 1
        )


def check_card_issue(sweep, data):
    r, w = data.register, data.world
    today = timezone.localdate()
    staff = w.pingjiang_staff
    dq_person = PersonFactory(household=r.daoqian_household, name="古丽娜尔")
    record_consent(dq_person, given_on=today, form_reference="CL-0099", user=w.canglang_staff)
    record_consent(r.ma_wife, given_on=today, form_reference="TY-0099", user=staff)
    body = {"scheme": "lingtong", "issued_on": _today(), "valid_until": ""}
    sweep.as_("subdistrict")
    _refused_then_accepted(
        sweep,
        reverse("services:card-issue"),
        [{**body, "person": dq_person.pk}, {**body, "person": r.aytursun.pk}],
        {**body, "person": r.ma_wife.pk},
        lambda: ServiceCard.objects.filter(holder=r.ma_wife).exists(),
    )


def check_merchant_edit(sweep, data):
    p, w = data.partners, data.world
    path = reverse("services:merchant-edit", args=[p.lamian.pk])
    body = {
        "name": p.lamian.name,
        "category": p.lamian.category,
        "area": w.pingjiang.pk,
        "address": p.lamian.address,
        "contact_person": p.lamian.contact_person,
        "phone": p.lamian.phone,
        "licence_number": p.lamian.licence_number,
        "serves": [w.pingjianglu.pk, w.ganjiang.pk],
        "note": "",
    }
    sweep.as_("subdistrict")
    _refused_then_accepted(
        sweep,
        path,
        [{**body, "area": w.canglang.pk}, {**body, "serves": [w.daoqian.pk]}],
        {**body, "note": "平江街道复核"},
        lambda: Merchant.objects.filter(pk=p.lamian.pk, note="平江街道复核").exists(),
    )


def check_agreement_create(sweep, data):
    p, w = data.partners, data.world
    body = {
        "merchant": p.lamian.pk,
        "area": w.pingjiang.pk,
        "number": "PJ-2099-01",
        "status": "draft",
        "valid_from": _today(),
        "valid_to": _today(300),
        "items-TOTAL_FORMS": "1",
        "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "50",
        "items-0-category": "halal_food",
        "items-0-description": "清真早点",
        "items-0-benefit_kind": "free",
    }
    sweep.as_("subdistrict")
    _refused_then_accepted(
        sweep,
        reverse("services:agreement-create"),
        [
            {**body, "merchant": p.repair.pk, "submission_key": str(uuid.uuid4())},
            {**body, "area": w.canglang.pk, "submission_key": str(uuid.uuid4())},
            {**body, "merchant": p.repair.pk, "area": w.canglang.pk},
        ],
        {**body, "submission_key": str(uuid.uuid4())},
        lambda: Agreement.objects.filter(number="PJ-2099-01", merchant=p.lamian).exists(),
    )


def check_survey_edit(sweep, data):
    r = data.register
    survey = Survey.objects.get(pk=data.own["survey"])
    path = reverse("services:survey-edit", args=[survey.pk])
    body = {"surveyed_on": _today(), "note": "平江路复访", "wants_medical": "on"}
    for who in ("liaison", "community"):
        sweep.as_(who)
        Survey.objects.filter(pk=survey.pk).update(note="")
        _refused_then_accepted(
            sweep,
            path,
            [{**body, "respondent": r.aytursun.pk}, {**body, "respondent": r.bai_lan.pk}],
            {**body, "respondent": r.ma_wife.pk},
            lambda: Survey.objects.filter(pk=survey.pk, note="平江路复访").exists(),
        )


EXTRA_CHECKS = {
    "use-create": check_use_create,
    "card-issue": check_card_issue,
    "merchant-edit": check_merchant_edit,
    "agreement-create": check_agreement_create,
    "survey-edit": check_survey_edit,
    "card-verify": check_card_verify,
    "till-card": check_till_card,
    "till-confirm": check_till_confirm,
}
