"""core.money: the one place that converts, rounds, parses and formats euros."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relatiebeheer.core.money import (
    AmountError,
    format_money,
    from_cents,
    parse_amount,
    parse_percentage,
    quantize_money,
    to_cents,
)

cents = st.integers(min_value=-(10**13), max_value=10**13)


@given(cents)
def test_cents_round_trip_is_exact(value):
    assert to_cents(from_cents(value)) == value


@given(cents)
def test_formatted_dutch_amount_parses_back(value):
    amount = from_cents(value)
    assert parse_amount(format_money(amount, lang="nl").replace("€", "")) == amount


@given(cents)
def test_formatted_english_amount_parses_back(value):
    amount = from_cents(value)
    text = format_money(amount, lang="en").replace("€", "")
    assert parse_amount(text, notation="en") == amount


def test_fraction_of_a_cent_is_refused_not_rounded():
    with pytest.raises(AmountError) as info:
        to_cents(Decimal("0.005"))
    assert info.value.code == "fraction_of_cent"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0.005", "0.01"),
        ("0.004", "0.00"),
        ("-0.005", "-0.01"),
        ("2.675", "2.68"),
        ("1.425", "1.43"),
    ],
)
def test_rounding_is_half_up(value, expected):
    assert quantize_money(Decimal(value)) == Decimal(expected)


@pytest.mark.parametrize(
    ("amount", "lang", "expected"),
    [
        ("9500", "nl", "€ 9.500,00"),
        ("9500", "en", "€9,500.00"),
        ("8180.08", "nl", "€ 8.180,08"),
        ("-12.5", "nl", "€ -12,50"),
        ("-12.5", "en", "-€12.50"),
        ("0", "nl", "€ 0,00"),
        ("1234567.891", "nl", "€ 1.234.567,89"),
    ],
)
def test_money_is_formatted_in_the_readers_language(amount, lang, expected):
    assert format_money(Decimal(amount), lang=lang) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9500", "9500"),
        ("9500.50", "9500.50"),
        ("9.500,00", "9500.00"),
        ("€ 1.234,56", "1234.56"),
        ("1,234.56", "1234.56"),
        ("1234.56", "1234.56"),
        ("-€ 12,50", "-12.50"),
        ("EUR 9500", "9500"),
    ],
)
def test_amounts_in_dutch_and_english_notation(text, expected):
    assert parse_amount(text) == Decimal(expected)


@pytest.mark.parametrize("text", ["9.500", "1,234", "12.500.000"])
def test_ambiguous_amounts_are_refused_with_a_hint(text):
    with pytest.raises(AmountError) as info:
        parse_amount(text)
    assert info.value.code == "ambiguous"
    assert info.value.hint


def test_notation_settles_an_ambiguous_amount():
    assert parse_amount("9.500", notation="nl") == Decimal("9500")
    assert parse_amount("9.500", notation="en") == Decimal("9.500")


@pytest.mark.parametrize("text", ["", "abc", "9,50,0", "1.2.3,4,5", "€"])
def test_garbage_is_not_an_amount(text):
    with pytest.raises(AmountError):
        parse_amount(text)


def test_percentages():
    assert parse_percentage("15%") == Decimal("0.15")
    assert parse_percentage("15 %") == Decimal("0.15")
    assert parse_percentage("0.15") == Decimal("0.15")
    assert parse_percentage("3,5%") == Decimal("0.035")


def test_bare_percentage_number_gets_a_hint():
    with pytest.raises(AmountError) as info:
        parse_percentage("15")
    assert info.value.hint == "did you mean 15%?"


@pytest.mark.parametrize(
    ("amount", "lang", "expected"),
    [
        ("9500", "nl", "€ 9.500"),
        ("9500.5", "nl", "€ 9.501"),
        ("10000", "en", "€10,000"),
        ("-1234.4", "nl", "€ -1.234"),
        (0, "en", "€0"),
    ],
)
def test_whole_euros_for_charts(amount, lang, expected):
    from relatiebeheer.core.money import format_money_whole

    assert format_money_whole(Decimal(amount), lang=lang) == expected
