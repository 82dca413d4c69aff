"""The forms of a rendered page, read from its HTML as a browser would: each form's method,
action and fields (inputs, selects, textareas, hidden management fields), with the values
the page fills in, so a sweep can post them back changed."""

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Field:
    name: str
    kind: str  # the input's type, "select", "select-multiple" or "textarea"
    value: str = ""
    options: list = field(default_factory=list)
    checked: bool = False


@dataclass
class Form:
    method: str
    action: str
    fields: list = field(default_factory=list)

    def names(self) -> list[str]:
        seen = []
        for f in self.fields:
            if f.name not in seen:
                seen.append(f.name)
        return seen


SKIPPED_INPUTS = {"submit", "button", "reset", "image", "file"}


class _Parser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form = None
        self._select = None
        self._option = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self._form = Form(a.get("method", "get").lower(), a.get("action", ""))
            self.forms.append(self._form)
        elif self._form is None or "name" not in a and tag != "option":
            return
        elif tag == "input":
            kind = a.get("type", "text").lower()
            if kind in SKIPPED_INPUTS or a["name"] == "csrfmiddlewaretoken":
                return
            self._form.fields.append(
                Field(a["name"], kind, a.get("value", ""), checked="checked" in a)
            )
        elif tag == "select":
            kind = "select-multiple" if "multiple" in a else "select"
            self._select = Field(a["name"], kind)
            self._form.fields.append(self._select)
        elif tag == "option" and self._select is not None:
            self._option = [a.get("value"), "selected" in a, ""]
            self._select.options.append(self._option)
        elif tag == "textarea":
            self._textarea = Field(a["name"], "textarea")
            self._form.fields.append(self._textarea)

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea.value += data
        if self._option is not None:
            self._option[2] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
            self._option = None
        elif tag == "option":
            self._option = None
        elif tag == "textarea":
            self._textarea = None


def forms_of(html: str) -> list[Form]:
    parser = _Parser()
    parser.feed(html)
    return parser.forms


PLAUSIBLE = {
    "date": "2026-03-01",
    "datetime-local": "2026-03-01T09:30",
    "time": "09:30",
    "month": "2026-03",
    "number": "1",
    "email": "maxiaodong@example.cn",
    "tel": "13912345678",
    "url": "https://www.gusu.gov.cn/",
    "password": "Tongxin-2026-x",
}


def baseline(form: Form) -> dict:
    """What the page would send if the user filled every empty box with something
    plausible and left every choice as shown (or took the first real option)."""
    body: dict = {}
    for f in form.fields:
        if f.kind in {"checkbox", "radio"}:
            if f.checked:
                body.setdefault(f.name, []).append(f.value or "on")
            continue
        if f.kind in {"select", "select-multiple"}:
            chosen = [v if v is not None else text for v, sel, text in f.options if sel]
            if not chosen:
                real = [v if v is not None else text for v, _sel, text in f.options]
                chosen = [v for v in real if v][:1]
            if chosen:
                body.setdefault(f.name, []).extend(chosen)
            continue
        value = f.value
        if not value and f.kind != "hidden":
            value = PLAUSIBLE.get(f.kind, "平江路112号")
        body.setdefault(f.name, []).append(value)
    return {k: v[0] if len(v) == 1 else v for k, v in body.items()}
