"""Citizen ID numbers (公民身份号码, GB 11643-1999).

``AAAAAA YYYYMMDD SSS C``: region, birth date, sequence (odd = male), and a check character
by ISO 7064 MOD 11-2 (weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2; sum mod 11 indexes
"10X98765432"). Legacy 15-digit numbers (``AAAAAA YYMMDD SSS``, all born 19xx) are converted
by inserting "19" and computing the check character. python-stdnum's ``cn.ric`` also refuses
region codes missing from its bundled list; here an unknown region is only a warning
(shared/reference/README.md).
"""

import datetime
import functools
import re
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from network.masking import mask_id_number

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
_FULL_WIDTH = {0xFF10 + i: ord("0") + i for i in range(10)} | {0xFF38: ord("X"), 0xFF58: ord("X")}


class IdNumberError(ValueError):
    """The number cannot be a citizen ID number; the message says why, in the UI language."""


@dataclass
class IdNumber:
    number: str
    birth_date: datetime.date
    sex: str  # "M" or "F"
    warnings: list[str] = field(default_factory=list)

    @property
    def masked(self) -> str:
        return mask_id_number(self.number)


def normalise_id_number(raw) -> str:
    """Full-width digits to ASCII, x to X, all spaces dropped."""
    text = str(raw or "").translate(_FULL_WIDTH)
    return re.sub(r"\s+", "", text).upper()


def check_digit(first17: str) -> str:
    return CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def _birth_date(text: str) -> datetime.date:
    try:
        born = datetime.date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError as exc:
        raise IdNumberError(
            _("The birth date %(d)s in this ID number does not exist.") % {"d": text}
        ) from exc
    if born.year < 1890 or born > datetime.date.today():
        raise IdNumberError(
            _("The birth date %(d)s in this ID number is impossible.") % {"d": text}
        )
    return born


def parse_id_number(raw) -> IdNumber:
    """Check and normalise an ID number; raise IdNumberError with the reason if it is wrong."""
    number = normalise_id_number(raw)
    warnings: list[str] = []
    if re.fullmatch(r"[0-9]{15}", number):
        born = _birth_date("19" + number[6:12])
        first17 = number[:6] + "19" + number[6:]
        number = first17 + check_digit(first17)
        warnings.append(
            _("A 15-digit number was converted to the 18-digit form %(n)s.") % {"n": number}
        )
    elif not re.fullmatch(r"[0-9]{17}[0-9X]", number):
        raise IdNumberError(
            _("An ID number has 18 characters: 17 digits and a digit or X at the end (got %(n)d).")
            % {"n": len(number)}
            if len(number) != 18
            else _("An ID number holds only digits, and X as its last character.")
        )
    else:
        born = _birth_date(number[6:14])
        expected = check_digit(number[:17])
        if number[17] != expected:
            raise IdNumberError(
                _("The check digit is wrong: %(n)s should end in %(c)s. Check for a typing slip.")
                % {"n": number, "c": expected}
            )
    if not _known_region(number[:6]):
        warnings.append(
            _("Region code %(r)s is not in the national list; please check it.") % {"r": number[:6]}
        )
    sex = "M" if int(number[16]) % 2 == 1 else "F"
    return IdNumber(number=number, birth_date=born, sex=sex, warnings=warnings)


@functools.lru_cache(maxsize=4096)
def _known_region(code: str) -> bool:
    """Whether the county code appears in python-stdnum's list of GB/T 2260 codes, past or
    present. Its validity years are ignored: a number is issued where a person registers,
    which may be long after birth (姑苏区 320508 exists only since 2012)."""
    from stdnum import numdb

    return any("county" in props for _part, props in numdb.get("cn/loc").info(code))
