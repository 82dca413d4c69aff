"""Every word the card-use, settlement and till pages show goes through translation."""

from pathlib import Path

import pytest

from tests.residents.test_template_strings import untranslated

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "services"
MINE = sorted([*(TEMPLATES / "uses").glob("*.html"), *(TEMPLATES / "till").glob("*.html")])


def test_there_are_templates_to_scan():
    assert len(MINE) >= 10


@pytest.mark.parametrize("path", MINE, ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_use_and_till_templates_translate_every_shown_word(path):
    assert untranslated(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("path", MINE, ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_no_inline_script(path):
    text = path.read_text(encoding="utf-8")
    assert "<script>" not in text and "onclick" not in text
