"""Reading the csv and xlsx files offices keep their ledgers in.

Chinese Excel saves csv as GB18030 more often than UTF-8, so both are tried.
"""

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _

# An .xlsx is a zip: its parts may unpack to far more than the upload (a "zip bomb"). Real
# ledgers unpack to tens of megabytes at most, compressed ten or twenty times.
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
MAX_RATIO = 100  # for parts over RATIO_FROM bytes unpacked
RATIO_FROM = 10 * 1024 * 1024


class TableError(Exception):
    """The file as a whole cannot be read; the message says why, in the user's language."""


@dataclass
class Row:
    number: int  # the row number a user sees in Excel (header is row 1)
    values: dict[str, str]

    def get(self, column: str) -> str:
        return self.values.get(column, "")


def _clean(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10]
    return str(value).replace("\u3000", " ").strip()


def read_table(
    data: bytes, filename: str, required: list[str], max_rows: int | None = None
) -> list[Row]:
    """The file's data rows; a TableError when it cannot be read, or holds more than
    ``max_rows`` rows (found while reading: the rows beyond are never read)."""
    suffix = Path(filename).suffix.lower()
    if suffix == ".csv":
        header, body = _read_csv(data)
    elif suffix == ".xlsx":
        header, body = _read_xlsx(data)
    else:
        raise TableError(
            _("Only .csv and .xlsx files can be read (got %(name)s).") % {"name": filename}
        )
    missing = [c for c in required if c not in header]
    if missing:
        raise TableError(
            _("The file lacks the column(s) %(columns)s in its first row.")
            % {"columns": "、".join(missing)}
        )
    rows = []
    for offset, cells in enumerate(body, start=2):
        values = {h: _clean(c) for h, c in zip(header, cells, strict=False) if h}
        if any(values.values()):
            rows.append(Row(offset, values))
        if max_rows is not None and (len(rows) > max_rows or offset > 2 * max_rows + 1000):
            raise TableError(
                _("The file has more than %(max)d rows; split it into smaller files.")
                % {"max": max_rows}
            )
    if not rows:
        raise TableError(_("The file has no data rows."))
    return rows


def _read_csv(data: bytes):
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes almost anything
        raise TableError(_("The csv file is neither UTF-8 nor GB18030 text."))
    reader = csv.reader(io.StringIO(text))
    header = next(_csv_rows(reader), None)
    if header is None:
        raise TableError(_("The file is empty."))
    return [_clean(h) for h in header], _csv_rows(reader)


def _csv_rows(reader):
    try:
        yield from reader
    except csv.Error as exc:  # e.g. a cell longer than the csv module accepts
        raise TableError(_("The csv file cannot be read: %(why)s") % {"why": exc}) from exc


def _read_xlsx(data: bytes):
    from openpyxl import load_workbook

    _refuse_zip_bomb(data)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        rows = _xlsx_rows(book.worksheets[0].iter_rows(values_only=True))
        header = next(rows, None)
    except TableError:
        raise
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise TableError(_("The file is not a readable .xlsx workbook.")) from exc
    if header is None:
        raise TableError(_("The file is empty."))
    return [_clean(h) for h in header], rows


def _xlsx_rows(rows):
    """The sheet's rows, read one at a time (a damaged part found late is a TableError)."""
    try:
        yield from rows
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise TableError(_("The file is not a readable .xlsx workbook.")) from exc


def _refuse_zip_bomb(data: bytes) -> None:
    """Refuse an .xlsx whose parts, as its zip directory declares them, unpack to more than
    MAX_UNPACKED_BYTES, or one whose big part is compressed beyond any real sheet. Reading
    a part never yields more than its declared size, so checking the directory suffices."""
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise TableError(_("The file is not a readable .xlsx workbook.")) from exc
    unpacked = sum(p.file_size for p in parts)
    swollen = any(
        p.file_size > RATIO_FROM and p.file_size > MAX_RATIO * max(p.compress_size, 1)
        for p in parts
    )
    if unpacked > MAX_UNPACKED_BYTES or swollen:
        raise TableError(
            _("The .xlsx file unpacks to %(size)d MB, far more than a ledger; it was not read.")
            % {"size": unpacked // (1024 * 1024)}
        )


def parse_cell_date(text: str):
    """A date as offices type it: 2026-03-01, 2026/3/1, 2026.3.1 or 2026年3月1日; None when it
    is not a real date (never an exception, so a typo becomes a row message, not a 500)."""
    import datetime
    import re

    match = re.fullmatch(
        r"\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*", text or ""
    )
    if not match:
        return None
    try:
        return datetime.date(*(int(part) for part in match.groups()))
    except ValueError:
        return None
