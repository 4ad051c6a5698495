"""export_response: CSV for Swedish Excel and xlsx, formula injection neutralised."""

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from openpyxl import load_workbook

from moraspar.web.export import export_response

HEADERS = ["Företag", "Ort", "Platser", "Start", "Kompetenser"]
ROWS: list[list[Any]] = [
    ["Älvdalens Såg AB", "Älvdalen", 3, date(2027, 2, 1), ["svetsning", "truck"]],
    ["Orsa Öl & Bröd", "Orsa", -2, date(2027, 3, 15), []],
]
DANGEROUS = [
    '=HYPERLINK("http://evil.example","klicka")',
    "+1",
    "-2+3",
    "@SUM(A1:A2)",
    "\tcmd",
    "\r=1+1",
    # Full-width and small forms, which Excel reads as their ASCII originals.
    '＝HYPERLINK("http://evil.example")',
    "＋1",
    "－2+3",
    "＠SUM(A1:A2)",
    "﹦1+1",
    "﹢1",
    "﹣1",
    "﹫SUM(A1)",
]


def _csv_rows(app: Flask, rows: list[list[Any]], headers: list[str] = HEADERS) -> Any:
    with app.test_request_context():
        response = export_response(headers, rows, fmt="csv", filename="lista")
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf"), "Excel needs the BOM to read UTF-8"
    text = body.decode("utf-8-sig")
    return response, list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


def _xlsx_rows(app: Flask, rows: list[list[Any]], headers: list[str] = HEADERS) -> Any:
    with app.test_request_context():
        response = export_response(headers, rows, fmt="xlsx", filename="lista")
    workbook = load_workbook(io.BytesIO(response.get_data()))
    sheet = workbook.active
    assert sheet is not None
    return response, sheet


def test_csv_is_utf8_bom_semicolon_with_header_and_unicode(app: Flask) -> None:
    response, rows = _csv_rows(app, ROWS)
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert rows[0] == HEADERS
    assert rows[1] == [
        "Älvdalens Såg AB",
        "Älvdalen",
        "3",
        "2027-02-01",
        "svetsning, truck",
    ]
    # a negative number is a number, not a formula to neutralise
    assert rows[2] == ["Orsa Öl & Bröd", "Orsa", "-2", "2027-03-15", ""]
    assert b";" in response.get_data().splitlines()[0]


def test_csv_numbers_dates_and_empty_values(app: Flask) -> None:
    stamp = datetime(2027, 6, 1, 12, 30, tzinfo=UTC)
    _, rows = _csv_rows(
        app, [[3.5, Decimal("2.25"), None, True, stamp]], ["a", "b", "c", "d", "e"]
    )
    # decimal comma for Swedish Excel; date-times in Stockholm time (UTC+2 in June)
    assert rows[1] == ["3,5", "2,25", "", "true", "2027-06-01 14:30"]


def test_csv_neutralises_formulas(app: Flask) -> None:
    _, rows = _csv_rows(app, [[value] for value in DANGEROUS], ["Rubrik"])
    assert [row[0] for row in rows[1:]] == ["'" + value for value in DANGEROUS]
    # a list joined into a cell is checked too, and so are headers
    _, rows = _csv_rows(app, [[["=1+1", "svetsning"]]], ["=cmd"])
    assert rows == [["'=cmd"], ["'=1+1, svetsning"]]


def test_csv_leaves_harmless_text_alone(app: Flask) -> None:
    harmless = ["Svets-teknik", "a=b", "'citat", "a＝b", "Ｍora", "", "−2 °C"]
    _, rows = _csv_rows(app, [[value] for value in harmless], ["Rubrik"])
    assert [row[0] for row in rows[1:]] == harmless


def test_xlsx_header_unicode_numbers_and_dates(app: Flask) -> None:
    response, sheet = _xlsx_rows(app, ROWS)
    assert response.mimetype == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == HEADERS
    assert all(cell.font.b for cell in sheet[1])
    assert values[1][:3] == ("Älvdalens Såg AB", "Älvdalen", 3)
    assert values[1][4] == "svetsning, truck"
    assert values[2][2] == -2
    assert isinstance(values[2][2], int)
    assert sheet.cell(row=3, column=3).data_type == "n"
    start = values[1][3]
    assert isinstance(start, datetime)  # a real date cell, not text
    assert start.date() == date(2027, 2, 1)
    assert sheet.cell(row=2, column=4).is_date


def test_xlsx_neutralises_formulas(app: Flask) -> None:
    _, sheet = _xlsx_rows(app, [[value] for value in DANGEROUS], ["Rubrik"])
    for row_number, value in enumerate(DANGEROUS, start=2):
        cell = sheet.cell(row=row_number, column=1)
        assert cell.data_type == "s", value
        # XML turns a stored \r into \n; the text itself is intact
        assert cell.value.strip() == value.strip()
        assert cell.quotePrefix
    # read the way a formula would come back: no cell holds one
    formulas = [
        cell.value
        for row in sheet.iter_rows(min_row=2)
        for cell in row
        if cell.data_type == "f"
    ]
    assert formulas == []


def test_xlsx_drops_control_characters_it_cannot_store(app: Flask) -> None:
    _, sheet = _xlsx_rows(app, [["Rad\x00ett\x0b"]], ["Rubrik"])
    assert sheet.cell(row=2, column=1).value == "Radett"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_content_disposition_ascii_and_utf8_names(app: Flask, fmt: str) -> None:
    with app.test_request_context():
        response = export_response(["a"], [], fmt=fmt, filename="Företag i Älvdalen")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f'filename="Foretag-i-Alvdalen.{fmt}"' in disposition
    assert f"filename*=UTF-8''F%C3%B6retag%20i%20%C3%84lvdalen.{fmt}" in disposition
    assert "no-store" in response.headers["Cache-Control"]


def test_filename_extension_is_not_doubled(app: Flask) -> None:
    with app.test_request_context():
        response = export_response(["a"], [], fmt="csv", filename="needs.csv")
    assert 'filename="needs.csv"' in response.headers["Content-Disposition"]


def test_unknown_format_is_a_value_error(app: Flask) -> None:
    with app.test_request_context(), pytest.raises(ValueError):
        export_response(["a"], [], fmt="pdf", filename="x")
