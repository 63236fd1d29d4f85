"""Reading an uploaded CSV file: the checks every importer makes before it looks at a value.

Each importer (roster, survey responses) reads its file with :func:`csv_open` and then checks
the columns and values it knows about. Whatever a spreadsheet, a text editor or a damaged disk
can produce becomes a :class:`CsvFileError` whose message names the line and says what to do,
or a row-level problem (:meth:`CsvTable.width_problem`); never an exception from the ``csv``
module or, later, from the database:

- the bytes must be UTF-8 text (a byte-order mark is dropped); a NUL byte, which PostgreSQL
  refuses in text, and the other control characters that XLSX exports cannot hold are refused
  with their line, as are UTF-16 text and spreadsheet workbooks saved under a ``.csv`` name;
- quoting is standard CSV read strictly: a quote that is never closed, or text after a closing
  quote, names the line where it happens instead of silently joining or splitting cells;
- a record that spans several lines (a quoted line break, or a quote closed lines later) keeps
  both its first and its last line, so a message can point at the quote that swallowed them.

Lines are counted as a text editor counts them: the header is line 1.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass

SAVE_AS_CSV = "In Excel, save it as “CSV UTF-8 (Comma delimited)” and upload it again."

# The characters XML 1.0 (and so an XLSX cell) cannot hold, apart from NUL. Tab, line feed
# and carriage return are CSV's own business.
_CONTROL = re.compile(rb"[\x01-\x08\x0b\x0c\x0e-\x1f]")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}


class CsvFileError(Exception):
    """The file as a whole cannot be read; ``message`` says where and what to do."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class CsvRecord:
    """One CSV record: the physical lines it spans (the same line unless a cell holds a line
    break) and its cells as written."""

    line: int
    end_line: int
    cells: list[str]

    @property
    def is_blank(self) -> bool:
        return not any(cell.strip() for cell in self.cells)


def _line_of(content: bytes, index: int) -> int:
    """The line (from 1) of the byte at ``index``; a lone CR ends a line too, as in old files."""
    head = content[:index]
    return head.count(b"\n") + head.count(b"\r") - head.count(b"\r\n") + 1


def csv_decode(content: bytes) -> str:
    """The file's text, or :class:`CsvFileError` saying why it is not CSV UTF-8 text."""
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise CsvFileError(
            "The file is UTF-16 text (Excel's “Unicode Text”), not UTF-8. " + SAVE_AS_CSV
        )
    if content.startswith(b"PK\x03\x04"):
        raise CsvFileError(
            "The file is not a text file but a spreadsheet workbook (.xlsx or .ods). " + SAVE_AS_CSV
        )
    nul = content.find(b"\x00")
    if nul >= 0:
        raise CsvFileError(
            f"The file contains a NUL byte (line {_line_of(content, nul)}), so it is not a "
            "text file. " + SAVE_AS_CSV
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        byte = content[exc.start : exc.start + 1].hex().upper()
        raise CsvFileError(
            f"The file is not UTF-8 text: byte 0x{byte} on line "
            f"{_line_of(content, exc.start)} cannot be read. " + SAVE_AS_CSV
        ) from None
    control = _CONTROL.search(content)
    if control is not None:
        raise CsvFileError(
            f"Line {_line_of(content, control.start())} contains the control character "
            f"0x{control.group().hex().upper()}, which cannot be stored. Remove it (in a "
            "spreadsheet, =CLEAN() removes such characters) and save the file again as CSV UTF-8."
        )
    # A byte-order mark inside the text comes from files pasted together; it is invisible and
    # would make a column name or a code differ from what the person sees.
    return text.replace("\ufeff", "")


def csv_delimiter(text: str) -> str:
    """Comma, unless the header line has more semicolons (or tabs) than commas."""
    first = _LINE_BREAK.split(text, maxsplit=1)[0]
    counts = {d: first.count(d) for d in _DELIMITER_NAMES}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > counts[","] else ","


def _error_message(exc: csv.Error, start: int, current: int) -> str:
    """Words for the csv module's errors: where the problem is and what to change."""
    text = str(exc)
    where = f"Line {start} cannot be read as CSV"
    if "unexpected end of data" in text:
        return (
            f"{where}: a quote opens a cell there and is never closed. Close the quote, or "
            'write a quote that belongs to the text as two quotes ("").'
        )
    if "expected after" in text:
        return (
            f"Line {current} cannot be read as CSV: text follows the closing quote of a cell. "
            'Put the whole cell in quotes and double the quotes inside it ("Ben ""Jr""").'
        )
    if "field larger than field limit" in text:
        return (
            f"{where}: a cell is longer than {csv.field_size_limit():,} characters; a quote "
            "that is never closed usually causes this."
        )
    return f"Line {current} cannot be read as CSV: {text}."


@dataclass
class CsvTable:
    """An open CSV file: its delimiter, its header and its other non-blank records."""

    delimiter: str
    header: CsvRecord
    rows: Iterator[CsvRecord]
    cell_word: str = "cell"

    def width_problem(self, record: CsvRecord) -> str:
        """Why ``record`` does not have one cell per column, or "" when it does."""
        count, width = len(record.cells), len(self.header.cells)
        if count == width:
            return ""
        message = (
            f"The row has {count} {self.cell_word}{'' if count == 1 else 's'}; "
            f"the header has {width}."
        )
        if record.end_line > record.line:
            return message + (
                f" It runs from line {record.line} to line {record.end_line}: a quote on line "
                f"{record.line} is probably not closed."
            )
        name = _DELIMITER_NAMES.get(self.delimiter, "delimiter")
        return message + f" Check for a stray {name} or a missing quote."

    def line_break_problem(self, record: CsvRecord) -> str:
        """For files whose cells never hold a line break: why ``record`` spans lines, or ""."""
        if record.end_line == record.line:
            return ""
        return (
            f"The row runs from line {record.line} to line {record.end_line}: a cell holds a "
            f"line break, probably because a quote on line {record.line} is not closed."
        )


def _records(text: str, delimiter: str) -> Iterator[CsvRecord]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    end = 0
    while True:
        start = end + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise CsvFileError(_error_message(exc, start, reader.line_num)) from None
        end = reader.line_num
        yield CsvRecord(start, end, cells)


def csv_open(content: bytes, *, cell_word: str = "cell") -> CsvTable:
    """Decode ``content`` and read its header line.

    Raises :class:`CsvFileError` for a file that is not CSV UTF-8 text, is empty or has no
    header on line 1. Reading ``rows`` raises it too, at the first line that is not valid CSV;
    rows whose cells are all blank are skipped. ``cell_word`` is what the importer's users call
    a cell ("field" for the roster), for the row messages.
    """
    text = csv_decode(content)
    if not text.strip():
        raise CsvFileError("The file is empty. The first line must name the columns.")
    delimiter = csv_delimiter(text)
    records = _records(text, delimiter)
    header = next(records)
    if header.is_blank:
        raise CsvFileError("Line 1 is blank: the first line must name the columns.")
    rows = (record for record in records if not record.is_blank)
    return CsvTable(delimiter=delimiter, header=header, rows=rows, cell_word=cell_word)
