"""Festival dates from the calendars they follow, and the default festivals and obligations
loaded by migration 0003.

Lunar dates: ``lunardate`` (the almanac: 春节 2024-02-10 甲辰年, 2025-01-29 乙巳年). Islamic
dates: ``hijridate``, the Umm al-Qura calendar — 开斋节 (1 Shawwal) 1445 = 2024-04-10 and
1446 = 2025-03-30, 古尔邦节 (10 Dhu al-Hijjah) 1445 = 2024-06-16, as Saudi Arabia kept them. The
China Islamic Association announces the days by moon sighting, which can fall a day later; the
visit window (±30 days) absorbs that.
"""

import datetime
import importlib

import pytest
from django.apps import apps

from outreach.festivals import dates_for, festival_dates, occurrences, upcoming
from outreach.models import Calendar, Festival, Obligation

D = datetime.date
MUSLIM_CODES = {"03", "05", "17", "26", "29", "35", "41", "43", "47", "50"}


def festival(name, calendar, month, day):
    return Festival(name=name, calendar=calendar, month=month, day=day)


SPRING = festival("春节", Calendar.LUNAR, 1, 1)
LANTERN = festival("元宵节", Calendar.LUNAR, 1, 15)
MID_AUTUMN = festival("中秋节", Calendar.LUNAR, 8, 15)
NEW_YEARS_EVE = festival("除夕", Calendar.LUNAR, 12, 30)
EID = festival("开斋节", Calendar.ISLAMIC, 10, 1)
KURBAN = festival("古尔邦节", Calendar.ISLAMIC, 12, 10)
NATIONAL_DAY = festival("国庆节", Calendar.GREGORIAN, 10, 1)


@pytest.mark.parametrize(
    "fest, year, expected",
    [
        (SPRING, 2024, [D(2024, 2, 10)]),
        (SPRING, 2025, [D(2025, 1, 29)]),
        (MID_AUTUMN, 2024, [D(2024, 9, 17)]),
        (MID_AUTUMN, 2025, [D(2025, 10, 6)]),
        (LANTERN, 2025, [D(2025, 2, 12)]),
        (EID, 2024, [D(2024, 4, 10)]),
        (EID, 2025, [D(2025, 3, 30)]),
        (KURBAN, 2024, [D(2024, 6, 16)]),
        (NATIONAL_DAY, 2025, [D(2025, 10, 1)]),
    ],
    ids=lambda v: str(v),
)
def test_known_festival_dates(fest, year, expected):
    assert festival_dates(fest, year) == expected


def test_eid_falls_twice_in_2033_and_not_in_2034_twice():
    """The Islamic year is ~354 days: 1 Shawwal 1454 and 1455 both fall in 2033."""
    assert festival_dates(EID, 2033) == [D(2033, 1, 2), D(2033, 12, 23)]
    assert len(festival_dates(EID, 2034)) == 1


def test_new_years_eve_is_the_last_day_of_the_twelfth_month():
    """除夕 is "12-30" but the twelfth month often has 29 days (2025, 2026): it is always the
    day before 春节."""
    for year in range(2001, 2050):
        spring = festival_dates(SPRING, year)[0]
        assert festival_dates(NEW_YEARS_EVE, year) == [spring - datetime.timedelta(days=1)]
    assert festival_dates(NEW_YEARS_EVE, 2025) == [D(2025, 1, 28)]  # 腊月廿九
    assert festival_dates(NEW_YEARS_EVE, 2023) == [D(2023, 1, 21)]  # 腊月三十


def test_a_festival_stays_in_the_ordinary_month_of_a_leap_year():
    """2025 has a leap sixth month (闰六月): 火把节 (6-24) is kept in the ordinary one."""
    torch = festival("火把节", Calendar.LUNAR, 6, 24)
    assert festival_dates(torch, 2025) == [D(2025, 7, 18)]


def test_a_30th_that_an_islamic_month_lacks_is_its_last_day():
    dates = dates_for(Calendar.ISLAMIC, 9, 30, 2025)  # end of Ramadan 1446 (29 days)
    assert dates == [D(2025, 3, 29)]


def test_years_the_libraries_do_not_cover_give_no_date_not_an_error():
    assert festival_dates(SPRING, 2100) == []
    assert festival_dates(EID, 2090) == []
    assert festival_dates(EID, 1900) == []
    assert dates_for("tibetan", 1, 1, 2025) == []
    assert dates_for(Calendar.GREGORIAN, 2, 29, 2025) == [D(2025, 2, 28)]


def test_upcoming_lists_the_festivals_of_the_next_45_days_soonest_first():
    fests = [SPRING, MID_AUTUMN, NATIONAL_DAY, EID]
    assert upcoming(fests, D(2025, 9, 1)) == [
        (NATIONAL_DAY, D(2025, 10, 1)),
        (MID_AUTUMN, D(2025, 10, 6)),
    ]
    assert upcoming(fests, D(2025, 9, 1), days=20) == []
    # across the turn of the year
    assert upcoming(fests, D(2024, 12, 20)) == [(SPRING, D(2025, 1, 29))]
    assert occurrences([EID], D(2032, 6, 1), D(2034, 1, 31)) == [
        (EID, D(2033, 1, 2)),
        (EID, D(2033, 12, 23)),
    ]


# ---------------------------------------------------------------- migration 0003


@pytest.mark.django_db
def test_default_festivals_exist_with_their_calendars():
    by_name = {f.name: f for f in Festival.objects.prefetch_related("ethnicities")}
    for name in ["春节", "元宵节", "端午节", "中秋节", "重阳节", "除夕"]:
        assert by_name[name].calendar == Calendar.LUNAR
    assert (by_name["七一建党节"].month, by_name["七一建党节"].day) == (7, 1)
    assert (by_name["国庆节"].calendar, by_name["国庆节"].month) == (Calendar.GREGORIAN, 10)
    for name in ["开斋节", "古尔邦节"]:
        assert by_name[name].calendar == Calendar.ISLAMIC
        assert {e.code for e in by_name[name].ethnicities.all()} == MUSLIM_CODES
    assert (by_name["开斋节"].month, by_name["开斋节"].day) == (10, 1)
    assert (by_name["古尔邦节"].month, by_name["古尔邦节"].day) == (12, 10)
    assert [e.name for e in by_name["泼水节"].ethnicities.all()] == ["傣族"]
    assert [e.name for e in by_name["火把节"].ethnicities.all()] == ["彝族"]
    assert not by_name["中秋节"].ethnicities.exists()  # everyone's festival


@pytest.mark.django_db
def test_default_obligations_follow_seeds_000_and_003():
    rows = {
        o.name: (o.kind, o.meeting_kind, o.festival and o.festival.name, o.unit, o.period, o.times)
        for o in Obligation.objects.filter(area__isnull=True).select_related("festival")
    }
    assert rows["联络员会议"] == ("meeting", "liaison", None, "subdistrict", "quarter", 1)
    assert rows["联络片组长会议"] == ("meeting", "zone_head", None, "subdistrict", "year", 2)
    assert rows["联络员学习活动"] == ("meeting", "study", None, "liaison_group", "month", 2)
    for name in ["元宵节", "七一建党节", "中秋节", "国庆节"]:
        assert rows[f"节庆走访：{name}"] == ("festival_visits", "", name, "community", "year", 1)
    assert rows["困难户走访"] == ("hardship_visits", "", None, "community", "quarter", 1)
    for obligation in Obligation.objects.all():
        obligation.full_clean()


@pytest.mark.django_db
def test_the_data_migration_can_run_again_without_duplicates():
    migration = importlib.import_module("outreach.migrations.0003_festivals_and_obligations")
    festivals, obligations = Festival.objects.count(), Obligation.objects.count()
    migration.forwards(apps, None)
    assert (Festival.objects.count(), Obligation.objects.count()) == (festivals, obligations)
    assert Festival.objects.get(name="开斋节").ethnicities.count() == 10
