"""The CLV's margin: agreed, else observed on the orders with cost of goods, else default
(core/clv.py ``clv_margin`` and ``account_clv``), and the month range of the charts
(core/periods.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relatiebeheer.core.clv import (
    MARGIN_LIMIT,
    BookedOrder,
    CLVInputError,
    MarginSource,
    account_clv,
    clv_margin,
    present_value,
)
from relatiebeheer.core.periods import add_months, fill_months, last_months, month_range

D = Decimal
BIJENKORF = [
    BookedOrder(D(v), D(v) * D("0.85")) for v in ("9200", "9800", "9500", "9100", "9900", "9500")
]


def test_the_bijenkorf_with_costs_and_no_agreed_margin_uses_its_own_15_percent():
    """The issue's case: a real 15 % margin, no agreed one. W is € 1.425,00 on € 9.500,
    not € 2.850,00 from the 30 % default."""
    choice, result = account_clv(BIJENKORF, years=2, agreed_margin=None, default_margin=D("0.30"))
    assert choice.source is MarginSource.OBSERVED and choice.margin == D("0.15")
    assert result.profit_per_order == D("1425.00")
    assert result.clv == D("8550.00")
    assert present_value(result.clv, years=2, rate=D("0.03")).present_value == D("8180.08")


def test_example_1_with_the_agreed_margin():
    orders = [BookedOrder(D("180"), D("0"))] * 12
    choice, result = account_clv(orders, years=3, agreed_margin=D("0.45"), default_margin=D("0.30"))
    assert choice.source is MarginSource.AGREED
    assert result.profit_per_order == D("81.00") and result.clv == D("972.00")


def test_agreed_beats_observed_and_default_is_the_last_resort():
    costed = [BookedOrder(D("1000"), D("700"))]
    assert (
        clv_margin(agreed=D("0.2"), default=D("0.3"), orders=costed).source is MarginSource.AGREED
    )
    observed = clv_margin(agreed=None, default=D("0.3"), orders=costed)
    assert (observed.margin, observed.source) == (D("0.3000"), MarginSource.OBSERVED)
    assert (observed.revenue, observed.cost_of_goods) == (D("1000"), D("700"))
    no_cost = [BookedOrder(D("1000"), D("0"))]
    default = clv_margin(agreed=None, default=D("0.25"), orders=no_cost)
    assert (default.margin, default.source) == (D("0.25"), MarginSource.DEFAULT)
    assert clv_margin(agreed=None, default=D("0.25")).source is MarginSource.DEFAULT


def test_orders_without_cost_of_goods_and_their_credit_notes_do_not_count():
    orders = [
        BookedOrder(D("1000"), D("850")),  # 15 %
        BookedOrder(D("5000"), D("0"), credit_notes=((D("-4000"), D("0")),)),  # no cost
    ]
    choice = clv_margin(agreed=None, default=D("0.30"), orders=orders)
    assert choice.margin == D("0.15") and choice.revenue == D("1000")


def test_credit_notes_of_costed_orders_are_netted_in_both_sums():
    """A return (revenue and cost back) keeps the margin; a price correction (revenue
    only) lowers it."""
    returned = BookedOrder(D("1000"), D("600"), credit_notes=((D("-500"), D("-300")),))
    assert clv_margin(agreed=None, default=D("0.3"), orders=[returned]).margin == D("0.4")
    discounted = BookedOrder(D("1000"), D("600"), credit_notes=((D("-200"), D("0")),))
    choice = clv_margin(agreed=None, default=D("0.3"), orders=[discounted])
    assert choice.margin == D("0.25")  # (800 − 600) / 800


def test_no_positive_revenue_on_those_orders_means_the_default():
    wiped = BookedOrder(D("100"), D("60"), credit_notes=((D("-100"), D("-60")),))
    assert clv_margin(agreed=None, default=D("0.3"), orders=[wiped]).source is MarginSource.DEFAULT


def test_a_loss_making_account_has_a_negative_margin_within_the_limit():
    loss = clv_margin(agreed=None, default=D("0.3"), orders=[BookedOrder(D("100"), D("130"))])
    assert loss.margin == D("-0.3") and loss.source is MarginSource.OBSERVED
    nearly_cancelled = BookedOrder(D("1000"), D("800"), credit_notes=((D("-999.99"), D("0")),))
    assert clv_margin(agreed=None, default=D("0.3"), orders=[nearly_cancelled]).margin == (
        -MARGIN_LIMIT
    )


def test_the_observed_margin_is_rounded_half_up_to_a_hundredth_of_a_percent():
    # 1 − 2/3 = 0.33333… → 0.3333; 0.123450 exactly → 0.1235 (half up).
    third = clv_margin(agreed=None, default=0, orders=[BookedOrder(D("3"), D("2"))])
    assert third.margin == D("0.3333")
    half = clv_margin(agreed=None, default=0, orders=[BookedOrder(D("100000"), D("87655"))])
    assert half.margin == D("0.1235")


def test_w_is_exact_at_a_half_cent():
    """W comes from the revenue in one division: € 1,00 over 3 orders at 1,5 % is
    exactly half a cent per order, which rounds up (a rounded v would round it down)."""
    orders = [BookedOrder(D("1.00"), 0), BookedOrder(D("0"), 0), BookedOrder(D("0"), 0)]
    _choice, result = account_clv(orders, years=1, agreed_margin=D("0.015"), default_margin=0)
    assert result.profit_per_order_exact == D("0.005") and result.profit_per_order == D("0.01")


def test_an_agreed_or_default_margin_outside_0_to_1_is_refused():
    with pytest.raises(CLVInputError) as info:
        clv_margin(agreed=D("1.5"), default=D("0.3"))
    assert info.value.code == "margin_out_of_range"
    with pytest.raises(CLVInputError):
        clv_margin(agreed=None, default=0.3)  # a float


def test_no_orders_no_clv():
    choice, result = account_clv([], years=1, agreed_margin=None, default_margin=D("0.3"))
    assert result is None and choice.source is MarginSource.DEFAULT


cents = st.integers(min_value=0, max_value=10**9).map(lambda c: D(c) / 100)


@given(
    st.lists(
        st.tuples(cents, cents, st.lists(st.tuples(cents, cents), max_size=2)),
        max_size=8,
    )
)
def test_the_observed_margin_is_the_exact_ratio_rounded_once(rows):
    orders = [
        BookedOrder(revenue, cost, tuple((-r, -c) for r, c in credits))
        for revenue, cost, credits in rows
    ]
    choice = clv_margin(agreed=None, default=D("0.3"), orders=orders)
    costed = [o for o in orders if D(o.cost_of_goods) != 0]
    revenue = sum((D(o.revenue) + sum(D(r) for r, _ in o.credit_notes) for o in costed), D(0))
    cost = sum((D(o.cost_of_goods) + sum(D(c) for _, c in o.credit_notes) for o in costed), D(0))
    if not costed or revenue <= 0:
        assert choice.source is MarginSource.DEFAULT
        return
    assert choice.source is MarginSource.OBSERVED
    exact = (revenue - cost) / revenue
    assert abs(choice.margin - max(-MARGIN_LIMIT, min(MARGIN_LIMIT, exact))) <= D("0.00005")


# --- the month range of the charts ----------------------------------------------------


def test_month_range_lists_every_month_across_a_year_end():
    assert month_range(date(2025, 11, 17), date(2026, 2, 3)) == [
        date(2025, 11, 1),
        date(2025, 12, 1),
        date(2026, 1, 1),
        date(2026, 2, 1),
    ]
    assert month_range(date(2026, 3, 1), date(2026, 2, 1)) == []
    assert add_months(date(2026, 1, 1), -13) == date(2024, 12, 1)


def test_last_months_and_fill_months_keep_the_gaps_as_zero():
    months = last_months(date(2026, 11, 27), 12)
    assert len(months) == 12 and months[0] == date(2025, 12, 1) and months[-1] == date(2026, 11, 1)
    filled = fill_months(months, {date(2026, 3, 1): D("10")}, D("0.00"))
    assert [m for m, _ in filled] == months
    assert dict(filled)[date(2026, 3, 1)] == D("10") and dict(filled)[date(2026, 4, 1)] == 0
