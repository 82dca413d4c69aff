"""Default festivals and the district-wide obligations of seeds 000 and 003.

Festivals: the Chinese lunar ones (春节, 元宵节, 端午节, 中秋节, 重阳节, 除夕), the national days
of the four festival visits (七一, 国庆节), the two Islamic festivals of the ten Muslim
minorities (GB/T 3304 codes 03 回族, 05 维吾尔族, 17 哈萨克族, 26 东乡族, 29 柯尔克孜族,
35 撒拉族, 41 塔吉克族, 43 乌孜别克族, 47 保安族, 50 塔塔尔族), and a few groups' own festivals
whose date a calendar gives (泼水节, 火把节, 壮族三月三). 藏历新年 follows the Tibetan
calendar and 那达慕 is set each year by the local government: neither is computable, so
offices add them by hand when they need them.

Obligations (``area`` empty: district-wide defaults, overridden per area in the admin):
- seed 000: 每季度召开一次联络员会议 — a liaison meeting every quarter in each sub-district;
  每年召开两次联络片组长会议 — a zone-head meeting twice a year in each sub-district;
  节庆四访（中秋、元宵、七一、国庆） — every minority household visited for each of the four
  festivals, by each community; 关心访问 — every hardship household visited each quarter.
- seed 003: 每月二次的联络员学习活动 — a study session twice a month in each liaison group.

Re-running it creates nothing twice (get_or_create by name).
"""

from django.db import migrations

MUSLIM_MINORITIES = ["03", "05", "17", "26", "29", "35", "41", "43", "47", "50"]

# name, calendar, month, day, GB/T 3304 codes (empty: everyone's festival)
FESTIVALS = [
    ("春节", "lunar", 1, 1, []),
    ("元宵节", "lunar", 1, 15, []),
    ("端午节", "lunar", 5, 5, []),
    ("中秋节", "lunar", 8, 15, []),
    ("重阳节", "lunar", 9, 9, []),
    ("除夕", "lunar", 12, 30, []),  # the 29th when the twelfth month is short
    ("七一建党节", "gregorian", 7, 1, []),
    ("国庆节", "gregorian", 10, 1, []),
    ("开斋节", "islamic", 10, 1, MUSLIM_MINORITIES),  # 1 Shawwal
    ("古尔邦节", "islamic", 12, 10, MUSLIM_MINORITIES),  # 10 Dhu al-Hijjah
    ("泼水节", "gregorian", 4, 13, ["18"]),  # 傣族
    ("火把节", "lunar", 6, 24, ["07"]),  # 彝族
    ("壮族三月三", "lunar", 3, 3, ["08"]),  # 壮族
]

FESTIVAL_VISITS = ["元宵节", "七一建党节", "中秋节", "国庆节"]

# name, kind, meeting kind, festival, unit, period, times
OBLIGATIONS = [
    ("联络员会议", "meeting", "liaison", None, "subdistrict", "quarter", 1),
    ("联络片组长会议", "meeting", "zone_head", None, "subdistrict", "year", 2),
    ("联络员学习活动", "meeting", "study", None, "liaison_group", "month", 2),
    *[
        (f"节庆走访：{name}", "festival_visits", "", name, "community", "year", 1)
        for name in FESTIVAL_VISITS
    ],
    ("困难户走访", "hardship_visits", "", None, "community", "quarter", 1),
]


def forwards(apps, schema_editor):
    Festival = apps.get_model("outreach", "Festival")
    Obligation = apps.get_model("outreach", "Obligation")
    Ethnicity = apps.get_model("residents", "Ethnicity")
    festivals = {}
    for name, calendar, month, day, codes in FESTIVALS:
        festival, _ = Festival.objects.get_or_create(
            name=name, defaults={"calendar": calendar, "month": month, "day": day}
        )
        if codes:
            festival.ethnicities.add(*Ethnicity.objects.filter(code__in=codes))
        festivals[name] = festival
    for name, kind, meeting_kind, festival, unit, period, times in OBLIGATIONS:
        Obligation.objects.get_or_create(
            name=name,
            area=None,
            defaults={
                "kind": kind,
                "meeting_kind": meeting_kind,
                "festival": festivals[festival] if festival else None,
                "unit": unit,
                "period": period,
                "times": times,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("outreach", "0002_role_permissions"), ("residents", "0002_ethnic_groups")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
