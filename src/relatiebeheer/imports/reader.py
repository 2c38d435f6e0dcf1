"""Reading CSV and XLSX files as batches of text columns.

* CSV: comma, semicolon, tab or pipe separated; UTF-8 with or without BOM or
  Windows-1252 (what Excel writes with Dutch and English settings). Windows-1252 files
  are transcoded to UTF-8 once, streaming, so Polars can scan them.
* XLSX: the first worksheet, read in read-only (streaming) mode. Numbers become plain
  text with a decimal point (``9500.5``), dates ISO text (``2026-11-27``), so that cells
  typed in Excel and cells written as text go through the same parsers.

Every batch is a Polars DataFrame with one String column per header (``c0``, ``c1`` …)
and ``__row``, the row number as a spreadsheet shows it (the header is row 1).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import polars as pl

SNIFF_BYTES = 256 * 1024
DELIMITERS = ";,\t|"


class FileProblem(Exception):
    """The file cannot be read at all; ``code`` names the problem for a translated message."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(detail or code)
        self.code = code
        self.detail = detail


@dataclass
class FileInfo:
    format: str  # "csv" or "xlsx"
    encoding: str = "utf-8"  # "utf-8", "utf-8-sig" or "cp1252"
    delimiter: str = ","
    headers: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "format": self.format,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "headers": self.headers,
        }

    @classmethod
    def from_dict(cls, data: dict) -> FileInfo:
        return cls(
            format=data["format"],
            encoding=data.get("encoding", "utf-8"),
            delimiter=data.get("delimiter", ","),
            headers=list(data.get("headers", [])),
        )


def column_names(headers: list[str]) -> list[str]:
    return [f"c{i}" for i in range(len(headers))]


def _is_xlsx(head: bytes) -> bool:
    return head.startswith(b"PK\x03\x04")


def _decode_sample(raw: bytes) -> tuple[str, str]:
    if raw.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", raw[3:].decode("utf-8", errors="ignore")
    try:
        return "utf-8", raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut off at the end of the sample is still UTF-8.
        if exc.start >= len(raw) - 3:
            return "utf-8", raw[: exc.start].decode("utf-8")
        return "cp1252", raw.decode("cp1252", errors="replace")


def _delimiter(text: str) -> str:
    lines = [line for line in text.splitlines()[:50] if line.strip()]
    if not lines:
        return ","
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=DELIMITERS).delimiter
    except csv.Error:
        header = lines[0]
        counts = {d: header.count(d) for d in DELIMITERS}
        best = max(counts, key=counts.get)
        return best if counts[best] else ","


def _clean_headers(headers: list) -> list[str]:
    out, seen = [], {}
    for i, header in enumerate(headers):
        name = str(header if header is not None else "").strip().lstrip("\ufeff") or f"#{i + 1}"
        if name in seen:  # duplicate titles get a suffix so each column can be named
            seen[name] += 1
            name = f"{name} ({seen[name]})"
        else:
            seen[name] = 1
        out.append(name)
    return out


def sniff(path: str | Path) -> FileInfo:
    path = Path(path)
    with open(path, "rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if not head.strip():
        raise FileProblem("empty")
    if _is_xlsx(head):
        return FileInfo(format="xlsx", headers=_xlsx_headers(path))
    if b"\x00" in head[:4096]:
        raise FileProblem("binary")
    encoding, text = _decode_sample(head)
    delimiter = _delimiter(text)
    first = next(
        csv.reader([text.splitlines()[0] if text.splitlines() else ""], delimiter=delimiter), []
    )
    headers = _clean_headers(first)
    if not any(h and not h.startswith("#") for h in headers):
        raise FileProblem("no_header")
    return FileInfo(format="csv", encoding=encoding, delimiter=delimiter, headers=headers)


# --- XLSX --------------------------------------------------------------------------------------


def _open_sheet(path: Path):
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # a damaged or foreign zip: say so, never crash
        raise FileProblem("bad_xlsx", str(exc)[:200]) from exc
    return workbook, workbook.worksheets[0]


def _xlsx_headers(path: Path) -> list[str]:
    workbook, sheet = _open_sheet(path)
    try:
        for row in sheet.iter_rows(values_only=True):
            if any(cell not in (None, "") for cell in row):
                headers = list(row)
                while headers and headers[-1] in (None, ""):
                    headers.pop()
                return _clean_headers(headers)
    finally:
        workbook.close()
    raise FileProblem("no_header")


def xlsx_cell_text(value) -> str | None:
    """An Excel cell as text that the column parsers read the same way as typed text."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        text = repr(value)
        if "e" in text or "E" in text:
            text = format(Decimal(text), "f")
        _whole, _, fraction = text.partition(".")
        if len(fraction) > 6:  # binary noise of a computed cell (0.1 + 0.2)
            text = format(Decimal(text).quantize(Decimal("0.000001")).normalize(), "f")
        return text
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M:%S")
    return str(value)


def _xlsx_batches(path: Path, info: FileInfo, batch_size: int) -> Iterator[pl.DataFrame]:
    names = column_names(info.headers)
    width = len(names)
    workbook, sheet = _open_sheet(path)
    try:
        header_seen = False
        buffer: list[list] = []
        rows: list[int] = []
        for index, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            if not header_seen:
                if any(cell not in (None, "") for cell in row):
                    header_seen = True
                    offset = index
                continue
            cells = [xlsx_cell_text(v) for v in list(row)[:width]]
            cells += [None] * (width - len(cells))
            buffer.append(cells)
            rows.append(index - offset + 1)
            if len(buffer) >= batch_size:
                yield _frame(names, buffer, rows)
                buffer, rows = [], []
        if buffer:
            yield _frame(names, buffer, rows)
    finally:
        workbook.close()


def _frame(names: list[str], buffer: list[list], rows: list[int]) -> pl.DataFrame:
    columns = {"__row": pl.Series("__row", rows, dtype=pl.UInt32)}
    for i, name in enumerate(names):
        columns[name] = pl.Series(name, [r[i] for r in buffer], dtype=pl.String)
    return pl.DataFrame(columns)


# --- CSV ---------------------------------------------------------------------------------------


def utf8_copy(path: Path, encoding: str) -> Path:
    """A UTF-8 copy of a Windows-1252 file next to it (streamed in 1 MB pieces)."""
    target = path.with_suffix(path.suffix + ".utf8")
    if target.exists():
        return target
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
    with (
        open(path, encoding=encoding, errors="replace", newline="") as src,
        os.fdopen(fd, "w", encoding="utf-8", newline="") as dst,
    ):
        while chunk := src.read(1024 * 1024):
            dst.write(chunk)
    os.replace(tmp, target)
    return target


BLOCK_BYTES = 3 * 512 * 1024


def _blocks(path: Path) -> Iterator[tuple[bytes, bytes]]:
    """(header line, a block of whole records) — about 1.5 MB each, never cutting a record.

    A block ends at a line break outside quotes: when the quotes before the last line
    break are unbalanced, that break is inside a quoted cell and an earlier one is used.
    """
    with open(path, "rb") as handle:
        header = handle.readline()
        rest = b""
        while True:
            chunk = handle.read(BLOCK_BYTES)
            data = rest + chunk
            if not data:
                return
            if not chunk:
                yield header, data
                return
            cut = data.rfind(b"\n") + 1
            while cut > 0 and data.count(b'"', 0, cut) % 2:
                cut = data.rfind(b"\n", 0, cut - 1) + 1
            if cut <= 0:  # one record longer than a block: read on
                rest = data
                continue
            block, rest = data[:cut], data[cut:]
            yield header, block


def _csv_batches(path: Path, info: FileInfo, batch_size: int) -> Iterator[pl.DataFrame]:
    """Streaming: one Polars frame per ~1.5 MB block, so memory stays flat for any size."""
    source = utf8_copy(path, info.encoding) if info.encoding == "cp1252" else path
    names = column_names(info.headers)
    next_row = 2
    try:
        for header, block in _blocks(source):
            frame = pl.read_csv(
                io.BytesIO(header + block),
                separator=info.delimiter,
                has_header=True,
                new_columns=names,
                infer_schema=False,
                row_index_name="__row",
                row_index_offset=next_row,
                truncate_ragged_lines=True,
                encoding="utf8-lossy",
                quote_char='"',
                raise_if_empty=False,
            )
            for name in names:
                if name not in frame.columns:
                    frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(name))
            next_row += frame.height
            if frame.height:
                yield frame.select(["__row", *names])
    except pl.exceptions.PolarsError as exc:
        raise FileProblem("bad_csv", str(exc).splitlines()[0][:200]) from exc


def batches(
    path: str | Path, info: FileInfo, *, batch_size: int = 100_000
) -> Iterator[pl.DataFrame]:
    """The file's data rows in batches; fully empty rows are dropped."""
    path = Path(path)
    source = (
        _xlsx_batches(path, info, batch_size)
        if info.format == "xlsx"
        else _csv_batches(path, info, batch_size)
    )
    names = column_names(info.headers)
    for frame in source:
        if not names:
            continue
        filled = pl.any_horizontal(
            [pl.col(n).is_not_null() & (pl.col(n).str.strip_chars() != "") for n in names]
        )
        frame = frame.filter(filled)
        if frame.height:
            yield frame


def head(path: str | Path, info: FileInfo, rows: int = 1000) -> pl.DataFrame:
    """The first ``rows`` data rows (for detection and the preview)."""
    frames, total = [], 0
    for frame in batches(path, info, batch_size=min(rows, 10_000)):
        frames.append(frame)
        total += frame.height
        if total >= rows:
            break
    if not frames:
        return pl.DataFrame(
            {"__row": pl.Series([], dtype=pl.UInt32)}
            | {n: pl.Series([], dtype=pl.String) for n in column_names(info.headers)}
        )
    return pl.concat(frames).head(rows)


def count_rows(path: str | Path, info: FileInfo) -> int | None:
    """Data rows in a CSV (a fast scan); ``None`` for XLSX (counted while reading)."""
    if info.format != "csv":
        return None
    try:
        source = Path(path)
        if info.encoding == "cp1252":
            source = utf8_copy(source, info.encoding)
        return (
            pl.scan_csv(
                source,
                separator=info.delimiter,
                infer_schema=False,
                truncate_ragged_lines=True,
                encoding="utf8-lossy",
            )
            .select(pl.len())
            .collect()
            .item()
        )
    except pl.exceptions.PolarsError:
        return None
