"""BG/NBD and Gamma-Gamma (core/btyd.py): the papers' CDNOW numbers and the edge cases.

Runs without Django: ``pytest tests/core/test_btyd.py -p no:django``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize

from relatiebeheer.core import btyd

CDNOW = Path(__file__).resolve().parent.parent / "data" / "cdnow" / "CDNOW_sample.txt"
CALIBRATION_END = dt.date(1997, 9, 30)
PAPER = btyd.BGNBDParams(r=0.2426, alpha=4.4136, a=0.7930, b=2.4262)


def load_cdnow() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sample customer id, date, dollar value) per line of the CDNOW sample."""
    raw = np.loadtxt(
        CDNOW, dtype=[("m", "i8"), ("id", "i8"), ("d", "U8"), ("n", "i8"), ("v", "f8")]
    )
    iso = np.char.add(
        np.char.add(
            np.char.add(np.strings.slice(raw["d"], 0, 4), "-"), np.strings.slice(raw["d"], 4, 6)
        ),
        np.char.add("-", np.strings.slice(raw["d"], 6, 8)),
    )
    return raw["id"], iso.astype("datetime64[D]"), raw["v"]


@pytest.fixture(scope="module")
def cdnow() -> btyd.CustomerSummary:
    ids, dates, values = load_cdnow()
    return btyd.summarise_transactions(ids, dates, values, CALIBRATION_END)


@pytest.fixture(scope="module")
def cdnow_bgnbd(cdnow) -> btyd.BGNBDParams:
    return btyd.fit_bgnbd(cdnow.frequency, cdnow.recency, cdnow.T)


@pytest.fixture(scope="module")
def cdnow_gg(cdnow) -> btyd.GammaGammaParams:
    return btyd.fit_gamma_gamma(cdnow.frequency, cdnow.monetary_value)


# --- summary rules --------------------------------------------------------------------


def test_same_day_purchases_count_once_and_the_first_day_is_not_a_repeat():
    # given: customer A buys twice on day 0, once on day 7 and twice on day 14;
    # customer B buys once; customer C only after the observation end
    ids = ["A", "A", "A", "A", "A", "B", "C"]
    dates = [
        "2024-01-01",
        "2024-01-01",
        "2024-01-08",
        "2024-01-15",
        "2024-01-15",
        "2024-01-08",
        "2024-03-01",
    ]
    amounts = [10.0, 5.0, 20.0, 30.0, 10.0, 99.0, 7.0]
    # when
    s = btyd.summarise_transactions(ids, dates, amounts, dt.date(2024, 1, 29))
    # then: A has 3 purchase days (2 repeats), last 2 weeks after the first, T = 4 weeks,
    # mean repeat value (20 + 40) / 2; B is a one-time buyer; C is not a customer yet
    assert s.customer_ids.tolist() == ["A", "B"]
    assert s.frequency.tolist() == [2, 0]
    assert s.recency.tolist() == [2.0, 0.0]
    assert s.T.tolist() == [4.0, 3.0]
    assert s.monetary_value.tolist() == [30.0, 0.0]
    assert s.first_purchase.astype(str).tolist() == ["2024-01-01", "2024-01-08"]
    assert (s.transactions_used, s.transactions_after_end) == (6, 1)
    assert s.n_repeat_buyers == 1


def test_weeks_are_days_over_seven_and_the_end_day_is_included():
    s = btyd.summarise_transactions([1, 1], ["2024-01-01", "2024-01-04"], [1.0, 2.0], "2024-01-04")
    assert s.recency[0] == pytest.approx(3 / 7)
    assert s.T[0] == pytest.approx(3 / 7)


def test_no_transactions_before_the_end_is_insufficient_data():
    with pytest.raises(btyd.InsufficientData) as caught:
        btyd.summarise_transactions([1], ["2024-05-01"], [1.0], "2024-01-01")
    assert caught.value.code == "no_transactions"


def test_negative_amounts_are_refused():
    with pytest.raises(ValueError, match="non-negative"):
        btyd.summarise_transactions([1], ["2024-01-01"], [-1.0], "2024-01-01")


def _naive_summary(ids, days, amounts, end):
    per_day: dict = defaultdict(lambda: defaultdict(float))
    for i, d, a in zip(ids, days, amounts, strict=True):
        if d <= end:
            per_day[i][d] += a
    out = {}
    for i, by_day in per_day.items():
        ordered = sorted(by_day)
        repeats = [by_day[d] for d in ordered[1:]]
        out[i] = (
            len(ordered) - 1,
            (ordered[-1] - ordered[0]) / 7,
            (end - ordered[0]) / 7,
            sum(repeats) / len(repeats) if repeats else 0.0,
        )
    return out


@pytest.mark.parametrize("kind", ["int", "sparse int", "short str", "long str"])
def test_vectorised_summary_matches_a_plain_loop(kind):
    # given: random transactions with many same-day repeats, ids of each kind
    rng = np.random.default_rng(7)
    n = 5_000
    raw = rng.integers(0, 400, n)
    ids = {
        "int": raw,
        "sparse int": raw * 10**12,
        "short str": np.array([f"K{i}" for i in raw]),
        "long str": np.array([f"klant-{i:020d}-é" for i in raw]),
    }[kind]
    days = rng.integers(0, 60, n)
    amounts = rng.integers(0, 10_000, n) / 100
    dates = np.datetime64("2024-01-01") + days.astype("timedelta64[D]")
    # when
    s = btyd.summarise_transactions(ids, dates, amounts, "2024-02-15")
    # then
    expected = _naive_summary(ids.tolist(), days.tolist(), amounts.tolist(), 45)
    assert sorted(expected) == s.customer_ids.tolist()
    for k, i in enumerate(s.customer_ids.tolist()):
        x, t_x, age, m = expected[i]
        assert (s.frequency[k], s.recency[k], s.T[k]) == (x, pytest.approx(t_x), pytest.approx(age))
        assert s.monetary_value[k] == pytest.approx(m)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 5), st.integers(0, 30), st.integers(0, 500)),
        min_size=1,
        max_size=40,
    ),
    st.randoms(),
)
def test_summary_does_not_depend_on_row_order(rows, random):
    # given: the same transactions in two orders
    shuffled = rows[:]
    random.shuffle(shuffled)

    def summary(rs):
        ids, days, cents = zip(*rs, strict=True)
        dates = np.datetime64("2024-01-01") + np.array(days).astype("timedelta64[D]")
        return btyd.summarise_transactions(
            np.array(ids), dates, np.array(cents) / 100, "2024-01-31"
        )

    a, b = summary(rows), summary(shuffled)
    # then
    assert a.customer_ids.tolist() == b.customer_ids.tolist()
    assert a.frequency.tolist() == b.frequency.tolist()
    assert np.allclose(a.monetary_value, b.monetary_value)
    assert np.array_equal(a.recency, b.recency)
    assert np.all(a.recency <= a.T)


def test_cdnow_summary(cdnow):
    # given the CDNOW sample and the 39-week calibration period
    assert cdnow.n_customers == 2357
    assert cdnow.n_repeat_buyers == 946
    assert (cdnow.transactions_used, cdnow.transactions_after_end) == (4960, 1959)
    # customer 1: purchases on 1997-01-01, 01-18 and 08-02 in the calibration period
    assert cdnow.frequency[0] == 2
    assert cdnow.recency[0] == pytest.approx(30.43, abs=0.005)
    assert cdnow.T[0] == pytest.approx(38.86, abs=0.005)
    assert cdnow.monetary_value[0] == pytest.approx((29.73 + 14.96) / 2)


# --- the papers' numbers ----------------------------------------------------------------


def test_bgnbd_reproduces_fader_hardie_lee_on_cdnow(cdnow_bgnbd):
    fit = cdnow_bgnbd
    assert fit.r == pytest.approx(0.2426, abs=0.001)
    assert fit.alpha == pytest.approx(4.4136, abs=0.01)
    assert fit.a == pytest.approx(0.7930, abs=0.002)
    assert fit.b == pytest.approx(2.4262, abs=0.01)
    assert fit.log_likelihood == pytest.approx(-9582.43, abs=0.05)
    assert fit.n_customers == 2357


def test_gamma_gamma_reproduces_the_paper_on_the_mean_of_repeat_purchases(cdnow_gg):
    assert cdnow_gg.p == pytest.approx(6.25, abs=0.01)
    assert cdnow_gg.q == pytest.approx(3.74, abs=0.01)
    assert cdnow_gg.gamma == pytest.approx(15.44, abs=0.01)
    assert cdnow_gg.n_customers == 946
    assert cdnow_gg.population_mean_order_value == pytest.approx(6.25 * 15.44 / 2.74, rel=0.01)


def test_gamma_gamma_on_the_mean_of_all_purchases_does_not_match_the_paper(cdnow):
    # The convention matters: averaging over every purchase day, the first included,
    # gives a different model (p ≈ 14), so the paper averaged the repeat purchases.
    ids, dates, values = load_cdnow()
    keep = dates <= np.datetime64(CALIBRATION_END)
    totals = np.bincount(ids[keep], weights=values[keep])[1:]
    fit = btyd.fit_gamma_gamma(cdnow.frequency, totals / (cdnow.frequency + 1))
    assert abs(fit.p - 6.25) > 1


def test_paper_example_customer(cdnow_bgnbd):
    # FHL (2005a): x = 2, t_x = 30.43, T = 38.86 expects 1.226 purchases in the next 39 weeks
    assert btyd.conditional_expected_purchases(PAPER, 39, 2, 30.43, 38.86) == pytest.approx(
        1.226, abs=0.001
    )
    assert btyd.conditional_expected_purchases(cdnow_bgnbd, 39, 2, 30.43, 38.86) == pytest.approx(
        1.226, abs=0.001
    )


# --- optimiser --------------------------------------------------------------------------


def test_bgnbd_reaches_the_same_optimum_from_20_random_starts(cdnow, cdnow_bgnbd):
    rng = np.random.default_rng(20)
    for _ in range(20):
        start = np.exp(rng.uniform(np.log([0.01, 0.1, 0.01, 0.01]), np.log([10, 100, 10, 100])))
        fit = btyd.fit_bgnbd(cdnow.frequency, cdnow.recency, cdnow.T, initial=start)
        for name in ("r", "alpha", "a", "b"):
            assert getattr(fit, name) == pytest.approx(getattr(cdnow_bgnbd, name), rel=1e-4), (
                start,
                name,
            )
        assert fit.log_likelihood == pytest.approx(cdnow_bgnbd.log_likelihood, abs=1e-6)


def test_gamma_gamma_reaches_the_same_optimum_from_20_random_starts(cdnow, cdnow_gg):
    rng = np.random.default_rng(21)
    for _ in range(20):
        start = np.exp(rng.uniform(np.log([0.1, 0.5, 0.1]), np.log([50, 50, 500])))
        fit = btyd.fit_gamma_gamma(cdnow.frequency, cdnow.monetary_value, initial=start)
        for name in ("p", "q", "gamma"):
            assert getattr(fit, name) == pytest.approx(getattr(cdnow_gg, name), rel=1e-4), (
                start,
                name,
            )
        assert fit.log_likelihood == pytest.approx(cdnow_gg.log_likelihood, abs=1e-6)


def test_aggregated_patterns_give_the_same_fit_as_one_row_per_customer(cdnow, cdnow_bgnbd):
    rows, counts = np.unique(
        np.column_stack([cdnow.frequency, cdnow.recency, cdnow.T]), axis=0, return_counts=True
    )
    fit = btyd.fit_bgnbd(rows[:, 0], rows[:, 1], rows[:, 2], weights=counts)
    assert fit.r == pytest.approx(cdnow_bgnbd.r, rel=1e-6)
    assert fit.log_likelihood == pytest.approx(cdnow_bgnbd.log_likelihood, abs=1e-6)


def _relative_gradient_error(f, g, point):
    """Largest difference between the analytic gradient and central differences."""
    steps = np.diag(1e-6 * np.maximum(np.abs(point), 1))
    central = np.array([(f(point + h) - f(point - h)) / (2 * h[i]) for i, h in enumerate(steps)])
    analytic = g(point)
    return np.max(np.abs(analytic - central) / np.maximum(np.abs(central), 1.0))


@pytest.mark.parametrize(
    "point", [[0.2426, 4.4136, 0.7930, 2.4262], [1.5, 0.7, 3.0, 0.4], [0.05, 20.0, 0.2, 9.0]]
)
def test_bgnbd_gradient_is_the_derivative_of_the_log_likelihood(cdnow, point):
    args = (cdnow.frequency, cdnow.recency, cdnow.T)
    error = _relative_gradient_error(
        lambda p: btyd.bgnbd_log_likelihood(p, *args),
        lambda p: btyd.bgnbd_log_likelihood_gradient(p, *args),
        np.array(point),
    )
    assert error < 1e-5


@pytest.mark.parametrize("point", [[6.25, 3.74, 15.44], [1.0, 1.5, 2.0], [30.0, 8.0, 80.0]])
def test_gamma_gamma_gradient_is_the_derivative_of_the_log_likelihood(cdnow, point):
    args = (cdnow.frequency, cdnow.monetary_value)
    error = _relative_gradient_error(
        lambda p: btyd.gamma_gamma_log_likelihood(p, *args),
        lambda p: btyd.gamma_gamma_log_likelihood_gradient(p, *args),
        np.array(point),
    )
    assert error < 1e-5


def test_scipy_check_grad_agrees_on_the_bgnbd_likelihood(cdnow):
    args = (cdnow.frequency[:500], cdnow.recency[:500], cdnow.T[:500])
    point = np.array([0.3, 5.0, 0.8, 2.0])
    error = optimize.check_grad(
        lambda p: btyd.bgnbd_log_likelihood(p, *args),
        lambda p: btyd.bgnbd_log_likelihood_gradient(p, *args),
        point,
        epsilon=1e-7,
    )
    assert error / np.linalg.norm(btyd.bgnbd_log_likelihood_gradient(point, *args)) < 1e-5


# --- when it cannot fit -------------------------------------------------------------------


def test_one_time_buyers_only_cannot_be_fitted():
    # given: 500 customers who each bought once
    T = np.linspace(1, 39, 500)
    with pytest.raises(btyd.InsufficientData) as caught:
        btyd.fit_bgnbd(np.zeros(500), np.zeros(500), T)
    assert caught.value.code == "no_repeat_buyers"
    assert "bought more than once" in caught.value.reason
    with pytest.raises(btyd.InsufficientData):
        btyd.fit_gamma_gamma(np.zeros(500), np.zeros(500))


def test_too_few_customers_is_insufficient_data(cdnow):
    with pytest.raises(btyd.InsufficientData) as caught:
        btyd.fit_bgnbd(cdnow.frequency[:80], cdnow.recency[:80], cdnow.T[:80])
    assert caught.value.code == "too_few_customers"
    assert str(btyd.MIN_CUSTOMERS) in caught.value.reason


def test_too_few_repeat_buyers_is_insufficient_data(cdnow):
    # given: 300 one-time buyers and 49 repeat buyers
    one_time = np.flatnonzero(cdnow.frequency == 0)[:300]
    repeat = np.flatnonzero(cdnow.frequency > 0)[: btyd.MIN_REPEAT_BUYERS - 1]
    pick = np.r_[one_time, repeat]
    with pytest.raises(btyd.InsufficientData) as caught:
        btyd.fit_bgnbd(cdnow.frequency[pick], cdnow.recency[pick], cdnow.T[pick])
    assert caught.value.code == "too_few_repeat_buyers"
    assert "49 of 349" in caught.value.reason
    with pytest.raises(btyd.InsufficientData):
        btyd.fit_gamma_gamma(cdnow.frequency[pick], cdnow.monetary_value[pick])


def test_no_sign_of_dropout_is_a_failed_fit_not_a_wild_prediction():
    # given: every repeat buyer bought on the last day, so nobody seems to have left
    rng = np.random.default_rng(3)
    x = rng.poisson(3, 400)
    T = np.full(400, 39.0)
    with pytest.raises(btyd.FitFailed) as caught:
        btyd.fit_bgnbd(x, np.where(x > 0, T, 0.0), T)
    assert caught.value.code == "boundary"
    assert "dropping out" in caught.value.reason


def test_invalid_summaries_are_refused():
    with pytest.raises(ValueError, match="recency"):
        btyd.fit_bgnbd([1], [5.0], [4.0])
    with pytest.raises(ValueError, match="whole number"):
        btyd.fit_bgnbd([1.5], [1.0], [4.0])


# --- predictions --------------------------------------------------------------------------


def test_p_alive_is_one_without_repeat_purchases(cdnow, cdnow_bgnbd):
    alive = btyd.p_alive(cdnow_bgnbd, cdnow.frequency, cdnow.recency, cdnow.T)
    assert np.all(alive[cdnow.frequency == 0] == 1.0)
    assert np.all((alive > 0) & (alive <= 1))
    # the paper's customer: x = 2, t_x = 30.43, T = 38.86
    assert btyd.p_alive(PAPER, 2, 30.43, 38.86) == pytest.approx(0.7266, abs=0.0005)


def test_p_alive_falls_the_longer_a_customer_has_not_bought():
    gaps = btyd.p_alive(PAPER, 4, np.array([38.0, 30.0, 20.0, 5.0]), 38.86)
    assert np.all(np.diff(gaps) < 0)


EDGE_PARAMS = [
    PAPER,
    btyd.BGNBDParams(2.0, 10.0, 3.0, 0.5),  # integer a: scipy's hyp2f1 needs a guard
    btyd.BGNBDParams(0.5, 2.0, 1.0, 0.7),  # a = 1: removable singularity
    btyd.BGNBDParams(0.5, 2.0, 0.6, 0.4),  # a + b < 1
]


@pytest.mark.parametrize("params", EDGE_PARAMS)
@pytest.mark.parametrize(
    "customer", [(0, 0.0, 38.86), (2, 30.43, 38.86), (20, 0.4, 0.5), (500, 38.0, 38.86)]
)
def test_expected_purchases_are_non_negative_and_increase_with_t(params, customer):
    t = np.r_[0.0, np.geomspace(0.1, 2000, 60)]
    conditional = btyd.conditional_expected_purchases(params, t, *customer)
    assert conditional[0] == 0
    assert np.all(np.isfinite(conditional)) and np.all(conditional >= 0)
    assert np.all(np.diff(conditional) >= -1e-12 * conditional[1:])
    unconditional = btyd.expected_purchases(params, t)
    assert np.all(unconditional >= 0) and np.all(np.diff(unconditional) > 0)


@pytest.mark.parametrize(
    ("params", "t", "x", "t_x", "T", "reference"),
    [
        # 40-digit mpmath evaluations of FHL (2005a) eq. 10
        ((0.2426, 4.4136, 0.793, 2.4262), 39, 2, 30.43, 38.86, 1.2258974736176669),
        ((0.2426, 4.4136, 0.793, 2.4262), 52, 0, 0, 38.86, 0.25167308311353703),
        ((0.2426, 4.4136, 0.793, 2.4262), 10, 20, 0.4, 0.5, 24.62370012885278),
        ((0.2426, 4.4136, 0.793, 2.4262), 1000, 100, 38, 38.86, 431.52112217737493),
        ((0.2426, 4.4136, 0.793, 2.4262), 52, 500, 38, 38.86, 11.503659173957317),
        ((2.0, 10.0, 3.0, 0.5), 52, 0, 0, 38.86, 0.8628758040548462),
        ((2.0, 10.0, 3.0, 0.5), 10, 20, 0.4, 0.5, 6.917776280498874),
        ((2.0, 10.0, 3.0, 0.5), 1000, 100, 38, 38.86, 43.17320992713778),
    ],
)
def test_conditional_expectation_matches_high_precision_values(params, t, x, t_x, T, reference):
    value = btyd.conditional_expected_purchases(btyd.BGNBDParams(*params), t, x, t_x, T)
    assert value == pytest.approx(reference, rel=1e-9)


@pytest.mark.parametrize("params", [PAPER, btyd.BGNBDParams(0.5, 2.0, 0.6, 0.3)])
def test_expected_purchases_match_a_simulation(params):
    # given: 400,000 simulated new customers observed for 39 and 78 weeks
    rng = np.random.default_rng(11)
    for weeks in (39.0, 78.0):
        x, _ = btyd.simulate_bgnbd(params, np.full(400_000, weeks), rng)
        # then: the formula agrees with the simulated mean to within sampling error
        assert btyd.expected_purchases(params, weeks) == pytest.approx(x.mean(), rel=0.02)


def test_expected_order_value_shrinks_towards_the_population_mean(cdnow_gg):
    mean = cdnow_gg.population_mean_order_value
    values = btyd.conditional_expected_order_value(cdnow_gg, [0, 1, 10, 100], [0, 100, 100, 100])
    assert values[0] == pytest.approx(mean)
    assert mean < values[1] < values[2] < values[3] < 100


def test_predicted_clv_convention(cdnow, cdnow_bgnbd, cdnow_gg):
    args = (cdnow_bgnbd, cdnow_gg, cdnow.frequency, cdnow.recency, cdnow.T, cdnow.monetary_value)
    # undiscounted: margin × E[M] × E[Y(H)]
    orders, value, clv = btyd.predicted_clv(*args, horizon_weeks=52, margin=0.3, discount_rate=0.0)
    expected = btyd.conditional_expected_purchases(
        cdnow_bgnbd, 52, cdnow.frequency, cdnow.recency, cdnow.T
    )
    assert np.allclose(orders, expected, rtol=1e-12)
    assert np.allclose(clv, 0.3 * value * expected, rtol=1e-12)
    # discounting lowers every value, by less than a year's discount
    _, _, discounted = btyd.predicted_clv(*args, horizon_weeks=52, margin=0.3, discount_rate=0.10)
    assert np.all(discounted < clv) and np.all(discounted > clv / 1.10)
    # a longer horizon is worth more
    _, _, longer = btyd.predicted_clv(*args, horizon_weeks=104, margin=0.3, discount_rate=0.10)
    assert np.all(longer > discounted)


def test_one_week_discounting_by_hand():
    # given: a single week ahead, the discount factor is (1 + d)^(-1/52)
    gg = btyd.GammaGammaParams(6.25, 3.74, 15.44)
    orders, value, clv = btyd.predicted_clv(
        PAPER, gg, [2], [30.43], [38.86], [20.0], horizon_weeks=1, margin=0.5, discount_rate=0.04
    )
    assert clv[0] == pytest.approx(0.5 * value[0] * orders[0] * 1.04 ** (-1 / 52), rel=1e-12)
