"""The number and date parsers: scalar (core) and vectorised (imports.columns) agree."""

from datetime import date
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relatiebeheer.core.dates import DateError, detect_date_order, parse_date, parse_datetime
from relatiebeheer.core.money import (
    AmountError,
    detect_notation,
    format_number,
    parse_amount,
    to_cents,
)
from relatiebeheer.imports import columns as C

AMOUNT_ALPHABET = st.sampled_from([*list("0123456789.,-€ ()+"), "EUR", "€ ", " "])
amount_text = st.lists(AMOUNT_ALPHABET, max_size=14).map("".join)
cents = st.integers(min_value=-(10**13), max_value=10**13)


def scalar_cents(text, notation):
    """What the vectorised parser must answer: (cents or None, code or None)."""
    try:
        value = parse_amount(text, notation=notation)
    except AmountError as exc:
        return None, None if exc.code == "empty" else exc.code
    try:
        return to_cents(value), None
    except AmountError as exc:
        return None, exc.code


@settings(max_examples=300, deadline=None)
@given(st.lists(amount_text, min_size=1, max_size=30), st.sampled_from([None, "nl", "en"]))
def test_vectorised_amounts_agree_with_parse_amount(texts, notation):
    values, errors = C.money_cents(pl.Series(texts, dtype=pl.String), notation=notation)
    for text, value, error in zip(texts, values.to_list(), errors.to_list(), strict=True):
        expected = scalar_cents(text, notation)
        if error == "too_large":
            continue  # a storage limit the scalar parser does not know
        if expected[1] == "invalid" and error is None and value is None:
            continue  # only currency signs: empty for the column parser
        assert (value, error) == expected, text


@settings(max_examples=200, deadline=None)
@given(cents, st.sampled_from(["nl", "en"]))
def test_formatted_amounts_parse_back_exactly(amount_cents, lang):
    text = format_number(Decimal(amount_cents).scaleb(-2), lang=lang)
    values, errors = C.money_cents(pl.Series([text, f"€ {text}"]), notation=lang)
    assert values.to_list() == [amount_cents, amount_cents]
    assert errors.to_list() == [None, None]


def test_dutch_and_english_notation_examples():
    texts = ["€ 1.234,56", "1,234.56", "1234.56", "9.500", "12,50-", "(12,50)", "9500"]
    values, errors = C.money_cents(pl.Series(texts), notation=None)
    assert values.to_list() == [123456, 123456, 123456, None, -1250, -1250, 950000]
    assert errors.to_list()[3] == "ambiguous"
    values, _errors = C.money_cents(pl.Series(["9.500"]), notation="nl")
    assert values.to_list() == [950000]


def test_notation_is_detected_from_a_column():
    assert detect_notation(["9.500", "1.234,56"]).notation == "nl"
    assert detect_notation(["1,234.56", "12"]).notation == "en"
    guess = detect_notation(["9.500", "12"])
    assert guess.notation is None and guess.ambiguous_example == "9.500"
    assert detect_notation(["1.234,56", "1,234.56"]).mixed


DATE_ALPHABET = st.sampled_from(list("0123456789-/. T:"))
date_text = st.lists(DATE_ALPHABET, max_size=20).map("".join)


def scalar_date(text, order, parser):
    try:
        return parser(text, order=order), None
    except DateError as exc:
        return None, None if exc.code == "empty" else exc.code


@settings(max_examples=300, deadline=None)
@given(st.lists(date_text, min_size=1, max_size=30), st.sampled_from([None, "dmy", "mdy"]))
def test_vectorised_dates_agree_with_parse_date(texts, order):
    values, errors = C.dates(pl.Series(texts, dtype=pl.String), order=order)
    for text, value, error in zip(texts, values.to_list(), errors.to_list(), strict=True):
        assert (value, error) == scalar_date(text, order, parse_date), text
    values, errors = C.datetimes(pl.Series(texts, dtype=pl.String), order=order)
    for text, value, error in zip(texts, values.to_list(), errors.to_list(), strict=True):
        assert (value, error) == scalar_date(text, order, parse_datetime), text


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=date(1000, 1, 1), max_value=date(9999, 12, 31)))
def test_written_dates_parse_back(day):
    texts = [day.strftime("%d-%m-%Y"), day.strftime("%d/%m/%Y"), day.isoformat()]
    values, errors = C.dates(pl.Series(texts), order="dmy")
    assert values.to_list() == [day, day, day] and errors.to_list() == [None] * 3
    for text in texts:
        assert parse_date(text, order="dmy") == day


@pytest.mark.parametrize(
    ("values", "order"),
    [
        (["27-11-2026", "05-11-2026"], "dmy"),
        (["11/27/2026", "05/11/2026"], "mdy"),
        (["2026-11-27"], "ymd"),
        (["05-11-2026"], None),
    ],
)
def test_date_order_is_detected(values, order):
    assert detect_date_order(values).order == order


def test_ambiguous_and_impossible_dates():
    with pytest.raises(DateError) as info:
        parse_date("05-11-2026")
    assert info.value.code == "ambiguous"
    assert parse_date("05-11-2026", order="dmy") == date(2026, 11, 5)
    with pytest.raises(DateError):
        parse_date("31-02-2026", order="dmy")
    with pytest.raises(DateError) as info:
        parse_date("27-11-26")
    assert info.value.code == "short_year"
    assert detect_date_order(["27-11-2026", "11/27/2026"]).mixed
