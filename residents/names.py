"""Pinyin of Chinese names, stored beside the name so staff can search 马晓东 by
``maxiaodong`` or ``mxd`` (pypinyin, a well-kept dictionary-based converter)."""

import functools
import re

from pypinyin import Style, lazy_pinyin

# Surnames whose reading differs from the character's common reading.
SURNAME_READINGS = {
    "单": "shan",
    "曾": "zeng",
    "解": "xie",
    "仇": "qiu",
    "朴": "piao",
    "区": "ou",
    "查": "zha",
    "覃": "qin",
    "盖": "ge",
    "尉迟": "yuchi",
    "万俟": "moqi",
}


@functools.lru_cache(maxsize=65536)  # imports and demo data repeat names a lot
def _syllables(name: str) -> tuple[str, ...]:
    name = re.sub(r"\s+", "", name or "")
    for surname, reading in SURNAME_READINGS.items():
        if name.startswith(surname) and len(name) > len(surname):
            rest = lazy_pinyin(name[len(surname) :], style=Style.NORMAL, errors="default")
            return (reading, *rest)
    return tuple(lazy_pinyin(name, style=Style.NORMAL, errors="default"))


def pinyin_of(name: str) -> str:
    """马晓东 → maxiaodong (ü written v, non-letters dropped)."""
    return re.sub(r"[^a-z]", "", "".join(_syllables(name)).lower().replace("ü", "v"))


def initials_of(name: str) -> str:
    """马晓东 → mxd."""
    return "".join(s[0] for s in _syllables(name) if s and s[0].isalpha()).lower()


def masked_name(name: str) -> str:
    """A name as a partner merchant sees it: the first and (for three characters or more)
    the last character kept, the rest starred — 马晓东 → 马*东, 马丽 → 马*, 阿依古丽 → 阿**丽.
    A name written in Latin letters keeps its first letter of each word."""
    name = (name or "").strip()
    if not name:
        return ""
    if name.isascii():
        return " ".join(word[0] + "*" * (len(word) - 1) for word in name.split())
    if len(name) <= 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
