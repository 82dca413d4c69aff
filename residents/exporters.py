"""Exports of the register as files (pretix's exporter idea: a small class per file kind
with an identifier, a label and a method that writes the file).

Rows come from ``selectors.Presenter``, so a file holds exactly what the user's page
shows, masked the same way. A cell starting with ``= + - @`` (or a tab or carriage return)
is written as text with a leading apostrophe, so a spreadsheet never runs it as a formula.
Both writers stream rows into a spooled temporary file: 100,000 rows never sit in memory as
objects (openpyxl in write-only mode, csv row by row).
"""

import csv
import datetime
import io
import tempfile
from collections.abc import Iterable

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from residents.selectors import PersonRow, Presenter, Viewer
from residents.typed_input import without_control_characters

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SPOOL_LIMIT = 8 * 1024 * 1024  # bytes kept in memory before the file goes to disk


def safe_cell(value):
    """Text a spreadsheet shows as it is, never evaluates."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def register_header() -> list[str]:
    return [
        _("Community"),
        _("Household number"),
        _("Address"),
        _("Registration"),
        _("Full name"),
        _("Relation to head"),
        _("Sex"),
        _("Age"),
        _("Ethnic group"),
        _("ID number"),
        _("Status"),
        _("Flags"),
    ]


def register_cells(row: PersonRow, archived: str) -> list:
    return [
        row.community,
        row.household_number,
        row.address,
        row.registration,
        row.name,
        row.relation,
        row.sex,
        row.age if row.age is not None else "",
        row.ethnicity,
        row.id_number,
        f"{row.status} · {archived}" if row.archived else row.status,
        "、".join(row.flags),
    ]


class RegisterExporter:
    """The registry list as a file: one row per person, the columns of the page."""

    identifier = "residents.register"
    label = gettext_lazy("Resident register")
    file_format = ""
    extension = ""
    content_type = ""

    def __init__(self, *, viewer: Viewer, today: datetime.date):
        self.viewer = viewer
        self.today = today
        self.presenter = Presenter(viewer, today)
        self.archived_label = _("archived")
        self.row_count = 0

    def rows(self, persons: Iterable, clean=None) -> Iterable[list]:
        """The cells of each person, made safe; ``clean`` (applied first, so it cannot
        uncover a formula) adapts text to what the file can hold."""
        for person in persons:
            self.row_count += 1
            cells = register_cells(self.presenter.flat_row(person), self.archived_label)
            if clean is not None:
                cells = [clean(c) for c in cells]
            yield [safe_cell(c) for c in cells]

    def filename(self) -> str:
        return f"{_('register')}-{self.today:%Y%m%d}.{self.extension}"

    def write(self, persons: Iterable, out) -> None:
        """Write the file for ``persons`` into the binary file ``out``."""
        raise NotImplementedError

    def export(self, persons: Iterable):
        """A spooled temporary file holding the export, rewound to its start."""
        # Handed to FileResponse, which closes it once sent.
        out = tempfile.SpooledTemporaryFile(max_size=SPOOL_LIMIT)  # noqa: SIM115
        self.write(persons, out)
        out.seek(0)
        return out


class RegisterCsvExporter(RegisterExporter):
    identifier = "residents.register.csv"
    label = gettext_lazy("Resident register (csv)")
    file_format = "csv"
    extension = "csv"
    content_type = "text/csv; charset=utf-8"

    def write(self, persons, out):
        # UTF-8 with a byte-order mark, or Excel opens Chinese text as mojibake.
        text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
        writer = csv.writer(text)
        writer.writerow([safe_cell(h) for h in register_header()])
        for cells in self.rows(persons):
            writer.writerow(cells)
        text.flush()
        text.detach()  # leave ``out`` open for the response


class RegisterXlsxExporter(RegisterExporter):
    identifier = "residents.register.xlsx"
    label = gettext_lazy("Resident register (Excel)")
    file_format = "xlsx"
    extension = "xlsx"
    content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

    def write(self, persons, out):
        from openpyxl import Workbook

        def legal(value):  # control characters from old ledgers would make openpyxl fail
            return without_control_characters(value) if isinstance(value, str) else value

        book = Workbook(write_only=True)
        sheet = book.create_sheet(title=str(_("Register"))[:31])
        sheet.append([safe_cell(h) for h in register_header()])
        for cells in self.rows(persons, clean=legal):
            sheet.append(cells)
        book.save(out)


EXPORTERS = {cls.file_format: cls for cls in (RegisterXlsxExporter, RegisterCsvExporter)}
