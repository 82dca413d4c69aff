"""What users type, checked or cleaned before it reaches a query or a row, so that no typed
value becomes an error page (PostgreSQL refuses things SQLite takes) or nonsense data."""

import datetime
import re
import unicodedata
from decimal import Decimal

from django import forms
from django.utils import timezone

from residents.models import Person
from residents.names import pinyin_of

EARLIEST_BIRTH_DATE = datetime.date(1890, 1, 1)  # as ID numbers are checked (id_numbers.py)
# The largest id a database column holds; a larger number typed into a form or a URL is no
# id at all (SQLite overflows on it, PostgreSQL refuses it).
MAX_ID = 2**63 - 1
MAX_YUAN = Decimal("99999999.99")  # what a DecimalField(max_digits=10, decimal_places=2) holds
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def whole_number(raw) -> int | None:
    """A number typed into a URL (full-width digits too), or None. Not ``str.isdigit``:
    it says yes to "²", which ``int`` refuses."""
    try:
        return int(str(raw or "").strip())
    except ValueError:
        return None


def without_control_characters(text: str) -> str:
    """Text without the control characters nobody means to type: PostgreSQL refuses NUL in
    a query (a 500), and xlsx files cannot hold the others. Tabs and line breaks stay."""
    return _CONTROL.sub("", text)


def typed_text(raw, max_length: int = 100) -> str:
    """A search box's text as it may go into a query: no control characters, trimmed."""
    return without_control_characters(str(raw or "")).strip()[:max_length]


def is_possible_birth_date(day: datetime.date, today: datetime.date | None = None) -> bool:
    """Not in the future, not before 1890: a typo such as 9184 or 2048 is refused, not stored
    (it would give negative ages and put the person in no age band)."""
    return EARLIEST_BIRTH_DATE <= day <= (today or timezone.localdate())


def pinyin_fits(name: str) -> bool:
    """Whether the pinyin stored beside a name fits its column: up to six letters a
    character (庄 zhuang), so a long name can overflow it, which PostgreSQL refuses."""
    return len(pinyin_of(name)) <= Person._meta.get_field("name_pinyin").max_length


class YuanField(forms.DecimalField):
    """An amount in yuan as people type it: full-width digits and point (１２０．５), a ¥ sign
    or 元, thousands separators, an IME full stop for the point ("200。5")."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 10)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("min_value", Decimal("0"))
        kwargs.setdefault("max_value", MAX_YUAN)
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal"}))
        super().__init__(**kwargs)

    def to_python(self, value):
        if isinstance(value, str):
            value = unicodedata.normalize("NFKC", value)  # also ￥ → ¥, the wide space → " "
            for mark in ("¥", "元", ",", " "):
                value = value.replace(mark, "")
            value = value.replace("。", ".").strip()
        return super().to_python(value)
