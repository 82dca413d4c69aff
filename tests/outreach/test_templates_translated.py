"""Every word the outreach pages show goes through translation (the catalogue test then
checks each msgid has its Chinese)."""

from pathlib import Path

import pytest

from tests.residents.test_template_strings import untranslated

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates" / "outreach"


@pytest.mark.parametrize(
    "path", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: str(p.relative_to(TEMPLATES))
)
def test_outreach_templates_translate_every_shown_word(path):
    assert untranslated(path.read_text(encoding="utf-8")) == []
