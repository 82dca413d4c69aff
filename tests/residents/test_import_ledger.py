"""Ledger import, the logic: messy real-world cells, grouping into households, duplicates,
scope, all-or-nothing, history. (Views: test_import_views.py; command:
test_import_command.py.)"""

import datetime
import io

import pytest
from openpyxl import Workbook

from residents.ledger_import import (
    HEADERS,
    OUTCOME_ERROR,
    OUTCOME_NEW,
    OUTCOME_UNCHANGED,
    OUTCOME_UPDATE,
    LedgerRefused,
    import_ledger,
)
from residents.models import Household, Person
from tests.factories import valid_id_number


def ledger_xlsx(rows, headers=HEADERS) -> bytes:
    """An xlsx ledger: ``rows`` are dicts by header; datetime values stay Excel dates."""
    book = Workbook()
    sheet = book.active
    sheet.append(list(headers))
    for row in rows:
        sheet.append([row.get(h, "") for h in headers])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def person_row(**cells):
    """A valid row for 平江路社区 unless told otherwise (keys are the Chinese headers)."""
    row = {"社区": "平江路社区", "户号": "PJL-900", "地址": "平江路300号", "民族": "回族"}
    row.update(cells)
    return row


MA_JIANHUA_ID = valid_id_number(birth="19840714", sequence="011")  # ends in X
HA_LI_ID = valid_id_number(birth="19860302", sequence="024")
BAI_XUE_ID = valid_id_number(birth="19900101", sequence="022")


def messy_rows():
    return [
        {  # row 2: head of a new household; Excel date, full-width digits, lower-case x
            "户号": "PJL-101",
            "社区": "平江路社区",
            "地址": "平江路２００号１幢101室",
            "户籍类别": "户籍",
            "居住类型": "小区",
            "联系电话": "０５１２-67580001",
            "低保": "是",
            "姓名": " 马　建华 ",
            "与户主关系": "户主",
            "性别": "M",
            "民族": "回",
            "身份证号": MA_JIANHUA_ID.lower(),
            "出生日期": datetime.datetime(1984, 7, 14),
            "手机": "１３９１２３４５６７８",
            "工作单位": "苏州电信",
            "文化程度": "本科",
            "重点人士": "否",
            "志愿者": "是",
        },
        {  # row 3: same 户号, household cells left blank, 1986.03.02, 女
            "户号": "PJL-101",
            "姓名": "哈　丽",
            "与户主关系": "妻子",
            "性别": "女",
            "民族": "回族",
            "身份证号": HA_LI_ID,
            "出生日期": "1986.03.02",
        },
        {  # row 4: merged cells: 户号, 社区 and 地址 blank, no ID, 2012年6月1日
            "姓名": "马小明",
            "与户主关系": "儿子",
            "性别": "男",
            "民族": "03",
            "出生日期": "2012年6月1日",
        },
        {  # row 5: community by full-width division code, floating, permit
            "户号": "GJ-201",
            "社区": "３２０５０８００１００２",
            "地址": "干将东路9号",
            "户籍类别": "流动",
            "居住类型": "单位",
            "姓名": "白雪",
            "与户主关系": "户主",
            "性别": "F",
            "民族": "满",
            "身份证号": BAI_XUE_ID,
            "出生日期": "1990/1/1",
            "居住证号": "苏居３２０５０８９９９",
            "居住证有效期": "2027-1-31",
        },
        {  # row 6: 1984-7-14 style, same household by 户号
            "户号": "GJ-201",
            "社区": "干将社区",
            "地址": "干将东路9号",
            "姓名": "白雨",
            "与户主关系": "女儿",
            "性别": "女",
            "民族": "满族",
            "出生日期": "2015-9-9",
        },
    ]


def test_a_messy_ledger_imports_correctly(world):
    plan = import_ledger(ledger_xlsx(messy_rows()), "台账.xlsx", by=world.pingjiang_staff)

    assert [r.outcome for r in plan.rows] == [OUTCOME_NEW] * 5
    pjl = Household.objects.get(community=world.pingjianglu, ledger_number="PJL-101")
    assert pjl.address == "平江路200号1幢101室"
    assert pjl.phone == "0512-67580001"
    assert pjl.is_dibao is True
    assert [p.name for p in pjl.members.order_by("pk")] == ["马建华", "哈丽", "马小明"]

    ma = Person.objects.get(name="马建华")
    assert ma.id_number == MA_JIANHUA_ID and ma.id_number.endswith("X")
    assert ma.id_number_reversed == MA_JIANHUA_ID[::-1]
    assert (ma.sex, ma.birth_date) == ("M", datetime.date(1984, 7, 14))
    assert ma.ethnicity.name == "回族"
    assert ma.mobile == "13912345678"
    assert (ma.education, ma.is_volunteer, ma.is_key_person) == ("bachelor", True, False)
    assert (ma.name_pinyin, ma.name_initials) == ("majianhua", "mjh")
    assert ma.community == world.pingjianglu
    assert ma.relation == "head"

    ha = Person.objects.get(name="哈丽")
    assert (ha.sex, ha.birth_date, ha.relation) == ("F", datetime.date(1986, 3, 2), "spouse")
    son = Person.objects.get(name="马小明")
    assert (son.birth_date, son.relation, son.id_number) == (datetime.date(2012, 6, 1), "child", "")
    assert son.ethnicity.name == "回族"

    gj = Household.objects.get(ledger_number="GJ-201")
    assert gj.community == world.ganjiang
    assert (gj.registration_kind, gj.residence_kind) == ("floating", "work_unit")
    bai = Person.objects.get(name="白雪")
    assert bai.ethnicity.name == "满族"
    assert bai.residence_permit_number == "苏居320508999"
    assert bai.residence_permit_expires_on == datetime.date(2027, 1, 31)
    assert Person.objects.get(name="白雨").birth_date == datetime.date(2015, 9, 9)
    assert gj.members.count() == 2


def test_consecutive_rows_sharing_an_address_without_a_number_are_one_household(world):
    rows = [
        person_row(户号="", 地址="平江路５号", 姓名="沙德明", 性别="男"),
        person_row(户号="", 地址="平江路5号", 姓名="沙桂芳", 性别="女", 与户主关系="配偶"),
    ]
    import_ledger(ledger_xlsx(rows), "a.xlsx", by=world.pingjiang_staff)
    household = Household.objects.get(address="平江路5号")
    assert sorted(household.members.values_list("name", flat=True)) == ["沙德明", "沙桂芳"]


def test_a_number_already_in_the_community_updates_that_household(world, register):
    rows = [
        person_row(
            户号="PJL-001",
            地址="",
            联系电话="13800000001",
            姓名="马晓梅",
            性别="女",
            与户主关系="女儿",
        )
    ]
    plan = import_ledger(ledger_xlsx(rows), "a.xlsx", by=world.pingjiang_staff)
    assert plan.rows[0].outcome == OUTCOME_NEW
    register.ma_household.refresh_from_db()
    assert register.ma_household.phone == "13800000001"
    assert register.ma_household.address == "平江路112号3幢201室"  # blank keeps
    assert register.ma_household.members.filter(name="马晓梅").exists()
    assert Household.objects.filter(ledger_number="PJL-001").count() == 1


def _queries_to_plan(world, register, size):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    rows = [
        person_row(
            户号=f"PJL-{n:03d}", 地址=f"平江路{n}号", 姓名=f"马{n}", 性别="男", 出生日期="1990-1-1"
        )
        for n in range(200, 200 + size)
    ]
    rows.append(
        person_row(户号="PJL-001", 地址="", 姓名="马晓东", 身份证号=register.ma_xiaodong.id_number)
    )
    data = ledger_xlsx(rows)
    with CaptureQueriesContext(connection) as queries:
        plan = import_ledger(data, "a.xlsx", by=world.pingjiang_staff, dry_run=True)
    assert plan.ok and len(plan.new_persons) == size
    return len(queries)


def test_validation_takes_the_same_few_queries_for_5_or_150_rows(world, register):
    _queries_to_plan(world, register, 1)  # the user's permissions and scope, once per request
    assert _queries_to_plan(world, register, 5) == _queries_to_plan(world, register, 150) <= 8


def test_writing_takes_bulk_queries_not_one_per_row(world, django_assert_max_num_queries):
    rows = [
        person_row(户号=f"PJL-{n:03d}", 地址=f"平江路{n}号", 姓名=f"马{n}", 性别="男")
        for n in range(200, 400)
    ]
    data = ledger_xlsx(rows)
    with django_assert_max_num_queries(50):  # SQLite: 999 values per INSERT, so ~40 rows
        import_ledger(data, "a.xlsx", by=world.pingjiang_staff)
    assert Person.objects.count() == 200


def test_preview_writes_nothing(world):
    plan = import_ledger(
        ledger_xlsx(messy_rows()), "a.xlsx", by=world.pingjiang_staff, dry_run=True
    )
    assert plan.counts()["new"] == 5
    assert not Person.objects.exists()
    assert not Household.objects.exists()


def test_a_bad_row_in_the_middle_refuses_the_whole_file(world):
    rows = messy_rows()
    rows.insert(2, person_row(户号="PJL-102", 姓名="丁永祥", 性别="男", 出生日期="1984-02-30"))
    with pytest.raises(LedgerRefused) as refused:
        import_ledger(ledger_xlsx(rows), "a.xlsx", by=world.pingjiang_staff)
    plan = refused.value.plan
    assert [r.number for r in plan.error_rows] == [4]
    assert "1984-02-30" in plan.error_rows[0].messages[0]
    assert not Person.objects.exists()
    assert not Household.objects.exists()


def test_an_existing_person_is_unchanged_or_updated_never_added_twice(world, register):
    ma = register.ma_xiaodong
    rows = [
        person_row(
            户号="PJL-001",
            地址="平江路112号3幢201室",
            姓名="马晓东",
            身份证号=ma.id_number,
            民族="回族",
        ),
        person_row(  # found by name and birth date (no ID number in the file)
            户号="PJL-001",
            地址="",
            姓名="哈丽娜",
            性别="女",
            出生日期="1986年3月2日",
            手机="13700000002",
        ),
    ]
    plan = import_ledger(ledger_xlsx(rows), "a.xlsx", by=world.pingjiang_staff)
    assert [r.outcome for r in plan.rows] == [OUTCOME_UNCHANGED, OUTCOME_UPDATE]
    assert plan.rows[1].changes == ["手机"]
    assert Person.objects.count() == 4
    register.ma_wife.refresh_from_db()
    assert register.ma_wife.mobile == "13700000002"


def test_the_same_id_number_twice_in_a_file_is_an_error(world):
    rows = [
        person_row(户号="PJL-300", 姓名="马德明", 身份证号=MA_JIANHUA_ID),
        person_row(
            户号="PJL-301", 地址="平江路301号", 姓名="马德民", 身份证号=MA_JIANHUA_ID.lower()
        ),
    ]
    with pytest.raises(LedgerRefused) as refused:
        import_ledger(ledger_xlsx(rows), "a.xlsx", by=world.pingjiang_staff)
    (bad,) = refused.value.plan.error_rows
    assert bad.number == 3 and "2" in bad.messages[0]
    assert not Person.objects.exists()


def test_an_unknown_ethnic_group_is_an_error_not_a_new_group(world):
    from residents.models import Ethnicity

    groups = Ethnicity.objects.count()
    rows = [person_row(姓名="马德明", 性别="男", 民族="拉牯族")]
    with pytest.raises(LedgerRefused) as refused:
        import_ledger(ledger_xlsx(rows), "a.xlsx", by=world.pingjiang_staff)
    assert "拉牯族" in refused.value.plan.error_rows[0].messages[0]
    assert Ethnicity.objects.count() == groups
    assert not Person.objects.exists()


@pytest.mark.parametrize("community", ["道前社区", "320508002001"])
def test_a_community_outside_the_users_scope_is_an_error(world, community):
    rows = [
        person_row(姓名="马德明", 性别="男"),
        person_row(社区=community, 姓名="穆永祥", 性别="男"),
    ]
    with pytest.raises(LedgerRefused) as refused:
        import_ledger(ledger_xlsx(rows), "a.xlsx", by=world.pingjiang_staff)
    assert [r.number for r in refused.value.plan.error_rows] == [3]
    assert not Person.objects.exists()


def test_the_system_may_import_into_every_community(world):
    rows = [person_row(社区="道前社区", 姓名="穆永祥", 性别="男")]
    import_ledger(ledger_xlsx(rows), "a.xlsx", by=None)
    assert Person.objects.get(name="穆永祥").community == world.daoqian


def test_a_person_registered_in_another_sub_district_is_refused_not_moved(world, register):
    aytursun = register.aytursun
    rows = [person_row(姓名="阿依吐尔逊", 民族="维吾尔族", 身份证号=aytursun.id_number)]
    with pytest.raises(LedgerRefused):
        import_ledger(ledger_xlsx(rows), "a.xlsx", by=world.pingjiang_staff)
    aytursun.refresh_from_db()
    assert aytursun.community == world.daoqian


@pytest.mark.parametrize(
    ("cells", "needle"),
    [
        ({"性别": "女"}, "女"),  # the ID number is a man's
        ({"出生日期": "1984-07-15"}, "1984-07-14"),
        ({"身份证号": MA_JIANHUA_ID[:-1] + "1"}, MA_JIANHUA_ID[:-1] + "1"),
        ({"户籍类别": "常驻外籍"}, "常驻外籍"),
        ({"手机": "6758000"}, "6758000"),
    ],
)
def test_what_cannot_be_understood_is_refused_with_the_reason(world, cells, needle):
    row = person_row(姓名="马建华", 身份证号=MA_JIANHUA_ID)
    row.update(cells)
    with pytest.raises(LedgerRefused) as refused:
        import_ledger(ledger_xlsx([row]), "a.xlsx", by=world.pingjiang_staff)
    (bad,) = refused.value.plan.error_rows
    assert bad.number == 2
    assert needle in " ".join(bad.messages)


def test_imported_records_have_history_by_the_importing_user(world):
    import_ledger(ledger_xlsx(messy_rows()), "a.xlsx", by=world.pingjiang_staff)
    ma = Person.objects.get(name="马建华")
    (record,) = ma.history.all()
    assert record.history_type == "+"
    assert record.history_user == world.pingjiang_staff
    assert record.name == "马建华"
    household = Household.objects.get(ledger_number="PJL-101")
    assert household.history.get().history_user == world.pingjiang_staff


def test_updates_leave_history_with_the_change(world, register):
    rows = [
        person_row(
            户号="PJL-001",
            地址="",
            姓名="马晓东",
            身份证号=register.ma_xiaodong.id_number,
            工作单位="平江路菜场",
        )
    ]
    import_ledger(ledger_xlsx(rows), "a.xlsx", by=world.pingjiang_staff)
    latest = register.ma_xiaodong.history.order_by("-history_date").first()
    assert latest.history_type == "~"
    assert latest.workplace == "平江路菜场"
    assert latest.history_user == world.pingjiang_staff


def test_reimporting_the_same_file_changes_nothing(world):
    data = ledger_xlsx(messy_rows())
    import_ledger(data, "a.xlsx", by=world.pingjiang_staff)
    plan = import_ledger(data, "a.xlsx", by=world.pingjiang_staff)
    assert {r.outcome for r in plan.rows} == {OUTCOME_UNCHANGED}
    assert Person.objects.count() == 5
    assert Household.objects.count() == 2


def test_an_unreadable_file_is_refused(world):
    from network.tabular import TableError

    with pytest.raises(TableError):
        import_ledger(b"not a workbook", "a.xlsx", by=world.pingjiang_staff)
    with pytest.raises(TableError):
        import_ledger(ledger_xlsx([{"姓名": "马"}], headers=["姓名"]), "a.xlsx", by=None)


def test_outcomes_are_named(world):
    rows = [person_row(姓名="马德明", 性别="男", 民族="火星族")]
    with pytest.raises(LedgerRefused) as refused:
        import_ledger(ledger_xlsx(rows), "a.xlsx", by=world.pingjiang_staff)
    assert refused.value.plan.rows[0].outcome == OUTCOME_ERROR


def test_header_spellings_and_a_gb18030_csv_are_understood(world):
    header = "户号,社区,家庭住址,姓 名,性别,民族,身份证号码,出生日期（年月日）,备用列\n"
    line = f"PJL-700,平江路社区,平江路7号,马德明,男,回族,{MA_JIANHUA_ID},1984-07-14,x\n"
    plan = import_ledger((header + line).encode("gb18030"), "台账.csv", by=world.pingjiang_staff)
    assert plan.rows[0].outcome == OUTCOME_NEW
    assert any("备用列" in note for note in plan.notes)
    assert Person.objects.get(id_number=MA_JIANHUA_ID).household.address == "平江路7号"


def test_household_cells_that_disagree_within_a_household_are_an_error(world):
    rows = [
        person_row(户号="PJL-800", 地址="平江路8号", 姓名="马德明", 性别="男"),
        person_row(户号="PJL-800", 地址="平江路9号", 姓名="马德民", 性别="男"),
    ]
    with pytest.raises(LedgerRefused) as refused:
        import_ledger(ledger_xlsx(rows), "a.xlsx", by=world.pingjiang_staff)
    assert [r.number for r in refused.value.plan.error_rows] == [3]


def test_a_first_row_without_a_household_is_an_error(world):
    rows = [{"社区": "平江路社区", "姓名": "马德明", "性别": "男", "民族": "回族"}]
    with pytest.raises(LedgerRefused) as refused:
        import_ledger(ledger_xlsx(rows), "a.xlsx", by=world.pingjiang_staff)
    assert refused.value.plan.error_rows[0].number == 2


def test_a_legacy_15_digit_number_is_converted_with_a_warning(world):
    legacy = MA_JIANHUA_ID[:6] + MA_JIANHUA_ID[8:17]
    plan = import_ledger(
        ledger_xlsx([person_row(姓名="马德明", 身份证号=legacy)]),
        "a.xlsx",
        by=world.pingjiang_staff,
    )
    assert plan.rows[0].warnings
    assert plan.warnings()[0][1] == 1
    assert Person.objects.get(name="马德明").id_number == MA_JIANHUA_ID


def test_an_archived_household_is_not_silently_revived(world, register):
    register.ma_household.archived_at = "2026-01-01T00:00:00+08:00"
    register.ma_household.save()
    rows = [person_row(户号="PJL-001", 地址="", 姓名="马晓梅", 性别="女")]
    with pytest.raises(LedgerRefused):
        import_ledger(ledger_xlsx(rows), "a.xlsx", by=world.pingjiang_staff)
    assert not Person.objects.filter(name="马晓梅").exists()


def test_a_household_first_imported_without_a_number_gets_it_later(world):
    import_ledger(
        ledger_xlsx(
            [person_row(户号="", 地址="平江路10号", 姓名="马德明", 身份证号=MA_JIANHUA_ID)]
        ),
        "a.xlsx",
        by=world.pingjiang_staff,
    )
    plan = import_ledger(
        ledger_xlsx(
            [person_row(户号="PJL-010", 地址="平江路10号", 姓名="马德明", 身份证号=MA_JIANHUA_ID)]
        ),
        "a.xlsx",
        by=world.pingjiang_staff,
    )
    assert plan.rows[0].outcome == OUTCOME_UPDATE
    assert Household.objects.get().ledger_number == "PJL-010"
    assert Person.objects.count() == 1


def test_an_address_shared_by_several_households_needs_the_number(world):
    from tests.factories import HouseholdFactory

    HouseholdFactory(community=world.pingjianglu, address="平江路11号")
    HouseholdFactory(community=world.pingjianglu, address="平江路11号")
    rows = [person_row(户号="", 地址="平江路11号", 姓名="马德明", 性别="男")]
    with pytest.raises(LedgerRefused) as refused:
        import_ledger(ledger_xlsx(rows), "a.xlsx", by=world.pingjiang_staff)
    assert "平江路11号" in refused.value.plan.error_rows[0].messages[0]


def test_a_person_listed_in_another_household_moves_there_with_history(world, register):
    ma = register.ma_xiaodong
    rows = [
        person_row(
            户号="GJ-555", 社区="干将社区", 地址="干将西路5号", 姓名="马晓东", 身份证号=ma.id_number
        )
    ]
    plan = import_ledger(ledger_xlsx(rows), "a.xlsx", by=world.pingjiang_staff)
    assert plan.rows[0].outcome == OUTCOME_UPDATE
    ma.refresh_from_db()
    assert ma.household.ledger_number == "GJ-555"
    assert ma.community == world.ganjiang  # the scoping copy follows the household
    assert ma.history.order_by("-history_date").first().community_id == world.ganjiang.pk
    assert Person.objects.filter(id_number=ma.id_number).count() == 1


def test_a_person_renamed_by_import_is_found_by_the_new_pinyin(world, register):
    """Regression: the import wrote the new name but kept the old pinyin, so search missed it."""
    ma = register.ma_xiaodong
    rows = [
        person_row(户号="PJL-001", 地址="平江路112号3幢201室", 姓名="马海东", 身份证号=ma.id_number)
    ]
    plan = import_ledger(ledger_xlsx(rows), "a.xlsx", by=world.pingjiang_staff)
    assert [r.outcome for r in plan.rows] == [OUTCOME_UPDATE]
    ma.refresh_from_db()
    assert (ma.name, ma.name_pinyin, ma.name_initials) == ("马海东", "mahaidong", "mhd")


def test_a_writing_import_locks_the_rows_it_matched(world, register):
    """Read without a lock, a member edited while a large file is being checked would be
    overwritten with what the import read before. On PostgreSQL the matched households and
    persons are read FOR UPDATE (SQLite lets one writer in at a time and has no row locks)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    rows = [
        person_row(
            户号="PJL-001",
            地址="",
            姓名="马晓梅",
            性别="女",
            与户主关系="女儿",
            身份证号=valid_id_number("320508", "20010304", "124"),
        )
    ]
    with CaptureQueriesContext(connection) as queries:
        import_ledger(ledger_xlsx(rows), "a.xlsx", by=world.pingjiang_staff)
    locked = [q["sql"] for q in queries if "FOR UPDATE" in q["sql"]]
    tables = {
        table
        for table in ("residents_household", "residents_person")
        if any(f'FROM "{table}"' in sql for sql in locked)
    }
    expected = {"residents_household", "residents_person"}
    assert tables == (expected if connection.features.has_select_for_update else set())
