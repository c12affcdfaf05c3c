"""Tables as files a spreadsheet opens: CSV and ``.xlsx`` answers, and the one formula guard.

**The formula guard** (:func:`csv_cell`): a text cell that starts with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return is written with a leading ``'``, so that a spreadsheet shows
it as text and never runs it as a formula (an address such as ``=HYPERLINK("http://…")``
typed by a customer stays an address). Numbers are written as numbers: ``-0.1278`` is a
longitude, not a formula. Both writers apply it, CSV and ``.xlsx`` alike (in a workbook a
text cell is not evaluated on opening, but it would be once someone edits it or saves the
sheet as CSV).

**CSV** (:func:`csv_response`): UTF-8 without a byte-order mark, a header row, ``\\r\\n``
line ends (RFC 4180), empty cells for nothing; instants as ISO 8601 with their offset, as the
caller shows them (:func:`api.zones.in_zone`).

**.xlsx** (:func:`xlsx_response`, openpyxl, streamed in write-only mode): one sheet per table,
the header row bold and frozen, each column as wide as its header and its longest value (of
the first :data:`WIDTH_SAMPLE` rows; :data:`MIN_WIDTH` to :data:`MAX_WIDTH` characters).
Instants are real Excel date-times in the wall-clock time of the zone the caller showed them
in (Excel has no time zones: the offset is dropped, the local time kept), formatted
:data:`DATETIME_FORMAT`, so that they sort, filter and subtract as dates; the zone is named in
the data (the routes sheet's ``timezone`` column). Characters an ``.xlsx`` cannot hold (control
characters other than tab, line feed and carriage return) are left out.

Every answer is an attachment (``Content-Disposition``), ``Cache-Control: private,
no-store`` (plans name customers' addresses) and ``X-Content-Type-Options: nosniff``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from fastapi.responses import Response
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from orchestrator.operations.plan_sheets import Sheet

__all__ = [
    "CSV_MEDIA_TYPE",
    "DATETIME_FORMAT",
    "FORMULA_START",
    "MAX_WIDTH",
    "MIN_WIDTH",
    "WIDTH_SAMPLE",
    "XLSX_MEDIA_TYPE",
    "csv_bytes",
    "csv_cell",
    "csv_response",
    "xlsx_bytes",
    "xlsx_cell",
    "xlsx_response",
]

CSV_MEDIA_TYPE = "text/csv"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a text cell as a formula."""

DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
"""How a workbook shows an instant (the depot's wall-clock time)."""

MIN_WIDTH = 8
MAX_WIDTH = 60
"""A workbook column's width, in characters."""
WIDTH_SAMPLE = 500
"""Rows read to size a workbook's columns."""

_BOLD = Font(bold=True)


def _guarded(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_cell(value: object) -> str:
    """A CSV cell safe to open in a spreadsheet: text starting with ``=``, ``+``, ``-``, ``@``
    (or a tab or carriage return) is prefixed with ``'`` so it is never run as a formula;
    numbers as they are, instants in ISO 8601 (with their offset), ``None`` empty."""
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)  # a number is never a formula (and -0.12 is a longitude)
    if isinstance(value, datetime):
        return value.isoformat()
    return _guarded(str(value))


def xlsx_cell(value: object) -> object:
    """What a workbook's cell holds for ``value``: numbers and ``None`` as they are, an
    instant as its wall-clock time (the offset dropped: Excel has no zones), text through
    the formula guard without the characters an ``.xlsx`` cannot hold."""
    if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
        return value
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    return _guarded(ILLEGAL_CHARACTERS_RE.sub("", str(value)))


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """``header`` and ``rows`` as UTF-8 CSV, every cell through :func:`csv_cell`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([csv_cell(name) for name in header])
    writer.writerows([csv_cell(value) for value in row] for row in rows)
    return buffer.getvalue().encode("utf-8")


def _widths(sheet: Sheet) -> list[float]:
    """Each column's width: its header's and longest sampled value's, within bounds."""
    widths = [len(name) for name in sheet.header]
    for row in sheet.rows[:WIDTH_SAMPLE]:
        for k, value in enumerate(row):
            size = len(DATETIME_FORMAT) if isinstance(value, datetime) else len(csv_cell(value))
            widths[k] = max(widths[k], size)
    return [float(min(MAX_WIDTH, max(MIN_WIDTH, w + 2))) for w in widths]


def xlsx_bytes(sheets: Sequence[Sheet]) -> bytes:
    """A workbook of ``sheets`` in their order (see the module's notes for its form)."""
    book = Workbook(write_only=True)
    for sheet in sheets:
        page: Any = book.create_sheet(sheet.name)
        page.freeze_panes = "A2"
        for k, width in enumerate(_widths(sheet), start=1):
            page.column_dimensions[get_column_letter(k)].width = width
        heading = []
        for name in sheet.header:
            cell = WriteOnlyCell(page, value=xlsx_cell(name))
            cell.font = _BOLD
            heading.append(cell)
        page.append(heading)
        for row in sheet.rows:
            cells: list[object] = []
            for value in row:
                held = xlsx_cell(value)
                if isinstance(held, datetime):
                    stamp = WriteOnlyCell(page, value=held)
                    stamp.number_format = DATETIME_FORMAT
                    cells.append(stamp)
                else:
                    cells.append(held)
            page.append(cells)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _file_headers(filename: str) -> dict[str, str]:
    return {
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
    }


def csv_response(
    header: Sequence[str], rows: Iterable[Sequence[object]], filename: str
) -> Response:
    """A CSV attachment named ``filename`` (``text/csv; charset=utf-8``)."""
    return Response(
        csv_bytes(header, rows),
        media_type=f"{CSV_MEDIA_TYPE}; charset=utf-8",
        headers=_file_headers(filename),
    )


def xlsx_response(sheets: Sequence[Sheet], filename: str) -> Response:
    """A workbook attachment named ``filename``."""
    return Response(xlsx_bytes(sheets), media_type=XLSX_MEDIA_TYPE, headers=_file_headers(filename))
