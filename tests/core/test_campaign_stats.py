"""Campaign effect against a random control group: Welch interval, lift, profit, holdout."""

from dataclasses import replace
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from relatiebeheer.core.campaign_stats import (
    Design,
    StatsError,
    before_after,
    campaign_effect,
    campaign_profit,
    compare_groups,
    split_control_group,
)

ACCOUNTS = [f"acc-{i:04d}" for i in range(2000)]


def _simulate(seed, lift):
    """Per-account revenue for 2,000 accounts, half held back; the target gets ``lift``."""
    rng = np.random.default_rng(seed)
    target_ids, control_ids = split_control_group(ACCOUNTS, 0.5, seed=f"campaign-{seed}")
    base = dict(zip(ACCOUNTS, rng.gamma(shape=4.0, scale=250.0, size=len(ACCOUNTS)), strict=True))
    target = [base[i] * (1 + lift) for i in target_ids]
    control = [base[i] for i in control_ids]
    return target, control


# --------------------------------------------------------------------------- effect


def test_ten_percent_lift_on_2000_accounts_is_found():
    # given a true mean of 1.000 per account and a +10 % lift: a true difference of 100
    target, control = _simulate(seed=2025, lift=0.10)
    # when
    effect = compare_groups(target, control)
    # then the interval covers the true lift and excludes 0
    assert effect.ci_low < 100 < effect.ci_high
    assert effect.ci_low > 0
    assert effect.significant
    assert effect.lift_ci_low < 10 < effect.lift_ci_high
    assert effect.lift_pct == pytest.approx(10, abs=5)
    assert (effect.target_n, effect.control_n) == (1000, 1000)


def test_ten_percent_lift_is_covered_in_most_seeds():
    covered = 0
    for seed in range(40):
        effect = compare_groups(*_simulate(seed, 0.10))
        covered += effect.ci_low < 100 < effect.ci_high
    assert covered >= 34  # 95 % nominal


def test_without_lift_the_interval_covers_zero_in_at_least_90_of_100_seeds():
    covered = 0
    for seed in range(100):
        effect = compare_groups(*_simulate(seed, 0.0))
        covered += effect.ci_low <= 0 <= effect.ci_high
    assert covered >= 90


def test_welch_interval_and_p_value_agree_with_scipy():
    rng = np.random.default_rng(1)
    target = rng.normal(110, 30, size=40)
    control = rng.normal(100, 10, size=25)
    effect = compare_groups(target.tolist(), control.tolist(), confidence=0.9)
    reference = stats.ttest_ind(target, control, equal_var=False)
    interval = reference.confidence_interval(confidence_level=0.9)
    assert effect.p_value == pytest.approx(reference.pvalue, rel=1e-9)
    assert effect.ci_low == pytest.approx(interval.low, rel=1e-9)
    assert effect.ci_high == pytest.approx(interval.high, rel=1e-9)
    assert effect.df == pytest.approx(reference.df, rel=1e-9)


def test_decimal_amounts_and_zero_revenue_accounts_are_accepted():
    effect = compare_groups([Decimal("0"), Decimal("150.50"), Decimal("99.50")], [0, 100, 50])
    assert effect.difference == pytest.approx(100 / 3)
    assert effect.lift_pct == pytest.approx(66.666666, rel=1e-6)


def test_constant_groups_give_a_point_interval():
    effect = compare_groups([5, 5, 5], [3, 3])
    assert (effect.ci_low, effect.ci_high, effect.difference) == (2.0, 2.0, 2.0)
    assert effect.p_value == 0.0


def test_lift_without_control_revenue_is_none():
    effect = compare_groups([1, 2], [0, 0])
    assert effect.lift_pct is None
    assert effect.lift_ci_low is None


def test_revenue_and_orders_together():
    effect = campaign_effect(
        target_revenue=[100, 200, 300],
        control_revenue=[100, 150, 200],
        target_orders=[1, 2, 3],
        control_orders=[1, 1, 2],
    )
    assert effect.revenue.metric == "revenue"
    assert effect.orders.metric == "orders"
    assert effect.orders.difference == pytest.approx(2 / 3)
    with pytest.raises(StatsError):
        campaign_effect(target_revenue=[1, 2], control_revenue=[1, 2], target_orders=[1, 2])


@pytest.mark.parametrize(
    ("target", "control", "kwargs", "code"),
    [
        ([1], [1, 2], {}, "too_few"),
        ([1, 2], [], {}, "too_few"),
        ([1, float("nan")], [1, 2], {}, "not_finite"),
        ([1, 2], [1, 2], {"confidence": 95}, "bad_confidence"),
    ],
)
def test_bad_input_is_refused(target, control, kwargs, code):
    with pytest.raises(StatsError) as excinfo:
        compare_groups(target, control, **kwargs)
    assert excinfo.value.code == code


# --------------------------------------------------------------------------- before/after


def test_single_account_before_after_is_flagged_as_weaker_evidence():
    before = [900, 1100, 1000, 950, 1050, 1000]  # monthly revenue
    after = [1200, 1150, 1250]
    effect = before_after(before, after)
    assert effect.design is Design.BEFORE_AFTER
    assert effect.weaker_evidence
    assert "control group" in effect.note
    assert effect.difference == pytest.approx(1200 - 1000)
    assert effect.ci_low > 0
    assert (effect.target_n, effect.control_n) == (3, 6)


def test_before_after_with_one_value_each_has_no_interval():
    effect = before_after([1000], [1200])
    assert effect.difference == 200
    assert effect.ci_low is None
    assert effect.p_value is None
    assert effect.lift_pct == pytest.approx(20)
    assert effect.weaker_evidence


def test_a_control_group_comparison_is_not_flagged():
    effect = compare_groups([1, 2, 3], [1, 2, 3])
    assert effect.design is Design.CONTROL_GROUP
    assert not effect.weaker_evidence


# --------------------------------------------------------------------------- profit


def test_extra_profit_is_difference_times_accounts_times_margin_minus_cost():
    effect = compare_groups([150, 250], [50, 150])  # difference 100
    effect = replace(effect, ci_low=50.0, ci_high=150.0)
    profit = campaign_profit(
        effect, targeted_accounts=1000, margin=Decimal("0.45"), campaign_cost=Decimal("20000")
    )
    assert profit.extra_revenue == Decimal("100000.00")
    assert profit.extra_profit == Decimal("25000.00")  # 100 × 1000 × 0,45 − 20.000
    assert profit.extra_profit_low == Decimal("2500.00")
    assert profit.extra_profit_high == Decimal("47500.00")
    assert profit.verdict == "profitable"


@pytest.mark.parametrize(
    ("low", "high", "verdict"),
    [(10.0, 20.0, "loss"), (-10.0, 200.0, "inconclusive"), (60.0, 200.0, "profitable")],
)
def test_profit_verdict(low, high, verdict):
    effect = replace(compare_groups([1, 2], [1, 2]), difference=15.0, ci_low=low, ci_high=high)
    profit = campaign_profit(
        effect, targeted_accounts=100, margin=Decimal("0.5"), campaign_cost=Decimal("2500")
    )
    assert profit.verdict == verdict


def test_profit_is_rounded_once_to_cents():
    effect = replace(compare_groups([1, 2], [1, 2]), difference=0.333, ci_low=None, ci_high=None)
    # 0,333 × 3 × 0,5 = 0,4995 → € 0,50 (rounding 0,333 first would give 0,33 × 1,5 = 0,495)
    profit = campaign_profit(
        effect, targeted_accounts=3, margin=Decimal("0.5"), campaign_cost=Decimal("0")
    )
    assert profit.extra_profit == Decimal("0.50")
    assert profit.extra_profit_low is None
    assert profit.verdict == "inconclusive"


def test_profit_refuses_a_margin_given_as_percent():
    effect = compare_groups([1, 2], [1, 2])
    with pytest.raises(StatsError):
        campaign_profit(effect, targeted_accounts=1, margin=Decimal(45), campaign_cost=Decimal(0))


# --------------------------------------------------------------------------- holdout


def test_holdout_is_deterministic_and_independent_of_input_order():
    target, control = split_control_group(ACCOUNTS, 0.1, seed="campaign:42")
    assert len(control) == 200
    assert len(target) == 1800
    again = split_control_group(list(reversed(ACCOUNTS)), 0.1, seed="campaign:42")
    assert set(again[1]) == set(control)
    assert set(split_control_group(ACCOUNTS, 0.1, seed="campaign:43")[1]) != set(control)
    assert [i for i in ACCOUNTS if i in set(control)] == control  # input order kept


def test_holdout_size_rounds_half_up_and_edge_cases():
    assert len(split_control_group(range(5), 0.5, seed=1)[1]) == 3  # 2,5 → 3
    assert split_control_group(["only"], 0.1, seed=1) == (["only"], [])
    assert split_control_group([], 0.2, seed=1) == ([], [])
    with pytest.raises(StatsError):
        split_control_group(["a", "a"], 0.5, seed=1)
    with pytest.raises(StatsError):
        split_control_group(["a", "b"], 1, seed=1)


@settings(max_examples=50)
@given(
    st.lists(st.integers(min_value=0, max_value=10**6), unique=True, max_size=200),
    st.decimals(min_value=0, max_value=Decimal("0.99"), places=2),
    st.integers(),
)
def test_holdout_partitions_the_accounts(ids, fraction, seed):
    target, control = split_control_group(ids, fraction, seed=seed)
    assert sorted(target + control) == sorted(ids)
    assert not set(target) & set(control)
    assert abs(len(control) - fraction * len(ids)) <= Decimal("0.5")
