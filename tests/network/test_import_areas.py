"""python manage.py import_areas FILE: loads a division list; a bad file changes nothing."""

import io

import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook

from network.models import Area, AreaLevel

GOOD_CSV = """代码,名称,级别,上级代码
320508000000,姑苏区,区,
320508001000,平江街道,街道,320508000000
320508001001,平江路社区,社区,320508001000
320508001002,钮家巷社区,社区,
３２０５０８００２０００,沧浪街道,,
320508002001, 道前社区 ,,
"""


def write(tmp_path, name, content, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(content.encode(encoding))
    return path


def run(path):
    out = io.StringIO()
    call_command("import_areas", str(path), stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_loads_a_division_list_with_full_width_digits_and_spaces(tmp_path):
    output = run(write(tmp_path, "姑苏区.csv", GOOD_CSV))
    assert "6 created" in output
    daoqian = Area.objects.get(code="320508002001")
    assert daoqian.name == "道前社区"
    assert daoqian.parent.name == "沧浪街道"
    assert daoqian.level == AreaLevel.COMMUNITY
    district = Area.objects.get(code="320508000000")
    assert Area.objects.under(district).count() == 6


@pytest.mark.django_db
def test_rerunning_updates_names_without_duplicating(tmp_path):
    run(write(tmp_path, "a.csv", GOOD_CSV))
    renamed = GOOD_CSV.replace("钮家巷社区", "钮家巷社区居委会")
    output = run(write(tmp_path, "b.csv", renamed))
    assert "0 created, 1 updated, 5 unchanged" in output
    assert Area.objects.count() == 6
    assert Area.objects.get(code="320508001002").name == "钮家巷社区居委会"


@pytest.mark.django_db
def test_rerunning_keeps_a_community_in_its_zone(tmp_path):
    run(write(tmp_path, "a.csv", GOOD_CSV))
    sub = Area.objects.get(code="320508001000")
    zone = Area.objects.create(name="北片", level=AreaLevel.ZONE, parent=sub)
    community = Area.objects.get(code="320508001001")
    community.parent = zone
    community.save()
    run(write(tmp_path, "b.csv", GOOD_CSV))
    community.refresh_from_db()
    assert community.parent == zone
    assert community.path.startswith(zone.path)


@pytest.mark.django_db
def test_gb18030_csv_from_chinese_excel_is_read(tmp_path):
    run(write(tmp_path, "gbk.csv", GOOD_CSV, encoding="gb18030"))
    assert Area.objects.filter(name="平江路社区").exists()


@pytest.mark.django_db
def test_xlsx_is_read(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["代码", "名称"])
    sheet.append([320508000000, "姑苏区"])  # a code typed as a number
    sheet.append(["320508003000", "双塔街道"])
    sheet.append(["320508003001", "定慧寺社区"])
    path = tmp_path / "list.xlsx"
    book.save(path)
    run(path)
    assert Area.objects.get(code="320508003001").parent.code == "320508003000"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ("32050800100,短代码社区,,", "Row 8"),
        ("320508009001,无上级社区,,", "320508009000"),
        ("320508001001,重复社区,,", "twice"),
        ("320508001003,,,", "Row 8"),
        ("320508001004,错级社区,街道,", "Row 8"),
        ("320508001005,未知级别社区,大队,", "Row 8"),
        ("320509001006,跨区社区,,320508001000", "Row 8"),
    ],
)
def test_a_bad_row_refuses_the_whole_file_and_names_it(tmp_path, bad_line, message):
    path = write(tmp_path, "bad.csv", GOOD_CSV + bad_line + "\n")
    with pytest.raises(CommandError) as excinfo:
        run(path)
    assert message in str(excinfo.value) or "第 8 行" in str(excinfo.value)
    assert Area.objects.count() == 0


@pytest.mark.django_db
def test_missing_columns_and_wrong_file_type_are_refused(tmp_path):
    with pytest.raises(CommandError):
        run(write(tmp_path, "x.csv", "编号,名字\n1,甲\n"))
    with pytest.raises(CommandError):
        run(write(tmp_path, "x.txt", GOOD_CSV))
    with pytest.raises(CommandError):
        run(tmp_path / "missing.csv")
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(CommandError):
        run(broken)
    assert Area.objects.count() == 0
