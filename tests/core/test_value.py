"""Customer value, retention, investment versus CLV, Pareto and pyramid (core/value.py)."""

from __future__ import annotations

import math
import random
from decimal import Decimal, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relatiebeheer.core.clv import DIVISION_PRECISION, CLVInputError, simple_clv
from relatiebeheer.core.money import quantize_money
from relatiebeheer.core.value import (
    PyramidLevelName,
    Verdict,
    customer_pyramid,
    customer_value,
    investment_versus_clv,
    pareto_share,
    retention_by_year,
)

D = Decimal

cents = st.integers(min_value=-(10**9), max_value=10**9).map(lambda c: D(c).scaleb(-2))
profit_maps = st.dictionaries(st.integers(min_value=1, max_value=10**6), cents, max_size=300)


def ratio(numerator: Decimal | int, denominator: Decimal | int) -> Decimal:
    """A share as the core computes it: a division to DIVISION_PRECISION digits."""
    with localcontext(prec=DIVISION_PRECISION):
        return D(numerator) / D(denominator)


# --- customer value ------------------------------------------------------------------


def test_customer_value_breakdown():
    value = customer_value(
        revenue=D("57000.00"),
        cost_of_goods=D("48450.00"),
        cost_entries={"service": D("500.00"), "campaign": D("250.00")},
        contact_minutes=90,
        hourly_cost=D("60.00"),
        year=2025,
    )

    assert value.year == 2025
    assert value.gross_profit == D("8550.00")
    assert value.cost_entries == (("service", D("500.00")), ("campaign", D("250.00")))
    assert value.cost_entries_total == D("750.00")
    assert value.contact_cost == D("90")
    assert value.total == D("7710.00")


def test_customer_value_with_uncategorised_costs():
    value = customer_value(
        revenue=D("1000.00"), cost_of_goods=D("600.00"), cost_entries=[D("100.00"), D("-25.00")]
    )

    assert value.cost_entries == ()
    assert value.cost_entries_total == D("75.00")
    assert value.contact_cost == 0
    assert value.total == D("325.00")


def test_contact_cost_is_rounded_once_with_the_total():
    # 1 minute at € 0,30/h = € 0,005: exact in the breakdown, rounded once in the total.
    value = customer_value(
        revenue=D("10.00"), cost_of_goods=0, contact_minutes=1, hourly_cost=D("0.30")
    )

    assert value.contact_cost == D("0.005")
    assert value.total_exact == D("9.995")
    assert value.total == D("10.00")


def test_contact_minutes_of_a_third_hour():
    value = customer_value(
        revenue=D("100.00"), cost_of_goods=0, contact_minutes=20, hourly_cost=D("50.00")
    )

    assert quantize_money(value.contact_cost) == D("16.67")
    assert value.total == D("83.33")


def test_a_year_with_only_returns_is_negative():
    value = customer_value(revenue=D("-250.00"), cost_of_goods=D("-100.00"))

    assert value.total == D("-150.00")


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"contact_minutes": -1}, "negative_minutes"),
        ({"hourly_cost": D("-0.01")}, "negative_hourly_cost"),
        ({"revenue": 1.5}, "float_not_allowed"),
        ({"cost_entries": ["x"]}, "not_a_number"),
    ],
)
def test_customer_value_refuses_bad_input(kwargs, code):
    arguments = {"revenue": D("1.00"), "cost_of_goods": D("0.50")}
    arguments.update(kwargs)

    with pytest.raises(CLVInputError) as info:
        customer_value(**arguments)

    assert info.value.code == code


@given(
    revenue=cents,
    cost=cents,
    entries=st.lists(cents, max_size=10),
    minutes=st.integers(min_value=0, max_value=10**5),
    hourly=cents.map(abs),
)
def test_customer_value_is_the_formula_rounded_once(revenue, cost, entries, minutes, hourly):
    value = customer_value(
        revenue=revenue,
        cost_of_goods=cost,
        cost_entries=entries,
        contact_minutes=minutes,
        hourly_cost=hourly,
    )

    # Multiply by 60 to stay exact: 60 × value = 60 × (R − C − K) − minutes × hourly.
    sixty_times = 60 * (revenue - cost - sum(entries, D(0))) - minutes * hourly
    assert value.total == quantize_money(sixty_times / 60)


# --- retention -----------------------------------------------------------------------


def test_retention_per_year():
    retention = retention_by_year({2022: {1, 2, 3, 4}, 2023: {1, 2, 5}, 2024: {5}, 2026: {5, 6}})

    assert retention == {
        2022: None,  # no year before
        2023: D("0.5"),  # 1 and 2 of 1, 2, 3, 4
        2024: ratio(1, 3),  # 5 of 1, 2, 5
        2025: D("0"),  # 5 did not order in 2025
        2026: None,  # nobody ordered in 2025
    }


def test_retention_of_one_time_buyers_is_zero():
    assert retention_by_year({2024: {1, 2}, 2025: {3, 4}}) == {2024: None, 2025: D(0)}


def test_retention_without_data():
    assert retention_by_year({}) == {}
    assert retention_by_year({2025: set()}) == {2025: None}


@given(
    st.dictionaries(
        st.integers(min_value=2000, max_value=2010),
        st.sets(st.integers(min_value=1, max_value=20)),
        min_size=1,
    )
)
def test_retention_is_a_share(data):
    retention = retention_by_year(data)

    assert list(retention) == list(range(min(data), max(data) + 1))
    for year, rate in retention.items():
        previous = data.get(year - 1, set())
        assert (rate is None) == (not previous)
        if rate is not None:
            assert 0 <= rate <= 1


# --- investment versus CLV -------------------------------------------------------------


@pytest.mark.parametrize(
    ("investment", "verdict", "difference"),
    [
        (D("1000.00"), Verdict.LOSS, D("-28.00")),
        (D("900.00"), Verdict.PROFIT, D("72.00")),
        (D("972.00"), Verdict.BREAK_EVEN, D("0.00")),
    ],
)
def test_investment_verdicts(investment, verdict, difference):
    clv = simple_clv(average_order_value=D("180"), margin=D("0.45"), orders=12, years=3)

    comparison = investment_versus_clv(clv=clv, investment=investment)

    assert comparison.verdict is verdict
    assert comparison.difference == difference
    assert comparison.clv == D("972.00")
    assert comparison.years == 3


def test_investment_from_cost_entries():
    comparison = investment_versus_clv(
        clv=D("8550.00"), investment=[D("5000.00"), D("2500.00"), D("1500.00")]
    )

    assert comparison.investment == D("9000.00")
    assert comparison.verdict is Verdict.LOSS
    assert comparison.difference == D("-450.00")
    assert comparison.years is None


def test_verdict_follows_the_rounded_difference():
    # Exact CLV 0.375 against 0.37: the difference 0.005 rounds to 0.01, a profit.
    clv = simple_clv(average_order_value=D("0.25"), margin=D("0.5"), orders=3, years=1)

    assert investment_versus_clv(clv=clv, investment=D("0.37")).verdict is Verdict.PROFIT
    # Exact CLV 972.004 against 972.00: no cent of difference, so break even.
    almost = investment_versus_clv(clv=D("972.004"), investment=D("972.00"))
    assert almost.verdict is Verdict.BREAK_EVEN
    assert almost.difference_exact == D("0.004")


def test_a_negative_clv_is_a_loss_even_without_investment():
    comparison = investment_versus_clv(clv=D("-150.00"), investment=0)

    assert comparison.verdict is Verdict.LOSS


@given(clv=cents, investment=cents)
def test_verdict_matches_the_sign_of_clv_minus_investment(clv, investment):
    comparison = investment_versus_clv(clv=clv, investment=investment)

    assert comparison.difference == clv - investment
    expected = (
        Verdict.LOSS
        if investment > clv
        else Verdict.PROFIT
        if investment < clv
        else Verdict.BREAK_EVEN
    )
    assert comparison.verdict is expected


# --- Pareto share --------------------------------------------------------------------


def test_pareto_share_of_ten_customers_takes_the_top_two():
    profits = {i: D(100 * i) for i in range(1, 11)}  # 100 .. 1000, total 5500

    share = pareto_share(profits)

    assert share.customer_count == 10
    assert share.top_count == 2
    assert share.top_customers == (10, 9)
    assert share.top_profit == D("1900.00")
    assert share.total_profit == D("5500.00")
    assert share.share == ratio(1900, 5500)


@pytest.mark.parametrize(("n", "top"), [(1, 1), (4, 1), (5, 1), (6, 2), (10, 2), (11, 3)])
def test_top_twenty_percent_rounds_up(n, top):
    assert pareto_share({i: D(1) for i in range(n)}).top_count == top


def test_pareto_ties_are_broken_by_id():
    profits = {"c": D("5"), "a": D("5"), "b": D("5"), "d": D("1"), "e": D("1")}

    assert pareto_share(profits).top_customers == ("a",)


def test_pareto_share_without_profit_is_none():
    assert pareto_share({}).share is None
    assert pareto_share({}).top_count == 0
    assert pareto_share({1: D("-5"), 2: D("5")}).share is None


def test_pareto_share_can_exceed_one_when_customers_lose_money():
    profits = {1: D("100"), 2: D("-10"), 3: D("-10"), 4: D("-10"), 5: D("-10")}

    assert pareto_share(profits).share == ratio(100, 60)


def test_pareto_fraction_is_checked():
    with pytest.raises(CLVInputError) as info:
        pareto_share({1: D(1)}, top_fraction=D("1.5"))

    assert info.value.code == "fraction_out_of_range"


@given(profit_maps)
def test_pareto_top_is_ceil_of_a_fifth_and_independent_of_order(profits):
    items = list(profits.items())
    random.Random(len(items)).shuffle(items)

    share = pareto_share(profits)
    shuffled = pareto_share(dict(items))

    assert share.top_count == math.ceil(len(profits) / 5)
    assert share == shuffled
    top = [profits[c] for c in share.top_customers]
    rest = [p for c, p in profits.items() if c not in set(share.top_customers)]
    assert all(t >= r for t in top for r in rest) if top and rest else True


# --- customer pyramid ------------------------------------------------------------------


def test_pyramid_of_two_hundred_customers():
    profits = {i: D(i) for i in range(1, 201)}

    pyramid = customer_pyramid(profits, inactive={1000, 1001})

    counts = {level.name: level.count for level in pyramid.levels}
    assert counts == {"top": 2, "large": 8, "medium": 30, "small": 160, "inactive": 2}
    assert pyramid.level("top").customers == (200, 199)
    assert pyramid.level_of[200] is PyramidLevelName.TOP
    assert pyramid.level_of[191] is PyramidLevelName.LARGE
    assert pyramid.level_of[190] is PyramidLevelName.MEDIUM
    assert pyramid.level_of[1] is PyramidLevelName.SMALL
    assert pyramid.level_of[1000] is PyramidLevelName.INACTIVE
    assert pyramid.total_profit == D("20100.00")
    assert pyramid.level("top").profit == D("399.00")
    assert pyramid.level("inactive").profit == D("0.00")
    assert abs(sum(level.share for level in pyramid.levels) - 1) < D("1e-45")


def test_pyramid_of_ten_customers():
    pyramid = customer_pyramid({i: D(i) for i in range(10)})

    assert [level.count for level in pyramid.levels] == [1, 0, 1, 8, 0]


def test_pyramid_of_one_customer_and_of_none():
    assert [level.count for level in customer_pyramid({7: D(5)}).levels] == [1, 0, 0, 0, 0]
    empty = customer_pyramid({})
    assert [level.count for level in empty.levels] == [0, 0, 0, 0, 0]
    assert all(level.share is None for level in empty.levels)


def test_pyramid_ties_are_broken_by_id():
    profits = {i: D(10) for i in range(100, 0, -1)}

    assert customer_pyramid(profits).level("top").customers == (1,)


def test_inactive_customers_keep_their_profit_but_are_not_ranked():
    profits = {1: D("100.00"), 2: D("50.00"), 3: D("-20.00")}

    pyramid = customer_pyramid(profits, inactive=[3])

    assert pyramid.level("inactive").customers == (3,)
    assert pyramid.level("inactive").profit == D("-20.00")
    assert pyramid.total_profit == D("130.00")
    assert pyramid.level("top").customers == (1,)


def test_inactive_may_be_any_iterable():
    pyramid = customer_pyramid({1: D(5)}, inactive=(c for c in [9, 8]))

    assert pyramid.level("inactive").customers == (8, 9)


def test_a_customer_listed_twice_as_inactive_is_refused():
    with pytest.raises(CLVInputError) as info:
        customer_pyramid({1: D(1)}, inactive=[2, 2])

    assert info.value.code == "duplicate_customer"


@given(profit_maps, st.sets(st.integers(min_value=1, max_value=10**6), max_size=20))
def test_pyramid_levels_partition_the_customers(profits, inactive):
    pyramid = customer_pyramid(profits, inactive=inactive)

    everyone = set(profits) | inactive
    assert sum(level.count for level in pyramid.levels) == len(everyone)
    assert set(pyramid.level_of) == everyone
    active = [c for c in profits if c not in inactive]
    ranked_top = pyramid.levels[0].customers + pyramid.levels[1].customers
    ranked_top += pyramid.levels[2].customers
    pareto = pareto_share({c: profits[c] for c in active})
    assert ranked_top == pareto.top_customers
    assert pyramid.level("top").count == math.ceil(len(active) / 100)
