"""The binary COPY encoder: exact bytes for one row, every row back (in any order) for
random columns, and on PostgreSQL the server reading what it wrote."""

import struct
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pytest
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st

from relatiebeheer.common import pgcopy
from relatiebeheer.common.pgcopy import Column

HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)


def _decode(data: bytes, kinds: list[str]) -> list[tuple]:
    """Rows from a binary COPY stream, one field at a time with ``struct`` (the test's
    own reading of the format, independent of the encoder's NumPy layout)."""
    assert data.startswith(HEADER)
    at, rows = len(HEADER), []
    while True:
        (count,) = struct.unpack_from(">h", data, at)
        at += 2
        if count == -1:
            assert at == len(data)
            return rows
        assert count == len(kinds)
        row = []
        for kind in kinds:
            (length,) = struct.unpack_from(">i", data, at)
            at += 4
            if length == -1:
                row.append(None)
                continue
            raw = data[at : at + length]
            at += length
            if kind == "bigint":
                row.append(struct.unpack(">q", raw)[0])
            elif kind == "integer":
                row.append(struct.unpack(">i", raw)[0])
            elif kind == "smallint":
                row.append(struct.unpack(">h", raw)[0])
            elif kind == "double precision":
                row.append(struct.unpack(">d", raw)[0])
            elif kind == "date":
                row.append(date(2000, 1, 1) + timedelta(days=struct.unpack(">i", raw)[0]))
            elif kind == "numeric":
                ndigits, weight, sign, scale = struct.unpack_from(">hhHh", raw)
                digits = struct.unpack_from(f">{ndigits}h", raw, 8)
                value = sum(
                    Decimal(d) * Decimal(10000) ** (weight - i) for i, d in enumerate(digits)
                )
                value = -value if sign == pgcopy.NUMERIC_NEGATIVE else value
                row.append(value.quantize(Decimal(1).scaleb(-scale)))
            else:
                row.append(raw.decode("utf-8"))
        rows.append(tuple(row))


def test_one_row_exactly():
    columns = [
        Column("bigint", np.array([7])),
        Column("integer", np.array([5]), nulls=np.array([True])),
        Column("character varying(30)", np.array(["ab"])),
        Column("numeric", np.array([-1234])),  # −12.34
        Column("date", np.array(["2000-01-02"], dtype="datetime64[D]")),
        Column("double precision", np.array([1.5])),
    ]
    expected = (
        HEADER
        + struct.pack(">h", 6)
        + struct.pack(">iq", 8, 7)
        + struct.pack(">i", -1)
        + struct.pack(">i", 2)
        + b"ab"
        + struct.pack(">ihhHhhh", 12, 2, 0, 0x4000, 2, 12, 3400)
        + struct.pack(">ii", 4, 1)
        + struct.pack(">id", 8, 1.5)
        + struct.pack(">h", -1)
    )
    assert pgcopy.encode(columns) == expected


def test_no_rows_is_header_and_trailer():
    assert pgcopy.encode([Column("bigint", np.array([], dtype=np.int64))]) == HEADER + b"\xff\xff"


@pytest.mark.parametrize(
    ("column", "message"),
    [
        (Column("smallint", np.array([1, 40000])), "16-bit"),
        (Column("numeric", np.array([1_000_000])), "10,000"),
        (Column("point", np.array([1])), "no binary encoder"),
    ],
)
def test_values_it_cannot_write_are_refused(column, message):
    with pytest.raises(ValueError, match=message):
        pgcopy.encode([column])


def test_columns_of_different_lengths_are_refused():
    with pytest.raises(ValueError, match="different lengths"):
        pgcopy.encode([Column("bigint", np.array([1])), Column("bigint", np.array([1, 2]))])


def _expected(kind: str, value, null: bool):
    if null:
        return None
    if kind == "date":
        return None if np.isnat(value) else value.astype(date)
    if kind == "numeric":
        return Decimal(int(value)).scaleb(-2)
    if kind == "double precision":
        return float(value)
    return value if kind.startswith("character") else int(value)


ROW = st.tuples(
    st.integers(-(2**63), 2**63 - 1),
    st.integers(-(2**15), 2**15 - 1),
    st.integers(-999_999, 999_999),
    st.one_of(st.none(), st.dates(date(1900, 1, 1), date(2200, 12, 31))),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=6),
    st.floats(allow_nan=False),
    st.booleans(),
    st.booleans(),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(ROW, max_size=40))
def test_every_row_comes_back(rows):
    kinds = ["bigint", "smallint", "numeric", "date", "character varying(10)", "double precision"]
    n = len(rows)
    big, small, hundredths, days, texts, floats, null_a, null_b = (
        list(column) for column in (list(zip(*rows, strict=True)) or [()] * 8)
    )
    columns = [
        Column("bigint", np.array(big, dtype=np.int64), nulls=np.array(null_a, dtype=bool)),
        Column("smallint", np.array(small, dtype=np.int64)),
        Column("numeric", np.array(hundredths, dtype=np.int64), nulls=np.array(null_b, dtype=bool)),
        Column("date", np.array([d or "NaT" for d in days], dtype="datetime64[D]").reshape(n)),
        Column("character varying(10)", np.array(texts, dtype=str).reshape(n)),
        Column("double precision", np.array(floats, dtype=float)),
    ]
    want = [
        tuple(
            _expected(
                kind, column.values[i], bool(column.nulls[i]) if column.nulls is not None else False
            )
            for kind, column in zip(kinds, columns, strict=True)
        )
        for i in range(n)
    ]
    got = _decode(pgcopy.encode(columns), [k.split("(")[0] for k in kinds])
    assert Counter(got) == Counter(want)


@pytest.mark.django_db
def test_postgresql_reads_what_it_wrote():
    if connection.vendor != "postgresql":
        pytest.skip("binary COPY is PostgreSQL's")
    columns = [
        Column("bigint", np.array([1, 2, 3, 4])),
        Column("integer", np.array([10, -20, 0, 2**31 - 1]), nulls=np.array([0, 0, 1, 0], bool)),
        Column("smallint", np.array([5, 4, 3, -2])),
        Column("numeric", np.array([1500, 0, -5, 99999])),
        Column(
            "date", np.array(["2026-11-27", "NaT", "1999-12-31", "2000-01-01"], "datetime64[D]")
        ),
        Column("character varying", np.array(["champions", "", "café ☕", "lost"])),
        Column(
            "double precision",
            np.array([0.25, 1e300, -0.0, 3.0]),
            nulls=np.array([0, 0, 0, 1], bool),
        ),
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE copy_check (id bigint, i integer, s smallint, "
            "m numeric(6, 2), d date, t varchar(30), f double precision)"
        )
        with cursor.cursor.copy("COPY copy_check FROM STDIN (FORMAT BINARY)") as copy:
            copy.write(pgcopy.encode(columns))
        cursor.execute("SELECT * FROM copy_check ORDER BY id")
        rows = cursor.fetchall()
        cursor.execute("DROP TABLE copy_check")
    assert rows == [
        (1, 10, 5, Decimal("15.00"), date(2026, 11, 27), "champions", 0.25),
        (2, -20, 4, Decimal("0.00"), None, "", 1e300),
        (3, None, 3, Decimal("-0.05"), date(1999, 12, 31), "café ☕", -0.0),
        (4, 2**31 - 1, -2, Decimal("999.99"), date(2000, 1, 1), "lost", None),
    ]
