"""Finding an ethnic group (民族) the way staff type it: 回, 回族, 03, 3, Hui or HU.

The 56 groups of GB/T 3304-1991 plus the extension codes 97 (其他未识别民族) and 98
(外国血统中国籍人士) are loaded by migration from data/gb3304-ethnic-groups.csv. An unknown
name (拉牯族, a typo in seed 003) is an error, never a new group.
"""

from django.utils.translation import gettext as _

ALIASES = {"毛难族": "毛南族", "崩龙族": "德昂族", "其它": "其他", "穿青人": "其他"}


class EthnicityNotFound(ValueError):
    pass


def lookup_table(ethnicities) -> dict[str, object]:
    """Every spelling that names a group → the group; build once per request or import."""
    table: dict[str, object] = {}
    for group in ethnicities:
        bare = group.name.split("（")[0]
        keys = {group.code, str(int(group.code)), group.name, bare, bare.removesuffix("族")}
        if group.romanization:
            keys |= {group.romanization.lower(), group.letter_code.lower()}
        for key in keys:
            table[key.lower()] = group
    for alias, target in ALIASES.items():
        if target.lower() in table:
            table[alias.lower()] = table[target.lower()]
            table[alias.removesuffix("族").lower()] = table[target.lower()]
    return table


def find_ethnicity(text, table=None):
    from residents.models import Ethnicity

    key = str(text or "").strip().replace(" ", "").replace("\u3000", "").lower()
    key = key.translate({0xFF10 + i: ord("0") + i for i in range(10)})
    if not key:
        raise EthnicityNotFound(_("Enter an ethnic group."))
    table = table if table is not None else lookup_table(Ethnicity.objects.all())
    group = table.get(key) or table.get(key.removesuffix("族"))
    if group is None and key.startswith("其他"):
        group = table.get("97")
    if group is None:
        raise EthnicityNotFound(
            _("%(t)s is not one of the 56 ethnic groups of GB/T 3304 (or 97/98).") % {"t": text}
        )
    return group
