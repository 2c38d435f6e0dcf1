"""Transactions file in, predicted customer lifetime value out (pure Python, no Django).

The boundary around :mod:`relatiebeheer.core.btyd` for imports, the command line and
the API::

    read = read_transactions_csv("transactions.csv")
    if not read.ok:
        for error in read.errors: ...            # row, column, value, reason; write nothing
    result = predict_clv(
        read.transactions.customer_ids, read.transactions.dates, read.transactions.amounts,
        observation_end=date(2025, 6, 30), horizon_weeks=52,
        margin=Decimal("0.30"), discount_rate=Decimal("0.10"),
    )                                              # raises btyd.BTYDError, ValueError
    result.to_dict()                               # --json
    result.write_csv(file)                         # --out predictions.csv

The transactions file is UTF-8 CSV (a byte-order mark is accepted) with a header naming
the columns ``customer_id``, ``date`` and ``amount`` (any order; other columns are
ignored). Dates are ISO ``YYYY-MM-DD``; amounts are plain notation (``12.34``: a point
as decimal separator, no thousands separators, no currency sign) in whole cents,
excluding VAT. Negative amounts (returns, credit notes) are refused. Every malformed
row is reported with its row number (the header is row 1, as in a spreadsheet), the
column, the value and the reason; nothing is returned for a file with errors.

The model works in floats. Money leaves it here, as ``Decimal`` rounded once to whole
cents (half up) by :func:`relatiebeheer.core.money.quantize_money`: the expected order
value and the predicted CLV of each customer, and their total. The CLV convention
(weekly steps, discounting at (1 + d)^(−week/52)) is in :mod:`relatiebeheer.core.btyd`
and in :data:`CLV_CONVENTION`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from relatiebeheer.core import btyd
from relatiebeheer.core.money import quantize_money

__all__ = [
    "CLV_CONVENTION",
    "COLUMNS",
    "DEFAULT_DISCOUNT_RATE",
    "DEFAULT_HORIZON_WEEKS",
    "DEFAULT_MARGIN",
    "MAX_HORIZON_WEEKS",
    "PREDICTION_COLUMNS",
    "ClvResult",
    "CustomerPrediction",
    "ReadResult",
    "RowError",
    "Transactions",
    "predict_clv",
    "read_transactions_csv",
]

COLUMNS = ("customer_id", "date", "amount")
PREDICTION_COLUMNS = (
    "customer_id",
    "frequency",
    "recency",
    "T",
    "p_alive",
    "expected_orders",
    "expected_order_value",
    "predicted_clv",
)
DEFAULT_HORIZON_WEEKS = 52
DEFAULT_MARGIN = Decimal("0.30")
DEFAULT_DISCOUNT_RATE = Decimal("0.10")
MAX_HORIZON_WEEKS = 520  # ten years: beyond that the model is pure extrapolation

CLV_CONVENTION = (
    "predicted CLV = margin × expected order value (Gamma-Gamma) × expected orders per "
    "week (BG/NBD, weeks 1..horizon), each week discounted at (1 + d)^(-week/52); "
    "recency and T in weeks since the first purchase; money rounded to cents"
)

_MAX_INTEGER_DIGITS = 12  # amounts below 10^12: exact in float cents


# --------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    """One problem in the file. ``row`` counts the header as row 1 (0: the file itself)."""

    row: int
    column: str
    value: str
    reason: str
    code: str

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", {self.column}" if self.column else "")
        shown = f" {self.value!r}:" if self.value else ""
        return f"{where}:{shown} {self.reason}"


@dataclass(frozen=True, eq=False)
class Transactions:
    """Validated transactions as arrays: ids (str), dates (datetime64[D]), amounts (euros)."""

    customer_ids: NDArray[np.str_]
    dates: NDArray[np.datetime64]
    amounts: NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.amounts.size)


@dataclass(frozen=True, eq=False)
class ReadResult:
    """Either ``transactions`` (``ok``) or ``errors``; never both.

    ``errors`` holds at most ``max_errors`` problems, in file order; ``error_count`` is
    the total.
    """

    transactions: Transactions | None
    errors: tuple[RowError, ...] = ()
    error_count: int = 0

    @property
    def ok(self) -> bool:
        return self.transactions is not None


Source = str | os.PathLike[str] | IO[str] | IO[bytes]

_FIELD_COUNT_HINT = " (a comma inside an amount? write 12.34)"
_MAX_SHOWN = 200  # characters of a malformed line shown in its error


def _read_text(source: Source) -> str:
    if isinstance(source, str | os.PathLike):
        with open(source, encoding="utf-8-sig", newline="") as handle:
            return handle.read()
    data = source.read()
    if isinstance(data, bytes):
        data = data.decode("utf-8-sig")
    return data.removeprefix("\ufeff")


def read_transactions_csv(source: Source, *, max_errors: int = 100) -> ReadResult:
    """Read and validate a ``customer_id,date,amount`` CSV file (a path or an open file).

    Validation is vectorised with NumPy string functions: two million rows read in a
    few seconds. Files without quote characters are split directly; files with quotes
    go through the csv module. Blank lines are skipped. See the module docstring for
    the format and :class:`RowError` for what is reported.
    """
    try:
        text = _read_text(source)
    except UnicodeDecodeError as exc:
        return _failed(
            [RowError(0, "", "", f"the file is not UTF-8 text ({exc.reason})", "encoding")]
        )
    if '"' in text:
        try:
            records = list(csv.reader(io.StringIO(text, newline=""), strict=True))
        except csv.Error as exc:
            return _failed([RowError(0, "", "", f"not a readable CSV file ({exc})", "csv")])
        if not records:
            return _failed([_EMPTY])
        return _validate(records[0], _CsvBody(records[1:]), max_errors=max_errors)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if not lines[0].strip():
        return _failed([_EMPTY])
    return _validate(lines[0].split(","), _LineBody(lines[1:]), max_errors=max_errors)


_EMPTY = RowError(1, "", "", "the file is empty: expected a header", "empty")


def _failed(errors: list[RowError], total: int | None = None) -> ReadResult:
    return ReadResult(None, tuple(errors), len(errors) if total is None else total)


class _CsvBody:
    """Rows parsed by the csv module (files with quoted fields)."""

    def __init__(self, records: list[list[str]]) -> None:
        self.records = records
        self.size = len(records)
        self.field_count = np.fromiter((len(r) for r in records), np.intp, count=self.size)
        self.blank = np.fromiter(
            (not any(f.strip() for f in r) for r in records), bool, count=self.size
        )

    def line(self, i: int) -> str:
        return ",".join(self.records[i])

    def columns(
        self, keep: NDArray[np.bool_], positions: list[int], width: int
    ) -> list[NDArray[np.str_]]:
        del width  # the csv module has split the fields already
        rows = self.records if np.all(keep) else [self.records[i] for i in np.flatnonzero(keep)]
        if not rows:
            return [np.array([], dtype=str) for _ in positions]
        columns = list(zip(*rows, strict=True))
        return [np.array(columns[p], dtype=str) for p in positions]


class _LineBody:
    """Lines split on commas with NumPy string functions (files without quotes)."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = np.array(lines, dtype=str)
        self.size = self.lines.size
        self.field_count = np.strings.count(self.lines, ",") + 1
        # Blank (only commas and spaces) lines start with one of these; check only those.
        first = self.lines.astype("U1")
        maybe = np.flatnonzero(np.isin(first, ["", ",", " ", "\t"]))
        self.blank = np.zeros(self.size, dtype=bool)
        if maybe.size:
            bare = np.strings.strip(np.strings.replace(self.lines[maybe], ",", ""))
            self.blank[maybe] = np.strings.str_len(bare) == 0

    def line(self, i: int) -> str:
        return str(self.lines[i])

    def columns(
        self, keep: NDArray[np.bool_], positions: list[int], width: int
    ) -> list[NDArray[np.str_]]:
        rest = self.lines[keep]
        if rest.size == 0:  # np.strings.partition cannot take an empty array
            return [np.array([], dtype=str) for _ in positions]
        fields = []
        for _ in range(max(positions)):
            field, _sep, rest = np.strings.partition(rest, ",")
            fields.append(field)
        last = max(positions)
        fields.append(rest if last == width - 1 else np.strings.partition(rest, ",")[0])
        return [fields[p] for p in positions]


def _validate(
    header_cells: list[str], body: _CsvBody | _LineBody, *, max_errors: int
) -> ReadResult:
    header = [cell.strip().lstrip("\ufeff").strip().lower() for cell in header_cells]
    missing = [name for name in COLUMNS if name not in header]
    if missing:
        expected = ", ".join(COLUMNS)
        return _failed(
            [
                RowError(
                    1,
                    n,
                    "",
                    f"the header has no {n} column (expected: {expected})",
                    "missing_column",
                )
                for n in missing
            ]
        )
    duplicated = sorted({name for name in COLUMNS if header.count(name) > 1})
    if duplicated:
        return _failed(
            [
                RowError(1, n, "", f"the header names {n} twice", "duplicate_column")
                for n in duplicated
            ]
        )
    positions = [header.index(name) for name in COLUMNS]
    width = len(header)

    # Problems come in groups (one mask per check); only the first max_errors rows of
    # each group are turned into RowError objects, so a file that is wrong on every
    # row still fails fast.
    groups: list[tuple[NDArray[np.intp], int, NDArray[Any], str, str]] = []
    row_numbers = np.arange(2, body.size + 2)
    bad_width = (body.field_count != width) & ~body.blank
    for found in np.unique(body.field_count[bad_width]).tolist():
        idx = np.flatnonzero(bad_width & (body.field_count == found))
        lines = np.array([body.line(i)[:_MAX_SHOWN] for i in idx[:max_errors].tolist()], dtype=str)
        hint = _FIELD_COUNT_HINT if found > width else ""
        reason = f"{found} fields, the header has {width}{hint}"
        groups.append((row_numbers[idx], -1, lines, reason, "field_count"))

    keep = ~bad_width & ~body.blank
    row_numbers = row_numbers[keep]
    raw_ids, raw_dates, raw_amounts = body.columns(keep, positions, width)

    ids = np.strings.strip(raw_ids)
    empty_id = np.strings.str_len(ids) == 0
    groups.append((row_numbers[empty_id], 0, raw_ids[empty_id], "empty customer id", "empty"))

    dates, bad_date = _parse_dates(np.strings.strip(raw_dates))
    reason = "not a date: write it as YYYY-MM-DD (e.g. 2025-03-31)"
    groups.append((row_numbers[bad_date], 1, raw_dates[bad_date], reason, "invalid_date"))

    amounts, amount_problems = _parse_amounts(np.strings.strip(raw_amounts))
    for mask, reason, code in amount_problems:
        groups.append((row_numbers[mask], 2, raw_amounts[mask], reason, code))

    total = sum(g[0].size for g in groups)
    if total:
        found_errors = [
            (row, col, RowError(row, COLUMNS[col] if col >= 0 else "", str(value), reason, code))
            for rows, col, values, reason, code in groups
            for row, value in zip(
                rows[:max_errors].tolist(), values[:max_errors].tolist(), strict=True
            )
        ]
        found_errors.sort(key=lambda e: (e[0], e[1]))
        return _failed([e[2] for e in found_errors[:max_errors]], total=total)
    if ids.size == 0:
        return _failed([RowError(2, "", "", "the file has no transactions", "no_rows")])
    return ReadResult(Transactions(customer_ids=ids, dates=dates, amounts=amounts))


_ZERO = ord("0")


def _codes(values: NDArray[np.str_], width: int) -> NDArray[np.int32]:
    """Unicode code points as an (n, width) matrix, padded with 0."""
    fixed = np.ascontiguousarray(values, dtype=f"U{width}")
    return fixed.view(np.uint32).reshape(-1, width).view(np.int32)


def _parse_dates(values: NDArray[np.str_]) -> tuple[NDArray[np.datetime64], NDArray[np.bool_]]:
    """Strict ISO YYYY-MM-DD, vectorised: (dates, invalid mask)."""
    c = _codes(values, 10) - _ZERO
    digit = (c >= 0) & (c <= 9)
    shape_ok = (
        (np.strings.str_len(values) == 10)
        & np.all(digit[:, [0, 1, 2, 3, 5, 6, 8, 9]], axis=1)
        & (c[:, 4] == ord("-") - _ZERO)
        & (c[:, 7] == ord("-") - _ZERO)
    )
    c = c.astype(np.int64)
    year = c[:, 0] * 1000 + c[:, 1] * 100 + c[:, 2] * 10 + c[:, 3]
    month = c[:, 5] * 10 + c[:, 6]
    day = c[:, 8] * 10 + c[:, 9]
    ok = shape_ok & (year >= 1) & (month >= 1) & (month <= 12) & (day >= 1)
    months = np.where(ok, (year - 1970) * 12 + month - 1, 0).astype("datetime64[M]")
    first = months.astype("datetime64[D]")
    length = ((months + 1).astype("datetime64[D]") - first).astype(np.int64)
    ok &= day <= length
    return first + np.where(ok, day - 1, 0).astype("timedelta64[D]"), ~ok


def _plain_cents(values: NDArray[np.str_]) -> tuple[NDArray, NDArray, NDArray, NDArray]:
    """Read plain amounts (``123``, ``123.45``) as integer cents, vectorised.

    Returns (is plain, has non-zero decimals past the cent, too many integer digits,
    cents); cents are only meaningful where the amount is plain and fits.
    """
    n = values.size
    length = np.strings.str_len(values)
    width = max(int(length.max()) if n else 1, 1)
    c = _codes(values, width) - _ZERO
    position = np.arange(width)
    inside = position < length[:, None]
    digit = (c >= 0) & (c <= 9) & inside
    point = (c == ord(".") - _ZERO) & inside
    n_points = np.count_nonzero(point, axis=1)
    last = digit[np.arange(n), np.maximum(length - 1, 0)]
    plain = (length > 0) & np.all(digit | point | ~inside, axis=1) & (n_points <= 1)
    plain &= digit[:, 0] & last  # no leading or trailing point
    point_at = np.where(n_points == 1, np.argmax(point, axis=1), length)
    # Decimals beyond the second must be zeros (12.340 is fine, 12.345 is not).
    past_cent = digit & (position > point_at[:, None] + 2)
    sub_cent = np.any(past_cent & (c != 0), axis=1)
    too_large = point_at > _MAX_INTEGER_DIGITS
    # Each digit's power of ten in cents: 2 for units, 1 and 0 for the decimals.
    power = point_at[:, None] - position + np.where(position > point_at[:, None], 1, 0) + 1
    counted = digit & (power >= 0) & (power <= _MAX_INTEGER_DIGITS + 1)
    weights = np.where(counted, 10 ** np.clip(power, 0, _MAX_INTEGER_DIGITS + 1), 0)
    cents = np.einsum("ij,ij->i", np.where(counted, c, 0).astype(np.int64), weights)
    return plain, sub_cent, too_large, cents


def _parse_amounts(
    values: NDArray[np.str_],
) -> tuple[NDArray[np.float64], list[tuple[NDArray[np.bool_], str, str]]]:
    """Plain-notation amounts, vectorised: (euros, [(mask, reason, code)])."""
    plain, sub_cent, too_large, cents = _plain_cents(values)
    good = plain & ~sub_cent & ~too_large
    amounts = np.where(good, cents, 0) / 100.0

    empty = np.strings.str_len(values) == 0
    minus = np.strings.startswith(values, "-")
    negative = np.zeros(values.size, dtype=bool)
    if np.any(minus):
        unsigned = np.strings.lstrip(np.strings.slice(values[minus], 1, None))
        negative[minus] = _plain_cents(unsigned)[0]
    problems = [
        (empty, "empty amount", "empty"),
        (
            negative,
            "negative amount: returns and credit notes are not supported (leave them out)",
            "negative",
        ),
        (plain & sub_cent, "amount has fractions of a cent", "fraction_of_cent"),
        (plain & ~sub_cent & too_large, "amount too large", "too_large"),
        (
            ~plain & ~empty & ~negative,
            "not a plain amount: write it like 1234.56 (a point as decimal separator, "
            "no thousands separators or currency sign)",
            "invalid_amount",
        ),
    ]
    return amounts, problems


# --------------------------------------------------------------------------------------
# Predicting
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerPrediction:
    """One customer's summary and prediction; money as ``Decimal`` cents."""

    customer_id: str
    frequency: int
    recency: float  # weeks from the first to the last purchase
    T: float  # weeks from the first purchase to the observation end
    p_alive: float
    expected_orders: float
    expected_order_value: Decimal
    predicted_clv: Decimal


def _money(value: float) -> Decimal:
    return quantize_money(Decimal(float(value)))


def _cents_text(values: NDArray[np.float64]) -> list[str]:
    """Non-negative amounts as ``"12.34"``, rounded exactly like :func:`_money`.

    Vectorised: ``floor(100·v + ½)`` agrees with the exact half-up rounding of the
    binary value except within float error of a half cent; those few values go
    through ``Decimal``.
    """
    scaled = values * 100.0
    cents = np.floor(scaled + 0.5)
    frac = scaled - np.floor(scaled)
    for i in np.flatnonzero(np.abs(frac - 0.5) < 1e-6).tolist():
        cents[i] = float(_money(values[i]) * 100)
    whole = cents.astype(np.int64)
    text = np.strings.add(
        np.strings.add((whole // 100).astype(str), "."),
        np.strings.zfill((whole % 100).astype(str), 2),
    )
    return text.tolist()


@dataclass(frozen=True, eq=False)
class ClvResult:
    """A fitted model and its per-customer predictions (arrays; rows on demand)."""

    observation_end: dt.date
    horizon_weeks: int
    margin: Decimal
    discount_rate: Decimal
    bgnbd: btyd.BGNBDParams
    gamma_gamma: btyd.GammaGammaParams
    summary: btyd.CustomerSummary
    p_alive: NDArray[np.float64]
    expected_orders: NDArray[np.float64]
    expected_order_value: NDArray[np.float64]
    predicted_clv: NDArray[np.float64]
    order: NDArray[np.intp] = field(repr=False)  # row order: ids numerically if all digits

    @property
    def customers(self) -> int:
        return self.summary.n_customers

    @property
    def repeat_buyers(self) -> int:
        return self.summary.n_repeat_buyers

    @property
    def total_predicted_clv(self) -> Decimal:
        return _money(math.fsum(self.predicted_clv.tolist()))

    def rows(self) -> Iterator[CustomerPrediction]:
        s = self.summary
        for i in self.order.tolist():
            yield CustomerPrediction(
                customer_id=str(s.customer_ids[i]),
                frequency=int(s.frequency[i]),
                recency=float(s.recency[i]),
                T=float(s.T[i]),
                p_alive=float(self.p_alive[i]),
                expected_orders=float(self.expected_orders[i]),
                expected_order_value=_money(self.expected_order_value[i]),
                predicted_clv=_money(self.predicted_clv[i]),
            )

    def to_dict(self, *, rows: bool = True) -> dict[str, Any]:
        """JSON-ready: money as strings with two decimals, weeks and shares as numbers."""
        out: dict[str, Any] = {
            "observation_end": self.observation_end.isoformat(),
            "horizon_weeks": self.horizon_weeks,
            "margin": str(self.margin),
            "discount_rate": str(self.discount_rate),
            "convention": CLV_CONVENTION,
            "customers": self.customers,
            "repeat_buyers": self.repeat_buyers,
            "transactions_used": self.summary.transactions_used,
            "transactions_after_observation_end": self.summary.transactions_after_end,
            "bgnbd": self.bgnbd.as_dict(),
            "gamma_gamma": self.gamma_gamma.as_dict(),
            "total_predicted_clv": str(self.total_predicted_clv),
        }
        if rows:
            out["predictions"] = [
                dict(zip(PREDICTION_COLUMNS, row, strict=True)) for row in self._table()
            ]
        return out

    def write_csv(self, handle: IO[str]) -> None:
        """Write one row per customer (:data:`PREDICTION_COLUMNS`) to an open text file."""
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(PREDICTION_COLUMNS)
        writer.writerows(self._table())

    def _table(self) -> Iterator[tuple[Any, ...]]:
        """Rows for output, column by column: weeks and shares to 4 decimals, money as
        cents strings (rounded exactly as :meth:`rows` does)."""
        s, order = self.summary, self.order
        ids = s.customer_ids[order]
        columns = [
            ids.tolist() if ids.dtype.kind == "U" else [str(v) for v in ids.tolist()],
            s.frequency[order].tolist(),
            np.round(s.recency[order], 4).tolist(),
            np.round(s.T[order], 4).tolist(),
            np.round(self.p_alive[order], 4).tolist(),
            np.round(self.expected_orders[order], 4).tolist(),
            _cents_text(self.expected_order_value[order]),
            _cents_text(self.predicted_clv[order]),
        ]
        return zip(*columns, strict=True)


def _fraction(name: str, value: Decimal | float | str) -> Decimal:
    try:
        number = Decimal(str(value))
    except ArithmeticError as exc:
        raise ValueError(f"{name} must be a number, not {value!r}") from exc
    if not number.is_finite() or not (0 <= number <= 1):
        raise ValueError(f"{name} must lie between 0 and 100 % (got {value})")
    return number


def _display_order(ids: NDArray[Any]) -> NDArray[np.intp]:
    if ids.dtype.kind == "U" and ids.size:
        length = np.strings.str_len(ids)
        if np.all(np.strings.isdigit(ids)) and int(length.max()) <= 18:
            return np.argsort(ids.astype(np.int64), kind="stable")
    return np.arange(ids.size)


def predict_clv(
    customer_ids: ArrayLike,
    dates: ArrayLike,
    amounts: ArrayLike,
    *,
    observation_end: dt.date | str,
    horizon_weeks: int = DEFAULT_HORIZON_WEEKS,
    margin: Decimal | float | str = DEFAULT_MARGIN,
    discount_rate: Decimal | float | str = DEFAULT_DISCOUNT_RATE,
) -> ClvResult:
    """Fit BG/NBD and Gamma-Gamma on the transactions up to ``observation_end``; predict.

    ``margin`` and ``discount_rate`` are fractions (0.30 for 30 %, as
    :func:`relatiebeheer.core.money.parse_percentage` returns them); the discount rate
    is per year. Transactions after ``observation_end`` are left out of the fit (their
    number is in the result). Raises :class:`ValueError` for bad arguments and
    :class:`relatiebeheer.core.btyd.BTYDError` (``InsufficientData``, ``FitFailed``)
    when the data cannot carry the model: show its ``reason``.
    """
    if isinstance(horizon_weeks, bool) or int(horizon_weeks) != horizon_weeks:
        raise ValueError("the horizon must be a whole number of weeks")
    horizon_weeks = int(horizon_weeks)
    if not 1 <= horizon_weeks <= MAX_HORIZON_WEEKS:
        raise ValueError(f"the horizon must be 1 to {MAX_HORIZON_WEEKS} weeks")
    margin_d = _fraction("the margin", margin)
    rate_d = _fraction("the discount rate", discount_rate)
    if isinstance(observation_end, str):
        try:
            observation_end = dt.date.fromisoformat(observation_end)
        except ValueError as exc:
            raise ValueError(
                f"observation end is not a date (YYYY-MM-DD): {observation_end!r}"
            ) from exc

    s = btyd.summarise_transactions(customer_ids, dates, amounts, observation_end)
    bg = btyd.fit_bgnbd(s.frequency, s.recency, s.T)
    gg = btyd.fit_gamma_gamma(s.frequency, s.monetary_value)
    alive = btyd.p_alive(bg, s.frequency, s.recency, s.T)
    orders, value, clv = btyd.predicted_clv(
        bg,
        gg,
        s.frequency,
        s.recency,
        s.T,
        s.monetary_value,
        horizon_weeks=horizon_weeks,
        margin=float(margin_d),
        discount_rate=float(rate_d),
    )
    return ClvResult(
        observation_end=s.observation_end,
        horizon_weeks=horizon_weeks,
        margin=margin_d,
        discount_rate=rate_d,
        bgnbd=bg,
        gamma_gamma=gg,
        summary=s,
        p_alive=alive,
        expected_orders=orders,
        expected_order_value=value,
        predicted_clv=clv,
        order=_display_order(s.customer_ids),
    )
