"""Hostile files for the upload sweeps, built in memory without ever holding what they unpack
to: an .xlsx whose sheet inflates to a gigabyte (a "zip bomb"), an .xlsx of a million rows,
renamed binaries.

The big sheets are deflate streams made of one compressed block repeated: a block compressed
after a full flush refers to nothing before it, so the same bytes can follow each other as
often as wanted, and the file is written in a blink whatever it unpacks to. The CRC is the
real one (zlib.crc32 over the repeated text, a second or less for a gigabyte), so the parts
are valid zip members and only their size makes them hostile.
"""

import io
import struct
import time
import zlib

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
    'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="台账" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)


def _cells(values) -> str:
    return "".join(f'<c t="inlineStr"><is><t>{v}</t></is></c>' for v in values)


def _row(values) -> str:
    return f"<row>{_cells(values)}</row>"


class _Member:
    def __init__(self, name: str, compressed: bytes, crc: int, size: int):
        self.name = name.encode()
        self.compressed = compressed
        self.crc = crc
        self.size = size


def _deflated(text: str) -> tuple[bytes, bytes]:
    raw = text.encode()
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return raw, c.compress(raw) + c.flush()


def _small(name: str, text: str) -> _Member:
    raw, compressed = _deflated(text)
    return _Member(name, compressed, zlib.crc32(raw), len(raw))


def _repeated(name: str, head: str, chunk: str, times: int, tail: str) -> _Member:
    """A member whose text is ``head + chunk * times + tail``, compressed without ever being
    built."""

    def flushed(raw: bytes) -> bytes:
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        return c.compress(raw) + c.flush(zlib.Z_FULL_FLUSH)

    head_b, chunk_b, tail_b = head.encode(), chunk.encode(), tail.encode()
    finish = zlib.compressobj(9, zlib.DEFLATED, -15)
    last = finish.compress(tail_b) + finish.flush()
    compressed = flushed(head_b) + flushed(chunk_b) * times + last
    crc = zlib.crc32(head_b)
    for _ in range(times):
        crc = zlib.crc32(chunk_b, crc)
    crc = zlib.crc32(tail_b, crc)
    size = len(head_b) + len(chunk_b) * times + len(tail_b)
    return _Member(name, compressed, crc, size)


def _zip(members) -> bytes:
    """A zip file of ``members`` (deflated, sizes below 4 GB: no zip64 needed)."""
    out = io.BytesIO()
    central = []
    dos_time, dos_date = 0, (2026 - 1980) << 9 | 1 << 5 | 1
    for m in members:
        offset = out.tell()
        out.write(
            struct.pack(
                "<IHHHHHIIIHH",
                0x04034B50,
                20,
                0,
                8,
                dos_time,
                dos_date,
                m.crc,
                len(m.compressed),
                m.size,
                len(m.name),
                0,
            )
        )
        out.write(m.name)
        out.write(m.compressed)
        central.append(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                0,
                8,
                dos_time,
                dos_date,
                m.crc,
                len(m.compressed),
                m.size,
                len(m.name),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + m.name
        )
    start = out.tell()
    for entry in central:
        out.write(entry)
    size = out.tell() - start
    out.write(
        struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central), size, start, 0)
    )
    return out.getvalue()


SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<dimension ref="A1:C{rows}"/><sheetData>'
)
SHEET_TAIL = "</sheetData></worksheet>"


def xlsx_with_rows(header, row, times: int, *, chunk_rows: int = 1000) -> bytes:
    """An .xlsx whose sheet holds ``header`` and then ``row`` ``times`` times (a multiple of
    ``chunk_rows``)."""
    assert times % chunk_rows == 0
    members = [
        _small("[Content_Types].xml", CONTENT_TYPES),
        _small("_rels/.rels", ROOT_RELS),
        _small("xl/workbook.xml", WORKBOOK),
        _small("xl/_rels/workbook.xml.rels", WORKBOOK_RELS),
        _repeated(
            "xl/worksheets/sheet1.xml",
            SHEET_HEAD.format(rows=times + 1) + _row(header),
            _row(row) * chunk_rows,
            times // chunk_rows,
            SHEET_TAIL,
        ),
    ]
    return _zip(members)


def xlsx_bomb(header, *, gigabytes: float = 1.0) -> bytes:
    """An .xlsx of about a megabyte whose sheet unpacks to ``gigabytes``: rows of one cell
    holding a long run of "马"."""
    cell = "马" * 20_000  # 60 kB of UTF-8 a row
    chunk = _row([cell, cell, cell]) * 5  # about 900 kB
    times = int(gigabytes * 1024**3 / len(chunk.encode())) + 1
    members = [
        _small("[Content_Types].xml", CONTENT_TYPES),
        _small("_rels/.rels", ROOT_RELS),
        _small("xl/workbook.xml", WORKBOOK),
        _small("xl/_rels/workbook.xml.rels", WORKBOOK_RELS),
        _repeated(
            "xl/worksheets/sheet1.xml",
            SHEET_HEAD.format(rows=times * 5 + 1) + _row(header),
            chunk,
            times,
            SHEET_TAIL,
        ),
    ]
    return _zip(members)


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99"
    b"=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + bytes(range(256)) * 4


class Budget:
    """Peak memory (tracemalloc: every Python allocation, openpyxl's and zipfile's buffers
    included, unless ``trace`` is off; and the process's resident high-water mark) and time
    of a block."""

    def __init__(self, trace: bool = True):
        self.trace = trace
        self.peak_mb = 0.0

    def __enter__(self):
        import resource
        import tracemalloc

        self._tracemalloc = tracemalloc
        self._rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        if self.trace:
            tracemalloc.start()
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        import resource

        self.seconds = time.perf_counter() - self._start
        if self.trace:
            _current, peak = self._tracemalloc.get_traced_memory()
            self._tracemalloc.stop()
            self.peak_mb = peak / 1024**2
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux
        self.rss_growth_mb = (rss - self._rss) / 1024
        return False
