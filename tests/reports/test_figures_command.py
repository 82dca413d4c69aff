"""``manage.py figures``: every figure of an area and period as JSON or a table, the area by
its division code or name; a bad area or period is refused with a message."""

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from network.models import Area, AreaLevel
from reports import catalogue


def run(*args) -> str:
    out = io.StringIO()
    with translation.override("en"):
        call_command("figures", *args, stdout=out)
    return out.getvalue()


def test_json_holds_every_figure_of_the_district(reports_world):
    data = json.loads(run("--area", "320508000000", "--period", "2025", "--format", "json"))
    assert data["area"] == {"code": "320508000000", "name": "姑苏区", "level": "district"}
    assert data["period"] == {"key": "2025", "start": "2025-01-01", "end": "2025-12-31"}
    assert list(data["figures"]) == list(catalogue.catalogue())
    figures = data["figures"]
    assert figures["minority_persons"] == 7
    assert figures["liaisons"] == 3
    assert figures["volunteer_share"] == 42.9  # a number, not a string
    assert figures["dibao_supplement"] == 16512
    assert figures["registered_population"] == 500
    assert figures["registered_minority_persons"] == 5  # 白玉兰 floating, 阿依吐尔逊 temporary
    assert figures["minority_share"] == 1.0  # 5 of 500


def test_area_by_name_or_full_width_code(reports_world):
    by_name = json.loads(run("--area", "平江街道", "--period", "2025-Q3", "--format", "json"))
    assert by_name["area"]["code"] == "320508001000"
    assert by_name["period"] == {"key": "2025-Q3", "start": "2025-07-01", "end": "2025-09-30"}
    assert by_name["figures"]["dibao_supplement"] == 2628  # (657 + 219 a month) × 3 months
    by_code = json.loads(
        run("--area", "３２０５０８００１０００", "--period", "２０２５－Ｑ３", "--format", "json")
    )
    assert by_code == by_name


def test_table_groups_the_figures_by_section(reports_world):
    text = run("--area", "320508002000", "--period", "2025")
    lines = text.splitlines()
    assert lines[0] == "沧浪街道 (320508002000) · Year 2025 (2025-01-01 – 2025-12-31)"
    headings = [line for line in lines if line and not line.startswith(" ")][1:]
    assert headings[:2] == ["Basic facts", "Organisation"]
    assert headings[-1] == "Partner merchants and service cards"
    rows = {line.split()[0]: line for line in lines if line.startswith("  ")}
    assert rows["volunteers"].split()[-2:] == ["1", "persons"]
    assert rows["dibao_supplement"].split()[-2:] == ["6000.00", "yuan"]
    assert rows["registered_population"].split()[-2:] == ["—", "persons"]  # no row for 沧浪


def test_list_prints_the_catalogue_as_markdown(db):
    text = run("--list")
    assert text.startswith("| key | label | unit | definition |\n|---|---|---|---|\n")
    assert "| `dibao_supplement` | Minority dibao supplement | yuan |" in text
    assert text.count("\n| `") == len(catalogue.catalogue())


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--area", "320508999999", "--period", "2025"],
            "No area has the division code or name “320508999999”.",
        ),
        (
            ["--area", "新村社区", "--period", "2025"],
            "Several areas are called “新村社区”: give the division code.",
        ),
        (
            ["--area", "  ", "--period", "2025"],
            "Give the area's 12-digit division code or its name.",
        ),
        (["--area", "320508000000", "--period", "2025-13"], "There is no month 13."),
        (["--area", "320508000000", "--period", "去年"], "“去年” is not a period"),
        (["--area", "320508000000"], "Give --area and --period (or --list)."),
    ],
)
def test_bad_area_or_period_is_refused_with_a_message(world, args, message):
    for parent, code in ((world.pingjiang, "320508001003"), (world.canglang, "320508002003")):
        Area.objects.create(code=code, name="新村社区", level=AreaLevel.COMMUNITY, parent=parent)
    with pytest.raises(CommandError) as refused:
        run(*args)
    assert str(refused.value).startswith(message)


def test_unknown_format_is_refused(world):
    with pytest.raises(CommandError, match="invalid choice"):
        run("--area", "320508000000", "--period", "2025", "--format", "xml")


def test_language_option_chooses_the_labels(db):
    out = io.StringIO()
    with translation.override("zh-hans"):
        call_command("figures", "--list", "--language", "en", stdout=out)
    assert "| `volunteers` | Minority volunteers | persons |" in out.getvalue()
