"""Hostile input against every URL of the register, as district bureau staff and as a liaison.

Walks the "residents" namespace like tests/network/test_url_walk.py, so a new URL is swept
without writing anything here (a URL with an id must say in ID_KINDS what its id is). For each
URL: garbage query parameters, garbage POST bodies, non-numeric and huge ids, and ids of
records outside the user's part of the register. Never a 500; a foreign id is a 404 and shows
nothing of the foreign record; a liaison is refused everything that changes data; and refused
input leaves the database as it was. Runs on SQLite and on PostgreSQL, which rejects NUL
characters in SQL strings (a DataError, so a 500, unless the input is checked first).
"""

import datetime
import io
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from network.models import Area, AreaLevel, ExportLog
from residents.ledger_import import HEADERS
from residents.models import DibaoStandard, Honour, HonourKind, Household, IdNumberReveal, Person
from residents.names import pinyin_of
from tests.factories import HouseholdFactory, PersonFactory, _ethnicity, valid_id_number
from tests.network.test_url_walk import walk

HUGE = "99999999999999999999"
NUL = "\x00"

# What each URL's ids stand for, so the sweep can pick own and foreign records of that kind.
ID_KINDS = {
    "household-detail": "household",
    "household-timeline": "household",
    "household-update": "household",
    "household-move": "household",
    "household-archive": "household",
    "household-restore": "household",
    "person-archive": "person",
    "person-restore": "person",
    "person-reveal-id": "person",
    "person-merge": "person",
    "household-merge": "household",
    "handover-send": "household",
    "handover-cancel": "household",
    "handover-accept": "incoming",
    "handover-decline": "incoming",
    "dibao-standard-update": "standard",
}
# POST to these changes the register (or logs something): a liaison is always refused.
CHANGING = set(ID_KINDS) - {"household-detail", "household-timeline"} | {
    "household-create",
    "dibao-standard-create",
    "ledger-import",
    "ledger-import-confirm",
    "ledger-import-cancel",
    "person-export",
    "dibao-roster-xlsx",
}
# GET writes an export log here (that is their job), so GET is not checked for "no change".
EXPORTS = {"person-export", "dibao-roster-xlsx"}
# POST without a body does the action on a record of one's own; bureau staff only send them
# hostile ids. The others read a body, which the garbage bodies make invalid.
BODILESS_ACTIONS = {
    "household-archive",
    "household-restore",
    "person-archive",
    "person-restore",
    "person-reveal-id",
    "handover-cancel",
    "handover-accept",
}

GARBAGE_VALUES = {
    "page": ["-1", "abc", "99999999", HUGE, "²", "１２", NUL],  # "²" is a digit to isdigit()
    "after": ["abc", f"{HUGE}.{HUGE}", "１.２", "².²", "1.2.3", NUL, "999999999999999999.1"],
    "before": ["-1.-1", "0.0", f"{HUGE}.1", "٣.٣", NUL, ".", "1."],
    "month": ["2025-13", "0000-00", "2025-1" + NUL],
    "days": ["abc", "-5", "²", HUGE, "６０"],
    "community": ["abc", "²", HUGE, NUL, "-1"],
    "area": ["abc", "²", HUGE, NUL],
    "ethnicity": ["拉牯族", NUL],
    "age": ["xx", "-1"],
    "hardship": ["xx"],
    "honour": ["xx"],
    "status": ["xx"],
    "registration": ["xx"],
    "archived": ["xx"],
    "q": [
        "马" * 500,
        "%_\\'\"",
        "' OR 1=1 --",
        "１２３４",
        "１３５Ｘ",
        "😀👨‍👩‍👧",
        "马" + NUL + "晓东",
        NUL,
        "平江路" + NUL,
    ],
    "keep": ["abc", HUGE, NUL],
    "format": ["xlsx", "csv", "pdf", "xlsx", NUL],  # mostly valid, or nothing else is read
    "token": [NUL],
    "next": ["//evil.example.com", NUL],
}


def garbage_rounds() -> list[dict]:
    """Every garbage value at least once, all parameters in every request: round i takes the
    i-th value of each list (lists are reused from the start)."""
    rounds = max(len(values) for values in GARBAGE_VALUES.values())
    return [
        {name: values[i % len(values)] for name, values in GARBAGE_VALUES.items()}
        for i in range(rounds)
    ]


def _bodies(value):
    """Every field any register form reads, set to ``value``."""
    fields = [
        "community",
        "address",
        "ledger_number",
        "name",
        "keep",
        "reason",
        "area",
        "year",
        "monthly_standard",
        "supplement_rate",
        "token",
        "next",
        "q",
        "file",
    ]
    body = dict.fromkeys(fields, value)
    for prefix in ("household", "members-0"):
        for name in ("community", "address", "name", "ethnicity", "id_number", "sex", "id"):
            body[f"{prefix}-{name}"] = value
    for name in ("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS"):
        body[f"members-{name}"] = value
    return body


GARBAGE_BODIES = [
    {},
    _bodies(NUL),
    _bodies("马" + NUL + "晓东"),
    _bodies("9" * 300),
]


def register_patterns():
    return [pattern for namespace, pattern in walk() if namespace == "residents"]


def id_names(pattern) -> list[str]:
    return list(getattr(pattern.pattern, "converters", {}))


def url(pattern, *ids) -> str:
    return reverse(
        f"residents:{pattern.name}", kwargs=dict(zip(id_names(pattern), ids, strict=True))
    )


def raw_url(pattern, text: str) -> str:
    """The URL with ``text`` in place of every id (a value no int converter would produce)."""
    marker = 918273645
    return url(pattern, *[marker] * len(id_names(pattern))).replace(str(marker), text)


PATTERNS = [pytest.param(p, id=p.name) for p in register_patterns()]


# ---------------------------------------------------------------- the data


@dataclass
class Records:
    """Per kind, an own record of each user and a foreign one."""

    own: dict  # (user key, kind) -> list of pks (two, for merges)
    foreign: dict  # (user key, kind) -> (pk, text that must not show)


@pytest.fixture
def records(world, register):
    """The register plus a district next door (相城区) that even bureau staff do not see, a
    household handed over from 沧浪 to 平江 (incoming for bureau staff), and dibao standards."""
    other_district = Area.objects.create(
        code="320507000000", name="相城区", level=AreaLevel.DISTRICT
    )
    other_sub = Area.objects.create(
        code="320507001000", name="元和街道", level=AreaLevel.SUBDISTRICT, parent=other_district
    )
    other_community = Area.objects.create(
        code="320507001001", name="御窑社区", level=AreaLevel.COMMUNITY, parent=other_sub
    )
    far_target = Area.objects.create(
        code="320507001002", name="阳澄社区", level=AreaLevel.COMMUNITY, parent=other_sub
    )
    far = HouseholdFactory(
        community=other_community,
        address="御窑路77号隔壁区",
        is_dibao=True,
        handover_to=far_target,  # incoming for 相城区, never for 姑苏区
    )
    far_person = PersonFactory(
        household=far,
        name="沙外区",
        id_number=valid_id_number(region="320507", birth="19770707", sequence="357"),
        birth_date=datetime.date(1977, 7, 7),
    )
    far_standard = DibaoStandard.objects.create(area=other_district, year=2026, monthly_standard=1)
    own_standard = DibaoStandard.objects.create(area=world.district, year=2026, monthly_standard=1)
    canglang_standard = DibaoStandard.objects.create(
        area=world.canglang, year=2026, monthly_standard=2
    )
    Honour.objects.create(household=register.ma_household, year=2024, kind=HonourKind.MODEL_FAMILY)
    incoming = HouseholdFactory(
        community=world.daoqian, address="道前街9号待移交", handover_to=world.pingjianglu
    )
    incoming.handover_sent_at = incoming.created_at
    incoming.save()
    PersonFactory(household=incoming, name="穆待接", ethnicity=_ethnicity("03"))
    # A second household in 平江路社区, so a liaison has two own households.
    second = HouseholdFactory(community=world.pingjianglu, address="平江路5号")
    PersonFactory(household=second, name="丁秀英")
    r = register
    own = {
        ("bureau", "household"): [r.ma_household.pk, r.bai_household.pk],
        ("bureau", "person"): [r.ma_xiaodong.pk, r.ma_wife.pk],
        ("bureau", "incoming"): [incoming.pk, incoming.pk],
        ("bureau", "standard"): [own_standard.pk, own_standard.pk],
        ("liaison", "household"): [r.ma_household.pk, second.pk],
        ("liaison", "person"): [r.ma_xiaodong.pk, r.ma_wife.pk],
        ("liaison", "incoming"): [incoming.pk, incoming.pk],
        ("liaison", "standard"): [own_standard.pk, own_standard.pk],
        ("subdistrict", "household"): [r.ma_household.pk, r.bai_household.pk],
        ("subdistrict", "person"): [r.ma_xiaodong.pk, r.bai_lan.pk],
        ("subdistrict", "incoming"): [incoming.pk, incoming.pk],
        ("subdistrict", "standard"): [own_standard.pk, own_standard.pk],
    }
    foreign = {
        ("bureau", "household"): (far.pk, far.address),
        ("bureau", "person"): (far_person.pk, far_person.name),
        ("bureau", "incoming"): (far.pk, far.address),
        ("bureau", "standard"): (far_standard.pk, "相城区"),
        ("liaison", "household"): (r.daoqian_household.pk, r.daoqian_household.address),
        ("liaison", "person"): (r.aytursun.pk, r.aytursun.name),
        ("liaison", "incoming"): (far.pk, far.address),
        ("liaison", "standard"): (far_standard.pk, "相城区"),
        ("subdistrict", "household"): (r.daoqian_household.pk, r.daoqian_household.address),
        ("subdistrict", "person"): (r.aytursun.pk, r.aytursun.name),
        ("subdistrict", "incoming"): (far.pk, far.address),
        ("subdistrict", "standard"): (canglang_standard.pk, "沧浪街道"),
    }
    return Records(own=own, foreign=foreign)


USERS = {"bureau": "bureau", "liaison": "pingjianglu_liaison"}
# Sub-district staff may change what they see, so another sub-district's ids must be 404.
WITH_STAFF = {**USERS, "subdistrict": "pingjiang_staff"}


def snapshot():
    """Counts that any write to the register changes (every save leaves a history row)."""
    return {
        "households": Household.objects.count(),
        "persons": Person.objects.count(),
        "honours": Honour.objects.count(),
        "standards": DibaoStandard.objects.count(),
        "exports": ExportLog.objects.count(),
        "reveals": IdNumberReveal.objects.count(),
        "household history": Household.history.count(),
        "person history": Person.history.count(),
        "honour history": Honour.history.count(),
        "standard history": DibaoStandard.history.count(),
    }


def own_url(pattern, records, who):
    kind = ID_KINDS.get(pattern.name)
    if kind is None:
        return url(pattern)
    pks = records.own[(who, kind)]
    return url(pattern, *pks[: len(id_names(pattern))])


class Sweep:
    """Sends requests, collecting every failure instead of stopping at the first."""

    def __init__(self, client):
        self.client = client
        self.failures: list[str] = []

    def send(self, method, path, data=None, **kwargs):
        try:
            response = getattr(self.client, method)(path, data or {}, **kwargs)
        except Exception as exc:  # noqa: BLE001 - a view that raised is what we look for
            self.failures.append(f"{method.upper()} {path} {data!r}: {type(exc).__name__} {exc}")
            return None
        if response.status_code >= 500:
            self.failures.append(f"{method.upper()} {path} {data!r}: {response.status_code}")
        return response

    def expect(self, condition, message):
        if not condition:
            self.failures.append(message)


def _text(response) -> str:
    if response is None or response.streaming:
        return ""
    return response.content.decode(errors="replace")


# ---------------------------------------------------------------- the sweep


def test_every_url_with_an_id_says_what_the_id_is():
    with_ids = {p.name for p in register_patterns() if id_names(p)}
    assert with_ids == set(ID_KINDS)


@pytest.mark.parametrize("who", list(USERS))
@pytest.mark.parametrize("pattern", PATTERNS)
def test_garbage_query_parameters_never_cause_a_500(world, records, login, pattern, who):
    sweep = Sweep(login(getattr(world, USERS[who])))
    path = own_url(pattern, records, who)
    before = snapshot()
    for params in garbage_rounds():
        sweep.send("get", path, params)
    if pattern.name not in EXPORTS:
        sweep.expect(snapshot() == before, f"GET {path} changed the database")
    assert sweep.failures == []


@pytest.mark.parametrize("who", list(USERS))
@pytest.mark.parametrize("pattern", PATTERNS)
def test_garbage_post_bodies_are_refused_and_change_nothing(world, records, login, pattern, who):
    sweep = Sweep(login(getattr(world, USERS[who])))
    if who == "bureau" and pattern.name in BODILESS_ACTIONS:
        pytest.skip("a bodiless action on one's own record is not refused input")
    path = own_url(pattern, records, who)
    before = snapshot()
    for body in GARBAGE_BODIES:
        response = sweep.send("post", path, body)
        if who == "liaison" and pattern.name in CHANGING and response is not None:
            sweep.expect(
                response.status_code in {403, 404, 405},
                f"liaison POST {path}: {response.status_code}",
            )
    sweep.expect(snapshot() == before, f"POST {path} changed the database")
    assert sweep.failures == []


@pytest.mark.parametrize("who", list(USERS))
@pytest.mark.parametrize("pattern", [p for p in PATTERNS if p.values[0].name in ID_KINDS])
def test_hostile_ids_are_not_found(world, records, login, pattern, who):
    sweep = Sweep(login(getattr(world, USERS[who])))
    before = snapshot()
    for text in ["abc", "-1", "0", "１", "²", HUGE, "1e3", "%00", "1%00"]:
        for method in ("get", "post"):
            response = sweep.send(method, raw_url(pattern, text))
            if response is not None:
                sweep.expect(
                    response.status_code in {403, 404, 405},
                    f"{method} {raw_url(pattern, text)}: {response.status_code}",
                )
    sweep.expect(snapshot() == before, f"hostile ids for {pattern.name} changed the database")
    assert sweep.failures == []


@pytest.mark.parametrize("who", list(WITH_STAFF))
@pytest.mark.parametrize("pattern", [p for p in PATTERNS if p.values[0].name in ID_KINDS])
def test_ids_from_outside_ones_area_are_404_and_show_nothing(world, records, login, pattern, who):
    """Bureau staff: records of the district next door; a liaison and sub-district staff:
    another sub-district's. For merges, each of the two ids in turn (the other one the
    user's own)."""
    user = getattr(world, WITH_STAFF[who])
    sweep = Sweep(login(user))
    kind = ID_KINDS[pattern.name]
    foreign, secret = records.foreign[(who, kind)]
    own = records.own[(who, kind)][0]
    combos = [(foreign,), (foreign, own), (own, foreign)]
    before = snapshot()
    for ids in combos:
        if len(ids) != len(id_names(pattern)):
            continue
        path = url(pattern, *ids)
        for method, body in [("get", {}), ("post", {}), ("post", {"keep": foreign})]:
            response = sweep.send(method, path, body)
            if response is None:
                continue
            allowed = {403, 404} if who == "liaison" else {404}
            if method == "get" and pattern.name in {"household-move", "household-archive"}:
                allowed = allowed | {405}  # POST-only views refuse GET first
            if method == "get" and pattern.name in BODILESS_ACTIONS:
                allowed = allowed | {405}
            sweep.expect(
                response.status_code in allowed,
                f"{method} {path} as {who}: {response.status_code}",
            )
            sweep.expect(secret not in _text(response), f"{method} {path} shows {secret}")
    sweep.expect(snapshot() == before, f"foreign ids for {pattern.name} changed the database")
    assert sweep.failures == []


@pytest.mark.parametrize("pattern", PATTERNS)
def test_liaison_is_refused_everything_that_changes_data(world, records, login, pattern):
    if pattern.name not in CHANGING:
        pytest.skip("reading only")
    sweep = Sweep(login(world.pingjianglu_liaison))
    path = own_url(pattern, records, "liaison")
    before = snapshot()
    for method in ("get", "post"):
        response = sweep.send(method, path)
        if response is not None:
            sweep.expect(
                response.status_code in {403, 404, 405},
                f"liaison {method} {path}: {response.status_code}",
            )
    sweep.expect(snapshot() == before, f"liaison changed the database through {path}")
    assert sweep.failures == []


@pytest.mark.parametrize("who", list(WITH_STAFF))
@pytest.mark.parametrize("pattern", [p for p in PATTERNS if p.values[0].name not in EXPORTS])
def test_foreign_areas_in_query_parameters_show_nothing(world, records, login, pattern, who):
    """?community= and ?area= of a community outside one's scope are ignored."""
    if who == "bureau":
        outside = Area.objects.get(name="御窑社区")
        secrets = ["御窑路77号隔壁区", "沙外区"]
    else:
        outside = world.daoqian
        secrets = [records.foreign[(who, "household")][1], records.foreign[(who, "person")][1]]
    sweep = Sweep(login(getattr(world, WITH_STAFF[who])))
    path = own_url(pattern, records, who)
    for params in [{"community": outside.pk}, {"area": outside.pk}, {"area": outside.parent_id}]:
        response = sweep.send("get", path, params)
        for secret in secrets:
            sweep.expect(secret not in _text(response), f"GET {path} {params} shows {secret}")
    assert sweep.failures == []


# ---------------------------------------------------------------- uploads

IMPORT_URL = reverse("residents:ledger-import")
CONFIRM_URL = reverse("residents:ledger-import-confirm")


def csv_bytes(rows, headers=HEADERS) -> bytes:
    lines = [",".join(headers)]
    for row in rows:
        lines.append(",".join(row.get(h, "") for h in headers))
    return ("\n".join(lines) + "\n").encode("utf-8")


def ledger_row(**cells):
    row = {"社区": "平江路社区", "户号": "PJL-777", "地址": "平江路777号", "民族": "回族"}
    row.update({"姓名": "马德明", "性别": "男"})
    row.update(cells)
    return row


BAD_UPLOADS = [
    ("empty.csv", b""),
    ("empty.xlsx", b""),
    ("garbage.xlsx", b"PK\x03\x04 not really a zip" * 50),
    ("garbage.csv", bytes(range(256)) * 40),
    ("nul.csv", b"\x00" * 4096),
    ("header-only.csv", ",".join(HEADERS).encode()),
    ("wrong-headers.csv", "甲,乙,丙\n1,2,3\n".encode()),
    ("ledger.pdf", b"%PDF-1.4"),
    ("ledger.csv.exe", b"MZ"),
    ("huge-cell.csv", csv_bytes([ledger_row(备注="长" * 200_000)])),
    ("huge-name.csv", csv_bytes([ledger_row(姓名="马" * 5000)])),
    ("bad-rows.csv", csv_bytes([ledger_row(民族="拉牯族", 户号=f"X{n}") for n in range(2000)])),
]


@pytest.mark.parametrize(("name", "data"), BAD_UPLOADS, ids=[n for n, _d in BAD_UPLOADS])
def test_bad_uploads_are_refused_with_a_page_and_change_nothing(world, login, name, data):
    client = login(world.bureau)
    before = snapshot()
    response = client.post(IMPORT_URL, {"file": SimpleUploadedFile(name, data)})
    assert response.status_code == 200
    assert "token" not in response.context or not response.context["token"]
    assert snapshot() == before


def test_an_upload_that_is_too_large_is_refused(world, login):
    client = login(world.bureau)
    data = csv_bytes([ledger_row(户号=f"PJL-{n}", 地址=f"平江路{n}号") for n in range(70_000)])
    assert len(data) > 5 * 1024 * 1024
    response = client.post(IMPORT_URL, {"file": SimpleUploadedFile("big.csv", data)})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert Household.objects.filter(address__startswith="平江路1").count() == 0


def test_a_file_with_more_rows_than_a_page_can_check_is_refused(world, login, monkeypatch):
    """A 5 MB xlsx holds a million rows: the browser import stops at MAX_ROWS (here 5)."""
    from residents import views_import

    monkeypatch.setattr(views_import, "MAX_ROWS", 5)
    client = login(world.bureau)
    rows = [ledger_row(户号=f"PJL-{n}", 地址=f"平江路{n}号", 姓名=f"马{n}") for n in range(6)]
    response = client.post(IMPORT_URL, {"file": SimpleUploadedFile("台账.csv", csv_bytes(rows))})
    assert response.status_code == 200
    assert response.context["form"].errors["file"]
    response = client.post(
        IMPORT_URL, {"file": SimpleUploadedFile("台账.csv", csv_bytes(rows[:5]))}
    )
    assert response.context["plan"].ok and response.context["token"]


def test_a_file_field_sent_as_text_is_refused(world, login):
    client = login(world.bureau)
    response = client.post(IMPORT_URL, {"file": "马晓东,回族"})
    assert response.status_code == 200
    assert response.context["form"].errors


@pytest.mark.parametrize("cell", ["姓名", "地址", "备注", "工作单位", "户号", "联系电话"])
def test_control_characters_in_a_ledger_are_dropped_not_stored(world, login, cell):
    """PostgreSQL cannot store NUL; Excel leaves stray control characters in old ledgers.
    They are removed from every cell, so the row imports as the office meant it."""
    client = login(world.pingjiang_staff)
    values = {"姓名": "马德明", "地址": "平江路777号", "备注": "二楼", "工作单位": "苏州大学"}
    values |= {"户号": "PJL-777", "联系电话": "0512-67580001"}
    dirty = values[cell][:2] + "\x00\x01\x1f" + values[cell][2:]
    row = ledger_row(**{**values, cell: dirty})
    response = client.post(IMPORT_URL, {"file": SimpleUploadedFile("台账.csv", csv_bytes([row]))})
    assert response.status_code == 200
    assert response.context["plan"].ok, response.context["plan"].error_lines()
    response = client.post(CONFIRM_URL, {"token": response.context["token"]})
    assert response.status_code == 302
    person = Person.objects.select_related("household").get(name="马德明")
    assert person.household.address == "平江路777号"
    assert person.household.ledger_number == "PJL-777"
    assert person.household.phone == "0512-67580001"
    assert person.notes == "二楼"
    assert person.workplace == "苏州大学"


def test_a_cell_longer_than_the_csv_field_limit_is_a_clear_refusal(world, login):
    client = login(world.bureau)
    data = csv_bytes([ledger_row(备注="长" * 200_000)])
    response = client.post(IMPORT_URL, {"file": SimpleUploadedFile("台账.csv", data)})
    assert response.status_code == 200
    assert response.context["form"].errors["file"]
    assert not Person.objects.filter(name="马德明").exists()


# ---------------------------------------------------------------- typed values


LIST = reverse("residents:person-list")


@pytest.mark.parametrize("who", ["bureau", "pingjianglu_liaison"])
def test_a_search_with_a_nul_character_shows_the_list_not_an_error_page(
    world, register, login, who
):
    response = login(getattr(world, who)).get(LIST, {"q": "马" + NUL + "晓东"})
    assert response.status_code == 200
    assert response.context["form"].errors["q"]


@pytest.mark.parametrize("page", ["²", "³", "¹²"])
def test_a_superscript_page_number_shows_the_first_page(world, register, login, page):
    response = login(world.bureau).get(LIST, {"page": page})
    assert response.status_code == 200
    assert response.context["page"].number == 1
    assert "马晓东" in {row.name for row in response.context["rows"]}


def test_a_superscript_days_window_is_refused_with_a_message(world, register, login):
    response = login(world.bureau).get(reverse("residents:permit-list"), {"days": "²"})
    assert response.status_code == 200
    assert response.context["days"] == 60  # the default window, with an error message
    assert [m.level_tag for m in response.context["messages"]] == ["error"]


@pytest.mark.parametrize("name", ["household-create", "register-print"])
def test_a_superscript_community_is_ignored(world, register, login, name):
    response = login(world.bureau).get(reverse(f"residents:{name}"), {"community": "²"})
    assert response.status_code == 200


def test_register_print_accepts_a_full_width_community_id(world, register, login):
    number = str(world.pingjianglu.pk).translate({48 + i: 0xFF10 + i for i in range(10)})
    response = login(world.bureau).get(reverse("residents:register-print"), {"community": number})
    assert response.status_code == 200
    assert response.context["community"] == world.pingjianglu


def test_handover_search_ignores_control_characters(world, register, login):
    """A NUL typed (or pasted) into the search box is dropped: PostgreSQL would refuse the
    query, and the address is still found."""
    response = login(world.pingjiang_staff).get(
        reverse("residents:handover-list"), {"q": "平江路" + NUL + "112号"}
    )
    assert response.status_code == 200
    assert [h.address for h in response.context["found"]] == ["平江路112号3幢201室"]
    assert response.context["query"] == "平江路112号"


def test_register_export_of_a_name_hiding_a_formula_behind_a_control_character(
    world, register, login
):
    """openpyxl drops control characters it cannot store; a formula hidden behind one must
    still be written as text."""
    from openpyxl import load_workbook

    Person.objects.filter(pk=register.ma_xiaodong.pk).update(name='\x01=HYPERLINK("x")')
    response = login(world.pingjiang_staff).get(reverse("residents:person-export"))
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    cells = [c for row in book.active.iter_rows() for c in row]
    hidden = [c for c in cells if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert hidden and all(c.data_type == "s" and not c.value.startswith("=") for c in hidden)


def test_dibao_roster_xlsx_with_control_characters_in_an_address(world, register, login):
    from openpyxl import load_workbook

    DibaoStandard.objects.create(area=world.district, year=2026, monthly_standard=1000)
    Household.objects.filter(pk=register.ma_household.pk).update(address="平江路\x01112号\x0b")
    response = login(world.pingjiang_staff).get(
        reverse("residents:dibao-roster-xlsx"), {"area": world.pingjiang.pk, "month": "2026-05"}
    )
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    addresses = [row[2].value for row in book.active.iter_rows(min_row=3)]
    assert "平江路112号" in addresses


@pytest.mark.parametrize("name", ["household-create", "household-update"])
def test_a_post_claiming_a_million_member_cards_is_refused_without_building_them(
    world, register, login, name
):
    """Django builds up to 2,000 forms for such a post by default (a minute of rendering)."""
    path = (
        reverse(f"residents:{name}", args=[register.ma_household.pk])
        if name == "household-update"
        else reverse(f"residents:{name}")
    )
    data = {
        "household-community": world.pingjianglu.pk,
        "household-address": "平江路999号",
        "members-TOTAL_FORMS": "1000000",
        "members-INITIAL_FORMS": "0",
        "members-0-name": "马晓明",
    }
    before = snapshot()
    response = login(world.pingjiang_staff).post(path, data)
    assert response.status_code == 200
    formset = response.context["formset"]
    assert formset.non_form_errors()
    assert len(formset.forms) <= 4
    assert snapshot() == before


def _new_household(world, **fields):
    data = {
        "household-community": world.pingjianglu.pk,
        "household-address": "平江路999号",
        "household-registration_kind": "registered",
        "household-residence_kind": "compound",
        "members-TOTAL_FORMS": "1",
        "members-INITIAL_FORMS": "0",
        "members-0-name": "马晓明",
        "members-0-sex": "M",
        "members-0-ethnicity": "回",
        "members-0-relation": "head",
        "members-0-status": "active",
    }
    data.update(fields)
    return data


@pytest.mark.parametrize("born", ["9999-12-31", "2948-07-14", "0001-01-01", "1889-12-31"])
def test_an_impossible_birth_date_is_refused(world, login, born):
    client = login(world.pingjiang_staff)
    before = snapshot()
    data = _new_household(world, **{"members-0-birth_date": born})
    response = client.post(reverse("residents:household-create"), data)
    assert response.status_code == 200
    assert response.context["formset"].forms[0].errors["birth_date"]
    assert snapshot() == before
    ok = client.post(
        reverse("residents:household-create"), {**data, "members-0-birth_date": "1984-07-14"}
    )
    assert ok.status_code == 302


def test_an_impossible_birth_date_in_a_ledger_refuses_the_row(world, login):
    client = login(world.pingjiang_staff)
    rows = [ledger_row(出生日期="1984-07-14"), ledger_row(姓名="马晓明", 出生日期="2948.7.14")]
    response = client.post(IMPORT_URL, {"file": SimpleUploadedFile("台账.csv", csv_bytes(rows))})
    plan = response.context["plan"]
    assert [r.number for r in plan.error_rows] == [3]
    assert "2948.7.14" in plan.error_rows[0].messages[0]


@pytest.mark.parametrize("covered", ["100", "99999", "-1"])
def test_persons_covered_by_dibao_beyond_any_household_are_refused(world, login, covered):
    """SQLite would store 99999 and PostgreSQL refuse it: both refuse it in the form."""
    client = login(world.pingjiang_staff)
    data = _new_household(world, **{"household-is_dibao": "on", "household-dibao_persons": covered})
    response = client.post(reverse("residents:household-create"), data)
    assert response.status_code == 200
    assert response.context["form"].errors["dibao_persons"]
    assert not Household.objects.filter(address="平江路999号").exists()


# ---------------------------------------------------------------- queries per page

LIST_PAGES = [
    ("person-list", {}),
    ("person-list", {"q": "马", "age": "35-59"}),
    ("person-export", {"format": "csv"}),
    ("register-print", {"community": "pingjianglu"}),
    ("household-detail", {}),
    ("household-update", {}),  # one member card per member
    ("duplicate-list", {}),
    ("permit-list", {"days": "3660"}),
    ("handover-list", {"q": "平江路"}),
    ("dibao-standard-list", {}),
    ("dibao-roster", {"month": "2026-05"}),
    ("dibao-roster-xlsx", {"month": "2026-05"}),
]


def _grow(world, household, count):
    """``count`` more dibao households with honours, twins, permits and pending handovers."""
    for n in range(count):
        extra = HouseholdFactory(
            community=world.pingjianglu, address=f"平江路{500 + n}号", is_dibao=True
        )
        Honour.objects.create(household=extra, year=2024, kind=HonourKind.MODEL_FAMILY)
        born = datetime.date(1960 + n, 1, 1)
        PersonFactory(household=extra, name=f"马{n}号", birth_date=born)
        PersonFactory(
            household=extra,
            name=f"马{n}号",  # a twin: same name and birth date
            birth_date=born,
            ethnicity=_ethnicity("05"),
            residence_permit_number=f"苏居{n:06d}",
            residence_permit_expires_on=datetime.date(2026, 1, 1),
        )
        Person.objects.create(
            household=household, name=f"白{n}", sex="F", ethnicity=_ethnicity("03")
        )
        sent = HouseholdFactory(community=world.pingjianglu, handover_to=world.daoqian)
        sent.handover_sent_at = sent.created_at
        sent.save()
        PersonFactory(household=sent, name=f"丁{n}")


def _queries(client, path, params):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, params)
        if response.streaming:
            b"".join(response.streaming_content)
    assert response.status_code == 200, path
    return len(queries)


@pytest.mark.parametrize(("name", "params"), LIST_PAGES, ids=[f"{n}{p}" for n, p in LIST_PAGES])
def test_every_list_costs_the_same_queries_at_two_sizes(world, register, login, name, params):
    DibaoStandard.objects.create(area=world.district, year=2026, monthly_standard=1000)
    client = login(world.bureau)
    household = register.ma_household
    path = (
        reverse(f"residents:{name}", args=[household.pk])
        if name in {"household-detail", "household-update"}
        else reverse(f"residents:{name}")
    )
    params = {k: (world.pingjianglu.pk if v == "pingjianglu" else v) for k, v in params.items()}
    _grow(world, household, 2)
    client.get(path, params)  # warm caches (content types, sessions)
    small = _queries(client, path, params)
    _grow(world, household, 8)
    assert _queries(client, path, params) == small


def test_a_name_whose_pinyin_overflows_its_column_is_refused(world, login):
    """50 characters fit the name, but 庄 is "zhuang": 300 letters of pinyin do not fit the
    200 of the search column, which PostgreSQL refuses with an error page."""
    client = login(world.pingjiang_staff)
    before = snapshot()
    response = client.post(
        reverse("residents:household-create"),
        _new_household(world, **{"members-0-name": "庄" * 50}),
    )
    assert response.status_code == 200
    assert response.context["formset"].forms[0].errors["name"]
    rows = [ledger_row(姓名="庄" * 50)]
    response = client.post(IMPORT_URL, {"file": SimpleUploadedFile("台账.csv", csv_bytes(rows))})
    assert [r.number for r in response.context["plan"].error_rows] == [2]
    assert snapshot() == before
    name = "阿卜杜热合曼·买买提依明"  # a long name of real length still goes in
    response = client.post(
        reverse("residents:household-create"), _new_household(world, **{"members-0-name": name})
    )
    assert response.status_code == 302
    assert Person.objects.get(name=name).name_pinyin == pinyin_of(name)
