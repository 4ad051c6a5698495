"""CSV and Excel downloads of any list: one function, `export_response`.

CSV dialect, chosen for the people who open these files: Swedish Excel.
- UTF-8 with a byte-order mark: without the BOM Excel reads the file as
  Windows-1252 and "Älvdalen" turns into "Ã„lvdalen".
- ";" between fields: Swedish Excel uses "," as the decimal separator, so it
  expects ";" as the list separator and would put a comma-separated row into a
  single column.
- Decimal comma in non-integral numbers (3,5) for the same reason; integers as is.
- Dates as ISO 8601 (2027-06-01), date-times as "2027-06-01 14:30" in
  Europe/Stockholm time; Excel recognises both.
- Lists (skills) joined with ", "; booleans as "true"/"false"; None as "".
- CRLF line ends and minimal quoting (the csv module's excel dialect).

Formula injection (CSV injection): a text cell that starts with =, +, -, @, a
tab or a carriage return could run as a formula when the file is opened; so
can their full-width forms (＝＋－＠), which Excel folds to the ASCII ones, so
the first character is compared after Unicode compatibility folding (NFKC). In CSV
such a cell gets a leading apostrophe; in xlsx it is stored as a string cell
(never a formula) with Excel's "quote prefix" style, so it shows as typed and
stays text even when edited. Numbers are never touched: -2 stays a number.
"""

import csv
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, abort, request
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from moraspar.web import downloads

FORMATS = ("csv", "xlsx")

CSV_MIMETYPE = "text/csv"  # werkzeug adds "; charset=utf-8"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_LOCAL_TZ = ZoneInfo("Europe/Stockholm")
_XLSX_MAX_CELL = 32_767  # Excel's limit on characters in one cell
_SHEET_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def requested_format() -> str | None:
    """The ``format`` query argument of this request: None when absent (show
    the page), "csv" or "xlsx"; 400 for anything else."""
    fmt = request.args.get("format")
    if fmt is None:
        return None
    if fmt not in FORMATS:
        abort(400)
    return fmt


def export_response(
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    fmt: str,
    filename: str,
) -> Response:
    """A download of headers + rows as fmt ("csv" or "xlsx").

    filename is the name the user sees, in their language, without or with the
    extension (see moraspar.web.downloads for how it is made safe).
    Raises ValueError for an unknown fmt; views turn it into a 400.
    """
    if fmt == "csv":
        body, mimetype = _csv_bytes(headers, rows), CSV_MIMETYPE
    elif fmt == "xlsx":
        body, mimetype = (
            _xlsx_bytes(headers, rows, title=_stem(filename)),
            XLSX_MIMETYPE,
        )
    else:
        raise ValueError(f"unknown export format {fmt!r}")
    name = f"{_stem(filename)}.{fmt}"
    return downloads.attach(Response(body, mimetype=mimetype), name)


# A feature's export: (header, the cell's value for one row) per column.
Columns = Sequence[tuple[object, Callable[[Any], object]]]


def columns_response(
    columns: Columns, rows: Iterable[Any], *, fmt: str, filename: str
) -> Response:
    """export_response for rows described by columns (see each feature's
    exports.py)."""
    return export_response(
        [str(header) for header, _value in columns],
        ([value(row) for _header, value in columns] for row in rows),
        fmt=fmt,
        filename=filename,
    )


def neutralise(text: str) -> str:
    """text, made safe to open in a spreadsheet (a leading ' if it could run)."""
    if _could_run(text):
        return "'" + text
    return text


def _could_run(text: str) -> bool:
    """Whether a spreadsheet could read text as a formula: its first character
    is =, +, -, @, tab or CR, or a full-width or small form of one of them."""
    return bool(text) and unicodedata.normalize("NFKC", text[0]).startswith(
        _FORMULA_PREFIXES
    )


def _csv_bytes(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([neutralise(str(h)) for h in headers])
    for row in rows:
        writer.writerow([_csv_cell(value) for value in row])
    return out.getvalue().encode("utf-8-sig")


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float | Decimal):
        return format(value, "f" if isinstance(value, Decimal) else "g").replace(
            ".", ","
        )
    if isinstance(value, datetime):
        return _local(value).isoformat(sep=" ", timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    return neutralise(_text(value))


def _xlsx_bytes(
    headers: Sequence[str], rows: Iterable[Sequence[object]], *, title: str
) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_sheet_title(title))
    for index, header in enumerate(headers, start=1):
        width = min(max(len(str(header)) + 2, 12), 60)
        sheet.column_dimensions[get_column_letter(index)].width = width
    bold = Font(bold=True)
    header_cells = []
    for header in headers:
        cell = _xlsx_cell(sheet, header)
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    for row in rows:
        sheet.append([_xlsx_cell(sheet, value) for value in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _xlsx_cell(sheet: object, value: object) -> WriteOnlyCell:
    if isinstance(value, datetime):
        cell = WriteOnlyCell(sheet, _local(value))
        cell.number_format = "yyyy-mm-dd hh:mm"
        return cell
    if isinstance(value, date):
        cell = WriteOnlyCell(sheet, value)
        cell.number_format = "yyyy-mm-dd"
        return cell
    if value is None or isinstance(value, int | float | Decimal):  # bool is an int
        return WriteOnlyCell(sheet, value)
    text = ILLEGAL_CHARACTERS_RE.sub("", _text(value))[:_XLSX_MAX_CELL]
    cell = WriteOnlyCell(sheet, text)
    # openpyxl makes any string starting with "=" a formula; force plain text.
    cell.data_type = "s"
    if _could_run(text):
        cell.quotePrefix = True
    return cell


def _text(value: object) -> str:
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return ", ".join(str(item) for item in items)
    return str(value)


def _local(value: datetime) -> datetime:
    """value in Stockholm time without tzinfo (Excel has no time zones)."""
    return value.astimezone(_LOCAL_TZ).replace(tzinfo=None)


def _stem(filename: str) -> str:
    stem = filename.strip()
    for extension in (".csv", ".xlsx"):
        if stem.lower().endswith(extension):
            stem = stem[: -len(extension)]
    return stem or "export"


def _sheet_title(title: str) -> str:
    cleaned = _SHEET_TITLE_FORBIDDEN.sub("-", title).strip("'")[:31]
    return cleaned or "Export"
