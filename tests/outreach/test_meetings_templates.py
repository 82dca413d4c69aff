"""Every word the meeting templates show goes through translation (the register's scan,
applied to templates/outreach/meetings)."""

from pathlib import Path

import pytest

from tests.residents.test_template_strings import untranslated

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "outreach" / "meetings"


def test_there_are_meeting_templates_to_scan():
    assert len(list(TEMPLATES.glob("*.html"))) >= 4


@pytest.mark.parametrize("path", sorted(TEMPLATES.glob("*.html")), ids=lambda p: p.name)
def test_meeting_templates_translate_every_shown_word(path):
    assert untranslated(path.read_text(encoding="utf-8")) == []
