"""``manage.py figures --area CODE --period P [--format table|json]``: every figure of the
catalogue for one area and period, as a table by section or as JSON.

``--list`` prints the catalogue itself (key, label, unit, definition) as a Markdown table, the
one in the README's "Figures" section.
"""

import json
import unicodedata
from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django.utils.translation import gettext as _

from network.models import Area
from reports import catalogue
from reports.catalogue import Section
from reports.periods import PeriodError, parse_period


def find_area(text) -> Area:
    """The area with division code ``text`` (full-width digits and spaces allowed), or else
    the one area with that exact name."""
    cleaned = unicodedata.normalize("NFKC", str(text or "")).strip()
    if not cleaned:
        raise CommandError(_("Give the area's 12-digit division code or its name."))
    if cleaned.isascii() and cleaned.isdigit():
        found = list(Area.objects.filter(code=cleaned))
    else:
        found = list(Area.objects.filter(name=cleaned)[:2])
    if not found:
        raise CommandError(
            _("No area has the division code or name “%(text)s”.") % {"text": cleaned[:40]}
        )
    if len(found) > 1:
        raise CommandError(
            _("Several areas are called “%(name)s”: give the division code.") % {"name": cleaned}
        )
    return found[0]


def shown(figure, value) -> str:
    if value is None:
        return "—"
    if figure.is_money:
        return f"{Decimal(value):.2f}"
    return str(value)


def as_number(value):
    """A value for JSON: a Decimal as a number (whole ones as integers)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def width(text: str) -> int:
    """Columns ``text`` takes in a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: str, columns: int) -> str:
    return text + " " * max(columns - width(text), 0)


class Command(BaseCommand):
    help = (
        "Print every figure of the reports' catalogue for an area and a period. --area is the "
        "area's 12-digit division code (or its exact name); --period is 2025, 2025-H1, "
        "2025-Q3, 2025-07 or 2025-03-01..2025-06-30. Example: manage.py figures --area "
        "320508001000 --period 2025-Q3 --format json"
    )

    def add_arguments(self, parser):
        parser.add_argument("--area", help="The area's 12-digit division code or exact name.")
        parser.add_argument(
            "--period", help="2025, 2025-H1, 2025-Q3, 2025-07 or 2025-03-01..2025-06-30."
        )
        parser.add_argument("--format", choices=["table", "json"], default="table")
        parser.add_argument(
            "--list",
            action="store_true",
            help="Print the catalogue (key, label, unit, definition) as a Markdown table.",
        )
        parser.add_argument(
            "--language",
            choices=[code for code, _name in settings.LANGUAGES],
            help="The language of labels and messages (default: the site's, Chinese).",
        )

    def handle(self, *args, **options):
        with translation.override(options["language"] or translation.get_language()):
            self.print_figures(options)

    def print_figures(self, options):
        figures = catalogue.catalogue()
        if options["list"]:
            self.stdout.write(self.markdown(figures))
            return
        if not options["area"] or not options["period"]:
            raise CommandError(_("Give --area and --period (or --list)."))
        area = find_area(options["area"])
        try:
            period = parse_period(options["period"])
        except PeriodError as exc:
            raise CommandError(str(exc)) from exc
        computation = catalogue.compute(list(figures), [area], period)
        values = {key: computation.value(key, area) for key in figures}
        if options["format"] == "json":
            self.stdout.write(self.json(area, period, values))
        else:
            self.stdout.write(self.table(area, period, figures, values))

    def json(self, area, period, values) -> str:
        data = {
            "area": {"code": area.code, "name": area.name, "level": area.level},
            "period": {
                "key": period.key,
                "start": period.start.isoformat(),
                "end": period.end.isoformat(),
            },
            "figures": {key: as_number(value) for key, value in values.items()},
        }
        return json.dumps(data, ensure_ascii=False, indent=2)

    def table(self, area, period, figures, values) -> str:
        code = f" ({area.code})" if area.code else ""
        lines = [
            f"{area.name}{code} · {period.label} ({period.start.isoformat()} – "
            f"{period.end.isoformat()})"
        ]
        key_width = max(len(key) for key in figures)
        label_width = max(width(str(f.label)) for f in figures.values())
        for section in Section.ORDER:
            in_section = [f for f in figures.values() if f.section == section]
            if not in_section:
                continue
            lines += ["", str(Section.LABELS[section])]
            for f in in_section:
                value = shown(f, values[f.key])
                lines.append(
                    f"  {f.key.ljust(key_width)}  {pad(str(f.label), label_width)}  "
                    f"{value.rjust(12)} {f.unit}"
                )
        return "\n".join(lines)

    def markdown(self, figures) -> str:
        lines = ["| key | label | unit | definition |", "|---|---|---|---|"]
        for section in Section.ORDER:
            for f in figures.values():
                if f.section == section:
                    cells = [f"`{f.key}`", str(f.label), str(f.unit), str(f.definition)]
                    lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        return "\n".join(lines)
