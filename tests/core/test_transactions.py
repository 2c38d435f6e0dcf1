"""Transactions CSV in, predicted CLV out (core/transactions.py).

Runs without Django: ``pytest tests/core/test_transactions.py -p no:django``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from relatiebeheer.core import btyd
from relatiebeheer.core.money import parse_percentage
from relatiebeheer.core.transactions import (
    PREDICTION_COLUMNS,
    ClvResult,
    predict_clv,
    read_transactions_csv,
)

CDNOW = Path(__file__).resolve().parent.parent / "data" / "cdnow" / "CDNOW_sample.txt"
HEADER = "customer_id,date,amount\n"


@pytest.fixture(scope="module")
def cdnow_csv(tmp_path_factory) -> Path:
    """The CDNOW sample as a transactions file, with a byte-order mark."""
    lines = [HEADER.strip()]
    for line in CDNOW.read_text().splitlines():
        _, customer, day, _, value = line.split()
        lines.append(f"{int(customer)},{day[:4]}-{day[4:6]}-{day[6:]},{value}")
    path = tmp_path_factory.mktemp("cdnow") / "transactions.csv"
    path.write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def cdnow_result(cdnow_csv) -> ClvResult:
    read = read_transactions_csv(cdnow_csv)
    tx = read.transactions
    return predict_clv(
        tx.customer_ids,
        tx.dates,
        tx.amounts,
        observation_end=dt.date(1997, 9, 30),
        horizon_weeks=52,
        margin=parse_percentage("30%"),
        discount_rate=parse_percentage("10%"),
    )


def read(text: str, **kwargs):
    return read_transactions_csv(io.StringIO(text), **kwargs)


# --- reading --------------------------------------------------------------------------


def test_reads_the_cdnow_file_with_a_byte_order_mark(cdnow_csv):
    # when
    result = read_transactions_csv(cdnow_csv)
    # then
    assert result.ok and result.errors == ()
    tx = result.transactions
    assert len(tx) == 6919
    assert tx.customer_ids[0] == "1"
    assert str(tx.dates[0]) == "1997-01-01"
    assert tx.amounts[0] == 29.33
    assert tx.amounts.sum() == pytest.approx(244091.94, abs=0.005)  # awk sum of column 5


@pytest.mark.parametrize(
    "data",
    [
        b"\xef\xbb\xbfcustomer_id,date,amount\r\nA,2024-01-05,12.34\r\n",  # BOM, CRLF, bytes
        b"customer_id,date,amount\nA,2024-01-05,12.34\n\n",  # trailing blank line
        b'Amount,Customer_ID,Date,Note\n12.34,A,2024-01-05,"some, text"\n',  # order, extras, quotes
        b"customer_id,date,amount\n A , 2024-01-05 , 12.340 \n",  # spaces, zero past the cent
    ],
)
def test_accepts_reasonable_variations(data):
    result = read_transactions_csv(io.BytesIO(data))
    assert result.ok, result.errors
    assert result.transactions.customer_ids.tolist() == ["A"]
    assert result.transactions.dates.astype(str).tolist() == ["2024-01-05"]
    assert result.transactions.amounts.tolist() == [12.34]


def test_amounts_are_exact_cents():
    result = read(
        HEADER
        + "A,2024-01-01,0.1\nA,2024-01-01,0.2\nB,2024-01-01,999999999999.99\nC,2024-01-01,7\n"
    )
    assert result.transactions.amounts.tolist() == [0.1, 0.2, 999999999999.99, 7.0]


BAD_ROWS = [
    ("A,2024-02-30,5", "date", "2024-02-30", "invalid_date"),
    ("A,2023-02-29,5", "date", "2023-02-29", "invalid_date"),
    ("A,2024-1-5,5", "date", "2024-1-5", "invalid_date"),
    ("A,05-01-2024,5", "date", "05-01-2024", "invalid_date"),
    ("A,,5", "date", "", "invalid_date"),
    (",2024-01-05,5", "customer_id", "", "empty"),
    ("A,2024-01-05,-5.00", "amount", "-5.00", "negative"),
    ("A,2024-01-05,12.345", "amount", "12.345", "fraction_of_cent"),
    ('A,2024-01-05,"12,34"', "amount", "12,34", "invalid_amount"),
    ("A,2024-01-05,€12", "amount", "€12", "invalid_amount"),
    ("A,2024-01-05,1e3", "amount", "1e3", "invalid_amount"),
    ("A,2024-01-05,.5", "amount", ".5", "invalid_amount"),
    ("A,2024-01-05,", "amount", "", "empty"),
    ("A,2024-01-05,1000000000000", "amount", "1000000000000", "too_large"),
    ("A,2024-01-05,12,34", "", "A,2024-01-05,12,34", "field_count"),
    ("A,2024-01-05", "", "A,2024-01-05", "field_count"),
]


@pytest.mark.parametrize(("line", "column", "value", "code"), BAD_ROWS)
def test_a_malformed_row_is_reported_with_row_column_value_and_reason(line, column, value, code):
    # given: a good row, then the bad one on row 3
    result = read(HEADER + "A,2024-01-01,1.00\n" + line + "\n")
    # then: nothing is returned, and the error says where and why
    assert not result.ok and result.transactions is None
    assert result.error_count == 1
    (error,) = result.errors
    assert (error.row, error.column, error.value, error.code) == (3, column, value, code)
    assert error.reason
    assert str(error).startswith("row 3")


def test_negative_amount_reason_is_explicit():
    (error,) = read(HEADER + "A,2024-01-05,-5\n").errors
    assert "negative" in error.reason


def test_unquoted_comma_in_an_amount_gets_a_hint():
    (error,) = read(HEADER + "A,2024-01-05,12,34\n").errors
    assert "write 12.34" in error.reason


def test_all_errors_in_file_order_and_capped():
    # given: 300 bad rows with two problems each
    text = HEADER + "".join(f"A{i},2024-13-01,x{i}\n" for i in range(300))
    # when
    result = read(text, max_errors=10)
    # then: the first ten problems in file order, and the total count
    assert result.error_count == 600
    assert [(e.row, e.column) for e in result.errors[:4]] == [
        (2, "date"),
        (2, "amount"),
        (3, "date"),
        (3, "amount"),
    ]
    assert len(result.errors) == 10


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty"),
        (b"klant,datum,bedrag\n1,2024-01-01,5\n", "missing_column"),
        (b"customer_id,date,amount\n", "no_rows"),
        (b"customer_id,date,amount,amount\n1,2024-01-01,5,5\n", "duplicate_column"),
        (b"customer_id,date,amount\n1,2024-01-01,\xff5\n", "encoding"),
    ],
)
def test_unusable_files_are_reported(data, code):
    result = read_transactions_csv(io.BytesIO(data))
    assert not result.ok
    assert result.errors[0].code == code


def test_reads_two_hundred_thousand_rows_quickly(tmp_path):
    # given: a large file (the reader is vectorised; 2 million rows take a few seconds)
    rng = np.random.default_rng(0)
    n = 200_000
    ids = rng.integers(0, 20_000, n)
    days = (np.datetime64("2024-01-01") + rng.integers(0, 365, n).astype("timedelta64[D]")).astype(
        str
    )
    cents = rng.integers(0, 100_000, n)
    path = tmp_path / "big.csv"
    body = "\n".join(
        f"C{i},{d},{c // 100}.{c % 100:02d}"
        for i, d, c in zip(ids.tolist(), days.tolist(), cents.tolist(), strict=True)
    )
    path.write_text(HEADER + body + "\n")
    # when
    result = read_transactions_csv(path)
    # then
    assert result.ok
    assert len(result.transactions) == n
    assert np.array_equal(np.round(result.transactions.amounts * 100).astype(int), cents)


# --- predicting -------------------------------------------------------------------------


def test_predicts_clv_for_the_cdnow_customers(cdnow_result):
    r = cdnow_result
    assert r.customers == 2357 and r.repeat_buyers == 946
    assert r.summary.transactions_after_end == 1959
    assert r.bgnbd.as_dict()["r"] == pytest.approx(0.2426, abs=0.001)
    assert r.bgnbd.log_likelihood == pytest.approx(-9582.43, abs=0.05)
    assert r.gamma_gamma.as_dict()["p"] == pytest.approx(6.25, abs=0.01)
    # customer 1: x = 2, t_x = 30.43, T = 38.86
    first = next(r.rows())
    assert first.customer_id == "1"
    assert (first.frequency, round(first.recency, 2), round(first.T, 2)) == (2, 30.43, 38.86)
    assert first.p_alive == pytest.approx(0.7266, abs=1e-4)
    assert first.expected_orders == pytest.approx(1.5587, abs=1e-4)
    assert first.expected_order_value == Decimal("24.65")
    assert first.predicted_clv == Decimal("11.02")


def test_money_leaves_as_decimal_cents(cdnow_result):
    for row in list(cdnow_result.rows())[:50]:
        assert row.predicted_clv.as_tuple().exponent == -2
        assert row.expected_order_value.as_tuple().exponent == -2
    total = cdnow_result.total_predicted_clv
    assert total.as_tuple().exponent == -2
    assert float(total) == pytest.approx(float(cdnow_result.predicted_clv.sum()), abs=0.01)


def test_rows_are_in_numeric_id_order(cdnow_result):
    ids = [row.customer_id for row in cdnow_result.rows()]
    assert ids[:3] == ["1", "2", "3"] and ids[-1] == "2357"


def test_json_output(cdnow_result):
    data = json.loads(json.dumps(cdnow_result.to_dict()))
    assert data["customers"] == 2357
    assert set(data["bgnbd"]) == {"r", "alpha", "a", "b", "log_likelihood"}
    assert set(data["gamma_gamma"]) == {"p", "q", "gamma", "log_likelihood"}
    assert Decimal(data["margin"]) == Decimal("0.30")
    assert Decimal(data["discount_rate"]) == Decimal("0.10")
    assert data["observation_end"] == "1997-09-30"
    assert "(1 + d)^(-week/52)" in data["convention"]
    assert len(data["predictions"]) == 2357
    assert set(data["predictions"][0]) == set(PREDICTION_COLUMNS)
    assert data["predictions"][0]["predicted_clv"] == "11.02"
    assert "predictions" not in cdnow_result.to_dict(rows=False)


def test_csv_output(cdnow_result):
    out = io.StringIO()
    cdnow_result.write_csv(out)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert tuple(rows[0]) == PREDICTION_COLUMNS
    assert len(rows) == 2358
    assert rows[1][0] == "1" and rows[1][-1] == "11.02"


def test_zero_discount_gives_margin_times_value_times_orders(cdnow_csv):
    tx = read_transactions_csv(cdnow_csv).transactions
    r = predict_clv(
        tx.customer_ids,
        tx.dates,
        tx.amounts,
        observation_end="1997-09-30",
        margin="0.5",
        discount_rate=0,
    )
    assert np.allclose(r.predicted_clv, 0.5 * r.expected_order_value * r.expected_orders)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"margin": Decimal("1.5")}, "margin"),
        ({"margin": "-0.1"}, "margin"),
        ({"discount_rate": "abc"}, "discount rate"),
        ({"horizon_weeks": 0}, "horizon"),
        ({"horizon_weeks": 2.5}, "horizon"),
        ({"observation_end": "30-09-1997"}, "observation end"),
    ],
)
def test_bad_arguments_are_refused(kwargs, message):
    arguments = {"observation_end": "1997-09-30", **kwargs}
    with pytest.raises(ValueError, match=message):
        predict_clv(["1"], ["1997-01-01"], [1.0], **arguments)


def test_too_little_data_raises_with_the_reason():
    # given: 20 customers who each bought once
    ids = [str(i) for i in range(20)]
    with pytest.raises(btyd.InsufficientData) as caught:
        predict_clv(ids, ["2024-01-01"] * 20, [10.0] * 20, observation_end="2024-06-30")
    assert "bought more than once" in caught.value.reason
