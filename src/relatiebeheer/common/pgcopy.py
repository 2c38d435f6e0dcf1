"""Columns of NumPy values as PostgreSQL's binary ``COPY`` format, built without a loop
over rows.

Text ``COPY`` makes the server parse every value from text (dates, decimals and floats
are the dear ones) and the client format it first; in binary, both sides copy bytes.
Measured on the metric snapshot (100,000 rows × 31 columns): the server's COPY 0.27 s
against 0.41 s, and building the data 0.19 s against 0.34 s for a Polars frame written
as text.

The format (PostgreSQL manual, "COPY", Binary Format): a fixed header, then per row a
16-bit field count and per field a 32-bit length (−1 for NULL, with no data) followed by
the value in the type's binary form, big-endian; a 16-bit −1 ends it. Rows are grouped
by their layout (which fields are NULL, how long each string is); within a group every
row has the same byte layout, which a NumPy record type with explicit field offsets
describes, so each column is copied into place whole.

Only the types the app writes this way are supported; a value out of range for its
column raises ``ValueError`` (PostgreSQL would refuse it too).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
TRAILER = (-1).to_bytes(2, "big", signed=True)
POSTGRES_EPOCH_DAYS = 10957  # 2000-01-01 in days since 1970-01-01
NUMERIC_NEGATIVE = 0x4000

_INTEGERS = {"bigint": ">i8", "integer": ">i4", "smallint": ">i2"}


@dataclass
class Column:
    """One column: its PostgreSQL type (as ``format_type`` names it), the values, and
    where they are NULL (``None``: nowhere).

    Values by type: integers for integer types, ``datetime64[D]`` for ``date`` (NaT
    is NULL too), floats for ``double precision``, strings for text types, and for
    ``numeric`` integers scaled by 100 (a numeric with two decimals, e.g. margins in
    basis points).
    """

    pg_type: str
    values: np.ndarray
    nulls: np.ndarray | None = None


def encode(columns: list[Column]) -> bytes:
    """The rows of ``columns`` (all of one length) as a complete binary COPY stream.

    The rows come out grouped by their layout (which fields are NULL, how long each
    string is), not in the order given: a table does not keep an order anyway.
    """
    n = len(columns[0].values) if columns else 0
    if any(len(column.values) != n for column in columns):
        raise ValueError("columns of different lengths")
    fields = []  # per column: values (one fixed-size item each), length per row (−1: NULL)
    for column in columns:
        values, lengths = _values(column)  # lengths −1 where a value is empty by itself
        if column.nulls is not None:
            lengths = np.where(column.nulls, -1, lengths)
        fields.append((values, lengths))
    # Number each row's layout: fold the lengths that vary into one small key,
    # renumbering after each column so that it never overflows.
    layout = np.zeros(n, dtype=np.int64)
    for _, lengths in fields:
        if n and lengths.min() != lengths.max():
            key = layout * (int(lengths.max()) + 2) + (lengths + 1)
            layout = np.unique(key, return_inverse=True)[1].ravel()
    # Sorted by layout, each group's rows are one contiguous slice of every column.
    order = np.argsort(layout, kind="stable")
    fields = [(values[order], lengths[order]) for values, lengths in fields]
    sizes = np.bincount(layout).tolist() if n else []
    out = [SIGNATURE]
    start = 0
    for size in sizes:
        out.append(_group(fields, start, size).tobytes())
        start += size
    out.append(TRAILER)
    return b"".join(out)


def _group(fields: list, start: int, size: int) -> np.ndarray:
    """Rows ``start`` to ``start + size`` (all of one layout) as a record array whose
    fields sit exactly where the format wants them: field count, then per column its
    length and, unless NULL, its value."""
    names, formats, offsets = ["count"], [">i2"], [0]
    at = 2
    for i, (values, lengths) in enumerate(fields):
        length = int(lengths[start])  # the same for every row of the group
        names.append(f"length{i}")
        formats.append(">i4")
        offsets.append(at)
        at += 4
        if length >= 0:
            names.append(f"value{i}")
            formats.append(f"S{length}" if values.dtype.kind == "S" else values.dtype)
            offsets.append(at)
            at += length
    layout = np.dtype({"names": names, "formats": formats, "offsets": offsets, "itemsize": at})
    rows = np.empty(size, dtype=layout)
    rows["count"] = len(fields)
    for i, (values, lengths) in enumerate(fields):
        rows[f"length{i}"] = lengths[start]
        if lengths[start] >= 0:
            rows[f"value{i}"] = values[start : start + size]
    return rows


def _values(column: Column) -> tuple[np.ndarray, np.ndarray]:
    """The column's values in their binary form (one fixed-size item each), and each
    one's length in bytes (−1 for NaT, the one value that is NULL by itself)."""
    kind, values = column.pg_type, column.values
    n = len(values)
    if kind in _INTEGERS:
        dtype = np.dtype(_INTEGERS[kind])
        return _in_range(np.asarray(values, dtype=np.int64), dtype).astype(dtype), _full(n, dtype)
    if kind == "double precision":
        return np.asarray(values, dtype=">f8"), _full(n, np.dtype(">f8"))
    if kind == "date":
        dates = np.asarray(values, dtype="datetime64[D]")
        missing = np.isnat(dates)
        days = np.where(missing, 0, dates.astype(np.int64) - POSTGRES_EPOCH_DAYS)
        lengths = np.where(missing, -1, _full(n, np.dtype(">i4")))
        return _in_range(days, np.dtype(">i4")).astype(">i4"), lengths
    if kind.startswith("numeric"):
        return _numeric_hundredths(np.asarray(values, dtype=np.int64))
    if kind.startswith(("character varying", "text")):
        return _text(np.asarray(values, dtype=str))
    raise ValueError(f"no binary encoder for PostgreSQL type {kind!r}")


def _full(n: int, dtype: np.dtype) -> np.ndarray:
    return np.full(n, dtype.itemsize, dtype=np.int64)


def _text(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """UTF-8 bytes as a fixed-width bytes array (NumPy pads with NUL bytes, which UTF-8
    text never contains, and strips them again), and each string's length in bytes.

    Each distinct string is encoded once: these columns hold choice keys, and NumPy's
    own encoding of 100,000 strings took about 0.1 s where this takes 0.04 s.
    """
    texts = values.tolist()
    index_of: dict[str, int] = {}
    for text in texts:
        index_of.setdefault(text, len(index_of))
    encoded = np.array([text.encode("utf-8") for text in index_of] or [b""], dtype=bytes)
    positions = np.fromiter(map(index_of.__getitem__, texts), dtype=np.int64, count=len(texts))
    lengths = np.strings.str_len(encoded).astype(np.int64)
    return encoded[positions], lengths[positions]


def _in_range(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    info = np.iinfo(dtype)
    if values.size and (values.min() < info.min or values.max() > info.max):
        raise ValueError(f"a value does not fit in {dtype.itemsize * 8}-bit integers")
    return values


def _numeric_hundredths(hundredths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Numerics with two decimals from whole hundredths: two base-10,000 digits (the
    whole part and the decimals), weight 0, display scale 2. The server strips the zero
    digits itself, so every value may carry both."""
    n = hundredths.size
    magnitude = np.abs(hundredths)
    whole, cents = magnitude // 100, magnitude % 100
    if n and whole.max() >= 10000:
        raise ValueError("numeric values of 10,000 or more are not supported")
    words = np.zeros((n, 6), dtype=">i2")
    words[:, 0] = 2  # digits
    words[:, 1] = 0  # weight: the first digit is the units
    words[:, 2] = np.where(hundredths < 0, NUMERIC_NEGATIVE, 0)
    words[:, 3] = 2  # display scale
    words[:, 4] = whole
    words[:, 5] = cents * 100
    return words.view("V12").ravel(), np.full(n, 12, dtype=np.int64)
