"""Reporting periods as staff type them: ``2025``, ``2025-H1``, ``2025-Q3``, ``2025-07`` or
``2025-03-01..2025-06-30`` (both days included).

Each period knows the one before it (the previous year, half, quarter, month, or for a
range the same number of days just before) and the same period a year earlier, which the
summary tables show beside it.
"""

import datetime
import re
from dataclasses import dataclass

from django.utils.formats import date_format
from django.utils.translation import gettext as _

FIRST_YEAR, LAST_YEAR = 1949, 2100


class PeriodError(ValueError):
    """A period that cannot be read; the message is for the user."""


@dataclass(frozen=True)
class Period:
    start: datetime.date
    end: datetime.date
    kind: str  # year | half | quarter | month | range

    @property
    def key(self) -> str:
        """The text that reads back as this period (``parse_period(p.key) == p``)."""
        year = self.start.year
        if self.kind == "year":
            return f"{year}"
        if self.kind == "half":
            return f"{year}-H{1 if self.start.month == 1 else 2}"
        if self.kind == "quarter":
            return f"{year}-Q{(self.start.month - 1) // 3 + 1}"
        if self.kind == "month":
            return f"{year}-{self.start.month:02d}"
        return f"{self.start.isoformat()}..{self.end.isoformat()}"

    @property
    def label(self) -> str:
        """The period in words, as a summary's heading says it (2025年第三季度)."""
        year = self.start.year
        if self.kind == "year":
            return _("Year %(year)s") % {"year": year}
        if self.kind == "half":
            if self.start.month == 1:
                return _("%(year)s first half") % {"year": year}
            return _("%(year)s second half") % {"year": year}
        if self.kind == "quarter":
            return _("%(year)s Q%(quarter)s") % {
                "year": year,
                "quarter": (self.start.month - 1) // 3 + 1,
            }
        if self.kind == "month":
            return _("%(month)s/%(year)s") % {"year": year, "month": self.start.month}
        return _("%(start)s to %(end)s") % {
            "start": date_format(self.start, "DATE_FORMAT"),
            "end": date_format(self.end, "DATE_FORMAT"),
        }

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def year(self) -> int:
        """The year a period's yearly figures (population, honours, budget) are read from: the
        year it ends in."""
        return self.end.year

    def previous(self) -> "Period":
        if self.kind == "range":
            end = self.start - datetime.timedelta(days=1)
            return Period(end - datetime.timedelta(days=self.days - 1), end, "range")
        months = {"year": 12, "half": 6, "quarter": 3, "month": 1}[self.kind]
        start = _add_months(self.start, -months)
        return Period(start, _add_months(start, months) - datetime.timedelta(days=1), self.kind)

    def year_before(self) -> "Period":
        if self.kind == "range":
            return Period(_shift_year(self.start, -1), _shift_year(self.end, -1), "range")
        start = self.start.replace(year=self.start.year - 1)
        return Period(start, _shift_year(self.end, -1), self.kind)

    def months(self) -> list[datetime.date]:
        """The first day of every month the period touches (for charts by month)."""
        first = self.start.replace(day=1)
        found = []
        while first <= self.end:
            found.append(first)
            first = _add_months(first, 1)
        return found

    def __str__(self):
        return self.key


def _add_months(first: datetime.date, months: int) -> datetime.date:
    index = first.year * 12 + first.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def _shift_year(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


_FULL_WIDTH = str.maketrans("０１２３４５６７８９－．ｑｈＱＨ～　", "0123456789-.qhQH~ ")
_YEAR = re.compile(r"(\d{4})")
_HALF = re.compile(r"(\d{4})-?H([12])", re.IGNORECASE)
_QUARTER = re.compile(r"(\d{4})-?Q([1-4])", re.IGNORECASE)
_MONTH = re.compile(r"(\d{4})-(\d{1,2})")
_RANGE = re.compile(r"(\d{4}-\d{1,2}-\d{1,2})\s*(?:\.\.|~|至|到)\s*(\d{4}-\d{1,2}-\d{1,2})")


_CHINESE = [
    (re.compile(r"(\d{4})年度?"), r"\1"),
    (re.compile(r"(\d{4})年?上半年"), r"\1-H1"),
    (re.compile(r"(\d{4})年?下半年"), r"\1-H2"),
    (re.compile(r"(\d{4})年?第?([1-4一二三四])季度?"), None),
    (re.compile(r"(\d{4})年(\d{1,2})月份?"), r"\1-\2"),
]
_QUARTER_NUMERALS = {"一": "1", "二": "2", "三": "3", "四": "4"}


def _from_chinese(text: str) -> str:
    """2025年 → 2025, 2025年上半年 → 2025-H1, 2025年第三季度 → 2025-Q3, 2025年7月 → 2025-7."""
    for pattern, replacement in _CHINESE:
        if match := pattern.fullmatch(text):
            if replacement is None:
                quarter = _QUARTER_NUMERALS.get(match.group(2), match.group(2))
                return f"{match.group(1)}-Q{quarter}"
            return match.expand(replacement)
    return text


def parse_period(text) -> Period:
    """Read a period; raises ``PeriodError`` with a message for the user when it cannot.
    Full-width digits and spaces are accepted (２０２５－Ｑ３), and the Chinese forms
    (2025年, 2025年上半年, 2025年第三季度, 2025年7月)."""
    cleaned = _from_chinese(str(text or "").translate(_FULL_WIDTH).strip())
    if not cleaned:
        raise PeriodError(_("Enter a period such as 2025, 2025-H1, 2025-Q3 or 2025-07."))
    if match := _RANGE.fullmatch(cleaned):
        start, end = (_date(part) for part in match.groups())
        if end < start:
            raise PeriodError(_("The period ends before it starts."))
        if (end - start).days > 366 * 5:
            raise PeriodError(_("A period may be at most five years long."))
        return Period(start, end, "range")
    if match := _YEAR.fullmatch(cleaned):
        year = _year(match.group(1))
        return Period(datetime.date(year, 1, 1), datetime.date(year, 12, 31), "year")
    if match := _HALF.fullmatch(cleaned):
        start = datetime.date(_year(match.group(1)), 1 if match.group(2) == "1" else 7, 1)
        return Period(start, _add_months(start, 6) - datetime.timedelta(days=1), "half")
    if match := _QUARTER.fullmatch(cleaned):
        start = datetime.date(_year(match.group(1)), (int(match.group(2)) - 1) * 3 + 1, 1)
        return Period(start, _add_months(start, 3) - datetime.timedelta(days=1), "quarter")
    if match := _MONTH.fullmatch(cleaned):
        month = int(match.group(2))
        if not 1 <= month <= 12:
            raise PeriodError(_("There is no month %(month)s.") % {"month": month})
        start = datetime.date(_year(match.group(1)), month, 1)
        return Period(start, _add_months(start, 1) - datetime.timedelta(days=1), "month")
    raise PeriodError(
        _(
            "“%(text)s” is not a period: write 2025, 2025-H1, 2025-Q3, 2025-07 "
            "or 2025-03-01..2025-06-30."
        )
        % {"text": cleaned[:40]}
    )


def _year(text: str) -> int:
    year = int(text)
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise PeriodError(
            _("The year must lie between %(first)s and %(last)s.")
            % {"first": FIRST_YEAR, "last": LAST_YEAR}
        )
    return year


def _date(text: str) -> datetime.date:
    year, month, day = (int(part) for part in text.split("-"))
    _year(str(year))
    try:
        return datetime.date(year, month, day)
    except ValueError:
        raise PeriodError(_("%(text)s is not a date.") % {"text": text}) from None


def period_of_year(year: int) -> Period:
    return Period(datetime.date(year, 1, 1), datetime.date(year, 12, 31), "year")
