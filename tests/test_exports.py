"""The shared exporter: formulas neutralised, numbers stay numbers, language-aware CSV."""

import csv
import io
from datetime import date
from decimal import Decimal

import openpyxl
import pytest

from relatiebeheer.exports import Column, csv_text, escape_text, unescape_text, write_xlsx

COLUMNS = [
    Column("Naam", lambda r: r["name"]),
    Column("Bedrag", lambda r: r["amount"], "money"),
    Column("Datum", lambda r: r["day"], "date"),
]
ROWS = [
    {"name": '=HYPERLINK("http://x")', "amount": Decimal("-1234.50"), "day": date(2026, 11, 27)},
    {"name": "Gewoon", "amount": Decimal("9500.00"), "day": date(2026, 1, 2)},
    {"name": "\tTab", "amount": None, "day": None},
]


@pytest.mark.parametrize("text", ["=1+1", "+31", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_dangerous_text_is_escaped_and_unescapes(text):
    assert escape_text(text).startswith("'")
    assert unescape_text(escape_text(text)) == text


def test_dutch_csv_uses_semicolons_and_decimal_commas():
    text = csv_text(COLUMNS, ROWS, lang="nl").lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0] == ["Naam", "Bedrag", "Datum"]
    assert rows[1] == ['\'=HYPERLINK("http://x")', "-1234,50", "27-11-2026"]
    assert rows[2] == ["Gewoon", "9500,00", "02-01-2026"]
    assert rows[3] == ["'\tTab", "", ""]


def test_english_csv_uses_commas_and_points():
    lines = csv_text(COLUMNS, ROWS, lang="en").lstrip("\ufeff").splitlines()
    assert lines[2] == "Gewoon,9500.00,2026-01-02"


def test_csv_starts_with_a_bom_for_excel():
    assert csv_text(COLUMNS, ROWS, lang="nl").startswith("\ufeff")


def test_xlsx_keeps_text_as_text_and_numbers_as_numbers(tmp_path):
    path = tmp_path / "x.xlsx"
    assert write_xlsx(COLUMNS, ROWS, str(path), lang="nl") == 3
    sheet = openpyxl.load_workbook(path).active
    name = sheet.cell(row=2, column=1)
    assert name.value == '=HYPERLINK("http://x")'
    assert name.data_type == "s"  # a string, not a formula
    amount = sheet.cell(row=2, column=2)
    assert amount.data_type == "n" and amount.value == -1234.5
