"""Every word the merchant, agreement and import pages show goes through translation."""

from pathlib import Path

import pytest

from tests.residents.test_template_strings import untranslated

ROOT = Path(__file__).resolve().parents[2] / "templates" / "services"
PAGES = sorted([*(ROOT / "merchants").glob("*.html"), *(ROOT / "import").glob("*.html")])


@pytest.mark.parametrize("path", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_merchant_pages_translate_every_shown_word(path):
    assert untranslated(path.read_text(encoding="utf-8")) == []


def test_there_are_pages_to_check():
    assert len(PAGES) >= 10
