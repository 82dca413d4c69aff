"""Importing the resident ledger (居民台账): one row per person, households grouped by 户号.

Real ledgers are messy (full-width digits, 回 for 回族, 男/M, dates typed five ways, merged
cells left blank), so every cell is read the way staff type it, and what cannot be understood
refuses the row with its number and the reason. Speed comes from doing the work in Python:
communities, ethnic groups and existing households and persons are looked up once per file
(a few queries, never one per row), and the writes are bulk inserts and updates — with
history rows, by the importing user — in one transaction: all rows or none.

Blank cells keep what the register already holds (an import never erases data); on a new
record they take the model's default.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from network.audit import copy_objects, record_many
from network.audit_history import bulk_history_events, created_events
from network.division_codes import normalise_code
from network.models import Area
from network.tabular import TableError, parse_cell_date, read_table
from residents.ethnicity import EthnicityNotFound, find_ethnicity, lookup_table
from residents.id_numbers import IdNumberError, mask_id_number, parse_id_number
from residents.models import (
    Education,
    Ethnicity,
    Household,
    Person,
    RegistrationKind,
    Relation,
    ResidenceKind,
    Sex,
)
from residents.typed_input import is_possible_birth_date, pinyin_fits, without_control_characters

IMPORT_PERMISSION = "residents.import_households"
BATCH_SIZE = 500
# Stored search keys a bulk write must carry along (Person.fill_search_fields).
SEARCH_FIELDS = ("name_pinyin", "name_initials", "id_number_reversed")
LOOKUP_CHUNK = 2000  # values per IN (...) lookup: well inside SQLite's variable limit


# ---------------------------------------------------------------- columns


@dataclass(frozen=True)
class Column:
    header: str
    aliases: tuple[str, ...]
    help: str
    example: str
    household: bool = False  # a household cell: blank on later rows of the same household


COLUMNS = [
    Column(
        "户号",
        ("户编号", "台账户号", "户序号", "户号码"),
        gettext_lazy(
            "The household's number in your ledger. Rows with the same 户号 are one household; "
            "a 户号 already registered in the community updates that household."
        ),
        "PJL-001",
        household=True,
    ),
    Column(
        "社区",
        ("所属社区", "社区名称", "社区代码", "区划代码", "居委会"),
        gettext_lazy(
            "The community's name or its 12-digit division code. Left blank: the community of "
            "the row above."
        ),
        "平江路社区",
        household=True,
    ),
    Column(
        "地址",
        ("住址", "家庭住址", "居住地址", "现住址", "家庭地址"),
        gettext_lazy(
            "Required for a new household. Later rows of the same household may leave it blank."
        ),
        "平江路112号3幢201室",
        household=True,
    ),
    Column(
        "户籍类别",
        ("户籍类型", "人口类别", "户口类别", "户籍性质"),
        gettext_lazy("户籍, 流动 or 暂住. Blank on a new household: 户籍."),
        "户籍",
        household=True,
    ),
    Column(
        "居住类型",
        ("居住类别", "居住方式"),
        gettext_lazy("小区, 单位, 两新组织 or 其他. Blank on a new household: 小区."),
        "小区",
        household=True,
    ),
    Column(
        "联系电话",
        ("家庭电话", "电话", "户联系电话", "固定电话"),
        gettext_lazy("The household's phone."),
        "0512-67581234",
        household=True,
    ),
    Column(
        "低保",
        ("是否低保", "低保户"),
        gettext_lazy("是 or 否: whether the household receives dibao."),
        "否",
        household=True,
    ),
    Column("姓名", ("名字",), gettext_lazy("Required."), "马晓东"),
    Column(
        "与户主关系",
        ("关系", "家庭关系", "与户主的关系", "家庭成员关系"),
        gettext_lazy(
            "户主, 配偶, 子女, 父母, 孙子女, 祖父母, 兄弟姐妹, 儿媳女婿 or 其他 (儿子, 妻子 etc. "
            "are understood)."
        ),
        "户主",
    ),
    Column(
        "性别",
        (),
        gettext_lazy("男 or 女 (M/F also). May be blank when the ID number is given."),
        "男",
    ),
    Column(
        "民族",
        ("民族名称",),
        gettext_lazy(
            "Required for a new person: one of the 56 groups, e.g. 回族 or 回, or its code (03)."
        ),
        "回族",
    ),
    Column(
        "身份证号",
        ("身份证号码", "公民身份号码", "身份证", "证件号码"),
        gettext_lazy(
            "18 characters (a final x is fine). Sex and birth date are read from it. Store "
            "the column as text in Excel, or the last digits are lost."
        ),
        "32050819840714135X",
    ),
    Column(
        "出生日期",
        ("出生年月", "生日", "出生年月日"),
        gettext_lazy("A date such as 1984-07-14, 1984.7.14 or 1984年7月14日."),
        "1984-07-14",
    ),
    Column(
        "手机",
        ("手机号", "手机号码", "移动电话", "本人手机"),
        gettext_lazy("An 11-digit mobile number."),
        "13912345678",
    ),
    Column("工作单位", ("就业单位", "工作单位或学校"), gettext_lazy("Workplace or school."), ""),
    Column(
        "文化程度",
        ("学历",),
        gettext_lazy("未上学, 小学, 初中, 高中 (中专), 大专, 本科 or 研究生."),
        "高中",
    ),
    Column("重点人士", ("是否重点人士",), gettext_lazy("是 or 否."), "否"),
    Column("志愿者", ("是否志愿者",), gettext_lazy("是 or 否."), "是"),
    Column(
        "居住证号",
        ("居住证号码", "居住证编号"),
        gettext_lazy("For floating residents."),
        "",
    ),
    Column(
        "居住证有效期",
        ("居住证有效期至", "居住证到期日", "居住证到期日期"),
        gettext_lazy("The date the residence permit expires."),
        "",
    ),
    Column("备注", ("说明",), gettext_lazy("Notes on the person."), ""),
]
HEADERS = [c.header for c in COLUMNS]
REQUIRED_HEADERS = ["姓名", "民族", "地址"]
HOUSEHOLD_HEADERS = {c.header for c in COLUMNS if c.household}

_HEADER_OF = {}
for _column in COLUMNS:
    for _name in (_column.header, *_column.aliases):
        _HEADER_OF[_name] = _column.header


def canonical_header(text: str) -> str:
    """性 别 / 出生日期（年月日）/ 身份证号码* → 性别 / 出生日期 / 身份证号."""
    text = unicodedata.normalize("NFKC", text or "")
    text = re.sub(r"[(\[].*?[)\]]", "", text)
    text = re.sub(r"[\s*:]", "", text)
    return _HEADER_OF.get(text, "")


# ---------------------------------------------------------------- reading cells

_WORDS_SEX = {"男": Sex.MALE, "男性": Sex.MALE, "m": Sex.MALE, "male": Sex.MALE}
_WORDS_SEX |= {"女": Sex.FEMALE, "女性": Sex.FEMALE, "f": Sex.FEMALE, "female": Sex.FEMALE}
_WORDS_YES = {"是", "有", "y", "yes", "1", "√", "✓", "✔", "true", "对"}
_WORDS_NO = {"否", "无", "不是", "n", "no", "0", "×", "✗", "false", "非"}
_WORDS_REGISTRATION = {
    "户籍": RegistrationKind.REGISTERED,
    "户籍人口": RegistrationKind.REGISTERED,
    "常住": RegistrationKind.REGISTERED,
    "本地": RegistrationKind.REGISTERED,
    "registered": RegistrationKind.REGISTERED,
    "流动": RegistrationKind.FLOATING,
    "流动人口": RegistrationKind.FLOATING,
    "外来": RegistrationKind.FLOATING,
    "floating": RegistrationKind.FLOATING,
    "暂住": RegistrationKind.TEMPORARY,
    "暂住人口": RegistrationKind.TEMPORARY,
    "temporary": RegistrationKind.TEMPORARY,
}
_WORDS_RESIDENCE = {
    "小区": ResidenceKind.COMPOUND,
    "居民小区": ResidenceKind.COMPOUND,
    "住宅小区": ResidenceKind.COMPOUND,
    "社区": ResidenceKind.COMPOUND,
    "compound": ResidenceKind.COMPOUND,
    "单位": ResidenceKind.WORK_UNIT,
    "单位宿舍": ResidenceKind.WORK_UNIT,
    "work_unit": ResidenceKind.WORK_UNIT,
    "两新组织": ResidenceKind.NEW_ORGANISATION,
    "两新": ResidenceKind.NEW_ORGANISATION,
    "new_org": ResidenceKind.NEW_ORGANISATION,
    "其他": ResidenceKind.OTHER,
    "其它": ResidenceKind.OTHER,
    "other": ResidenceKind.OTHER,
}
_WORDS_RELATION = {
    Relation.HEAD: "户主 本人 head",
    Relation.SPOUSE: "配偶 妻 妻子 夫 丈夫 老婆 老公 spouse",
    Relation.CHILD: "子女 子 女 儿子 女儿 长子 次子 三子 长女 次女 三女 养子 养女 继子 继女 child",
    Relation.PARENT: "父母 父 母 父亲 母亲 公公 婆婆 岳父 岳母 parent",
    Relation.GRANDCHILD: "孙子女 孙子 孙女 外孙 外孙子 外孙女 grandchild",
    Relation.GRANDPARENT: "祖父母 祖父 祖母 外祖父 外祖母 爷爷 奶奶 外公 外婆 grandparent",
    Relation.SIBLING: "兄弟姐妹 兄 弟 姐 妹 哥哥 弟弟 姐姐 妹妹 sibling",
    Relation.CHILD_IN_LAW: "儿媳女婿 儿媳 女婿 媳妇 child_in_law",
    Relation.OTHER: "其他 其它 other",
}
_WORDS_RELATION = {w: rel for rel, words in _WORDS_RELATION.items() for w in words.split()}
_WORDS_EDUCATION = {
    Education.NONE: "未上学 文盲 无 不识字 学龄前 none",
    Education.PRIMARY: "小学 primary",
    Education.JUNIOR: "初中 初级中学 junior",
    Education.SENIOR: "高中 中专 职高 技校 中职 高职 中技 senior",
    Education.COLLEGE: "大专 专科 高职高专 大学专科 college",
    Education.BACHELOR: "本科 大学 大学本科 学士 bachelor",
    Education.POSTGRADUATE: "研究生 硕士 博士 硕士研究生 博士研究生 postgraduate",
}
_WORDS_EDUCATION = {w: ed for ed, words in _WORDS_EDUCATION.items() for w in words.split()}
_COMMUNITY_SUFFIXES = ("居民委员会", "社区居委会", "居委会", "社区")
_SPACES = re.compile(r"\s+")
_LATIN = re.compile(r"[A-Za-z]")
_FULL_WIDTH_ALNUM = {0xFF10 + i: 0x30 + i for i in range(10)}
_FULL_WIDTH_ALNUM |= {0xFF21 + i: 0x41 + i for i in range(26)}
_FULL_WIDTH_ALNUM |= {0xFF41 + i: 0x61 + i for i in range(26)}
_MOBILE = re.compile(r"1\d{10}")


def clean_name(text: str) -> str:
    """'马　晓东 ' → 马晓东 (ledgers pad two-character names with a full-width space); a name
    in Latin letters keeps single spaces."""
    text = _SPACES.sub(" ", text).strip()
    return text if _LATIN.search(text) else text.replace(" ", "")


def clean_code(text: str) -> str:
    """户号, phones, permit numbers: full-width to ASCII, spaces dropped."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", text))


def clean_address(text: str) -> str:
    """Full-width digits and letters to ASCII, spaces collapsed; Chinese punctuation stays."""
    return _SPACES.sub(" ", text.translate(_FULL_WIDTH_ALNUM)).strip()


def clean_word(text: str) -> str:
    return _SPACES.sub("", unicodedata.normalize("NFKC", text)).lower()


def parse_date(text: str):
    """1984-07-14, 1984.07.14, 1984/7/14, 1984年7月14日, 19840714 (full-width too); None if
    it is not a real date."""
    text = unicodedata.normalize("NFKC", text).strip()
    if re.fullmatch(r"\d{8}", text):
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    return parse_cell_date(text)


def _community_key(text: str) -> str:
    key = _SPACES.sub("", unicodedata.normalize("NFKC", text))
    for suffix in _COMMUNITY_SUFFIXES:
        if key.endswith(suffix) and len(key) > len(suffix):
            return key.removesuffix(suffix)
    return key


# ---------------------------------------------------------------- the plan


OUTCOME_NEW, OUTCOME_UPDATE, OUTCOME_UNCHANGED, OUTCOME_ERROR = (
    "new",
    "update",
    "unchanged",
    "error",
)
OUTCOME_LABELS = {
    OUTCOME_NEW: gettext_lazy("New"),
    OUTCOME_UPDATE: gettext_lazy("Update"),
    OUTCOME_UNCHANGED: gettext_lazy("Unchanged"),
    OUTCOME_ERROR: gettext_lazy("Error"),
}

HOUSEHOLD_FIELD_HEADERS = {
    "ledger_number": "户号",
    "address": "地址",
    "registration_kind": "户籍类别",
    "residence_kind": "居住类型",
    "phone": "联系电话",
    "is_dibao": "低保",
}
OUTCOME_BADGES = {
    OUTCOME_NEW: "text-bg-success",
    OUTCOME_UPDATE: "text-bg-primary",
    OUTCOME_UNCHANGED: "text-bg-secondary",
    OUTCOME_ERROR: "text-bg-danger",
}
PERSON_FIELD_HEADERS = {
    "household": "户号",
    "name": "姓名",
    "relation": "与户主关系",
    "sex": "性别",
    "ethnicity": "民族",
    "id_number": "身份证号",
    "birth_date": "出生日期",
    "mobile": "手机",
    "workplace": "工作单位",
    "education": "文化程度",
    "is_key_person": "重点人士",
    "is_volunteer": "志愿者",
    "residence_permit_number": "居住证号",
    "residence_permit_expires_on": "居住证有效期",
    "notes": "备注",
}


@dataclass
class RowReport:
    """What the import will do with one row, as the preview and the command show it."""

    number: int
    name: str = ""
    masked_id: str = ""
    community: str = ""
    household: str = ""
    outcome: str = ""
    messages: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)

    @property
    def outcome_label(self) -> str:
        return str(OUTCOME_LABELS.get(self.outcome, ""))

    @property
    def badge(self) -> str:
        return OUTCOME_BADGES.get(self.outcome, "text-bg-secondary")

    def error(self, message: str) -> None:
        self.messages.append(message)


@dataclass
class LedgerPlan:
    rows: list[RowReport] = field(default_factory=list)
    file_errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    new_households: list[Household] = field(default_factory=list)
    changed_households: list[Household] = field(default_factory=list)
    household_fields: set[str] = field(default_factory=set)
    new_persons: list[Person] = field(default_factory=list)
    changed_persons: list[Person] = field(default_factory=list)
    person_fields: set[str] = field(default_factory=set)
    written: bool = False

    @property
    def ok(self) -> bool:
        return not self.file_errors and not any(r.outcome == OUTCOME_ERROR for r in self.rows)

    @property
    def error_rows(self) -> list[RowReport]:
        return [r for r in self.rows if r.outcome == OUTCOME_ERROR]

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(OUTCOME_LABELS, 0)
        for row in self.rows:
            counts[row.outcome] += 1
        counts["households_new"] = len(self.new_households)
        counts["households_changed"] = len(self.changed_households)
        counts["persons_new"] = len(self.new_persons)
        counts["persons_changed"] = len(self.changed_persons)
        return counts

    def fingerprint(self) -> str:
        """Changes when any row's outcome or changed columns would differ: the confirm step
        writes only the plan the user saw."""
        digest = hashlib.sha256()
        for row in self.rows:
            digest.update(f"{row.number}|{row.outcome}|{','.join(row.changes)}\n".encode())
        return digest.hexdigest()

    def summary(self) -> str:
        c = self.counts()
        return _(
            "%(rows)d rows: %(new)d new, %(update)d updates, %(unchanged)d unchanged, "
            "%(error)d with errors. Households: %(hn)d new, %(hc)d changed. Persons: %(pn)d "
            "new, %(pc)d changed."
        ) % {
            "rows": len(self.rows),
            "new": c[OUTCOME_NEW],
            "update": c[OUTCOME_UPDATE],
            "unchanged": c[OUTCOME_UNCHANGED],
            "error": c[OUTCOME_ERROR],
            "hn": c["households_new"],
            "hc": c["households_changed"],
            "pn": c["persons_new"],
            "pc": c["persons_changed"],
        }

    def warnings(self) -> list[tuple[str, int, str]]:
        """Each distinct warning once: (message, how many rows, the first row numbers) — a
        district's region code missing from the national list would otherwise fill every
        row."""
        grouped: dict[str, list[int]] = {}
        for row in self.rows:
            for warning in row.warnings:
                grouped.setdefault(warning, []).append(row.number)
        return [
            (message, len(numbers), ", ".join(str(n) for n in numbers[:10]))
            for message, numbers in grouped.items()
        ]

    def error_lines(self) -> list[str]:
        lines = list(self.file_errors)
        for row in self.error_rows:
            lines.extend(
                _("Row %(n)d: %(message)s") % {"n": row.number, "message": m} for m in row.messages
            )
        return lines


class LedgerRefused(Exception):
    """Nothing was written; ``plan`` says which rows failed and why."""

    def __init__(self, plan: LedgerPlan):
        super().__init__("\n".join(plan.error_lines()))
        self.plan = plan


# ---------------------------------------------------------------- reading the file


def read_ledger(data: bytes, filename: str, max_rows: int | None = None):
    """The data rows with canonical headers, and the names of columns that were ignored.
    Raises TableError when the file as a whole cannot be used, or holds more than
    ``max_rows`` rows. Control characters (stray ones from old ledgers, or NUL, which
    PostgreSQL cannot store) are dropped from every cell."""
    try:
        rows = read_table(data, filename, [], max_rows)
    except csv.Error as exc:
        raise TableError(
            _(
                "The csv file cannot be read: a cell is longer than 100,000 characters, or a "
                "quotation mark is not closed."
            )
        ) from exc
    if max_rows is not None and len(rows) > max_rows:
        raise TableError(
            _("The file has %(n)d rows; split it into files of at most %(max)d rows.")
            % {"n": len(rows), "max": max_rows}
        )
    for row in rows:
        row.values = {
            without_control_characters(h): without_control_characters(v)
            for h, v in row.values.items()
        }
    seen_headers: dict[str, None] = {}
    for row in rows:
        for header in row.values:
            seen_headers.setdefault(header, None)
    mapping: dict[str, str] = {}
    ignored = []
    for header in seen_headers:
        canonical = canonical_header(header)
        if canonical and canonical not in mapping.values():
            mapping[header] = canonical
        else:
            ignored.append(header)
    missing = [h for h in REQUIRED_HEADERS if h not in mapping.values()]
    if missing:
        raise TableError(
            _("The file lacks the column(s) %(columns)s in its first row.")
            % {"columns": "、".join(missing)}
        )
    for row in rows:
        row.values = {mapping[h]: v for h, v in row.values.items() if h in mapping}
    return rows, ignored


# ---------------------------------------------------------------- planning


@dataclass
class _HouseholdDraft:
    key: tuple
    community: Area
    number: str
    address: str
    rows: list[RowReport] = field(default_factory=list)
    values: dict[str, tuple] = field(default_factory=dict)  # field → (value, row number)
    instance: Household | None = None
    is_new: bool = False
    changes: list[str] = field(default_factory=list)


@dataclass
class _PersonDraft:
    report: RowReport
    draft: _HouseholdDraft | None
    values: dict
    first_in_household: bool


def communities_for_import(by):
    """Communities whose households ``by`` may import (all of them for the system)."""
    qs = Area.objects.communities().filter(is_active=True)
    if by is not None:
        qs = qs.changeable_by(by)
    return list(qs.only("pk", "name", "code", "path"))


class _CommunityFinder:
    def __init__(self, communities):
        self.by_code = {a.code: a for a in communities if a.code}
        self.by_key: dict[str, list[Area]] = {}
        for area in communities:
            self.by_key.setdefault(_community_key(area.name), []).append(area)
        self.default = communities[0] if len(communities) == 1 else None
        self.ids = {a.pk for a in communities}
        self._cache: dict[str, Area | str] = {}

    def find(self, text: str) -> Area | str:
        """The community, or the reason it cannot be used (in the UI language)."""
        found = self._cache.get(text)
        if found is None:
            found = self._find(text)
            self._cache[text] = found
        return found

    def _find(self, text: str) -> Area | str:
        code = normalise_code(text)
        if re.fullmatch(r"\d{12}", code):
            area = self.by_code.get(code)
            if area is None:
                return _("%(value)s is not a community you may import into.") % {"value": text}
            return area
        matches = self.by_key.get(_community_key(text), [])
        if len(matches) > 1:
            return _(
                "Several communities you manage are named %(value)s; write its 12-digit "
                "division code instead."
            ) % {"value": text}
        if not matches:
            return _("%(value)s is not a community you may import into.") % {"value": text}
        return matches[0]


def _chunks(values, size=LOOKUP_CHUNK):
    values = sorted(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


def plan_ledger(rows, *, by, ignored_columns=()) -> LedgerPlan:
    """Validate every row and work out what importing it would do; writes nothing.

    ``by`` is the importing user (rows may only name communities they may change), or None
    for the system acting for the whole district (the management command without --user).
    """
    if by is not None and not by.has_perm(IMPORT_PERMISSION):
        raise PermissionDenied(_("Your role does not allow importing the ledger."))
    plan = LedgerPlan()
    if ignored_columns:
        plan.notes.append(
            _("These columns are not part of the ledger and were ignored: %(columns)s")
            % {"columns": "、".join(ignored_columns)}
        )
    communities = _CommunityFinder(communities_for_import(by))
    if not communities.ids:
        plan.file_errors.append(_("You manage no community to import into."))
        return plan
    ethnicities = lookup_table(Ethnicity.objects.all())

    drafts: dict[tuple, _HouseholdDraft] = {}
    persons: list[_PersonDraft] = []
    seen_ids: dict[str, int] = {}
    seen_name_births: dict[tuple, int] = {}
    previous: _HouseholdDraft | None = None
    carried = None

    # Pass 1: read every cell, group rows into households (no queries).
    for row in rows:
        report = RowReport(number=row.number)
        plan.rows.append(report)
        values = row.values
        draft, carried = _household_for_row(values, report, communities, drafts, previous, carried)
        if draft is not None:
            _household_values(values, report, draft)
        previous = draft
        person = _person_values(values, report, ethnicities)
        if person.get("id_number"):
            other = seen_ids.get(person["id_number"])
            if other:
                report.error(
                    _("The ID number %(n)s already appears in row %(other)d.")
                    % {"n": report.masked_id, "other": other}
                )
            else:
                seen_ids[person["id_number"]] = row.number
        elif person.get("name") and person.get("birth_date"):
            key = (person["name"], person["birth_date"])
            other = seen_name_births.get(key)
            if other:
                report.error(
                    _(
                        "Same name and birth date as row %(other)d; if they are one person, "
                        "keep one row."
                    )
                    % {"other": other}
                )
            else:
                seen_name_births[key] = row.number
        first = draft is not None and len(draft.rows) == 1
        persons.append(_PersonDraft(report, draft, person, first))

    # Pass 2: look everything up in bulk, then decide new / update / unchanged.
    _match_households(drafts, plan)
    existing = _existing_persons(persons)
    taken: dict[int, int] = {}
    for person in persons:
        _plan_person(person, existing, taken, communities.ids, plan)
    for report in plan.rows:
        if report.messages:
            report.outcome = OUTCOME_ERROR
        elif not report.outcome:
            report.outcome = OUTCOME_UNCHANGED
    return plan


_UNUSABLE = object()  # the community of the row above could not be used


def _household_for_row(values, report, communities, drafts, previous, carried):
    """Which household a row belongs to: its 户号, else its address, else (both blank) the
    household of the row above, as merged cells leave them. Also returns the community a
    row below with a blank 社区 inherits."""
    community_text = values.get("社区", "")
    if community_text:
        community = communities.find(community_text)
        if isinstance(community, str):
            report.error(community)
            report.community = community_text
            return None, _UNUSABLE
    elif carried is _UNUSABLE:
        report.error(_("社区 is blank, and the community of the row above cannot be used."))
        return None, _UNUSABLE
    else:
        community = carried or communities.default
        if community is None:
            report.error(_("社区 is required: you manage several communities."))
            return None, None
    report.community = community.name
    number = clean_code(values.get("户号", ""))
    address = clean_address(values.get("地址", ""))
    if not number and not address:
        if previous is None or previous.community.pk != community.pk:
            report.error(_("No 户号 and no 地址, and no household above to belong to."))
            return None, community
        previous.rows.append(report)
        report.household = previous.number or previous.address
        return previous, community
    if number:
        key = (community.pk, "#", number)
    elif (
        previous is not None
        and previous.community.pk == community.pk
        and address == previous.address
    ):
        key = previous.key
    else:
        key = (community.pk, "@", address)
    draft = drafts.get(key)
    if draft is None:
        draft = drafts[key] = _HouseholdDraft(
            key=key, community=community, number=number, address=address
        )
    elif address and not draft.address:
        draft.address = address
    draft.rows.append(report)
    report.household = draft.number or draft.address
    return draft, community


def _household_values(values, report, draft: _HouseholdDraft) -> None:
    parsed = {}
    address = clean_address(values.get("地址", ""))
    if address:
        if len(address) > 200:
            report.error(_("%(column)s is longer than %(max)d characters.") % _c("地址", 200))
        parsed["address"] = address
    text = values.get("户籍类别", "")
    if text:
        kind = _WORDS_REGISTRATION.get(clean_word(text))
        if kind is None:
            report.error(_not_one_of("户籍类别", text, "户籍、流动、暂住"))
        else:
            parsed["registration_kind"] = kind.value
    text = values.get("居住类型", "")
    if text:
        kind = _WORDS_RESIDENCE.get(clean_word(text))
        if kind is None:
            report.error(_not_one_of("居住类型", text, "小区、单位、两新组织、其他"))
        else:
            parsed["residence_kind"] = kind.value
    text = values.get("联系电话", "")
    if text:
        phone = clean_code(text)
        if len(phone) > 30:
            report.error(_("%(column)s is longer than %(max)d characters.") % _c("联系电话", 30))
        parsed["phone"] = phone
    text = values.get("低保", "")
    if text:
        flag = _yes_no(text)
        if flag is None:
            report.error(_not_one_of("低保", text, "是、否"))
        else:
            parsed["is_dibao"] = flag
    number = clean_code(values.get("户号", ""))
    if len(number) > 30:
        report.error(_("%(column)s is longer than %(max)d characters.") % _c("户号", 30))
    for name, value in parsed.items():
        known = draft.values.get(name)
        if known is None:
            draft.values[name] = (value, report.number)
        elif known[0] != value:
            report.error(
                _("%(column)s differs from row %(other)d of the same household.")
                % {"column": HOUSEHOLD_FIELD_HEADERS[name], "other": known[1]}
            )


def _c(column: str, max_length: int) -> dict:
    return {"column": column, "max": max_length}


def _not_one_of(column: str, value: str, allowed: str) -> str:
    return _("%(column)s: %(value)s is not one of %(allowed)s.") % {
        "column": column,
        "value": value,
        "allowed": allowed,
    }


def _yes_no(text: str) -> bool | None:
    word = clean_word(text)
    if word in _WORDS_YES:
        return True
    if word in _WORDS_NO:
        return False
    return None


def _person_values(values, report: RowReport, ethnicities) -> dict:
    """Every person cell checked and converted; problems go to the row's messages."""
    parsed: dict = {}
    name = clean_name(values.get("姓名", ""))
    report.name = name
    if not name:
        report.error(_("%(column)s is required.") % {"column": "姓名"})
    elif len(name) > 50:
        report.error(_("%(column)s is longer than %(max)d characters.") % _c("姓名", 50))
    elif not pinyin_fits(name):
        message = _("This name is too long to be stored with its pinyin; shorten it.")
        report.error(f"姓名: {message}")
    else:
        parsed["name"] = name

    text = values.get("与户主关系", "")
    if text:
        relation = _WORDS_RELATION.get(clean_word(text))
        if relation is None:
            report.error(_not_one_of("与户主关系", text, "户主、配偶、子女、父母、其他…"))
        else:
            parsed["relation"] = relation.value

    text = values.get("民族", "")
    if text:
        try:
            parsed["ethnicity"] = find_ethnicity(text, ethnicities)
        except EthnicityNotFound as exc:
            report.error(f"民族: {exc}")

    sex_text = values.get("性别", "")
    sex = None
    if sex_text:
        sex = _WORDS_SEX.get(clean_word(sex_text))
        if sex is None:
            report.error(_not_one_of("性别", sex_text, "男、女"))
    birth_text = values.get("出生日期", "")
    birth = None
    if birth_text:
        birth = parse_date(birth_text)
        if birth is None:
            report.error(_not_a_date("出生日期", birth_text))
        elif not is_possible_birth_date(birth):
            message = _("%(value)s is not a possible birth date: it lies between 1890 and today.")
            report.error(f"出生日期: {message % {'value': birth_text}}")
            birth = None

    text = values.get("身份证号", "")
    if text:
        try:
            parsed_id = parse_id_number(text)
        except IdNumberError as exc:
            report.error(f"身份证号: {exc}")
        else:
            report.masked_id = mask_id_number(parsed_id.number)
            report.warnings.extend(parsed_id.warnings)
            parsed["id_number"] = parsed_id.number
            if sex is not None and sex != parsed_id.sex:
                report.error(
                    _("%(column)s says %(typed)s, but the ID number is that of a %(sex)s.")
                    % {"column": "性别", "typed": sex_text, "sex": Sex(parsed_id.sex).label}
                )
            if birth is not None and birth != parsed_id.birth_date:
                report.error(
                    _("%(column)s says %(typed)s, but the ID number says %(born)s.")
                    % {
                        "column": "出生日期",
                        "typed": birth_text,
                        "born": parsed_id.birth_date.isoformat(),
                    }
                )
            sex = sex or parsed_id.sex
            birth = birth or parsed_id.birth_date
    if sex is not None:
        parsed["sex"] = sex.value if isinstance(sex, Sex) else sex
    if birth is not None:
        parsed["birth_date"] = birth

    text = values.get("手机", "")
    if text:
        mobile = clean_code(text).replace("-", "")
        if not _MOBILE.fullmatch(mobile):
            report.error(
                _("%(column)s: %(value)s is not an 11-digit mobile number.")
                % {"column": "手机", "value": text}
            )
        else:
            parsed["mobile"] = mobile
    for header, name, max_length in (
        ("工作单位", "workplace", 100),
        ("居住证号", "residence_permit_number", 30),
    ):
        text = values.get(header, "")
        if text:
            text = clean_code(text) if name == "residence_permit_number" else clean_address(text)
            if len(text) > max_length:
                report.error(
                    _("%(column)s is longer than %(max)d characters.") % _c(header, max_length)
                )
            parsed[name] = text
    text = values.get("文化程度", "")
    if text:
        education = _WORDS_EDUCATION.get(clean_word(text))
        if education is None:
            report.error(
                _not_one_of("文化程度", text, "未上学、小学、初中、高中、大专、本科、研究生")
            )
        else:
            parsed["education"] = education.value
    for header, name in (("重点人士", "is_key_person"), ("志愿者", "is_volunteer")):
        text = values.get(header, "")
        if text:
            flag = _yes_no(text)
            if flag is None:
                report.error(_not_one_of(header, text, "是、否"))
            else:
                parsed[name] = flag
    text = values.get("居住证有效期", "")
    if text:
        expires = parse_date(text)
        if expires is None:
            report.error(_not_a_date("居住证有效期", text))
        else:
            parsed["residence_permit_expires_on"] = expires
    text = values.get("备注", "")
    if text:
        parsed["notes"] = text.strip()
    return parsed


def _not_a_date(column: str, value: str) -> str:
    return _("%(column)s: %(value)s is not a date such as 1984-07-14.") % {
        "column": column,
        "value": value,
    }


def _locked(model):
    """The rows a writing import reads are locked until it commits (PostgreSQL; SQLite lets
    one writer in at a time anyway): an edit saved meanwhile waits, then finds its form
    stale, instead of being overwritten by values read before it. A preview locks nothing."""
    if transaction.get_connection().in_atomic_block:
        return model.objects.select_for_update()
    return model.objects.all()


def _match_households(drafts: dict[tuple, _HouseholdDraft], plan: LedgerPlan) -> None:
    """Find each household in the register (by 户号, else by address) in a few queries."""
    by_number: dict[tuple, Household] = {}
    wanted = {(d.community.pk, d.number) for d in drafts.values() if d.number}
    community_ids = sorted({c for c, _n in wanted})
    for chunk in _chunks({n for _c, n in wanted}):
        for household in _locked(Household).filter(
            community_id__in=community_ids, ledger_number__in=chunk
        ):
            by_number[(household.community_id, household.ledger_number)] = household
    # Households to match by address: any in communities with rows lacking a 户号, and those
    # still without a 户号 where a new 户号 may belong to one imported earlier without it.
    by_address: dict[tuple, list[Household]] = {}
    plain = {d.community.pk for d in drafts.values() if not d.number}
    numbered = {
        d.community.pk
        for d in drafts.values()
        if d.number and (d.community.pk, d.number) not in by_number
    }
    if plain or numbered:
        for household in _locked(Household).filter(
            Q(community_id__in=sorted(plain))
            | Q(community_id__in=sorted(numbered), ledger_number=""),
            archived_at__isnull=True,
        ):
            key = (household.community_id, clean_address(household.address))
            by_address.setdefault(key, []).append(household)

    matched: dict[int, int] = {}
    for draft in drafts.values():
        first = draft.rows[0]
        household = by_number.get((draft.community.pk, draft.number)) if draft.number else None
        if household is None and draft.address:
            candidates = by_address.get((draft.community.pk, draft.address), [])
            if draft.number:  # a household first imported without its 户号
                candidates = [h for h in candidates if not h.ledger_number]
            if len(candidates) > 1:
                message = (
                    _(
                        "Several households without a 户号 are registered at %(address)s; give "
                        "each its 户号 in Tongxin first."
                    )
                    if draft.number
                    else _("Several households are registered at %(address)s; give the 户号.")
                )
                first.error(message % {"address": draft.address})
                continue
            household = candidates[0] if candidates else None
        if household is not None and household.archived_at is not None:
            first.error(
                _("Household %(h)s is archived in Tongxin; restore it before importing.")
                % {"h": draft.number or draft.address}
            )
            continue
        values = {name: value for name, (value, _row) in draft.values.items()}
        if household is None:
            if "address" not in values:
                first.error(_("%(column)s is required for a new household.") % {"column": "地址"})
                continue
            draft.instance = Household(
                community_id=draft.community.pk, ledger_number=draft.number, **values
            )
            draft.is_new = True
            plan.new_households.append(draft.instance)
            continue
        if household.pk in matched:
            first.error(
                _(
                    "This is the same registered household as row %(other)d; give both rows "
                    "the same 户号."
                )
                % {"other": matched[household.pk]}
            )
            continue
        matched[household.pk] = first.number
        draft.instance = household
        if draft.number and household.ledger_number != draft.number:
            values["ledger_number"] = draft.number
        for name, value in values.items():
            if getattr(household, name) != value:
                setattr(household, name, value)
                draft.changes.append(HOUSEHOLD_FIELD_HEADERS[name])
                plan.household_fields.add(name)
        if draft.changes:
            plan.changed_households.append(household)


def _existing_persons(persons: list[_PersonDraft]):
    """Registered persons (anywhere in the district, archived or not) the rows may be:
    by ID number, or by name and birth date — a few queries per file."""
    ids = {p.values["id_number"] for p in persons if p.values.get("id_number")}
    pairs = {
        (p.values["name"], p.values["birth_date"])
        for p in persons
        if p.values.get("name") and p.values.get("birth_date")
    }
    by_id: dict[str, list[Person]] = {}
    by_pair: dict[tuple, list[Person]] = {}
    for chunk in _chunks(ids):
        for person in _locked(Person).filter(id_number__in=chunk):
            by_id.setdefault(person.id_number, []).append(person)
    for chunk in _chunks({name for name, _born in pairs}):
        for person in _locked(Person).filter(name__in=chunk, birth_date__isnull=False):
            if (person.name, person.birth_date) in pairs:
                by_pair.setdefault((person.name, person.birth_date), []).append(person)
    return by_id, by_pair


def _best(candidates: list[Person]) -> Person:
    """The current, active record first (as find_existing_person orders them)."""
    return min(candidates, key=lambda p: (p.archived_at is not None, p.status != "active", p.pk))


def _plan_person(person: _PersonDraft, existing, taken, community_ids, plan: LedgerPlan):
    by_id, by_pair = existing
    values, report, draft = person.values, person.report, person.draft
    id_number = values.get("id_number", "")
    found = None
    if id_number and id_number in by_id:
        found = _best(by_id[id_number])
    elif values.get("birth_date") and values.get("name"):
        candidates = by_pair.get((values["name"], values["birth_date"]), [])
        if id_number:  # same name and birthday but another ID number: another person
            candidates = [c for c in candidates if not c.id_number]
        if candidates:
            found = _best(candidates)
    if found is not None:
        other = taken.get(found.pk)
        if other:
            report.error(
                _("This is the same registered person as row %(other)d.") % {"other": other}
            )
            return
        taken[found.pk] = report.number
        if found.community_id not in community_ids:
            report.error(
                _(
                    "This person is already registered in a community you do not manage; ask "
                    "that community to hand the household over."
                )
            )
            return
        if found.archived_at is not None:
            report.error(
                _("This person is archived in Tongxin; restore the record before importing.")
            )
            return
    if draft is None or draft.instance is None or report.messages:
        return  # the row is refused already; nothing more to work out
    household = draft.instance
    if found is None:
        _plan_new_person(person, household, plan)
        report.outcome = OUTCOME_NEW
        return
    changes = []
    if found.household_id != household.pk or draft.is_new:
        found.household = household
        found.community_id = draft.community.pk
        changes.append("household")
    for name, value in values.items():
        current = found.ethnicity_id if name == "ethnicity" else getattr(found, name)
        if current != (value.pk if name == "ethnicity" else value):
            setattr(found, name, value)
            changes.append(name)
    if changes:
        found.fill_search_fields()
        plan.changed_persons.append(found)
        plan.person_fields.update(changes)
        plan.person_fields.update(SEARCH_FIELDS)
        if "household" in changes:
            plan.person_fields.add("community")
    report.changes = [PERSON_FIELD_HEADERS[c] for c in changes]
    if person.first_in_household and draft.changes:
        report.changes = [*draft.changes, *report.changes]
    report.outcome = OUTCOME_UPDATE if report.changes else OUTCOME_UNCHANGED


def _plan_new_person(person: _PersonDraft, household: Household, plan: LedgerPlan):
    values, report = person.values, person.report
    if "ethnicity" not in values:
        report.error(_("%(column)s is required for a new person.") % {"column": "民族"})
        return
    if "sex" not in values:
        report.error(_("%(column)s is required when there is no ID number.") % {"column": "性别"})
        return
    if "relation" not in values:
        values["relation"] = (
            Relation.HEAD if person.first_in_household and person.draft.is_new else Relation.OTHER
        )
    new_person = Person(household=household, community_id=household.community_id, **values)
    new_person.fill_search_fields()
    plan.new_persons.append(new_person)
    if person.first_in_household and person.draft.changes:
        report.changes = list(person.draft.changes)


# ---------------------------------------------------------------- writing


def _create_with_history(objs, model, *, by, reason: str, now) -> list:
    """Insert new objects and their creation history rows, the rows that
    ``bulk_create_with_history`` writes (by ``by``, or whoever simple-history names when
    ``by`` is None; the import's objects carry no user, date or reason of their own), and
    return their audit events, built from the objects in memory. On PostgreSQL the history
    rows go in one ``COPY``: per row, building a historical instance and preparing an INSERT
    cost more than the row itself."""
    connection = transaction.get_connection()
    if not connection.features.can_return_rows_from_bulk_insert:  # no database Tongxin runs on
        bulk_create_with_history(
            objs,
            model,
            batch_size=BATCH_SIZE,
            default_user=by,
            default_change_reason=reason,
            default_date=now,
        )
        return bulk_history_events([model], at=now, user=by, history_type="+")
    model._default_manager.bulk_create(objs, batch_size=BATCH_SIZE)
    if not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        return []  # no history rows, so nothing to audit (as record_bulk_history would find)
    history_model = model.history.model
    user = by or history_model.get_default_history_user(objs[0])
    if not _copy_history(history_model, objs, user=user, reason=reason, now=now):
        model.history.bulk_history_create(
            objs,
            batch_size=BATCH_SIZE,
            default_user=user,
            default_change_reason=reason,
            default_date=now,
        )
    return created_events(model, objs, user=user, note=reason)


def _copy_history(history_model, objs, *, user, reason: str, now) -> bool:
    """The creation history rows of ``objs`` (which have their ids) in one ``COPY``, the same
    rows as ``bulk_history_create``; False (nothing written) off PostgreSQL or when the
    historical model has columns beyond simple-history's own."""
    connection = transaction.get_connection()
    if connection.vendor != "postgresql":
        return False
    tracked = list(history_model.tracked_fields)
    extra = {
        "history_date": now,
        "history_change_reason": reason,
        "history_type": "+",
        "history_user_id": user.pk if user is not None else None,
    }
    columns = [f.column for f in tracked] + list(extra)
    meta = history_model._meta
    if set(columns) != {f.column for f in meta.concrete_fields if not f.primary_key}:
        return False
    copy_objects(connection, meta.db_table, tracked, objs, extra)
    return True


def write_ledger(plan: LedgerPlan, *, by, reason: str) -> LedgerPlan:
    """Write a valid plan: bulk inserts and updates with history rows and audit events, one
    transaction."""
    if not plan.ok:
        raise LedgerRefused(plan)
    now = timezone.now()
    history = {"default_user": by, "default_change_reason": reason, "default_date": now}
    events = []  # in the order of their history rows: households, then persons
    with transaction.atomic():
        if plan.new_households:
            events += _create_with_history(
                plan.new_households, Household, by=by, reason=reason, now=now
            )
        if plan.changed_households:
            for household in plan.changed_households:
                household.updated_at = now
                household.version += 1  # bulk_update skips save(): raise it here
            bulk_update_with_history(
                plan.changed_households,
                Household,
                sorted(plan.household_fields | {"updated_at", "version"}),
                batch_size=BATCH_SIZE,
                **history,
            )
            # bulk writes send no signal: the changes are audited against the rows before
            events += bulk_history_events([Household], at=now, user=by, history_type="~")
        for person in plan.new_persons:
            person.household_id = person.household.pk
        if plan.new_persons:
            events += _create_with_history(plan.new_persons, Person, by=by, reason=reason, now=now)
        if plan.changed_persons:
            for person in plan.changed_persons:
                person.household_id = person.household.pk
                person.updated_at = now
                person.version += 1  # bulk_update skips save(): raise it here
            fields = (plan.person_fields - {"household"}) | {"household", "updated_at", "version"}
            bulk_update_with_history(
                plan.changed_persons, Person, sorted(fields), batch_size=BATCH_SIZE, **history
            )
            events += bulk_history_events([Person], at=now, user=by, history_type="~")
        record_many(events)
    plan.written = True
    return plan


def import_ledger(
    data: bytes,
    filename: str,
    *,
    by,
    dry_run: bool = False,
    expected: str | None = None,
    max_rows: int | None = None,
) -> LedgerPlan:
    """Read, validate and (unless ``dry_run``) write a ledger file: all rows or none.

    Validation runs inside the writing transaction, so what is written is what was checked.
    ``expected`` is the fingerprint of the preview the user confirmed: if the register has
    changed since so that any row would do something else, nothing is written and the new
    plan is returned for another look (``plan.written`` is False).
    Raises TableError for an unreadable file and LedgerRefused when any row is refused.
    """
    rows, ignored = read_ledger(data, filename, max_rows)
    if dry_run:
        plan = plan_ledger(rows, by=by, ignored_columns=ignored)
        if not plan.ok:
            raise LedgerRefused(plan)
        return plan
    try:
        with transaction.atomic():
            plan = plan_ledger(rows, by=by, ignored_columns=ignored)
            if not plan.ok:
                raise LedgerRefused(plan)
            if expected is not None and plan.fingerprint() != expected:
                return plan
            write_ledger(plan, by=by, reason=f"ledger import {filename}"[:100])
    except IntegrityError as exc:  # someone registered the same person or 户号 meanwhile
        plan = LedgerPlan(
            file_errors=[
                _("The register changed while importing, so nothing was imported. Try again.")
            ]
        )
        raise LedgerRefused(plan) from exc
    return plan


# ---------------------------------------------------------------- the template


def ledger_template(communities) -> bytes:
    """The xlsx staff fill in: the ledger sheet (headers and one example household) and a
    sheet explaining each column, its allowed values and the communities they may use."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    book = Workbook()
    sheet = book.active
    sheet.title = "台账"
    sheet.append(HEADERS)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="FDE9E7")
    for cell in sheet[1]:
        cell.font = bold
        cell.fill = fill
    text_columns = {"户号", "身份证号", "手机", "联系电话", "居住证号", "社区"}
    for index, header in enumerate(HEADERS, start=1):
        letter = sheet.cell(row=1, column=index).column_letter
        sheet.column_dimensions[letter].width = max(10, len(header) * 2 + 4)
        if header in text_columns:  # keep 18-digit ID numbers exact
            for row in range(2, 1002):
                sheet.cell(row=row, column=index).number_format = "@"
    sheet.column_dimensions["C"].width = 28
    sheet.column_dimensions["L"].width = 22
    sheet.freeze_panes = "A2"

    notes = book.create_sheet(_("Instructions"))
    notes.append([_("Column"), _("Required"), _("What to write"), _("Example")])
    for column in COLUMNS:
        required = _("Yes") if column.header in ("姓名", "民族", "地址") else ""
        notes.append([column.header, required, str(column.help), column.example])
    notes.append([])
    for line in (
        _(
            "One row per person. Persons of one household sit on consecutive rows with the same "
            "户号 (or the same address); household columns may be left blank on the later rows."
        ),
        _("Blank cells keep what Tongxin already holds; an import never erases data."),
        _(
            "A person already registered (same ID number, or same name and birth date) is "
            "updated, never added twice."
        ),
        _("If any row is wrong, nothing is imported: the preview lists every row and why."),
    ):
        notes.append([line])
    notes.append([])
    notes.append([_("Communities you may import into"), _("Division code")])
    for area in communities:
        notes.append([area.name, area.code or ""])
    for cell in notes[1]:
        cell.font = bold
        cell.fill = fill
    notes.column_dimensions["A"].width = 22
    notes.column_dimensions["B"].width = 14
    notes.column_dimensions["C"].width = 90
    notes.column_dimensions["D"].width = 24
    for row in notes.iter_rows(min_row=2):
        row[min(2, len(row) - 1)].alignment = Alignment(wrap_text=True, vertical="top")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
