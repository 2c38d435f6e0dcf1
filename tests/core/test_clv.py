"""Simple CLV, acquisition budget and present value (core/clv.py)."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relatiebeheer.core.clv import (
    CLVInputError,
    PVConvention,
    Unit,
    acquisition_budget,
    present_value,
    simple_clv,
    simple_clv_from_orders,
)
from relatiebeheer.core.money import format_money, quantize_money

D = Decimal

money = st.decimals(min_value=0, max_value=10**7, places=2, allow_nan=False, allow_infinity=False)
margins = st.decimals(min_value=0, max_value=1, places=4, allow_nan=False, allow_infinity=False)
order_counts = st.integers(min_value=0, max_value=1000) | st.decimals(
    min_value=0, max_value=1000, places=2, allow_nan=False, allow_infinity=False
)
rates = st.decimals(min_value=0, max_value=1, places=4, allow_nan=False, allow_infinity=False)


def exact(value: Decimal) -> Decimal:
    """The reference value, computed with far more digits than any input has."""
    with localcontext(prec=200):
        return +value


# --- the worked examples (DESIGN.md) -----------------------------------------------


def test_worked_example_180_euro_45_percent_12_orders_in_3_years():
    result = simple_clv(average_order_value=D("180"), margin=D("0.45"), orders=12, years=3)

    assert result.profit_per_order == D("81.00")
    assert result.orders == 12
    assert result.clv == D("972.00")
    assert result.years == 3
    assert format_money(result.clv) == "€ 972,00"


def test_worked_example_bijenkorf():
    result = simple_clv(average_order_value=D("9500"), margin=D("0.15"), orders=6, years=2)

    assert result.profit_per_order == D("1425.00")
    assert result.clv == D("8550.00")
    assert result.years == 2
    assert format_money(result.profit_per_order) == "€ 1.425,00"
    assert format_money(result.clv) == "€ 8.550,00"


def test_steps_carry_keys_formulas_substitutions_and_results():
    result = simple_clv(average_order_value=D("180"), margin=D("0.45"), orders=12, years=3)

    w_step, clv_step = result.steps
    assert (w_step.key, w_step.formula) == ("profit_per_order", "W = v × m")
    assert [(t.symbol, t.value, t.unit) for t in w_step.values] == [
        ("v", D("180"), Unit.MONEY),
        ("m", D("0.45"), Unit.RATIO),
    ]
    assert w_step.result == D("81.00")
    assert w_step.unit is Unit.MONEY
    assert (clv_step.key, clv_step.formula) == ("clv", "CLV = W × A")
    assert clv_step.value("W") == D("81.00")
    assert clv_step.value("A") == 12
    assert clv_step.result == D("972")
    with pytest.raises(KeyError):
        clv_step.value("x")


def test_result_is_immutable():
    result = simple_clv(average_order_value=180, margin=D("0.45"), orders=12, years=3)

    with pytest.raises(AttributeError):
        result.clv = D(0)  # type: ignore[misc]


def test_strings_and_ints_are_read_exactly():
    result = simple_clv(average_order_value="180.00", margin="0.45", orders="12", years="3")

    assert result.clv == D("972.00")


def test_rounded_once_not_from_a_rounded_w():
    # W = 0.125 exactly; rounding W first (0.13 × 3 = 0.39) would be wrong.
    result = simple_clv(average_order_value=D("0.25"), margin=D("0.5"), orders=3, years=1)

    assert result.profit_per_order == D("0.13")
    assert result.clv_exact == D("0.375")
    assert result.clv == D("0.38")


def test_half_cent_rounds_up():
    result = simple_clv(average_order_value=D("0.01"), margin=D("0.5"), orders=1, years=1)

    assert result.clv == D("0.01")


def test_average_orders_may_be_fractional():
    result = simple_clv(average_order_value=D("100"), margin=D("0.2"), orders=D("2.5"), years=1)

    assert result.clv == D("50.00")


def test_no_orders_gives_zero():
    result = simple_clv(average_order_value=D("180"), margin=D("0.45"), orders=0, years=3)

    assert result.clv == D("0.00")


# --- validation --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "code", "field"),
    [
        ({"margin": D("1.01")}, "margin_out_of_range", "margin"),
        ({"margin": D("-0.01")}, "margin_out_of_range", "margin"),
        ({"margin": D("45")}, "margin_out_of_range", "margin"),
        ({"average_order_value": D("-1")}, "negative_order_value", "average_order_value"),
        ({"orders": -1}, "negative_orders", "orders"),
        ({"years": 0}, "years_not_positive", "years"),
        ({"years": D("-1")}, "years_not_positive", "years"),
        ({"years": 101}, "years_too_many", "years"),
        ({"margin": 0.45}, "float_not_allowed", "margin"),
        ({"average_order_value": "abc"}, "not_a_number", "average_order_value"),
        ({"average_order_value": D("NaN")}, "not_a_number", "average_order_value"),
        ({"orders": D("Infinity")}, "not_a_number", "orders"),
        ({"orders": True}, "not_a_number", "orders"),
        ({"orders": None}, "not_a_number", "orders"),
    ],
)
def test_bad_input_is_refused_with_a_code(kwargs, code, field):
    arguments = {"average_order_value": D("180"), "margin": D("0.45"), "orders": 12, "years": 3}
    arguments.update(kwargs)

    with pytest.raises(CLVInputError) as info:
        simple_clv(**arguments)

    assert info.value.code == code
    assert info.value.field == field
    assert isinstance(info.value, ValueError)


def test_margin_bounds_are_inclusive():
    assert simple_clv(average_order_value=100, margin=0, orders=1, years=1).clv == D("0.00")
    assert simple_clv(average_order_value=100, margin=1, orders=1, years=1).clv == D("100.00")


# --- from an account's orders --------------------------------------------------------


def test_from_orders_reproduces_bijenkorf():
    orders = [(D("9500.00"), D("8075.00"))] * 6

    result = simple_clv_from_orders(orders, years=2)

    assert result.average_order_value == D("9500")
    assert result.margin == D("0.15")
    assert result.profit_per_order == D("1425.00")
    assert result.orders == 6
    assert result.clv == D("8550.00")
    assert [s.key for s in result.steps] == [
        "revenue",
        "cost_of_goods",
        "profit",
        "average_order_value",
        "margin",
        "profit_per_order",
        "clv",
    ]


def test_from_orders_w_is_total_profit_over_orders_and_clv_is_profit_exactly():
    orders = [(D("100.00"), D("60.00")), (D("200.00"), D("100.00")), (D("300.00"), D("170.00"))]

    result = simple_clv_from_orders(orders, years=1)

    assert result.profit == D("270.00")
    assert result.profit_per_order == D("90.00")
    assert result.clv_exact == D("270.00")
    # 1/3 does not end in decimals, yet the CLV is exact: it is the profit itself.
    odd = simple_clv_from_orders([(D("3.00"), 0), (D("3.00"), 0), (D("4.00"), 0)], years=1)
    assert odd.profit_per_order == D("3.33")
    assert odd.clv_exact == D("10.00")
    assert odd.clv == D("10.00")


def test_credit_notes_reduce_revenue_and_profit_but_are_not_orders():
    orders = [(D("1000.00"), D("600.00")), (D("1000.00"), D("600.00"))]
    credit_notes = [(D("-500.00"), D("-300.00"))]

    result = simple_clv_from_orders(orders, years=1, credit_notes=credit_notes)

    assert result.orders == 2
    assert result.revenue == D("1500.00")
    assert result.cost_of_goods == D("900.00")
    assert result.profit == D("600.00")
    assert result.average_order_value == D("750")
    assert result.margin == D("0.4")
    assert result.profit_per_order == D("300.00")
    assert result.clv == D("600.00")
    revenue_step = result.steps[0]
    assert revenue_step.value("R_o") == D("2000.00")
    assert revenue_step.value("R_c") == D("-500.00")


def test_no_orders_at_all():
    result = simple_clv_from_orders([], years=1)

    assert result.orders == 0
    assert result.clv == D("0.00")
    assert result.profit_per_order is None
    assert result.average_order_value is None
    assert result.margin is None
    assert [s.key for s in result.steps] == ["revenue", "cost_of_goods", "profit", "clv"]
    assert result.steps[-1].formula == "CLV = P"


def test_one_time_buyer():
    result = simple_clv_from_orders([(D("180.00"), D("99.00"))], years=3)

    assert result.orders == 1
    assert result.margin == D("0.45")
    assert result.clv == D("81.00")


def test_account_with_only_returns_has_a_negative_clv():
    credit_notes = [(D("-250.00"), D("-100.00"))]

    result = simple_clv_from_orders([], years=1, credit_notes=credit_notes)

    assert result.revenue == D("-250.00")
    assert result.orders == 0
    assert result.clv == D("-150.00")
    assert result.margin is None
    assert result.profit_per_order is None


def test_returns_exceeding_orders_leave_no_margin():
    result = simple_clv_from_orders(
        [(D("100.00"), D("50.00"))], years=1, credit_notes=[(D("-300.00"), D("-150.00"))]
    )

    assert result.revenue == D("-200.00")
    assert result.margin is None
    assert result.profit_per_order == D("-100.00")
    assert result.clv == D("-100.00")
    assert "margin" not in [s.key for s in result.steps]


def test_loss_making_orders_are_data_not_errors():
    result = simple_clv_from_orders([(D("100.00"), D("130.00"))], years=1)

    assert result.margin == D("-0.3")
    assert result.clv == D("-30.00")


def test_an_order_with_negative_revenue_is_refused():
    with pytest.raises(CLVInputError) as info:
        simple_clv_from_orders([(D("-1.00"), 0)], years=1)

    assert info.value.code == "negative_order_value"


def test_a_credit_note_with_positive_revenue_is_refused():
    with pytest.raises(CLVInputError) as info:
        simple_clv_from_orders([], years=1, credit_notes=[(D("10.00"), 0)])

    assert info.value.code == "credit_note_positive"


@given(
    orders=st.lists(st.tuples(money, money), max_size=30),
    credit_notes=st.lists(st.tuples(money, money), max_size=5),
)
def test_from_orders_clv_is_net_profit_and_w_times_n(orders, credit_notes):
    credits = [(-r, -c) for r, c in credit_notes]

    result = simple_clv_from_orders(orders, years=1, credit_notes=credits)

    profit = sum((r - c for r, c in orders + credits), D(0))
    assert result.clv_exact == profit
    assert result.clv == quantize_money(profit)
    if orders:
        assert result.profit_per_order == quantize_money(exact(profit) / len(orders))
    else:
        assert result.profit_per_order is None


# --- acquisition budget ------------------------------------------------------------


def test_acquisition_budget_is_the_mean_clv_rounded_once():
    assert acquisition_budget([D("972.00"), D("972.01")]) == D("972.01")  # 972.005 → up
    assert acquisition_budget([D("1"), D("1"), D("2")]) == D("1.33")


def test_acquisition_budget_of_results_uses_exact_clvs():
    # Exact CLVs 0.375 each; their rounded values 0.38 would give the same here,
    # but three of 0.125 and one of 0.135 differ: exact mean 0.1275 → 0.13.
    results = [
        simple_clv(average_order_value=D("0.25"), margin=D("0.5"), orders=1, years=1),
        simple_clv(average_order_value=D("0.25"), margin=D("0.5"), orders=1, years=1),
        simple_clv(average_order_value=D("0.25"), margin=D("0.5"), orders=1, years=1),
        simple_clv(average_order_value=D("0.27"), margin=D("0.5"), orders=1, years=1),
    ]

    assert acquisition_budget(results) == D("0.13")


def test_acquisition_budget_of_an_empty_segment_is_refused():
    with pytest.raises(CLVInputError) as info:
        acquisition_budget([])

    assert info.value.code == "no_customers"


def test_acquisition_budget_refuses_mixed_periods():
    two = simple_clv(average_order_value=100, margin=D("0.1"), orders=1, years=2)
    three = simple_clv(average_order_value=100, margin=D("0.1"), orders=1, years=3)

    with pytest.raises(CLVInputError) as info:
        acquisition_budget([two, three])

    assert info.value.code == "mixed_periods"


# --- present value -----------------------------------------------------------------


def test_present_value_bijenkorf():
    result = present_value(D("8550"), years=2, rate=D("0.03"))

    assert result.present_value == D("8180.08")
    assert result.convention is PVConvention.YEARLY
    assert result.periods == 2
    assert format_money(result.present_value) == "€ 8.180,08"
    assert [s.key for s in result.steps] == [
        "profit_per_year",
        "discounted_profit",
        "discounted_profit",
        "present_value",
    ]
    year_1, year_2 = result.steps[1:3]
    assert (year_1.value("t"), quantize_money(year_1.result)) == (1, D("4150.49"))
    assert (year_2.value("t"), quantize_money(year_2.result)) == (2, D("4029.60"))
    assert result.steps[0].result == D("4275")


def test_present_value_from_a_clv_result():
    clv = simple_clv(average_order_value=D("9500"), margin=D("0.15"), orders=6, years=2)

    assert clv.present_value(D("0.03")).present_value == D("8180.08")


def test_present_value_at_zero_rate_is_the_clv():
    assert present_value(D("972"), years=3, rate=0).present_value_exact == D("972")
    monthly = present_value(D("972"), years=3, rate=0, convention=PVConvention.MONTHLY)
    assert monthly.present_value_exact == D("972")


def test_monthly_convention():
    result = present_value(D("8550"), years=2, rate=D("0.03"), convention="monthly")

    assert result.convention is PVConvention.MONTHLY
    assert result.periods == 24
    assert [s.key for s in result.steps] == [
        "monthly_rate",
        "profit_per_month",
        "discount_sum",
        "present_value",
    ]
    # Independent float check of Σ_{k=1..24} (8550 / 24) / 1.03^(k/12).
    reference = sum(8550 / 24 / 1.03 ** (k / 12) for k in range(1, 25))
    assert abs(float(result.present_value_exact) - reference) < 1e-6
    # Profit earlier in each year is worth more than profit at the end of it.
    assert result.present_value > present_value(D("8550"), years=2, rate=D("0.03")).present_value


def test_monthly_convention_allows_part_years():
    result = present_value(D("1000"), years=D("1.5"), rate=D("0.03"), convention="monthly")

    assert result.periods == 18


@pytest.mark.parametrize(
    ("years", "convention", "code"),
    [
        (D("1.5"), PVConvention.YEARLY, "years_not_whole"),
        (D("1.05"), PVConvention.MONTHLY, "months_not_whole"),
        (0, PVConvention.YEARLY, "years_not_positive"),
    ],
)
def test_periods_that_do_not_fit_the_convention_are_refused(years, convention, code):
    with pytest.raises(CLVInputError) as info:
        present_value(D("1000"), years=years, rate=D("0.03"), convention=convention)

    assert info.value.code == code


@pytest.mark.parametrize("rate", [D("-0.01"), D("1.01"), D("3")])
def test_rate_must_be_a_fraction(rate):
    with pytest.raises(CLVInputError) as info:
        present_value(D("1000"), years=1, rate=rate)

    assert info.value.code == "rate_out_of_range"


def test_unknown_convention_is_refused():
    with pytest.raises(CLVInputError) as info:
        present_value(D("1000"), years=1, rate=0, convention="quarterly")

    assert info.value.code == "unknown_convention"


# --- properties ----------------------------------------------------------------------


@given(v=money, m=margins, a=order_counts, years=st.integers(min_value=1, max_value=10))
def test_simple_clv_is_the_exact_product_rounded_once(v, m, a, years):
    result = simple_clv(average_order_value=v, margin=m, orders=a, years=years)

    product = exact(v) * exact(m) * exact(D(a))
    assert result.profit_per_order_exact == exact(v) * exact(m)
    assert result.clv_exact == product
    assert result.clv == quantize_money(product)


@given(
    clv=money,
    years=st.integers(min_value=1, max_value=30),
    convention=st.sampled_from(PVConvention),
)
def test_present_value_at_rate_zero_equals_the_clv(clv, years, convention):
    result = present_value(clv, years=years, rate=0, convention=convention)

    assert result.present_value_exact == clv
    assert result.present_value == quantize_money(clv)


@given(
    clv=money.filter(lambda x: x > 0),
    years=st.integers(min_value=1, max_value=30),
    rates=st.lists(rates, min_size=2, max_size=2, unique=True).map(sorted),
    convention=st.sampled_from(PVConvention),
)
def test_present_value_falls_strictly_as_the_rate_rises(clv, years, rates, convention):
    low, high = rates

    pv_low = present_value(clv, years=years, rate=low, convention=convention)
    pv_high = present_value(clv, years=years, rate=high, convention=convention)

    assert pv_low.present_value_exact > pv_high.present_value_exact
    assert pv_low.present_value_exact <= clv
    assert pv_high.present_value_exact > 0


def test_core_modules_import_without_django():
    code = (
        "import sys, relatiebeheer.core.clv, relatiebeheer.core.value, relatiebeheer.core.rfm;"
        "sys.exit('django' in sys.modules)"
    )

    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
