"""The narrative of a report: a text in seed 003's structure (a title, then 一、基本情况 …
七、合作商户与服务卡) in which each figure is written ``{{ key }}`` and filled in with the
report's values; ``{{ area }}`` and ``{{ period }}`` are the report's area and period.

The text is plain: a line starting with a Chinese section mark (一、 … 十、) or with "# " is a
heading, every other non-empty line a paragraph. The Word export and the report page both
read it through ``paragraphs``.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from reports.catalogue import MEDIAN, SHARE

# The special placeholders that are not figures.
AREA, PERIOD = "area", "period"
SPECIAL = (AREA, PERIOD)
MISSING = "—"

DEFAULT_TEMPLATE = """\
# {{ area }}{{ period }}民族工作总结

一、基本情况
{{ area }}现有户籍人口{{ registered_population }}人，流动人口{{ floating_population }}人。\
现有{{ ethnic_groups }}个民族成份的少数民族{{ minority_persons }}人、\
共{{ minority_households }}户，其中户籍少数民族{{ registered_minority_persons }}人，\
占户籍人口的{{ minority_share }}；外来流动人口中的少数民族同胞{{ floating_minority_persons }}人。\
这些人员分布于各个小区、社区单位、两新组织等，\
其中分布在社区所在单位的少数民族人员有{{ minority_persons_work_unit }}人。

二、组织建设
辖区{{ communities }}个社区中，有{{ secretary_liaison_communities }}个社区由书记担任统战联络员；\
建有少数民族联络组{{ liaison_groups }}个，联络员{{ liaisons }}名，形成了街道、社区、联络组三级\
纵横交错的组织网络。本期召开民族工作会议{{ meetings_held }}次（按制度应开{{ meetings_due }}次），\
定期研究和协调民族工作。\
将创建经费列入年初预算，本年度安排经费{{ budget }}元，已支出{{ budget_spent }}元\
（占{{ budget_spent_share }}），用于开展民族工作宣传、帮困及各项活动。

三、活动开展
本期走访少数民族家庭{{ visits }}次，走访到{{ minority_households_visited }}户，占少数民族家庭的\
{{ households_visited_share }}；重大节日走访覆盖率{{ festival_visit_coverage }}。\
举办民族政策宣传、文艺汇演、“民族之家”等各类活动{{ activities_held }}场，\
参与{{ activity_participants }}人次，活动经费{{ activity_cost }}元。

四、服务与维权
通过服务和维权热线、接待窗口，接待涉及少数民族同胞的各类咨询和求助{{ consultations }}起，\
本期办结（含此前受理的）{{ consultations_resolved }}起，\
办结用时中位数为{{ consultation_median_days }}天，\
及时有效地保护了少数民族同胞的合法权益。

五、帮困
切实落实低保政策并利用社区资源开展帮困。现有困难少数民族家庭{{ hardship_households }}户，\
其中低保家庭{{ dibao_households }}户，本期发放少数民族低保补差{{ dibao_supplement }}元；\
联络员与困难少数民族同胞结对帮扶{{ pairings_active }}对，帮扶款物折合{{ assistance_value }}元。

六、共建与荣誉
少数民族同胞积极参与社区精神文明建设，少数民族志愿者有{{ volunteers }}人，占少数民族人口总数的\
{{ volunteer_share }}；被评为“民族团结文明家庭”的有{{ model_families }}户，\
占少数民族家庭总数的{{ model_family_share }}；民族团结特色楼组有{{ featured_buildings }}个。

七、合作商户与服务卡
与{{ merchants }}家合作商户签订服务协议，现行有效协议{{ agreements_in_force }}份；\
本期发放服务卡{{ cards_issued }}张，期末在用{{ cards_active }}张。本期持卡服务{{ card_uses }}人次，\
惠及{{ card_holders_served }}名持卡人，优惠金额合计{{ benefit_value }}元。
"""

_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_SECTION_MARK = re.compile(r"^[一二三四五六七八九十]+、")
_TWO_PLACES = Decimal("0.01")


def placeholders(template: str) -> list[str]:
    """The keys a template writes as ``{{ key }}``, in order of first use."""
    return list(dict.fromkeys(match.group(1) for match in _PLACEHOLDER.finditer(template or "")))


def figure_placeholders(template: str) -> list[str]:
    """The placeholders that should be figures (all but ``{{ area }}`` and ``{{ period }}``)."""
    return [key for key in placeholders(template) if key not in SPECIAL]


def is_money(figure) -> bool:
    """A sum of yuan, or a custom figure marked as money (the dibao supplement, the budget)."""
    return figure.is_money


def format_value(figure, value) -> str:
    """A figure's value as the text shows it: whole numbers without decimals, money with two,
    shares as "12.5%", medians with one decimal, anything missing as "—". ``figure`` may be
    None (a plain number)."""
    if value is None or value == "":
        return MISSING
    if isinstance(value, str):
        return value
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    if not number.is_finite():
        return MISSING
    if figure is not None and figure.measure == SHARE:
        return f"{number.quantize(Decimal('0.1'))}%"
    if figure is not None and is_money(figure):
        return f"{number.quantize(_TWO_PLACES)}"
    if figure is not None and figure.measure == MEDIAN:
        return f"{number.quantize(Decimal('0.1'))}"
    if number == number.to_integral_value():
        return f"{number.quantize(Decimal(1))}"
    return f"{number.normalize():f}"


def fill(template: str, values: dict[str, object]) -> str:
    """The template with each ``{{ key }}`` replaced by its formatted value from ``values``
    (strings, such as the area's name, are used as they are); an unknown key or a missing
    value is written "—"."""
    from reports.catalogue import catalogue

    known = catalogue()

    def replace(match):
        key = match.group(1)
        if key not in values:
            return MISSING
        return format_value(known.get(key), values[key])

    return _PLACEHOLDER.sub(replace, template or "")


def paragraphs(text: str) -> list[tuple[str, str]]:
    """The text as ("heading" | "text", line) pairs, empty lines left out. A line starting
    with a section mark (一、) or "# " is a heading ("# " itself is dropped)."""
    found = []
    for raw in (text or "").splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("# "):
            found.append(("heading", line[2:].strip()))
        elif _SECTION_MARK.match(line):
            found.append(("heading", line))
        else:
            found.append(("text", line))
    return found
