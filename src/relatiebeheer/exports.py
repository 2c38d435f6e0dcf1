"""The one exporter: any selector's rows to CSV or XLSX, streamed, in the user's language.

* CSV in Dutch uses ``;`` and a decimal comma (what Excel expects with Dutch
  settings); in English ``,`` and a decimal point. UTF-8 with a BOM so Excel reads
  accents. Text cells starting with ``= + - @``, a tab or a carriage return get a
  leading apostrophe (formula injection); numbers are written as numbers, so a
  negative amount stays a number.
* XLSX writes text as text cells (never formulas), amounts as numbers with a euro
  format, and stops at Excel's row limit with a clear message to use CSV instead.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from relatiebeheer.core.money import format_number

XLSX_MAX_ROWS = 1_048_576
DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class ExportTooLarge(Exception):
    pass


@dataclass(frozen=True)
class Column:
    """``value(row)`` gives the cell; ``kind`` is text, int, decimal, money, date or datetime."""

    header: Any
    value: Callable[[Any], Any]
    kind: str = "text"


def escape_text(text: str) -> str:
    """Neutralise spreadsheet formulas in text cells (OWASP CSV injection)."""
    return "'" + text if text.startswith(DANGEROUS_PREFIXES) else text


def unescape_text(text: str) -> str:
    """The inverse of :func:`escape_text`, for importing our own exports."""
    if len(text) > 1 and text[0] == "'" and text[1:].startswith(DANGEROUS_PREFIXES):
        return text[1:]
    return text


def _csv_cell(value: Any, kind: str, lang: str) -> str:
    if value is None:
        return ""
    if kind in {"money", "decimal"}:
        places = 2 if kind == "money" else max(0, -Decimal(value).as_tuple().exponent)
        text = format_number(Decimal(value), lang=lang, places=places)
        # No thousands separators in files: they make numbers ambiguous to re-read.
        return text.replace(".", "") if lang == "nl" else text.replace(",", "")
    if kind == "int":
        return str(int(value))
    if kind == "date":
        return value.strftime("%d-%m-%Y") if lang == "nl" else value.isoformat()
    if kind == "datetime":
        local = timezone.localtime(value)
        return (
            local.strftime("%d-%m-%Y %H:%M") if lang == "nl" else local.strftime("%Y-%m-%d %H:%M")
        )
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return escape_text(str(value))


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(columns: list[Column], rows: Iterable[Any], *, lang: str) -> Iterator[str]:
    writer = csv.writer(_Echo(), delimiter=";" if lang == "nl" else ",", lineterminator="\r\n")
    yield "\ufeff" + writer.writerow([str(c.header) for c in columns])
    for row in rows:
        yield writer.writerow([_csv_cell(c.value(row), c.kind, lang) for c in columns])


def write_xlsx(
    columns: list[Column], rows: Iterable[Any], target, *, lang: str, sheet: str = "Export"
) -> int:
    import xlsxwriter

    workbook = xlsxwriter.Workbook(
        target, {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    worksheet = workbook.add_worksheet(sheet[:31])
    bold = workbook.add_format({"bold": True})
    money = workbook.add_format({"num_format": "€ #,##0.00"})
    day = workbook.add_format({"num_format": "dd-mm-yyyy" if lang == "nl" else "yyyy-mm-dd"})
    stamp = workbook.add_format(
        {"num_format": "dd-mm-yyyy hh:mm" if lang == "nl" else "yyyy-mm-dd hh:mm"}
    )
    for col, column in enumerate(columns):
        worksheet.write_string(0, col, str(column.header), bold)
    count = 0
    for count, row in enumerate(rows, start=1):
        if count >= XLSX_MAX_ROWS:
            workbook.close()
            raise ExportTooLarge(
                _("Excel holds at most %(max)s rows; export this list as CSV instead.")
                % {"max": XLSX_MAX_ROWS - 1}
            )
        for col, column in enumerate(columns):
            value = column.value(row)
            if value is None:
                continue
            if column.kind in {"money", "decimal", "int"}:
                # Excel stores every number as a double; this is the file format boundary.
                worksheet.write_number(
                    count, col, float(value), money if column.kind == "money" else None
                )
            elif column.kind == "date":
                worksheet.write_datetime(count, col, value, day)
            elif column.kind == "datetime":
                worksheet.write_datetime(
                    count, col, timezone.localtime(value).replace(tzinfo=None), stamp
                )
            elif isinstance(value, bool):
                worksheet.write_string(count, col, _("yes") if value else _("no"))
            else:
                worksheet.write_string(count, col, str(value))
    workbook.close()
    return count


def export_response(
    columns: list[Column], rows: Iterable[Any], *, fmt: str, lang: str, filename: str
):
    """A streaming download of ``rows``; ``rows`` should be an iterator over the database."""
    stamp = timezone.localdate().isoformat()
    if fmt == "xlsx":
        spool = tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024)
        write_xlsx(columns, rows, spool, lang=lang)
        spool.seek(0)
        return FileResponse(
            spool,
            as_attachment=True,
            filename=f"{filename}-{stamp}.xlsx",
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response = StreamingHttpResponse(
        csv_lines(columns, rows, lang=lang), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}-{stamp}.csv"'
    return response


def csv_text(columns: list[Column], rows: Iterable[Any], *, lang: str) -> str:
    """The CSV as one string (for commands and tests)."""
    buffer = io.StringIO()
    for line in csv_lines(columns, rows, lang=lang):
        buffer.write(line)
    return buffer.getvalue()
