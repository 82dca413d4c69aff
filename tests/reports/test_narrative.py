"""The narrative: seed 003's summary with its XX as placeholders, filled with a report's
values, and read back as headings and paragraphs."""

from decimal import Decimal

from reports.catalogue import catalogue, figure
from reports.narrative import (
    DEFAULT_TEMPLATE,
    figure_placeholders,
    fill,
    format_value,
    paragraphs,
    placeholders,
)

SECTIONS = [
    "一、基本情况",
    "二、组织建设",
    "三、活动开展",
    "四、服务与维权",
    "五、帮困",
    "六、共建与荣誉",
    "七、合作商户与服务卡",
]


def test_the_default_template_follows_seed_003():
    parts = paragraphs(DEFAULT_TEMPLATE)
    headings = [line for kind, line in parts if kind == "heading"]
    assert headings[0] == "{{ area }}{{ period }}民族工作总结"  # the title line
    assert headings[1:] == SECTIONS
    opening = parts[2][1]
    assert opening.startswith(
        "{{ area }}现有户籍人口{{ registered_population }}人，流动人口{{ floating_population }}人。"
        "现有{{ ethnic_groups }}个民族成份的少数民族{{ minority_persons }}人、"
        "共{{ minority_households }}户，其中户籍少数民族{{ registered_minority_persons }}人，"
        "占户籍人口的{{ minority_share }}"
    )


def test_every_placeholder_of_the_default_template_is_a_figure(db):
    known = catalogue()
    assert [key for key in figure_placeholders(DEFAULT_TEMPLATE) if key not in known] == []
    assert {"area", "period"} <= set(placeholders(DEFAULT_TEMPLATE))
    # the figures the seed's sections speak of
    for key in ["liaisons", "visits", "consultations", "dibao_supplement", "card_uses"]:
        assert key in figure_placeholders(DEFAULT_TEMPLATE)


def test_values_are_written_as_people_read_them(db):
    assert format_value(figure("minority_persons"), 1234) == "1234"
    assert format_value(figure("minority_persons"), Decimal("12.00")) == "12"
    assert format_value(figure("minority_share"), Decimal("12.50")) == "12.5%"
    assert format_value(figure("dibao_supplement"), Decimal("1200")) == "1200.00"
    assert format_value(figure("assistance_value"), 350) == "350.00"
    assert format_value(figure("consultation_median_days"), Decimal("3.50")) == "3.5"
    assert format_value(figure("minority_persons"), None) == "—"
    assert format_value(None, Decimal("2.50")) == "2.5"


def test_fill_replaces_each_placeholder_and_marks_what_is_missing(db):
    text = (
        "{{ area }}{{ period }}：少数民族{{ minority_persons }}人，占{{ minority_share }}，"
        "低保补差{{dibao_supplement}}元，走访{{ visits }}次，{{ 不存在 }}。"
    )
    filled = fill(
        text,
        {
            "area": "平江路社区",
            "period": "2025年",
            "minority_persons": 36,
            "minority_share": Decimal("4.5"),
            "dibao_supplement": Decimal("2400"),
            "visits": None,
        },
    )
    assert filled == "平江路社区2025年：少数民族36人，占4.5%，低保补差2400.00元，走访—次，—。"


def test_paragraphs_tell_headings_from_text():
    text = (
        "# 平江街道2025年民族工作总结\n\n一、基本情况\n现有少数民族36人。\n  \n"
        "十、其他\n1、立足“三个纳入”。"
    )
    assert paragraphs(text) == [
        ("heading", "平江街道2025年民族工作总结"),
        ("heading", "一、基本情况"),
        ("text", "现有少数民族36人。"),
        ("heading", "十、其他"),
        ("text", "1、立足“三个纳入”。"),
    ]
    assert paragraphs("") == []
