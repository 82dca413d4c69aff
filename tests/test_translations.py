"""The Chinese catalogue is complete, and the compiled .mo matches the .po."""

import gettext
import re
from pathlib import Path

PO = Path(__file__).resolve().parent.parent / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def entries():
    """(flags, msgid, msgstrs) for each entry of the .po, in a few lines of parsing."""
    for block in PO.read_text(encoding="utf-8").split("\n\n"):
        lines = [line for line in block.splitlines() if not line.startswith("#~")]
        flags = " ".join(line for line in lines if line.startswith("#,"))
        fields: dict[str, str] = {}
        key = None
        for line in lines:
            match = re.match(r'^(msgid|msgid_plural|msgstr(?:\[\d+\])?) "(.*)"$', line)
            if match:
                key = match.group(1)
                fields[key] = match.group(2)
            elif line.startswith('"') and key:
                fields[key] += line[1:-1]
        if "msgid" in fields:
            strs = [v for k, v in fields.items() if k.startswith("msgstr")]
            yield flags, fields["msgid"], strs


def test_every_entry_is_translated_and_none_is_fuzzy():
    problems = [
        msgid for flags, msgid, strs in entries() if msgid and ("fuzzy" in flags or not all(strs))
    ]
    assert problems == []


def test_compiled_catalogue_is_up_to_date():
    with PO.with_suffix(".mo").open("rb") as handle:
        catalog = gettext.GNUTranslations(handle)._catalog
    compiled = {key[0] if isinstance(key, tuple) else key for key in catalog}
    missing = [
        msgid
        for _flags, msgid, _strs in entries()
        if msgid
        and msgid.encode().decode("unicode_escape") not in compiled
        and msgid not in compiled
    ]
    assert missing == []


def test_pages_speak_chinese_by_default(client, db):
    page = client.get("/login/").content.decode()
    assert "登录" in page
    client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    assert "Sign in" in client.get("/login/").content.decode()
