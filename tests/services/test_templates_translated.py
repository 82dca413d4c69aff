"""Every word the services pages (and the shared list, filter, export and history pieces in
templates/includes, moved there from outreach) show goes through translation; the catalogue
test then checks each msgid has its Chinese."""

from pathlib import Path

import pytest

from tests.residents.test_template_strings import untranslated

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
CHECKED = sorted(
    [*(TEMPLATES / "services").rglob("*.html"), *(TEMPLATES / "includes").glob("*.html")]
)


@pytest.mark.parametrize("path", CHECKED, ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_services_and_shared_templates_translate_every_shown_word(path):
    assert untranslated(path.read_text(encoding="utf-8")) == []


def test_the_shared_pieces_are_checked():
    assert TEMPLATES / "includes" / "changes.html" in CHECKED
