"""Every word the visit pages show goes through translation, and each new msgid has its
Chinese in locale/pending/visits.json (with the same placeholders)."""

import json
import re
from pathlib import Path

import pytest

from tests.residents.test_template_strings import untranslated

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates" / "outreach" / "visits"
PENDING = ROOT / "locale" / "pending" / "visits.json"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\{\s*\w+\s*\}\}")


@pytest.mark.parametrize("path", sorted(TEMPLATES.glob("*.html")), ids=lambda p: p.name)
def test_visit_templates_translate_every_shown_word(path):
    assert untranslated(path.read_text(encoding="utf-8")) == []


def test_pending_translations_are_chinese_with_the_same_placeholders():
    pending = json.loads(PENDING.read_text(encoding="utf-8"))
    assert pending
    for msgid, msgstr in pending.items():
        assert re.search(r"[\u4e00-\u9fff]", msgstr), msgid
        assert sorted(PLACEHOLDER.findall(msgid)) == sorted(PLACEHOLDER.findall(msgstr)), msgid
