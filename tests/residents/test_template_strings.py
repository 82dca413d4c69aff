"""Every word the register's templates show goes through translation: text between tags and
the attributes a screen reader or a browser shows (aria-label, placeholder, title, alt)."""

import re
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "residents"
SHOWN_ATTRIBUTES = re.compile(r'\b(aria-label|placeholder|title|alt)="([^"]*)"')
WORD = re.compile(r"[A-Za-z]{2,}")


def untranslated(source: str) -> list[str]:
    text = re.sub(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}", "", source, flags=re.S)
    text = re.sub(r"{%\s*blocktranslate.*?{%\s*endblocktranslate\s*%}", "", text, flags=re.S)
    text = re.sub(r"{%.*?%}|{{.*?}}|{#.*?#}", "", text, flags=re.S)
    text = re.sub(r"<(style|script)\b.*?</\1>", "", text, flags=re.S)
    found = [
        f'{name}="{value}"' for name, value in SHOWN_ATTRIBUTES.findall(text) if WORD.search(value)
    ]
    between_tags = re.sub(r"<[^>]*>", "\n", text)
    found += [line.strip() for line in between_tags.splitlines() if WORD.search(line)]
    return found


def test_the_scan_finds_an_untranslated_label():
    assert untranslated('<nav aria-label="breadcrumb">') == ['aria-label="breadcrumb"']
    assert untranslated("<p>Nothing here</p>") == ["Nothing here"]
    assert untranslated("<p>{% translate 'Nothing here' %}</p>") == []


@pytest.mark.parametrize(
    "path", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: str(p.relative_to(TEMPLATES))
)
def test_register_templates_translate_every_shown_word(path):
    assert untranslated(path.read_text(encoding="utf-8")) == []
