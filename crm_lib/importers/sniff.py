"""Reading a CSV export of unknown encoding and dialect, streamed, with clear errors.

Airtable writes UTF-8 (with a BOM when asked for Excel), Excel re-saves as Windows-1252 or UTF-16,
and people edit files on three operating systems. :func:`sniff` decides the encoding (a BOM wins;
otherwise UTF-8 if every byte decodes, else Windows-1252) and the delimiter, hashes the file and
refuses binary data, all in one streamed pass. :func:`read_rows` then yields ``(line, cells)``
without holding the file in memory.

Line endings: rows end at LF or CRLF. A bare CR inside an unquoted cell (old Mac line breaks in a
long-text field) is kept in the cell instead of ending the row — Python's ``csv`` would reject it —
and every CR/CRLF inside a cell becomes LF, so the same text exported twice compares equal.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from crm_lib.errors import ValidationError

#: Airtable allows 500 fields per table; anything far wider is not an export of one.
MAX_COLUMNS = 1000
#: Airtable's long-text limit is 100,000 characters; a bigger cell is refused, naming the cell.
MAX_CELL_CHARS = 100_000
#: Where the csv module itself gives up (a cell larger than this ends the read with an error).
CSV_FIELD_LIMIT = 16 * 1024 * 1024
SAMPLE_BYTES = 64 * 1024
CHUNK_BYTES = 1024 * 1024
#: A character no export contains, standing in for a bare CR while the csv module reads a line.
_CR = "\ue000"
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
#: What people upload by mistake instead of a CSV, by the bytes those files start with.
_MAGIC = (
    (b"PK\x03\x04", "a ZIP archive or an Excel workbook (.xlsx)"),
    (b"\xd0\xcf\x11\xe0", "an old Excel workbook (.xls)"),
    (b"%PDF", "a PDF"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"SQLite format 3\x00", "a SQLite database"),
    (b"\x1f\x8b", "a gzip file"),
)
ENCODING_NAMES = {"utf-8-sig": "UTF-8 with BOM", "utf-8": "UTF-8", "cp1252": "Windows-1252"}

csv.field_size_limit(CSV_FIELD_LIMIT)


@dataclass(frozen=True)
class SourceFile:
    """What :func:`sniff` learned about a file: enough to read it and to record the import."""

    path: Path
    name: str
    size: int
    sha256: str
    encoding: str
    delimiter: str

    @property
    def encoding_name(self) -> str:
        return ENCODING_NAMES.get(self.encoding, self.encoding.upper())


def _bom_encoding(head: bytes) -> str | None:
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding
    return None


def _utf16_without_bom(head: bytes) -> str | None:
    """UTF-16 text without a BOM shows as a NUL in every other byte of ASCII text."""
    sample = head[:4096]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > len(odd) * 0.4 and even.count(0) < len(even) * 0.05:
        return "utf-16-le"
    if even.count(0) > len(even) * 0.4 and odd.count(0) < len(odd) * 0.05:
        return "utf-16-be"
    return None


def _check_encoding(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise ValidationError(
            f"Unknown encoding {name!r}; try utf-8, utf-8-sig, utf-16 or cp1252", field="encoding"
        ) from None


def sniff(
    path: Path | str,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    display_name: str | None = None,
) -> SourceFile:
    """Hash the file, pick its encoding (or check the one given) and its delimiter.

    Raises :class:`ValidationError` for an empty file, binary data, or bytes that no supported
    encoding reads — naming the byte offset and the option that fixes it.
    """
    path = Path(path)
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        head = handle.read(SAMPLE_BYTES)
        if not head.strip():
            raise ValidationError(
                f"{display_name or path.name} is empty: there is nothing to import"
            )
        for magic, what in _MAGIC:
            if head.startswith(magic):
                raise ValidationError(
                    f"{display_name or path.name} is {what}, not a text CSV file; in Airtable use"
                    " the view menu's 'Download CSV'"
                )
        chosen = _check_encoding(encoding) if encoding else None
        chosen = chosen or _bom_encoding(head) or _utf16_without_bom(head)
        if chosen is None and b"\x00" in head:
            offset = head.index(b"\x00")
            raise ValidationError(
                f"{display_name or path.name} is not a text CSV file (binary data at byte {offset});"
                " export the table from Airtable as CSV"
            )
        utf8 = codecs.getincrementaldecoder("utf-8")() if chosen is None else None
        offset, chunk = 0, head
        while chunk:
            digest.update(chunk)
            if utf8 is not None:
                try:
                    utf8.decode(chunk)
                except UnicodeDecodeError as exc:
                    utf8 = None
                    bad = offset + exc.start
                    if b"\x00" in chunk:
                        raise ValidationError(
                            f"{display_name or path.name} is not a text CSV file (binary data"
                            f" near byte {bad})"
                        ) from None
            offset += len(chunk)
            size += len(chunk)
            chunk = handle.read(CHUNK_BYTES)
        if utf8 is not None:
            try:
                utf8.decode(b"", final=True)
            except UnicodeDecodeError:
                utf8 = None
    if chosen is None:
        chosen = "utf-8" if utf8 is not None else "cp1252"
    text_head = _decode_head(head, chosen, display_name or path.name)
    controls = sum(1 for ch in text_head if ch < " " and ch not in "\t\r\n")
    if controls > max(2, len(text_head) // 100):
        raise ValidationError(
            f"{display_name or path.name} is not a text CSV file ({controls} control characters"
            " in its first 64 KB); export the table from Airtable as CSV"
        )
    return SourceFile(
        path=path,
        name=display_name or path.name,
        size=size,
        sha256=digest.hexdigest(),
        encoding=chosen,
        delimiter=delimiter or _delimiter(text_head),
    )


def _decode_head(head: bytes, encoding: str, name: str) -> str:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        return decoder.decode(head)
    except UnicodeDecodeError as exc:
        raise ValidationError(
            f"{name} cannot be read as {encoding} (byte {exc.start}: {head[exc.start : exc.start + 1]!r});"
            " try --encoding=utf-8, --encoding=utf-16 or --encoding=cp1252"
        ) from None


def _delimiter(text: str) -> str:
    """Airtable always writes commas; a file re-saved by a European Excel may use ; or tabs."""
    first = text.split("\n", 1)[0]
    try:
        return csv.Sniffer().sniff(first, delimiters=",;\t").delimiter
    except csv.Error:
        return ","


class _Lines:
    """Lines ending at LF only, fed to csv. A bare CR inside a line (not the CR of a CRLF) is
    masked so csv keeps it in its cell; ``masked`` says a record needs cleaning."""

    def __init__(self, handle: io.TextIOBase) -> None:
        self.handle = iter(handle)
        self.masked = False

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = next(self.handle)
        if "\r" in line and (line.count("\r") > 1 or not line.endswith("\r\n")):
            ending = "\r\n" if line.endswith("\r\n") else "\n" if line.endswith("\n") else ""
            body = line[: len(line) - len(ending)]
            line = body.replace("\r", _CR) + ending
            self.masked = True
        return line


def _clean(cell: str) -> str:
    if "\r" in cell or _CR in cell:
        cell = cell.replace("\r\n", "\n").replace("\r", "\n").replace(_CR, "\n")
    return cell


def read_rows(
    source: SourceFile,
    *,
    progress: Callable[[float], None] | None = None,
) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(line_number, cells)`` for every record, the header first (line 1).

    Line numbers are the physical line where the record starts, as a text editor shows them
    (a quoted cell with newlines makes the next record start further down). A decoding error or
    a broken quote raises :class:`ValidationError` with the line.
    """
    with source.path.open("rb") as raw:
        handle = io.TextIOWrapper(raw, encoding=source.encoding, errors="strict", newline="\n")
        lines = _Lines(handle)
        reader = csv.reader(lines, delimiter=source.delimiter, strict=False)
        start, total, count = 1, max(source.size, 1), 0
        try:
            for cells in reader:
                if len(cells) > MAX_COLUMNS:
                    raise ValidationError(
                        f"Line {start} has {len(cells):,} columns; an import takes at most"
                        f" {MAX_COLUMNS:,} (is this really a table export?)",
                        row=start,
                    )
                end = reader.line_num
                if end > start or lines.masked:  # only records that held a line break
                    cells = [_clean(c) for c in cells]
                    lines.masked = False
                yield start, cells
                start = end + 1
                count += 1
                if progress is not None and count % 4096 == 0:
                    progress(min(raw.tell() / total, 1.0))
        except UnicodeDecodeError as exc:
            raise ValidationError(
                f"{source.name}, line {reader.line_num + 1}: byte"
                f" {exc.object[exc.start : exc.start + 1]!r} is not {source.encoding_name};"
                " try --encoding=cp1252 or --encoding=utf-8",
                row=reader.line_num + 1,
            ) from None
        except csv.Error as exc:
            raise ValidationError(
                f"{source.name}, line {reader.line_num}: {exc} (a cell may be larger than"
                f" {CSV_FIELD_LIMIT // (1024 * 1024)} MB or a quote may be unbalanced)",
                row=reader.line_num,
            ) from None
    if progress is not None:
        progress(1.0)
