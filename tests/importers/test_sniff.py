"""Reading files: encodings, line endings, quoting, limits, and garbage that must not crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from crm_lib.errors import ValidationError
from crm_lib.importers.sniff import MAX_COLUMNS, read_rows, sniff

TEXT = "Name,Notes\r\nCafé Ünïcødé,“Quoted” — dash\r\n"


def rows(path: Path, **kw: str) -> list[tuple[int, list[str]]]:
    return list(read_rows(sniff(path, **kw)))


@pytest.mark.parametrize(
    ("encoding", "detected"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("utf-16", "utf-16"), ("cp1252", "cp1252")],
)
def test_encodings_are_detected_and_read_the_same(
    tmp_path: Path, encoding: str, detected: str
) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(TEXT.encode(encoding))
    source = sniff(path)
    assert source.encoding == detected
    assert rows(path) == [(1, ["Name", "Notes"]), (2, ["Café Ünïcødé", "“Quoted” — dash"])]


def test_encoding_can_be_overridden(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("Name\r\nZoë\r\n".encode("latin-1"))
    assert rows(path, encoding="latin-1")[1] == (2, ["Zoë"])
    with pytest.raises(ValidationError, match="Unknown encoding 'klingon'"):
        sniff(path, encoding="klingon")


def test_utf8_file_with_a_bad_byte_late_in_the_file_is_read_as_windows_1252(
    tmp_path: Path,
) -> None:
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"Name\r\n" + b"plain\r\n" * 20_000 + "Café\r\n".encode("cp1252"))
    assert sniff(path).encoding == "cp1252"
    assert rows(path)[-1] == (20_002, ["Café"])


def test_lf_crlf_and_a_bare_cr_inside_an_unquoted_cell(tmp_path: Path) -> None:
    path = tmp_path / "endings.csv"
    path.write_bytes(
        b'Name,Notes\r\nA,old\rmac note\r\nB,unix\nC,"quoted\r\nlines, ""and"" commas"\r\n'
    )
    assert rows(path) == [
        (1, ["Name", "Notes"]),
        (2, ["A", "old\nmac note"]),
        (3, ["B", "unix"]),
        (4, ["C", 'quoted\nlines, "and" commas']),
    ]


def test_line_numbers_count_physical_lines_after_multiline_cells(tmp_path: Path) -> None:
    path = tmp_path / "lines.csv"
    path.write_text('Name,Notes\n"A","one\ntwo\nthree"\nB,x\n', encoding="utf-8")
    assert [line for line, _ in rows(path)] == [1, 2, 5]


def test_semicolon_files_from_a_european_excel(tmp_path: Path) -> None:
    path = tmp_path / "semi.csv"
    path.write_text("Name;Amount\nAcme;1.500,00\n", encoding="utf-8")
    assert sniff(path).delimiter == ";"
    assert rows(path)[1] == (2, ["Acme", "1.500,00"])


def test_hash_and_size_identify_the_file(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes(b"Name\nA\n")
    source = sniff(path)
    assert source.size == 7
    assert source.sha256 == __import__("hashlib").sha256(b"Name\nA\n").hexdigest()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "is empty"),
        (b"   \r\n", "is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "not a text CSV file"),
        (b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00" + b"\x00\xff" * 300, "Excel workbook"),
        (b"\x00\x01\x02garbage\x00\x00" * 50, "not a text CSV file"),
    ],
)
def test_empty_and_binary_files_get_a_clear_error(
    tmp_path: Path, data: bytes, message: str
) -> None:
    path = tmp_path / "garbage.csv"
    path.write_bytes(data)
    with pytest.raises(ValidationError, match=message):
        sniff(path)


def test_random_bytes_never_crash_the_reader(tmp_path: Path) -> None:
    import random

    generator = random.Random(5)
    for attempt in range(30):
        path = tmp_path / f"random{attempt}.csv"
        path.write_bytes(bytes(generator.randrange(256) for _ in range(2000)))
        try:
            list(read_rows(sniff(path)))
        except ValidationError as exc:
            assert exc.message  # a sentence, never a traceback


def test_ten_thousand_columns_are_refused_naming_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text(",".join(f"c{i}" for i in range(10_000)) + "\n", encoding="utf-8")
    with pytest.raises(
        ValidationError, match=f"10,000 columns; an import takes at most {MAX_COLUMNS:,}"
    ):
        rows(path)


def test_a_broken_quote_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.csv"
    path.write_bytes(b"Name\nA\n" + b'"' + b"x" * (17 * 1024 * 1024) + b"\n")
    with pytest.raises(ValidationError, match="line"):
        rows(path)
