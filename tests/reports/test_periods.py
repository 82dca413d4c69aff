"""Periods as staff type them, the period before and the same period a year earlier, and the
messages a mistyped period gets."""

import datetime

import pytest
from django.utils import translation

from reports.periods import Period, PeriodError, parse_period

D = datetime.date


@pytest.mark.parametrize(
    "text, start, end, kind, key",
    [
        ("2025", D(2025, 1, 1), D(2025, 12, 31), "year", "2025"),
        ("２０２５", D(2025, 1, 1), D(2025, 12, 31), "year", "2025"),
        (" 2025-H1 ", D(2025, 1, 1), D(2025, 6, 30), "half", "2025-H1"),
        ("2025h2", D(2025, 7, 1), D(2025, 12, 31), "half", "2025-H2"),
        ("２０２５－Ｑ３", D(2025, 7, 1), D(2025, 9, 30), "quarter", "2025-Q3"),
        ("2025q4", D(2025, 10, 1), D(2025, 12, 31), "quarter", "2025-Q4"),
        ("2025-7", D(2025, 7, 1), D(2025, 7, 31), "month", "2025-07"),
        ("2024-02", D(2024, 2, 1), D(2024, 2, 29), "month", "2024-02"),
        ("2025-02", D(2025, 2, 1), D(2025, 2, 28), "month", "2025-02"),
        (
            "2025-03-01..2025-06-30",
            D(2025, 3, 1),
            D(2025, 6, 30),
            "range",
            "2025-03-01..2025-06-30",
        ),
        ("2025-3-1至2025-6-30", D(2025, 3, 1), D(2025, 6, 30), "range", "2025-03-01..2025-06-30"),
        (
            "２０２４－０２－２９　～　２０２４－０３－３１",
            D(2024, 2, 29),
            D(2024, 3, 31),
            "range",
            "2024-02-29..2024-03-31",
        ),
    ],
)
def test_periods_read_as_staff_type_them(text, start, end, kind, key):
    period = parse_period(text)
    assert (period.start, period.end, period.kind, period.key) == (start, end, kind, key)
    assert parse_period(period.key) == period


@pytest.mark.parametrize(
    "text, previous, year_before",
    [
        ("2025", "2024", "2024"),
        ("2025-H1", "2024-H2", "2024-H1"),
        ("2025-Q1", "2024-Q4", "2024-Q1"),
        ("2025-01", "2024-12", "2024-01"),
        # thirty-one days just before, and the same days a year earlier
        ("2025-03-01..2025-03-31", "2025-01-29..2025-02-28", "2024-03-01..2024-03-31"),
    ],
)
def test_period_before_and_year_before(text, previous, year_before):
    period = parse_period(text)
    assert period.previous() == parse_period(previous)
    assert period.year_before() == parse_period(year_before)


def test_29_february_a_year_earlier_is_28_february():
    leap_month = parse_period("2024-02")
    assert leap_month.year_before() == Period(D(2023, 2, 1), D(2023, 2, 28), "month")
    leap_day = parse_period("2024-02-29..2024-02-29")
    assert leap_day.year_before() == Period(D(2023, 2, 28), D(2023, 2, 28), "range")
    assert parse_period("2025-03").previous() == parse_period("2025-02")
    assert parse_period("2024-03").previous().end == D(2024, 2, 29)


def test_months_of_a_period():
    assert parse_period("2025-Q3").months() == [D(2025, 7, 1), D(2025, 8, 1), D(2025, 9, 1)]
    assert parse_period("2025-01-15..2025-03-01").months() == [
        D(2025, 1, 1),
        D(2025, 2, 1),
        D(2025, 3, 1),
    ]
    assert parse_period("2024-12-31..2025-01-01").year == 2025


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "Enter a period such as 2025, 2025-H1, 2025-Q3 or 2025-07."),
        (None, "Enter a period such as 2025, 2025-H1, 2025-Q3 or 2025-07."),
        ("　", "Enter a period such as 2025, 2025-H1, 2025-Q3 or 2025-07."),
        ("2025-13", "There is no month 13."),
        ("2025-00", "There is no month 0."),
        ("1900", "The year must lie between 1949 and 2100."),
        ("2101-Q1", "The year must lie between 1949 and 2100."),
        ("2023-02-29..2023-03-31", "2023-02-29 is not a date."),
        ("2025-06-30..2025-03-01", "The period ends before it starts."),
        ("2019-01-01..2025-01-01", "A period may be at most five years long."),
        (
            "abc",
            "“abc” is not a period: write 2025, 2025-H1, 2025-Q3, 2025-07 or "
            "2025-03-01..2025-06-30.",
        ),
        (
            "2025-Q5",
            "“2025-Q5” is not a period: write 2025, 2025-H1, 2025-Q3, 2025-07 or "
            "2025-03-01..2025-06-30.",
        ),
    ],
)
def test_a_mistyped_period_gets_a_message_that_says_why(text, message):
    with translation.override("en"), pytest.raises(PeriodError) as caught:
        parse_period(text)
    assert str(caught.value) == message


def test_a_long_mistyped_period_is_cut_short_in_the_message():
    with translation.override("en"), pytest.raises(PeriodError) as caught:
        parse_period("二〇二五年第三季度" * 10)
    typed = "二〇二五年第三季度" * 10
    assert str(caught.value).startswith(f"“{typed[:40]}” is not a period")


def test_period_labels():
    with translation.override("en"):
        assert parse_period("2025").label == "Year 2025"
        assert parse_period("2025-Q3").label == "2025 Q3"
        assert parse_period("2025-H1").label == "2025 first half"


@pytest.mark.parametrize(
    "text, key",
    [
        ("2025年", "2025"),
        ("2025年度", "2025"),
        ("2025年上半年", "2025-H1"),
        ("2025年下半年", "2025-H2"),
        ("2025年第三季度", "2025-Q3"),
        ("２０２５年第１季度", "2025-Q1"),
        ("2025年7月", "2025-07"),
    ],
)
def test_a_period_written_the_chinese_way_is_read(text, key):
    assert parse_period(text).key == key


def test_a_chinese_period_that_does_not_exist_is_refused():
    with pytest.raises(PeriodError):
        parse_period("2025年第五季度")
    with pytest.raises(PeriodError):
        parse_period("2025年13月")
