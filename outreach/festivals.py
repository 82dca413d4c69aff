"""When festivals fall: a festival is kept on the calendar it follows (公历, 农历, 伊斯兰历) and
its Gregorian dates are computed for any year, so the festival-visit lists build themselves.

- Chinese lunar dates come from ``lunardate`` (lunar years 1900–2099). A day that the lunar
  month does not have (the 30th of a 29-day month, as 除夕 "12-30" in many years) is taken as
  the month's last day; a festival is kept in the ordinary month, never in a leap month of the
  same number (闰月), as the almanacs do.
- Islamic dates come from ``hijridate``, which follows the Umm al-Qura calendar of Saudi Arabia
  (Gregorian 1924-08-01 to 2077-11-16). China's Islamic Association announces 开斋节 and
  古尔邦节 by moon sighting, which can differ from Umm al-Qura by a day; the computed date is
  the planning date, the visits' ±30-day window absorbs the difference. The Islamic year is
  about 11 days shorter than the Gregorian one, so a festival can fall twice in one Gregorian
  year (开斋节 in 2033: 2 January and 23 December).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from hijridate import Gregorian, Hijri
from lunardate import LunarDate

GREGORIAN, LUNAR, ISLAMIC = "gregorian", "lunar", "islamic"


def _in_year(dates: Iterable[datetime.date | None], year: int) -> list[datetime.date]:
    return sorted({d for d in dates if d is not None and d.year == year})


def _gregorian(month: int, day: int, year: int) -> datetime.date | None:
    """A fixed date; 29 February is kept on 28 February in common years."""
    try:
        return datetime.date(year, month, day)
    except ValueError:
        if month == 2 and day == 29:
            return datetime.date(year, 2, 28)
        return None


def _lunar(lunar_year: int, month: int, day: int) -> datetime.date | None:
    """``month``/``day`` of ``lunar_year`` in the ordinary (not leap) month; the month's last
    day when it is shorter than ``day``; None outside lunardate's years."""
    for candidate in range(min(day, 30), 0, -1):
        try:
            return LunarDate(lunar_year, month, candidate).to_solar_date()
        except ValueError as exc:
            if "day out of range" not in str(exc):
                return None  # year or month out of range
    return None


def _islamic(hijri_year: int, month: int, day: int) -> datetime.date | None:
    try:
        first = Hijri(hijri_year, month, 1)
        last = first.month_length()
        return Hijri(hijri_year, month, min(day, last)).to_gregorian()
    except (OverflowError, ValueError):
        return None


def _hijri_years(year: int) -> range:
    """The Hijri years that overlap Gregorian ``year`` (clamped to hijridate's range)."""
    try:
        first = Gregorian(year, 1, 1).to_hijri().year
    except OverflowError:
        first = 1343 if year <= 1924 else None
    try:
        last = Gregorian(year, 12, 31).to_hijri().year
    except OverflowError:
        last = 1500 if year >= 2077 else None
    if first is None or last is None:
        return range(0)
    return range(first, last + 1)


def dates_for(calendar: str, month: int, day: int, year: int) -> list[datetime.date]:
    """The Gregorian dates in ``year`` of a date ``month``/``day`` of ``calendar``."""
    if calendar == GREGORIAN:
        return _in_year([_gregorian(month, day, year)], year)
    if calendar == LUNAR:
        # Lunar year Y-1's last months reach into January/February of Y.
        return _in_year([_lunar(y, month, day) for y in (year - 1, year)], year)
    if calendar == ISLAMIC:
        return _in_year([_islamic(y, month, day) for y in _hijri_years(year)], year)
    return []


def festival_dates(festival, year: int) -> list[datetime.date]:
    """The Gregorian dates of ``festival`` (an ``outreach.models.Festival``) within ``year``,
    earliest first: usually one, two for an Islamic festival in some years, none when the
    calendar library does not cover the year."""
    return dates_for(festival.calendar, festival.month, festival.day, year)


def occurrences(festivals, start: datetime.date, end: datetime.date):
    """``(festival, date)`` for every date of every festival from ``start`` to ``end``
    inclusive, by date then name."""
    pairs = []
    for festival in festivals:
        for year in range(start.year, end.year + 1):
            pairs.extend((festival, d) for d in festival_dates(festival, year) if start <= d <= end)
    return sorted(pairs, key=lambda pair: (pair[1], pair[0].name))


def upcoming(festivals, today: datetime.date, days: int = 45):
    """``(festival, date)`` pairs of the festivals falling from ``today`` to ``today + days``,
    soonest first."""
    return occurrences(festivals, today, today + datetime.timedelta(days=days))
