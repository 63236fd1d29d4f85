"""Cells of the spreadsheets the app exports (CSV and XLSX), in one place.

A spreadsheet program runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, depending
on the program, a tab, a line break or a NUL before one of them, or their full-width forms) as
a formula: ``=HYPERLINK(...)`` sends data away, ``=cmd|...`` starts a program. Names, email
addresses, group names and free-text answers are typed by people, so any of them can start that
way. Every CSV and XLSX writer of the app writes its cells through this module, and text that
starts with one of those characters gets an apostrophe in front, the same text in both formats
(docs/exports.md, "Spreadsheet formulas"). Numbers, dates and empty cells pass unchanged.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

# OWASP's CSV-injection characters (ASVS 1.2.10), line breaks, and the full-width forms of
# = + - @ that some spreadsheets read as the plain ones.
FORMULA_STARTS = (
    "=",
    "+",
    "-",
    "@",
    "\t",
    "\r",
    "\n",
    "\0",
    "\uff1d",
    "\uff0b",
    "\uff0d",
    "\uff20",
)


def safe_cell(value: Any) -> Any:
    """``value`` as a spreadsheet should show it: text that could start a formula gets an
    apostrophe in front (the spreadsheet convention for "this is text"); anything else is
    returned as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class SafeCsvWriter:
    """``csv.writer`` whose every cell goes through :func:`safe_cell`."""

    def __init__(self, out: SupportsWrite[str], **options: Any) -> None:
        self._writer = csv.writer(out, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([safe_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(out: SupportsWrite[str], **options: Any) -> SafeCsvWriter:
    """A CSV writer for exports (``options`` as for ``csv.writer``)."""
    return SafeCsvWriter(out, **options)


def xlsx_cell(sheet: Any, row: int, column: int, value: Any) -> Any:
    """Write ``value`` into an openpyxl worksheet's cell and return the cell.

    openpyxl stores a string that starts with ``=`` as a formula; here text is always stored
    as text, after :func:`safe_cell`, so the workbook holds the same cell text as the CSV and
    stays text when someone edits the cell or another program copies it into a new workbook.
    """
    cell = sheet.cell(row=row, column=column)
    cell.value = safe_cell(value)
    if isinstance(cell.value, str):
        cell.data_type = "s"
    return cell
