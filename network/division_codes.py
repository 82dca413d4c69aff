"""12-digit statistical division codes (统计用区划代码).

Layout (reference/README.md): GB/T 2260 county code (6 digits) + township (3: 001-099 街道,
100-199 镇, 200-399 乡) + village level (3: 001-199 居委会/社区, 200-399 村委会).
"""

import re

from django.utils.translation import gettext as _

CODE_RE = re.compile(r"^\d{12}$")


def normalise_code(raw) -> str:
    """Strip spaces and turn full-width digits into ASCII; spreadsheets often hold both."""
    text = str(raw if raw is not None else "").strip()
    if text.endswith(".0"):  # a code read from xlsx as a number
        text = text[:-2]
    return text.translate({0xFF10 + i: ord("0") + i for i in range(10)}).replace(" ", "")


def level_for_code(code: str) -> str | None:
    """The area level a well-formed code stands for, from where its zeros start."""
    if not CODE_RE.match(code):
        return None
    if code[6:] == "000000":
        return "district"
    if code[9:] == "000":
        return "subdistrict"
    return "community"


def parent_code_for(code: str) -> str | None:
    level = level_for_code(code)
    if level == "subdistrict":
        return code[:6] + "000000"
    if level == "community":
        return code[:9] + "000"
    return None


def check_division_code(code: str, level: str, parent_code: str | None) -> str | None:
    """Return a message saying what is wrong with ``code`` for an area of ``level``, or None."""
    if not CODE_RE.match(code or ""):
        return _("A division code has exactly 12 digits.")
    if code[:6] == "000000" or code[:2] == "00":
        return _("The first six digits must be a county-level code.")
    actual = level_for_code(code)
    if actual != level:
        return {
            "district": _("A district code ends in six zeros (for example 320508000000)."),
            "subdistrict": _(
                "A sub-district code has a non-zero township part and ends in three zeros "
                "(for example 320508001000)."
            ),
            "community": _(
                "A community code has non-zero last three digits (for example 320508001001)."
            ),
        }.get(level, _("This code does not fit the area level."))
    if parent_code:
        expected_prefix = parent_code[:6] if level == "subdistrict" else parent_code[:9]
        if level in {"subdistrict", "community"} and not code.startswith(expected_prefix):
            return _("The code must start with %(prefix)s, the code of the parent area.") % {
                "prefix": expected_prefix
            }
    return None
