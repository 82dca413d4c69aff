"""Importing partner merchants and agreement items with django-import-export.

Two resources, each bound to the importing user: ``MerchantResource`` (one row a merchant)
and ``AgreementItemResource`` (one row a service of an agreement; the agreement is found by
its merchant and number, or its dates, and created when it is new). Cells are read the way
offices type them — 清真餐饮 or halal_food, 平江街道 or its division code, areas served
separated by 、 or ",", 免费 / 8折 / 20% / 优惠价15元, dates five ways, full-width digits — and
what cannot be understood refuses the row with its number and the reason in Chinese.

Lookups happen once per file (areas, merchants, agreements and items already recorded),
never once per row. ``import_file`` runs the resource in a dry run for the preview, and for
real inside one transaction: if any row is refused nothing is written.

The resources are NOT registered on the admin: an admin import would bypass the scoping.
"""

from __future__ import annotations

import copy
import datetime
import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal

import tablib
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export import fields, resources, widgets

from network.division_codes import normalise_code
from network.models import Area, AreaLevel
from network.tabular import TableError, read_table
from residents.ledger_import import OUTCOME_BADGES, OUTCOME_LABELS, clean_word, parse_date
from residents.typed_input import MAX_YUAN, YuanField, without_control_characters
from services.forms_merchants import (
    EARLIEST_DAY,
    LATEST_DAY,
    area_in_line,
    normalise_licence,
    signing_areas,
)
from services.models import (
    Agreement,
    AgreementItem,
    AgreementStatus,
    BenefitKind,
    Merchant,
    ServiceCategory,
)

MAX_ROWS = 2000  # a sub-district's merchants or agreements fit many times over
CENT = Decimal("0.01")

# ---------------------------------------------------------------- columns


@dataclass(frozen=True)
class Column:
    header: str
    aliases: tuple[str, ...]
    help: str
    example: str
    required: bool = False


MERCHANT_COLUMNS = [
    Column(
        "名称",
        ("商户名称", "商户", "单位名称", "店名", "网点名称"),
        gettext_lazy("The merchant's name as on its licence or shop sign."),
        "马记清真拉面馆",
        required=True,
    ),
    Column(
        "类别",
        ("服务类别", "行业", "类型", "经营类别"),
        gettext_lazy("A category from the list below, by its Chinese name or its code."),
        "清真餐饮",
        required=True,
    ),
    Column(
        "地址",
        ("经营地址", "商户地址", "详细地址"),
        gettext_lazy("Where the merchant is."),
        "平江路88号",
        required=True,
    ),
    Column("联系人", ("负责人", "联系人姓名"), gettext_lazy("Who to call."), "马福来"),
    Column("电话", ("联系电话", "手机", "手机号"), gettext_lazy("The merchant's phone."), ""),
    Column(
        "统一社会信用代码",
        ("营业执照号", "执照号", "信用代码", "营业执照号码", "社会信用代码", "营业执照"),
        gettext_lazy(
            "Optional: the 18-character code of the business licence. A merchant already "
            "recorded with the same code is updated, not added twice."
        ),
        "92320508MA20B3LP4A",
    ),
    Column(
        "管理单位",
        ("所属街道", "所属单位", "管理街道", "签约单位", "所属社区"),
        gettext_lazy(
            "The street office or community that manages the merchant, by name or 12-digit "
            "code; one you may change."
        ),
        "平江街道",
        required=True,
    ),
    Column(
        "服务社区",
        ("服务范围", "服务区域", "服务对象社区"),
        gettext_lazy("The areas it serves, separated by 、 or a comma."),
        "平江路社区、干将社区",
    ),
    Column("备注", ("说明",), gettext_lazy("Anything else."), ""),
]

ITEM_COLUMNS = [
    Column(
        "商户",
        ("商户名称", "名称", "统一社会信用代码", "营业执照号", "签约商户"),
        gettext_lazy(
            "The merchant's name, or its licence code when two merchants share a name. The "
            "merchant must be recorded first (import the merchants)."
        ),
        "马记清真拉面馆",
        required=True,
    ),
    Column(
        "协议编号",
        ("编号", "合同编号", "协议号"),
        gettext_lazy(
            "Rows with the same number (or, without numbers, the same dates) are one "
            "agreement; it is created if it is new."
        ),
        "PJ-2026-01",
    ),
    Column(
        "有效期自",
        ("开始日期", "生效日期", "起始日期", "有效期起"),
        gettext_lazy("The first day of the agreement, e.g. 2026-01-01."),
        "2026-01-01",
        required=True,
    ),
    Column(
        "有效期至",
        ("结束日期", "截止日期", "到期日期", "有效期止"),
        gettext_lazy("The last day of the agreement."),
        "2026-12-31",
        required=True,
    ),
    Column(
        "签订日期",
        ("签约日期", "签署日期"),
        gettext_lazy("Given: the agreement is recorded as signed; blank: as a draft."),
        "2025-12-20",
    ),
    Column(
        "签约单位",
        ("签约街道", "签约社区"),
        gettext_lazy("Optional: who signs; blank means the merchant's managing area."),
        "",
    ),
    Column(
        "服务类别",
        ("类别", "项目类别"),
        gettext_lazy("A category from the list below, by its Chinese name or its code."),
        "清真餐饮",
        required=True,
    ),
    Column(
        "服务内容",
        ("服务项目", "项目", "服务"),
        gettext_lazy("The service; a service already in the agreement is updated."),
        "清真牛肉面",
        required=True,
    ),
    Column(
        "优惠",
        ("优惠方式", "优惠内容", "折扣"),
        gettext_lazy("免费, a discount such as 8折 or 20％, or a fixed price such as 优惠价15元."),
        "8折",
        required=True,
    ),
    Column(
        "原价",
        ("原价(元)", "价格", "标准价格"),
        gettext_lazy("What the service usually costs, in yuan."),
        "30",
    ),
    Column(
        "条件",
        ("使用条件", "限制条件", "备注"),
        gettext_lazy("Conditions, e.g. 限70岁以上持卡人."),
        "",
    ),
]


def _header_key(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "")
    text = re.sub(r"[(\[].*?[)\]]", "", text)
    return re.sub(r"[\s*:]", "", text)


def canonical_headers(columns: list[Column]) -> dict[str, str]:
    mapping = {}
    for column in columns:
        for name in (column.header, *column.aliases):
            mapping.setdefault(_header_key(name), column.header)
    return mapping


# ---------------------------------------------------------------- reading cells


_SPACES = re.compile(r"\s+")
_LIST_SEPARATORS = re.compile(r"[、,，;；/\s]+")
_CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8}
_CN_DIGITS |= {"九": 9}

# Words offices use for the categories, beside the codes and the labels shown in the app.
CATEGORY_WORDS = {  # the first word is the one the template lists
    ServiceCategory.MEDICAL: "医疗保健 医疗 医疗服务 诊所 医院 药店 看病 体检",
    ServiceCategory.RENOVATION: "房屋装修 装修 装潢 家装",
    ServiceCategory.APPLIANCE: "家电维修 家电 电器维修 维修",
    ServiceCategory.TAILORING: "裁缝 缝纫 服装加工 改衣",
    ServiceCategory.CONSULTING: "咨询（法律、心理） 咨询 法律咨询 心理咨询 法律 心理",
    ServiceCategory.HOUSEKEEPING: "家政 家政服务 保洁 保姆",
    ServiceCategory.MOVING: "搬家 搬运 搬家服务",
    ServiceCategory.HAIRDRESSING: "美发 理发 美容美发 剃头",
    ServiceCategory.HALAL_FOOD: "清真餐饮 清真 餐饮 清真食品 清真饭店",
    ServiceCategory.EDUCATION: "辅导培训 培训 辅导 家教 教育",
    ServiceCategory.EMPLOYMENT: "就业帮扶 就业 就业服务 职业介绍",
    ServiceCategory.OTHER: "其他 其它",
}


def clean_cell(value) -> str:
    """A cell as text: no control characters, spaces collapsed, trimmed."""
    return _SPACES.sub(" ", without_control_characters(str(value or ""))).strip()


def _category_table() -> dict[str, str]:
    table = {}
    for value, label in ServiceCategory.choices:
        table[clean_word(value)] = value
        table[clean_word(str(label))] = value
        with translation.override("zh-hans"):
            table[clean_word(str(label))] = value
    for value, words in CATEGORY_WORDS.items():
        for word in words.split():
            table.setdefault(clean_word(word), value)
    return table


def category_label(value: str) -> str:
    with translation.override("zh-hans"):
        label = str(ServiceCategory(value).label)
    # Until the Chinese labels are compiled, name it by the offices' own word.
    return label if not label.isascii() else CATEGORY_WORDS[ServiceCategory(value)].split()[0]


def parse_category(text: str, table: dict[str, str]) -> str:
    key = clean_word(text)
    if key in table:
        return table[key]
    raise ValueError(
        _("Unknown category %(value)s: use one of the categories listed in the template.")
        % {"value": text[:30]}
    )


def parse_day(text: str) -> datetime.date | None:
    """A date as typed (2026-03-01, 2026/3/1, 2026年3月1日, 20260301); None for a blank."""
    text = clean_cell(text)
    if not text:
        return None
    day = parse_date(text)
    if day is None:
        raise ValueError(
            _("%(value)s is not a date: write it as 2026-03-01.") % {"value": text[:30]}
        )
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise ValueError(
            _("%(value)s is outside %(start)s–%(end)s: check the year.")
            % {"value": text[:30], "start": EARLIEST_DAY.year, "end": LATEST_DAY.year}
        )
    return day


def parse_yuan(text: str) -> Decimal | None:
    """An amount in yuan as typed (１５, ¥15.5, 15元, 1,200), read as the forms read it;
    None for a blank."""
    raw = clean_cell(text)
    try:
        return YuanField(required=False).clean(raw)
    except ValidationError as exc:
        raise ValueError(
            _("%(value)s is not an amount in yuan: write it as 15 or 15.50.") % {"value": raw[:30]}
        ) from exc


BENEFIT_HELP = gettext_lazy("write 免费, 8折, 20％ or 优惠价15元")


def parse_benefit(text: str) -> tuple[str, Decimal | None, Decimal | None]:
    """(kind, percent off, fixed price) from 免费, 8折 / 8.5折 / 八五折, 20% / 优惠20%,
    优惠价15元 / ¥15 / 15元. Raises ValueError for anything else."""
    raw = clean_cell(text)
    t = clean_word(raw)
    refused = ValueError(
        _("The benefit %(value)s cannot be read: %(help)s.")
        % {"value": raw[:30], "help": BENEFIT_HELP}
    )
    if t in {"免费", "免单", "全免", "free", "免费服务", "无偿", "0元", "¥0"}:
        return BenefitKind.FREE, None, None
    percent = None
    if m := re.fullmatch(r"(?:打|享受|优惠)?(\d{1,2}(?:\.\d+)?)折(?:优惠)?", t):
        tenths = Decimal(m.group(1))
        if tenths == 10:
            raise refused  # 10折: no discount at all
        # 8折 pays 80%; 85折 (two digits, no point) pays 85%.
        paid = tenths * 10 if tenths < 10 else tenths
        percent = Decimal(100) - paid
    elif m := re.fullmatch(r"(?:打|享受|优惠)?([一二三四五六七八九])([一二三四五六七八九])?折", t):
        paid = Decimal(_CN_DIGITS[m.group(1)] * 10 + (_CN_DIGITS[m.group(2)] if m.group(2) else 0))
        percent = Decimal(100) - paid
    elif m := re.fullmatch(
        r"(?:优惠|减|减免|让利|折扣|下浮|立减)?(\d{1,2}(?:\.\d+)?)%(?:off|优惠)?", t
    ):
        percent = Decimal(m.group(1))
    if percent is not None:
        if not Decimal("0") < percent < Decimal("100"):
            raise refused
        return BenefitKind.PERCENT_OFF, percent.quantize(CENT), None
    if m := re.fullmatch(
        r"(?:优惠价|特价|固定价|定价|会员价|优惠价格|仅收|只收|收费)?[:]?¥?(\d+(?:\.\d+)?)(元)?(?:/次|每次)?",
        t,
    ):
        has_prefix = m.group(0)[0] not in "0123456789¥"
        if not (has_prefix or m.group(2) or t.startswith("¥")):
            raise refused  # a bare number: a price or a percentage?
        price = Decimal(m.group(1))
        if price > MAX_YUAN:
            raise refused
        if price == 0:
            return BenefitKind.FREE, None, None
        return BenefitKind.FIXED_PRICE, None, price.quantize(CENT)
    raise refused


def benefit_text(kind: str, percent: Decimal | None, price: Decimal | None) -> str:
    item = AgreementItem(benefit_kind=kind, percent_off=percent, fixed_price=price)
    return item.benefit_text


# ---------------------------------------------------------------- areas


_AREA_SUFFIXES = ("街道办事处", "社区居委会", "居民委员会", "居委会", "街道", "社区")


def _area_key(text: str) -> str:
    key = clean_word(text)
    for suffix in _AREA_SUFFIXES:
        if key.endswith(suffix) and len(key) > len(suffix):
            return key.removesuffix(suffix)
    return key


class AreaLookup:
    """Areas by name (with or without 街道/社区) or division code, read once per file.
    Area names are public; whether the user may change one is what matters."""

    LEVELS = (AreaLevel.SUBDISTRICT, AreaLevel.COMMUNITY)

    def __init__(self, user):
        self.areas = list(Area.objects.filter(is_active=True).order_by("path"))
        self.changeable = set(Area.objects.changeable_by(user).values_list("pk", flat=True))
        self.by_code = {a.code: a for a in self.areas if a.code}
        self.by_name: dict[str, list[Area]] = {}
        for area in self.areas:
            for key in {clean_word(area.name), _area_key(area.name)}:
                self.by_name.setdefault(key, []).append(area)

    def find(self, text: str) -> Area:
        raw = clean_cell(text)
        code = normalise_code(raw)
        if code.isdigit():
            found = [self.by_code[code]] if code in self.by_code else []
        else:
            found = self.by_name.get(clean_word(raw)) or self.by_name.get(_area_key(raw)) or []
        if found and not any(a.level in self.LEVELS for a in found):
            raise ValueError(
                _("%(area)s is not a street office or a community.") % {"area": found[0].name}
            )
        found = [a for a in found if a.level in self.LEVELS]
        if len(found) > 1:
            mine = [a for a in found if a.pk in self.changeable]
            if len(mine) != 1:
                raise ValueError(
                    _("Several areas are named %(value)s: write the division code instead.")
                    % {"value": raw[:30]}
                )
            found = mine
        if not found:
            raise ValueError(
                _(
                    "Unknown area %(value)s: write a street office's or community's name or "
                    "its 12-digit division code."
                )
                % {"value": raw[:30]}
            )
        area = found[0]
        if area.pk not in self.changeable:
            raise ValueError(_("You may not change records of %(area)s.") % {"area": area.name})
        return area

    def find_quiet(self, text: str) -> Area | None:
        try:
            return self.find(text) if clean_cell(text) else None
        except ValueError:
            return None


# ---------------------------------------------------------------- widgets


class TextWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        return clean_cell(value)


class CategoryWidget(widgets.Widget):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._table = None

    def clean(self, value, row=None, **kwargs):
        text = clean_cell(value)
        if not text:
            return ""
        if self._table is None:
            self._table = _category_table()
        return parse_category(text, self._table)

    def render(self, value, obj=None, **kwargs):
        return category_label(value) if value else ""


class LicenceWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        try:
            return normalise_licence(clean_cell(value))
        except ValidationError as exc:
            raise ValueError(" ".join(exc.messages)) from exc


class AreaWidget(widgets.Widget):
    def __init__(self, lookup: AreaLookup, **kwargs):
        super().__init__(**kwargs)
        self.lookup = lookup

    def clean(self, value, row=None, **kwargs):
        text = clean_cell(value)
        return self.lookup.find(text) if text else None

    def render(self, value, obj=None, **kwargs):
        return value.name if value else ""


class AreasWidget(widgets.ManyToManyWidget):
    """Areas separated by 、 or a comma; each must be one the user may change."""

    def __init__(self, lookup: AreaLookup, **kwargs):
        super().__init__(Area, separator="、", field="name", **kwargs)
        self.lookup = lookup

    def clean(self, value, row=None, **kwargs):
        text = unicodedata.normalize("NFKC", clean_cell(value))
        found, problems = [], []
        for part in filter(None, _LIST_SEPARATORS.split(text)):
            try:
                area = self.lookup.find(part)
            except ValueError as exc:
                problems.append(str(exc))
            else:
                if area not in found:
                    found.append(area)
        if problems:
            raise ValueError(" ".join(problems))
        return found

    def render(self, value, obj=None, **kwargs):
        return "、".join(a.name for a in value.all()) if value is not None else ""


class YuanWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        return parse_yuan(value)


class BenefitWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        text = clean_cell(value)
        return parse_benefit(text) if text else None


class BenefitField(fields.Field):
    """One cell that sets the benefit's kind, percentage and fixed price together."""

    def save(self, instance, row, is_m2m=False, **kwargs):
        cleaned = self.clean(row, **kwargs)
        if cleaned is None:
            instance.benefit_kind = ""
            return
        instance.benefit_kind, instance.percent_off, instance.fixed_price = cleaned

    def get_value(self, instance):
        if not instance.benefit_kind:
            return ""
        return benefit_text(instance.benefit_kind, instance.percent_off, instance.fixed_price)


# ---------------------------------------------------------------- the shared resource


class ScopedImportResource(resources.ModelResource):
    """What both imports share: bound to the importing user and the file; blank cells keep
    what an existing record holds; messages name the file's columns and rows."""

    columns: list[Column] = []
    field_columns: dict[str, str] = {}  # model field → the column its errors belong to

    def __init__(self, *, user, filename: str, row_numbers: list[int]):
        self.user = user
        self.filename = filename
        self.row_numbers = row_numbers
        self.lookup = AreaLookup(user)
        self.row_errors: dict[str, list[str]] = {}
        self.is_new = True
        self.current_number = 0
        self.seen: dict[tuple, int] = {}
        super().__init__()

    def use_columns(self, **widgets_of):
        """Read each imported field from its column: plain text unless given a widget."""
        for name in self._meta.fields:
            widget = widgets_of.get(name) or TextWidget()
            self.fields[name] = fields.Field(name, self.field_columns[name], widget)

    # -- rows

    def before_import_row(self, row, **kwargs):
        index = kwargs.get("row_number", 1) - 1
        self.current_number = self.row_numbers[index] if index < len(self.row_numbers) else 0
        self.row_errors = {}

    def row_error(self, column: str, message: str) -> None:
        self.row_errors.setdefault(column, []).append(str(message))

    def once_per_file(self, key: tuple, message_of) -> None:
        """Refuse the row if ``key`` was already on an earlier row."""
        first = self.seen.get(key)
        if first is not None:
            self.row_error(NON_FIELD_ERRORS, message_of(first))
        else:
            self.seen[key] = self.current_number

    def after_init_instance(self, instance, new, row, **kwargs):
        self.is_new = new

    def import_field(self, field, instance, row, is_m2m=False, **kwargs):
        if not self.is_new and field.column_name in row and not clean_cell(row[field.column_name]):
            return  # a blank cell keeps what is recorded
        super().import_field(field, instance, row, is_m2m, **kwargs)

    def import_instance(self, instance, row, **kwargs):
        errors: dict = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        for f in self.get_import_fields():
            if isinstance(f.widget, widgets.ManyToManyWidget) and f.column_name in row:
                try:
                    f.clean(row)
                except ValueError as exc:
                    errors.setdefault(f.attribute, []).append(str(exc))
        if self.is_new:
            for column in self.columns:
                if column.required and not clean_cell(row.get(column.header)):
                    errors.setdefault(column.header, []).append(
                        _("%(column)s is required.") % {"column": column.header}
                    )
        for key, messages in self.row_errors.items():
            errors.setdefault(key, []).extend(messages)
        if errors:
            raise ValidationError(errors)

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        errors = dict(import_validation_errors or {})
        exclude = (
            set(errors) | {self.field_columns_reverse(h) for h in errors} | self.excluded(instance)
        )
        try:
            instance.full_clean(exclude=exclude, validate_unique=validate_unique)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def field_columns_reverse(self, header: str) -> str:
        for name, column in self.field_columns.items():
            if column == header:
                return name
        return header

    def excluded(self, instance) -> set[str]:
        return set()

    def skip_row(self, instance, original, row, import_validation_errors=None):
        if import_validation_errors or original is None or original.pk is None:
            return False
        for f in self.get_import_fields():
            if f.column_name not in row or not clean_cell(row[f.column_name]):
                continue
            if isinstance(f.widget, widgets.ManyToManyWidget):
                wanted = sorted(a.pk for a in f.clean(row))
                if wanted != sorted(a.pk for a in f.get_value(original).all()):
                    return False
            elif f.attribute and f.get_value(instance) != f.get_value(original):
                return False
        return True

    def before_save_instance(self, instance, row, **kwargs):
        instance._change_reason = f"import {self.filename}"[:100]

    # -- messages

    def messages_of(self, error: ValidationError) -> list[str]:
        """ "列：消息" for each error of a row, in the file's column order."""
        try:
            by_key = error.message_dict
        except AttributeError:
            return list(error.messages)
        order = {c.header: i for i, c in enumerate(self.columns)}
        lines = []
        for key, messages in by_key.items():
            column = self.field_columns.get(key, key)
            for message in messages:
                if column == NON_FIELD_ERRORS or column not in order:
                    lines.append((len(order), message))
                elif message.startswith(column):
                    lines.append((order[column], message))
                else:
                    lines.append((order[column], f"{column}：{message}"))
        shown, seen = [], set()
        for _order, text in sorted(lines, key=lambda pair: pair[0]):
            bare = text.split("：", 1)[-1]
            if bare not in seen:
                seen.add(bare)
                shown.append(text)
        return shown

    def row_label(self, row) -> tuple[str, str]:
        raise NotImplementedError

    def notes(self) -> list[str]:
        return []


# ---------------------------------------------------------------- merchants


class MerchantResource(ScopedImportResource):
    """One row a merchant. A row with the licence code of a recorded merchant, or the same
    name and managing area, updates it (blank cells keep what it holds)."""

    columns = MERCHANT_COLUMNS
    field_columns = {
        "name": "名称",
        "category": "类别",
        "address": "地址",
        "contact_person": "联系人",
        "phone": "电话",
        "licence_number": "统一社会信用代码",
        "area": "管理单位",
        "serves": "服务社区",
        "note": "备注",
    }

    class Meta:
        model = Merchant
        fields = (
            "name",
            "category",
            "address",
            "contact_person",
            "phone",
            "licence_number",
            "area",
            "serves",
            "note",
        )
        import_order = fields
        import_id_fields = ()
        skip_unchanged = True
        report_skipped = True
        skip_html_diff = True
        use_transactions = True
        clean_model_instances = True

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.use_columns(
            category=CategoryWidget(),
            licence_number=LicenceWidget(),
            area=AreaWidget(self.lookup),
            serves=AreasWidget(self.lookup),
        )
        self.by_licence: dict[str, Merchant] = {}
        self.by_name: dict[tuple[str, int], Merchant] = {}
        self.changeable_ids: set[int] = set()

    def before_import(self, dataset, **kwargs):
        """The merchants the file may mean, read once."""
        licences, names = set(), set()
        for row in dataset.dict:
            try:
                licence = normalise_licence(clean_cell(row.get("统一社会信用代码")))
            except ValidationError:
                licence = ""
            if licence:
                licences.add(licence)
            if clean_cell(row.get("名称")):
                names.add(clean_cell(row.get("名称")))
        known = list(Merchant.objects.filter(Q(licence_number__in=licences) | Q(name__in=names)))
        self.by_licence = {m.licence_number: m for m in known if m.licence_number}
        self.by_name = {(m.name, m.area_id): m for m in known}
        self.changeable_ids = set(
            Merchant.objects.changeable_by(self.user)
            .filter(pk__in=[m.pk for m in known])
            .values_list("pk", flat=True)
        )

    def get_or_init_instance(self, instance_loader, row):
        try:
            licence = normalise_licence(clean_cell(row.get("统一社会信用代码")))
        except ValidationError:
            licence = ""  # the licence cell's own message says why
        name = clean_cell(row.get("名称"))
        area = self.lookup.find_quiet(row.get("管理单位", ""))
        found = self.by_licence.get(licence) if licence else None
        if found is None and name and area is not None:
            found = self.by_name.get((name, area.pk))
        key = ("licence", licence) if licence else ("name", name, area.pk if area else None)
        if licence or name:
            self.once_per_file(
                key,
                lambda first: _("The same merchant as row %(row)d.") % {"row": first},
            )
        if found is None:
            return Merchant(), True
        if found.pk not in self.changeable_ids:
            self.row_error(
                "统一社会信用代码" if licence else "名称",
                _("A merchant with this licence number exists in an area you may not change.")
                if licence
                else _("This merchant is recorded in an area you may not change."),
            )
            return Merchant(), True  # refused below; nothing of it is shown or touched
        if found.is_archived:
            self.row_error(
                NON_FIELD_ERRORS,
                _("%(name)s is archived: restore it before importing it again.")
                % {"name": found.name},
            )
        return copy.copy(found), False

    def row_label(self, row) -> tuple[str, str]:
        return clean_cell(row.get("名称")), clean_cell(row.get("管理单位"))


# ---------------------------------------------------------------- agreement items


@dataclass
class _AgreementDraft:
    agreement: Agreement
    first_row: int
    is_new: bool
    dates: tuple


class AgreementItemResource(ScopedImportResource):
    """One row a service of an agreement. The agreement is the merchant's agreement with
    the row's number (or, without a number, the row's dates); a new one is created as
    signed when a signing date is given, else as a draft. A service already in the
    agreement (same description) is updated."""

    columns = ITEM_COLUMNS
    field_columns = {
        "category": "服务类别",
        "description": "服务内容",
        "benefit_kind": "优惠",
        "percent_off": "优惠",
        "fixed_price": "优惠",
        "usual_price": "原价",
        "conditions": "条件",
        "agreement": "商户",
    }

    class Meta:
        model = AgreementItem
        fields = ("category", "description", "benefit_kind", "usual_price", "conditions")
        import_order = fields
        import_id_fields = ()
        skip_unchanged = True
        report_skipped = True
        skip_html_diff = True
        use_transactions = True
        clean_model_instances = True

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.use_columns(category=CategoryWidget(), usual_price=YuanWidget())
        self.fields["benefit_kind"] = BenefitField("benefit_kind", "优惠", BenefitWidget())
        self.merchants_by_name: dict[str, list[Merchant]] = {}
        self.merchants_by_licence: dict[str, Merchant] = {}
        self.agreements: dict[int, list[Agreement]] = {}
        self.changeable_agreements: set[int] = set()
        self.items: dict[tuple[int, str], AgreementItem] = {}
        self.drafts: dict[tuple, _AgreementDraft] = {}
        self.row_agreement: Agreement | None = None
        self.original_benefit = None

    def before_import(self, dataset, **kwargs):
        """Merchants, their agreements and items, read once for the whole file."""
        texts = {clean_cell(row.get("商户")) for row in dataset.dict} - {""}
        licences = set()
        for text in texts:
            try:
                licences.add(normalise_licence(text))
            except ValidationError:
                continue
        merchants = list(
            Merchant.objects.visible_to(self.user)
            .current()
            .filter(Q(name__in=texts) | Q(licence_number__in=licences - {""}))
            .select_related("area")
        )
        for m in merchants:
            self.merchants_by_name.setdefault(m.name, []).append(m)
            if m.licence_number:
                self.merchants_by_licence[m.licence_number] = m
        agreements = list(
            Agreement.objects.visible_to(self.user)
            .filter(merchant__in=merchants)
            .select_related("area")
            .order_by("-valid_to", "-id")
        )
        for a in agreements:
            self.agreements.setdefault(a.merchant_id, []).append(a)
        self.changeable_agreements = set(
            Agreement.objects.changeable_by(self.user)
            .filter(pk__in=[a.pk for a in agreements])
            .values_list("pk", flat=True)
        )
        items = AgreementItem.objects.filter(agreement__in=agreements).annotate(
            use_count=Count("uses")
        )
        self.items = {(i.agreement_id, i.description): i for i in items}

    # -- the merchant and the agreement of a row

    def _merchant(self, text: str) -> Merchant | None:
        if not text:
            return None
        try:
            licence = normalise_licence(text)
        except ValidationError:
            licence = ""
        if licence and licence in self.merchants_by_licence:
            return self.merchants_by_licence[licence]
        found = self.merchants_by_name.get(text, [])
        if len(found) > 1:
            self.row_error(
                "商户",
                _("Several merchants are named %(name)s: write its licence code instead.")
                % {"name": text[:50]},
            )
            return None
        if not found:
            self.row_error(
                "商户",
                _("No merchant you may see is named %(name)s: import the merchants first.")
                % {"name": text[:50]},
            )
            return None
        return found[0]

    def _day(self, row, column: str) -> datetime.date | None:
        try:
            return parse_day(row.get(column, ""))
        except ValueError as exc:
            self.row_error(column, str(exc))
            return None

    def before_import_row(self, row, **kwargs):
        super().before_import_row(row, **kwargs)
        self.row_agreement = None
        merchant = self._merchant(clean_cell(row.get("商户")))
        number = clean_cell(row.get("协议编号"))
        valid_from = self._day(row, "有效期自")
        valid_to = self._day(row, "有效期至")
        signed_on = self._day(row, "签订日期")
        signer = None
        if clean_cell(row.get("签约单位")):
            try:
                signer = self.lookup.find(row["签约单位"])
            except ValueError as exc:
                self.row_error("签约单位", str(exc))
        if merchant is None or self.row_errors:
            return
        if valid_from is None or valid_to is None:
            return  # "required" is said by import_instance
        dates = (valid_from, valid_to, signed_on, signer.pk if signer else None)
        key = (merchant.pk, number) if number else (merchant.pk, valid_from, valid_to)
        draft = self.drafts.get(key)
        if draft is None:
            draft = self._find_or_create(merchant, number, dates)
            if draft is None:
                return
            self.drafts[key] = draft
        elif draft.is_new and draft.dates != dates:
            self.row_error(
                NON_FIELD_ERRORS,
                _("Row %(row)d gives this agreement other dates or another signing area.")
                % {"row": draft.first_row},
            )
            return
        self.row_agreement = draft.agreement

    def _find_or_create(self, merchant, number, dates) -> _AgreementDraft | None:
        valid_from, valid_to, signed_on, signer_pk = dates
        for agreement in self.agreements.get(merchant.pk, []):
            same = (
                agreement.number == number
                if number
                else (agreement.valid_from, agreement.valid_to) == (valid_from, valid_to)
            )
            if not same:
                continue
            if (agreement.valid_from, agreement.valid_to) != (valid_from, valid_to):
                self.row_error(
                    "有效期自",
                    _(
                        "Agreement %(number)s is recorded as valid %(start)s–%(end)s: the "
                        "dates must match it."
                    )
                    % {
                        "number": number,
                        "start": agreement.valid_from.isoformat(),
                        "end": agreement.valid_to.isoformat(),
                    },
                )
                return None
            if agreement.pk not in self.changeable_agreements:
                self.row_error("商户", _("You may not change this merchant's agreement."))
                return None
            if agreement.is_archived or agreement.status == AgreementStatus.TERMINATED:
                self.row_error(
                    NON_FIELD_ERRORS,
                    _("This agreement is archived or terminated: no services can be added."),
                )
                return None
            return _AgreementDraft(agreement, self.current_number, False, dates)
        return self._create_agreement(merchant, number, dates)

    def _create_agreement(self, merchant, number, dates) -> _AgreementDraft | None:
        valid_from, valid_to, signed_on, signer_pk = dates
        area = next((a for a in self.lookup.areas if a.pk == signer_pk), None)
        if area is None:
            area = merchant.area
            if area.pk not in self.lookup.changeable:
                self.row_error(
                    "商户",
                    _("You may not sign for %(area)s, which manages this merchant.")
                    % {"area": area.name},
                )
                return None
        elif not area_in_line(area, merchant.area):
            self.row_error(
                "签约单位",
                _("The signing area must be %(area)s, an area inside it or one above it.")
                % {"area": merchant.area.name},
            )
            return None
        if signed_on and signed_on > timezone.localdate():
            self.row_error("签订日期", _("The signing date is in the future."))
            return None
        agreement = Agreement(
            merchant=merchant,
            area=area,
            number=number,
            valid_from=valid_from,
            valid_to=valid_to,
            signed_on=signed_on,
            status=AgreementStatus.SIGNED if signed_on else AgreementStatus.DRAFT,
            created_by=self.user if self.user.is_authenticated else None,
        )
        try:
            agreement.full_clean(exclude={"document"})
        except ValidationError as exc:
            columns = {"valid_to": "有效期至", "valid_from": "有效期自", "signed_on": "签订日期"}
            for name, messages in exc.message_dict.items():
                for message in messages:
                    self.row_error(columns.get(name, NON_FIELD_ERRORS), message)
            return None
        agreement._change_reason = f"import {self.filename}"[:100]
        agreement.save()
        return _AgreementDraft(agreement, self.current_number, True, dates)

    # -- the item

    def get_or_init_instance(self, instance_loader, row):
        agreement = self.row_agreement
        description = clean_cell(row.get("服务内容"))
        if agreement is None:
            return AgreementItem(), True
        if description:
            self.once_per_file(
                ("item", agreement.pk, description),
                lambda first: (
                    _("The same service of the same agreement as row %(row)d.") % {"row": first}
                ),
            )
        found = self.items.get((agreement.pk, description))
        if found is not None:
            self.original_benefit = (
                found.category,
                found.benefit_kind,
                found.percent_off,
                found.fixed_price,
            )
            return copy.copy(found), False
        self.original_benefit = None
        return AgreementItem(agreement=agreement), True

    def import_instance(self, instance, row, **kwargs):
        errors = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        if instance.pk and getattr(instance, "use_count", 0) and not errors:
            now = (
                instance.category,
                instance.benefit_kind,
                instance.percent_off,
                instance.fixed_price,
            )
            if now != self.original_benefit:
                errors.setdefault("优惠", []).append(
                    _(
                        "This service has been used already, so its category and benefit stay; "
                        "give the new benefit another description (and mark the old one "
                        "withdrawn)."
                    )
                )
        if errors:
            raise ValidationError(errors)

    def excluded(self, instance) -> set[str]:
        return {"agreement"} if instance.agreement_id is None else set()

    def row_label(self, row) -> tuple[str, str]:
        merchant = clean_cell(row.get("商户"))
        number = clean_cell(row.get("协议编号"))
        dates = f"{clean_cell(row.get('有效期自'))}–{clean_cell(row.get('有效期至'))}"
        service = clean_cell(row.get("服务内容"))
        benefit = clean_cell(row.get("优惠"))
        return merchant, " · ".join(p for p in (number or dates, service, benefit) if p)

    def notes(self) -> list[str]:
        new = [d for d in self.drafts.values() if d.is_new]
        if not new:
            return []
        return [
            _("Agreements to be created: %(n)d (%(list)s).")
            % {
                "n": len(new),
                "list": "、".join(
                    f"{d.agreement.merchant.name} {d.agreement.number or d.agreement.valid_from}"
                    for d in new
                ),
            }
        ]


# ---------------------------------------------------------------- the plan of an import


# The outcomes (new, update, unchanged, error) and their badges are the ledger import's.
_OUTCOME_OF = {"new": "new", "update": "update", "skip": "unchanged"}


@dataclass
class RowReport:
    number: int
    outcome: str
    label: str = ""
    detail: str = ""
    messages: list[str] = field(default_factory=list)

    @property
    def outcome_label(self) -> str:
        return str(OUTCOME_LABELS.get(self.outcome, ""))

    @property
    def badge(self) -> str:
        return OUTCOME_BADGES.get(self.outcome, "text-bg-secondary")


@dataclass
class ImportPlan:
    kind: str
    rows: list[RowReport] = field(default_factory=list)
    file_errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    written: bool = False
    changed: bool = False  # confirm found other outcomes than the preview showed

    @property
    def ok(self) -> bool:
        return not self.file_errors and not self.error_rows

    @property
    def error_rows(self) -> list[RowReport]:
        return [r for r in self.rows if r.outcome == "error"]

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(OUTCOME_LABELS, 0)
        for row in self.rows:
            counts[row.outcome] += 1
        return counts

    def fingerprint(self) -> str:
        digest = hashlib.sha256(self.kind.encode())
        for row in self.rows:
            digest.update(f"{row.number}|{row.outcome}|{row.label}|{row.detail}\n".encode())
        return digest.hexdigest()

    def summary(self) -> str:
        c = self.counts()
        return _(
            "%(rows)d rows: %(new)d new, %(update)d updates, %(unchanged)d unchanged, "
            "%(error)d with errors."
        ) % {
            "rows": len(self.rows),
            "new": c["new"],
            "update": c["update"],
            "unchanged": c["unchanged"],
            "error": c["error"],
        }


def plan_of(kind: str, result, resource: ScopedImportResource, dataset) -> ImportPlan:
    plan = ImportPlan(kind=kind, notes=resource.notes())
    for error in result.base_errors:
        plan.file_errors.append(
            _("The file could not be imported: %(error)s") % {"error": str(error.error)[:200]}
        )
    for index, (row_result, row) in enumerate(zip(result.rows, dataset.dict, strict=False)):
        label, detail = resource.row_label(row)
        report = RowReport(
            number=resource.row_numbers[index],
            outcome=_OUTCOME_OF.get(row_result.import_type, "error"),
            label=label,
            detail=detail,
        )
        if row_result.validation_error is not None:
            report.messages = resource.messages_of(row_result.validation_error)
        for error in row_result.errors:
            report.messages.append(
                _("This row could not be saved: %(error)s") % {"error": str(error.error)[:200]}
            )
        if report.outcome == "error" and not report.messages:
            report.messages.append(_("This row could not be read."))
        plan.rows.append(report)
    return plan


# ---------------------------------------------------------------- reading and running


@dataclass(frozen=True)
class ImportKind:
    key: str
    resource: type[ScopedImportResource]
    columns: list[Column]


KINDS = {
    "merchants": ImportKind("merchants", MerchantResource, MERCHANT_COLUMNS),
    "agreements": ImportKind("agreements", AgreementItemResource, ITEM_COLUMNS),
}


def read_dataset(kind: ImportKind, data: bytes, filename: str):
    """The file's rows under the canonical headers, and the rows' numbers as Excel shows
    them. Raises TableError when the file as a whole cannot be used."""
    try:
        rows = read_table(data, filename, [], MAX_ROWS)
    except (ValueError, TypeError, OverflowError, MemoryError) as exc:
        raise TableError(_("The file cannot be read.")) from exc
    if len(rows) > MAX_ROWS:
        raise TableError(
            _("The file has %(n)d rows; split it into files of at most %(max)d rows.")
            % {"n": len(rows), "max": MAX_ROWS}
        )
    mapping = canonical_headers(kind.columns)
    headers = [c.header for c in kind.columns]
    seen = set()
    for row in rows:
        seen.update(row.values)
    found = {mapping.get(_header_key(h)) for h in seen} - {None}
    missing = [c.header for c in kind.columns if c.required and c.header not in found]
    if missing:
        raise TableError(
            _("The file lacks the column(s) %(columns)s in its first row.")
            % {"columns": "、".join(missing)}
        )
    dataset = tablib.Dataset(headers=headers)
    for row in rows:
        values = dict.fromkeys(headers, "")
        for header, value in row.values.items():
            canonical = mapping.get(_header_key(header))
            if canonical and not values[canonical]:
                values[canonical] = without_control_characters(value)
        dataset.append([values[h] for h in headers])
    return dataset, [row.number for row in rows]


class _Refused(Exception):
    def __init__(self, plan: ImportPlan):
        super().__init__(plan.kind)
        self.plan = plan


def import_file(
    kind_key: str,
    data: bytes,
    filename: str,
    *,
    user,
    dry_run: bool,
    expected: str | None = None,
) -> ImportPlan:
    """Check (``dry_run``) or write a file: all rows or none. ``expected`` is the
    fingerprint of the preview the user confirmed: if any row would now do something else,
    nothing is written and the new plan is returned (``changed``). Raises TableError for a
    file that cannot be read."""
    kind = KINDS[kind_key]
    dataset, numbers = read_dataset(kind, data, filename)

    def run(dry: bool) -> ImportPlan:
        resource = kind.resource(user=user, filename=filename, row_numbers=numbers)
        result = resource.import_data(
            dataset,
            dry_run=dry,
            use_transactions=True,
            raise_errors=False,
            rollback_on_validation_errors=True,
        )
        return plan_of(kind.key, result, resource, dataset)

    if dry_run:
        return run(True)
    try:
        with transaction.atomic():
            plan = run(False)
            if not plan.ok:
                raise _Refused(plan)
            if expected is not None and plan.fingerprint() != expected:
                plan.changed = True
                raise _Refused(plan)
    except _Refused as refused:
        return refused.plan
    except IntegrityError:
        return ImportPlan(
            kind=kind.key,
            file_errors=[_("The records changed while importing, so nothing was imported.")],
        )
    plan.written = True
    return plan


# ---------------------------------------------------------------- the template


def template_workbook(kind_key: str, user) -> bytes:
    """The xlsx staff fill in: the sheet with the headers, and one explaining each column,
    the categories and the areas the user may import into."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    kind = KINDS[kind_key]
    book = Workbook()
    sheet = book.active
    sheet.title = "商户" if kind.key == "merchants" else "协议项目"
    headers = [c.header for c in kind.columns]
    sheet.append(headers)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="FDE9E7")
    text_columns = {"统一社会信用代码", "电话", "协议编号", "商户", "管理单位", "签约单位"}
    for index, header in enumerate(headers, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font, cell.fill = bold, fill
        sheet.column_dimensions[cell.column_letter].width = max(12, len(header) * 3 + 4)
        if header in text_columns:
            for row in range(2, 502):
                sheet.cell(row=row, column=index).number_format = "@"
    sheet.freeze_panes = "A2"

    notes = book.create_sheet(_("Instructions"))
    notes.append([_("Column"), _("Required"), _("What to write"), _("Example")])
    for column in kind.columns:
        notes.append(
            [column.header, _("Yes") if column.required else "", str(column.help), column.example]
        )
    notes.append([])
    notes.append(
        [_("If any row is wrong, nothing is imported: the preview lists every row and why.")]
    )
    notes.append([])
    notes.append([_("Categories"), _("Code")])
    for value, _label in ServiceCategory.choices:
        notes.append([category_label(value), value])
    notes.append([])
    notes.append([_("Areas you may import into"), _("Division code")])
    for area in signing_areas(user):
        notes.append([area.name, area.code or ""])
    for cell in notes[1]:
        cell.font, cell.fill = bold, fill
    notes.column_dimensions["A"].width = 22
    notes.column_dimensions["B"].width = 14
    notes.column_dimensions["C"].width = 80
    notes.column_dimensions["D"].width = 24
    for row in notes.iter_rows(min_row=2):
        row[min(2, len(row) - 1)].alignment = Alignment(wrap_text=True, vertical="top")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
