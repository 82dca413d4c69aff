"""Form fields for values as people type them on a desk keyboard or a phone's IME."""

import unicodedata
from decimal import Decimal

from django import forms

from outreach.models import MAX_YUAN


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
