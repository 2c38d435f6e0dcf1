"""Predictive customer lifetime value: BG/NBD for orders, Gamma-Gamma for order value.

"Buy 'til you die" (BTYD) models for non-contractual customers: nobody tells you when
a customer leaves, you only see when they buy. Pure Python + NumPy/SciPy, no Django.

References
----------
* Fader, Hardie & Lee (2005a), "Counting your customers the easy way: an alternative
  to the Pareto/NBD model", Marketing Science 24(2) — BG/NBD, P(alive), E[X(t)].
* Fader, Hardie & Lee (2005b), "RFM and CLV: using iso-value curves for customer base
  analysis", Journal of Marketing Research 42(4) — Gamma-Gamma spend model.
* Fader & Hardie (2013), "The Gamma-Gamma model of monetary value" (note 025).

On the CDNOW sample (2,357 customers, 39-week calibration ending 1997-09-30) this
module reproduces r = 0.2426, α = 4.4136, a = 0.7930, b = 2.4262, LL = −9582.43 and
p = 6.25, q = 3.74, γ = 15.44 (the tests pin these numbers).

Summary rules (Fader, Hardie & Lee)
-----------------------------------
Per customer, over the transactions on or before ``observation_end``:

* several transactions on one calendar day are one purchase (their amounts added);
* ``frequency`` x = number of distinct purchase days − 1 (the repeat purchases);
* ``recency`` t_x = weeks (days / 7) from the first purchase day to the last one;
* ``T`` = weeks from the first purchase day to ``observation_end``;
* ``monetary_value`` = mean value of the *repeat* purchase days (the first day left
  out), 0 for customers without repeat purchases. This is the paper's convention; the
  Gamma-Gamma model is fitted on customers with x > 0 only.

Time is measured in weeks throughout, so α is in weeks and E[X(t)] takes t in weeks.

Predicted CLV convention
------------------------
For a horizon of H weeks, margin m (profit share of the order value) and a yearly
discount rate d::

    CLV = m × E[M | x, m̄] × Σ_{k=1..H} (E[X(k) | x, t_x, T] − E[X(k−1) | x, t_x, T])
                                         × (1 + d)^(−k / 52)

i.e. the expected number of orders in each week ahead (the weekly difference of the
BG/NBD conditional expectation) is discounted to the observation end at the end of
that week, with 52 weeks to a year, and valued at the expected profit per order
(Gamma-Gamma conditional expected order value × margin). d = 0 gives the undiscounted
m × E[M] × E[X(H)]. Customers without repeat purchases get the population mean order
value pγ / (q − 1) (the Gamma-Gamma conditional expectation with x = 0).

Everything here is floating point: this is statistics, not bookkeeping. Money leaves
the core as ``Decimal`` only at the boundary (see ``relatiebeheer.core.transactions``),
rounded to whole cents once, with :func:`relatiebeheer.core.money.quantize_money`.

When the data cannot carry a fit the functions raise :class:`InsufficientData` (too few
customers or repeat buyers, see :data:`MIN_CUSTOMERS`, :data:`MIN_REPEAT_BUYERS`) or
:class:`FitFailed` (the optimiser did not converge, or a parameter ran off to 0 or ∞)
instead of returning a wild prediction. Both carry a stable ``code`` and a ``reason``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, special

__all__ = [
    "MIN_CUSTOMERS",
    "MIN_GAMMA_GAMMA_CUSTOMERS",
    "MIN_REPEAT_BUYERS",
    "WEEKS_PER_YEAR",
    "BGNBDParams",
    "BTYDError",
    "CustomerSummary",
    "FitFailed",
    "GammaGammaParams",
    "InsufficientData",
    "bgnbd_log_likelihood",
    "bgnbd_log_likelihood_gradient",
    "conditional_expected_order_value",
    "conditional_expected_purchases",
    "discounted_expected_purchases",
    "expected_purchases",
    "fit_bgnbd",
    "fit_gamma_gamma",
    "gamma_gamma_log_likelihood",
    "gamma_gamma_log_likelihood_gradient",
    "p_alive",
    "predicted_clv",
    "simulate_bgnbd",
    "simulate_gamma_gamma",
    "summarise_transactions",
]

#: Fewest customers for a BG/NBD fit: four parameters describe two heterogeneous
#: populations (purchase rates, dropout probabilities); below ~100 customers they are
#: not identified.
MIN_CUSTOMERS = 100

#: Fewest customers with at least one repeat purchase. Only repeat buyers carry
#: information about dropout (the gap between their last purchase and the observation
#: end) and about spend (the Gamma-Gamma model sees nobody else). Simulating CDNOW-like
#: customer bases (300 runs per size, true parameters of the paper), by number of
#: repeat buyers:
#:
#: ====== ================= ============================ ==================
#: repeat BG/NBD at a bound  90th pct. error, 52-week     Gamma-Gamma at a
#: buyers (refused)          expected orders (others)     bound (refused)
#: ====== ================= ============================ ==================
#:  ~25   30 %              41 %                         36 %
#:  ~50   19 %              32 %                         18 %
#: ~100    4 %              24 %                          5 %
#: ~200    2 %              19 %                          0.3 %
#: ====== ================= ============================ ==================
#:
#: (The error compares the base's total expected orders in the next 52 weeks under the
#: fitted and the true parameters, for the same customers.)
#:
#: Below ~50 a third of the fits fail and one in ten of the rest misses by 40 % or
#: more; from 50 on four in five fits succeed and the errors shrink roughly as 1/√n
#: (reproduce with ``bench/bench_btyd.py --min-repeat-study``). 50 is also ≥ 10
#: observations per parameter for the three-parameter Gamma-Gamma model. Fits that do
#: run to a bound are refused with :class:`FitFailed` whatever the count.
MIN_REPEAT_BUYERS = 50

#: Fewest repeat buyers with a positive mean repeat order value for Gamma-Gamma.
MIN_GAMMA_GAMMA_CUSTOMERS = MIN_REPEAT_BUYERS

#: Weeks to a year in the discounting convention (see the module docstring).
WEEKS_PER_YEAR = 52

# Optimisation works on log-parameters, in rescaled units (time in mean customer ages,
# money in mean order values) so that every parameter is a pure number of order 1 for
# sane data. The optimiser is bounded to (1e-7, 1e7); a fit ending outside
# (1e-5, 1e4) has run off to 0 or ∞ (or onto a flat ridge towards it) and is refused.
_LOG_LOWER, _LOG_UPPER = math.log(1e-7), math.log(1e7)
_PLAUSIBLE_LOWER, _PLAUSIBLE_UPPER = math.log(1e-5), math.log(1e4)
# Largest gradient norm (of the mean log-likelihood per customer, in log-parameters)
# accepted as a stationary point.
_GRADIENT_TOLERANCE = 1e-4
# Two runs whose mean log-likelihoods agree this closely found the same optimum.
_SAME_OPTIMUM = 1e-9


_BOUNDARY_HINTS = {
    # a → 0 or b → ∞ pushes every dropout probability to 0.
    ("BG/NBD", "a → 0"): " (no sign yet of customers dropping out; more history is needed)",
    ("BG/NBD", "b → ∞"): " (no sign yet of customers dropping out; more history is needed)",
    ("Gamma-Gamma", "p → ∞"): (
        " (too few customers with several repeat purchases to tell how much one "
        "customer's order values vary)"
    ),
}


def _dot(a: NDArray[np.float64], b: NDArray[np.float64]) -> float:
    """Σ a·b without BLAS.

    ``a @ b`` goes to a multi-threaded BLAS whose spinning worker threads, on a busy
    machine with few cores, slowed the fits down twenty-fold in measurements here;
    einsum's own loop is single-threaded and just as fast for these sizes.
    """
    return float(np.einsum("i,i->", a, b))


class BTYDError(ValueError):
    """A fit or prediction that cannot be made; ``code`` is stable, ``reason`` English."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class InsufficientData(BTYDError):
    """The data are too few (customers, repeat buyers) to fit the model reliably."""


class FitFailed(BTYDError):
    """The maximum-likelihood fit did not converge or ran to a parameter boundary."""


# --------------------------------------------------------------------------------------
# Summary: transactions → (frequency, recency, T, monetary value) per customer
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class CustomerSummary:
    """Per-customer calibration summary, one entry per customer (sorted by id)."""

    customer_ids: NDArray[Any]
    frequency: NDArray[np.int64]
    recency: NDArray[np.float64]
    T: NDArray[np.float64]  # the literature's name
    monetary_value: NDArray[np.float64]
    first_purchase: NDArray[np.datetime64]
    observation_end: dt.date
    transactions_used: int
    transactions_after_end: int

    @property
    def n_customers(self) -> int:
        return int(self.frequency.size)

    @property
    def n_repeat_buyers(self) -> int:
        return int(np.count_nonzero(self.frequency))


def _as_day(value: dt.date | str | np.datetime64) -> int:
    if isinstance(value, np.datetime64):
        return int(value.astype("datetime64[D]").astype(np.int64))
    if isinstance(value, dt.datetime):
        value = value.date()
    return int(np.datetime64(value, "D").astype(np.int64))


def _weighted_counts(index: NDArray[Any], weights: NDArray[Any], size: int) -> NDArray[np.float64]:
    """``np.bincount`` with weights: float sums per index (its stubs say integers)."""
    return np.bincount(index, weights=weights, minlength=size).astype(np.float64, copy=False)


def _factorize(ids: NDArray[Any]) -> tuple[NDArray[Any], NDArray[np.intp]]:
    """(sorted distinct ids, index of each id among them), faster than ``np.unique``.

    Integer ids in a compact range are ranked in O(n) with a presence table; ASCII
    strings of at most 8 characters are packed into order-preserving 64-bit integers
    and other strings hashed (sorting integers is several times faster than sorting strings);
    anything else goes through ``np.unique``.
    """
    if ids.dtype.kind in "iu":
        lo, hi = int(ids.min()), int(ids.max())
        if hi - lo <= 4 * ids.size + 1_000_000:
            offset = (ids - lo).astype(np.intp)
            present = np.zeros(hi - lo + 1, dtype=bool)
            present[offset] = True
            rank = np.cumsum(present) - 1
            return (np.flatnonzero(present) + lo).astype(ids.dtype), rank[offset]
    if ids.dtype.kind == "U" and ids.size:
        width = ids.dtype.itemsize // 4
        points = np.ascontiguousarray(ids).view(np.uint32).reshape(ids.size, width)
        if width <= 8 and int(points.max()) < 128:
            ascii_bytes = np.zeros((ids.size, 8), dtype=np.uint8)
            ascii_bytes[:, :width] = points
            packed = ascii_bytes.view(">u8").ravel().astype(np.uint64)
            distinct, codes = np.unique(packed, return_inverse=True)
            where = np.empty(distinct.size, dtype=np.intp)
            where[codes] = np.arange(ids.size)
            return ids[where], codes.ravel()
        found = _factorize_by_hash(ids, points)
        if found is not None:
            return found
    # (own names: mypy 1.19 crashes on re-binding the tuple assigned above)
    uniques, inverse = np.unique(ids, return_inverse=True)
    return uniques, inverse.ravel()


def _factorize_by_hash(
    ids: NDArray[np.str_], points: NDArray[np.uint32]
) -> tuple[NDArray[Any], NDArray[np.intp]] | None:
    """Factorize long strings through a 64-bit FNV-1a hash of their code points.

    Every id is then compared with the representative of its hash, so a collision
    (odds ~n²/2⁶⁵) is detected, and the caller falls back to ``np.unique``.
    """
    digest = np.full(ids.size, 0xCBF29CE484222325, dtype=np.uint64)
    prime = np.uint64(0x100000001B3)
    for k in range(points.shape[1]):
        digest ^= points[:, k]
        digest *= prime
    distinct, codes = np.unique(digest, return_inverse=True)
    codes = codes.ravel()
    where = np.empty(distinct.size, dtype=np.intp)
    where[codes] = np.arange(ids.size)
    names = ids[where]
    if not np.array_equal(names[codes], ids):
        return None
    order = np.argsort(names, kind="stable")
    rank = np.empty(order.size, dtype=np.intp)
    rank[order] = np.arange(order.size)
    return names[order], rank[codes]


def summarise_transactions(
    customer_ids: ArrayLike,
    dates: ArrayLike,
    amounts: ArrayLike,
    observation_end: dt.date | str | np.datetime64,
) -> CustomerSummary:
    """Summarise transactions into the BTYD statistics per customer (vectorised).

    ``customer_ids`` may be any sortable dtype (ints, strings); ``dates`` anything
    NumPy reads as ``datetime64[D]`` (``datetime.date`` objects, ISO strings,
    datetime64); ``amounts`` non-negative numbers. Transactions after
    ``observation_end`` are left out (and counted in ``transactions_after_end``);
    customers are those with at least one transaction on or before it. Runs in
    O(n log n) with no Python loop per row: about a second for 2 million transactions.
    """
    ids = np.asarray(customer_ids)
    days = np.asarray(dates, dtype="datetime64[D]").astype(np.int64)
    values = np.asarray(amounts, dtype=np.float64)
    if not (ids.ndim == days.ndim == values.ndim == 1) or not (
        ids.size == days.size == values.size
    ):
        raise ValueError("customer_ids, dates and amounts must be 1-d arrays of equal length")
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ValueError("amounts must be finite and non-negative")
    end = _as_day(observation_end)

    keep = days <= end
    n_after = int(keep.size - np.count_nonzero(keep))
    if n_after:
        ids, days, values = ids[keep], days[keep], values[keep]
    if ids.size == 0:
        raise InsufficientData(
            "no_transactions", "no transactions on or before the observation end"
        )

    unique_ids, customer = _factorize(ids)
    n_customers = unique_ids.size
    origin = int(days.min())
    offset = days - origin
    span = end - origin + 1
    # One key per (customer, day); sorted, its distinct values are the purchase days
    # of each customer in order. A plain sort (no argsort) keeps this fast.
    keys = np.sort(customer.astype(np.int64) * span + offset)
    distinct = np.empty(keys.size, dtype=bool)
    distinct[0] = True
    np.not_equal(keys[1:], keys[:-1], out=distinct[1:])
    day_keys = keys[distinct]
    key_customer = day_keys // span
    key_day = day_keys - key_customer * span
    n_days = np.bincount(key_customer, minlength=n_customers)
    starts = np.cumsum(n_days) - n_days
    first = key_day[starts]
    last = key_day[starts + n_days - 1]
    frequency = (n_days - 1).astype(np.int64)
    recency = (last - first) / 7.0
    age = (end - origin - first) / 7.0
    # Amounts of the repeat purchase days: everything not on the first purchase day.
    repeat = offset != first[customer]
    repeat_total = np.bincount(customer[repeat], weights=values[repeat], minlength=n_customers)
    monetary = np.divide(repeat_total, frequency, out=np.zeros(frequency.size), where=frequency > 0)
    return CustomerSummary(
        customer_ids=unique_ids,
        frequency=frequency,
        recency=recency,
        T=age,
        monetary_value=monetary,
        first_purchase=(first + origin).astype("datetime64[D]"),
        observation_end=dt.date.fromordinal(dt.date(1970, 1, 1).toordinal() + end),
        transactions_used=int(ids.size),
        transactions_after_end=n_after,
    )


# --------------------------------------------------------------------------------------
# BG/NBD
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BGNBDParams:
    """Fitted BG/NBD parameters (time unit: weeks) and the fit's log-likelihood."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float = math.nan
    n_customers: int = 0
    iterations: int = 0

    def as_dict(self) -> dict[str, float]:
        return {
            "r": self.r,
            "alpha": self.alpha,
            "a": self.a,
            "b": self.b,
            "log_likelihood": self.log_likelihood,
        }


@dataclass(frozen=True)
class _Patterns:
    """Distinct (x, t_x, T) rows with their counts: the likelihood only needs these.

    Each column is also factorized (``*_values`` distinct, ``*_index`` per row) so
    that special functions and logarithms are evaluated once per distinct value.
    """

    x: NDArray[np.float64]
    weight: NDArray[np.float64]
    x_values: NDArray[np.float64]
    x_index: NDArray[np.intp]
    x_weight: NDArray[np.float64]  # total weight per distinct x
    tx_values: NDArray[np.float64]
    tx_index: NDArray[np.intp]
    T_values: NDArray[np.float64]
    T_index: NDArray[np.intp]

    @property
    def n(self) -> float:
        return float(self.weight.sum())

    @property
    def repeat_weight(self) -> float:
        return float(self.x_weight[self.x_values > 0].sum())


def _check_rft(x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> tuple[NDArray, NDArray, NDArray]:
    x = np.asarray(x, dtype=np.float64)
    t_x = np.asarray(t_x, dtype=np.float64)
    T = np.asarray(T, dtype=np.float64)
    x, t_x, T = np.broadcast_arrays(x, t_x, T)
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(t_x)) and np.all(np.isfinite(T))):
        raise ValueError("frequency, recency and T must be finite")
    if np.any(x < 0) or np.any(x != np.round(x)):
        raise ValueError("frequency must be a non-negative whole number")
    if np.any(t_x < 0) or np.any(t_x > T):
        raise ValueError("recency must lie between 0 and T")
    if np.any((x == 0) & (t_x != 0)):
        raise ValueError("recency must be 0 for customers without repeat purchases")
    return x, t_x, T


def _patterns(
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    weights: ArrayLike | None = None,
) -> _Patterns:
    x, t_x, T = _check_rft(x, t_x, T)
    x, t_x, T = x.ravel(), t_x.ravel(), T.ravel()
    if weights is None:
        w = np.ones(x.size)
    else:
        w = np.broadcast_to(np.asarray(weights, dtype=np.float64), x.shape).ravel()
    if np.any(w < 0) or not np.all(np.isfinite(w)):
        raise ValueError("weights must be finite and non-negative")
    xv, xi = np.unique(x, return_inverse=True)
    txv, txi = np.unique(t_x, return_inverse=True)
    tv, ti = np.unique(T, return_inverse=True)
    # One integer key per (x, t_x, T) combination: aggregate identical customers.
    key = (xi.ravel().astype(np.int64) * txv.size + txi.ravel()) * tv.size + ti.ravel()
    keys, inverse = np.unique(key, return_inverse=True)
    weight = _weighted_counts(inverse.ravel(), w, keys.size)
    ti_k = keys % tv.size
    txi_k = (keys // tv.size) % txv.size
    xi_k = keys // (tv.size * txv.size)
    return _Patterns(
        x=xv[xi_k],
        weight=weight,
        x_values=xv,
        x_index=xi_k,
        x_weight=_weighted_counts(xi_k, weight, xv.size),
        tx_values=txv,
        tx_index=txi_k,
        T_values=tv,
        T_index=ti_k,
    )


def _bgnbd_ll_grad(
    r: float, alpha: float, a: float, b: float, d: _Patterns
) -> tuple[float, NDArray[np.float64]]:
    """Weighted log-likelihood and its gradient in (r, α, a, b).

    Per customer (Fader, Hardie & Lee 2005a, eq. 6), in log space::

        A1 = lnΓ(r+x) − lnΓ(r) + r ln α
        A2 = lnB(a, b+x) − lnB(a, b) − (r+x) ln(α+T)
        A3 = lnB(a+1, b+x−1) − lnB(a, b) − (r+x) ln(α+t_x)       (x > 0 only)
        LL = A1 + logaddexp(A2, A3)

    and the gradient is ∂A1 + s·∂A2 + (1−s)·∂A3 with s = exp(A2 − logaddexp(A2, A3)).
    Terms that depend on x, t_x or T alone are computed per distinct value; sums over
    customers of terms that depend on x alone are taken per distinct x.
    """
    xv, ix, wx = d.x_values, d.x_index, d.x_weight
    repeat_v = xv > 0
    xs = np.where(repeat_v, xv, 1.0)  # stand-in for x = 0 in the x > 0 term
    lb_ab = special.betaln(a, b)
    dg_a, dg_b, dg_ab = special.digamma(a), special.digamma(b), special.digamma(a + b)
    dg_abx = special.digamma(a + b + xv)
    # Per distinct x.
    a1_v = special.gammaln(r + xv) - special.gammaln(r) + r * math.log(alpha)
    c2_v = special.betaln(a, b + xv) - lb_ab
    c3_v = np.where(repeat_v, special.betaln(a + 1.0, b + xs - 1.0) - lb_ab, -np.inf)
    dr1_v = special.digamma(r + xv) - special.digamma(r) + math.log(alpha)
    da2_v = dg_ab - dg_abx
    db2_v = special.digamma(b + xv) - dg_abx - dg_b + dg_ab
    da3_v = special.digamma(a + 1.0) - dg_a + dg_ab - dg_abx
    db3_v = special.digamma(b + xs - 1.0) - dg_abx - dg_b + dg_ab
    # Per distinct T and t_x.
    log_T = np.log(alpha + d.T_values)[d.T_index]
    log_tx = np.log(alpha + d.tx_values)[d.tx_index]
    inv_T = (1.0 / (alpha + d.T_values))[d.T_index]
    inv_tx = (1.0 / (alpha + d.tx_values))[d.tx_index]
    # Per pattern.
    w = d.weight
    rx = r + d.x
    a2 = c2_v[ix] - rx * log_T
    a3 = c3_v[ix] - rx * log_tx
    with np.errstate(invalid="ignore"):
        mix = np.logaddexp(a2, a3)
    s2 = np.exp(a2 - mix)
    ws2 = w * s2
    ws3 = w - ws2
    ll = _dot(wx, a1_v) + _dot(w, mix)
    s2_by_x = _weighted_counts(ix, ws2, xv.size)
    s3_by_x = wx - s2_by_x
    grad = np.array(
        [
            _dot(wx, dr1_v) - _dot(ws2, log_T) - _dot(ws3, log_tx),
            d.n * r / alpha - _dot(rx, ws2 * inv_T + ws3 * inv_tx),
            _dot(s2_by_x, da2_v) + _dot(s3_by_x, da3_v),
            _dot(s2_by_x, db2_v) + _dot(s3_by_x, db3_v),
        ]
    )
    return ll, grad


def _params4(params: Any) -> tuple[float, float, float, float]:
    if isinstance(params, BGNBDParams):
        return params.r, params.alpha, params.a, params.b
    r, alpha, a, b = (float(v) for v in params)
    return r, alpha, a, b


def bgnbd_log_likelihood(
    params: BGNBDParams | ArrayLike,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    weights: ArrayLike | None = None,
) -> float:
    """Total BG/NBD log-likelihood of (r, α, a, b) for the given customers."""
    r, alpha, a, b = _params4(params)
    return _bgnbd_ll_grad(r, alpha, a, b, _patterns(x, t_x, T, weights))[0]


def bgnbd_log_likelihood_gradient(
    params: BGNBDParams | ArrayLike,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    weights: ArrayLike | None = None,
) -> NDArray[np.float64]:
    """Analytic gradient of :func:`bgnbd_log_likelihood` in (r, α, a, b)."""
    r, alpha, a, b = _params4(params)
    return _bgnbd_ll_grad(r, alpha, a, b, _patterns(x, t_x, T, weights))[1]


def _maximise_once(
    objective: Any, start: NDArray[np.float64], names: tuple[str, ...], model: str
) -> tuple[NDArray[np.float64], optimize.OptimizeResult]:
    start = np.clip(start, _PLAUSIBLE_LOWER, _PLAUSIBLE_UPPER)
    # BFGS on the unconstrained log-parameters (the box is enforced by _bounded). Not
    # L-BFGS-B: with a multi-threaded BLAS on a busy machine its per-iteration LAPACK
    # calls cost milliseconds each, more than the likelihood itself.
    with np.errstate(all="ignore"):
        result = optimize.minimize(
            _bounded(objective),
            start,
            jac=True,
            method="BFGS",
            options={"maxiter": 2000, "gtol": 1e-9},
        )
    theta = np.clip(result.x, _LOG_LOWER, _LOG_UPPER)
    with np.errstate(all="ignore"):
        gradient = objective(theta)[1]
    if not np.all(np.isfinite(theta)) or not np.isfinite(result.fun):
        raise FitFailed("not_finite", f"the {model} fit produced non-finite values")
    at_edge = [
        f"{n} → 0" if v < _PLAUSIBLE_LOWER else f"{n} → ∞"
        for n, v in zip(names, theta, strict=True)
        if not _PLAUSIBLE_LOWER <= v <= _PLAUSIBLE_UPPER
    ]
    if at_edge:
        raise FitFailed(
            "boundary",
            f"the {model} fit ran to a boundary ({', '.join(at_edge)}): the data do not "
            f"identify the model{_BOUNDARY_HINTS.get((model, at_edge[0]), '')}",
        )
    if not np.all(np.isfinite(gradient)) or np.linalg.norm(gradient) > _GRADIENT_TOLERANCE:
        raise FitFailed(
            "not_converged",
            f"the {model} fit did not converge (gradient norm "
            f"{np.linalg.norm(gradient):.2e} after {result.nit} iterations: {result.message})",
        )
    return theta, result


def _bounded(objective: Any) -> Any:
    """The objective on the box of log-bounds, extended outside it by a steep bowl."""

    def wrapped(theta: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        inside = np.clip(theta, _LOG_LOWER, _LOG_UPPER)
        value, gradient = objective(inside)
        excess = theta - inside
        if not np.isfinite(value) or not np.all(np.isfinite(gradient)):
            return math.inf, np.zeros_like(theta)
        return value + _dot(excess, excess), np.where(excess != 0, 2 * excess, gradient)

    return wrapped


def _maximise(
    objective: Any,
    starts: list[NDArray[np.float64]],
    names: tuple[str, ...],
    model: str,
) -> tuple[NDArray[np.float64], float, int]:
    """Minimise a mean negative log-likelihood over log-parameters; check the result.

    BFGS with the analytic gradient from each start in turn, until two runs agree
    on the optimum (or the starts run out); the best run that ended at an interior
    stationary point wins. Several starts because these likelihoods have asymptotes
    (e.g. Gamma-Gamma's p → ∞ with pγ fixed) that a run from far away can slide into.
    Returns (θ, minimum, iterations of the winning run); raises the first run's
    :class:`FitFailed` if no start succeeds.
    """
    failures: list[FitFailed] = []
    found: list[tuple[float, NDArray[np.float64], int]] = []
    for start in starts:
        try:
            theta, result = _maximise_once(objective, np.asarray(start, float), names, model)
        except FitFailed as exc:
            failures.append(exc)
            continue
        value = float(result.fun)
        if any(abs(value - other) <= _SAME_OPTIMUM * max(1.0, abs(value)) for other, *_ in found):
            found.append((value, theta, int(result.nit)))
            break
        found.append((value, theta, int(result.nit)))
    if not found:
        raise failures[0]
    value, theta, iterations = min(found, key=lambda item: item[0])
    return theta, value, iterations


def _require(n_customers: int, n_repeat: int, *, min_customers: int, min_repeat: int) -> None:
    if n_customers == 0:
        raise InsufficientData("no_customers", "there are no customers to fit")
    if n_repeat == 0:
        raise InsufficientData(
            "no_repeat_buyers",
            f"none of the {n_customers} customers bought more than once: repeat purchases "
            "are needed to learn how often customers buy and when they leave",
        )
    if n_customers < min_customers:
        raise InsufficientData(
            "too_few_customers",
            f"{n_customers} customers; at least {min_customers} are needed for a reliable fit",
        )
    if n_repeat < min_repeat:
        raise InsufficientData(
            "too_few_repeat_buyers",
            f"{n_repeat} of {n_customers} customers bought more than once; at least "
            f"{min_repeat} repeat buyers are needed for a reliable fit",
        )


def fit_bgnbd(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    initial: BGNBDParams | ArrayLike | None = None,
    min_customers: int = MIN_CUSTOMERS,
    min_repeat_buyers: int = MIN_REPEAT_BUYERS,
) -> BGNBDParams:
    """Maximum-likelihood BG/NBD fit (time unit: weeks).

    Identical (x, t_x, T) rows are aggregated with weights first, then the mean
    log-likelihood is maximised over log-parameters with BFGS and the analytic
    gradient. Raises :class:`InsufficientData` below ``min_customers`` customers or
    ``min_repeat_buyers`` repeat buyers and :class:`FitFailed` when the optimiser
    reaches no stationary point with every parameter inside (1e-5, 1e4) (time rescaled
    to the mean customer age; see the module constants).
    """
    raw = _patterns(frequency, recency, T, weights)
    n = raw.n
    _require(
        round(n),
        round(raw.repeat_weight),
        min_customers=min_customers,
        min_repeat=min_repeat_buyers,
    )
    # Fit in units of the mean customer age, so that α is a pure number of order 1:
    # LL(α; t_x, T) = LL(α·s; t_x·s, T·s) + ln(s)·Σx.
    exposure = _dot(raw.weight, raw.T_values[raw.T_index])
    scale = n / exposure if exposure > 0 else 1.0
    data = dataclasses.replace(raw, tx_values=raw.tx_values * scale, T_values=raw.T_values * scale)
    offset = math.log(scale) * _dot(data.weight, data.x)

    def objective(theta: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        p = np.exp(theta)
        ll, grad = _bgnbd_ll_grad(p[0], p[1], p[2], p[3], data)
        return -ll / n, -grad * p / n

    # Data-driven starts: r/α ≈ repeat purchases per unit of time, then other shapes.
    rate = max(_dot(data.weight, data.x) / n, 1e-6)
    starts = [np.log([1.0, 1.0 / rate, 1.0, 1.0]), np.log([0.5, 0.5 / rate, 0.5, 5.0])]
    if initial is not None:
        r0, alpha0, a0, b0 = _params4(initial)
        starts.insert(0, np.log([r0, alpha0 * scale, a0, b0]))
    theta, minimum, iterations = _maximise(objective, starts, ("r", "alpha", "a", "b"), "BG/NBD")
    r, alpha, a, b = (float(v) for v in np.exp(theta))
    return BGNBDParams(
        r=r,
        alpha=alpha / scale,
        a=a,
        b=b,
        log_likelihood=-minimum * n + offset,
        n_customers=round(n),
        iterations=iterations,
    )


def p_alive(
    params: BGNBDParams,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
) -> NDArray[np.float64]:
    """P(alive | x, t_x, T): 1 / (1 + δ(x>0) · a/(b+x−1) · ((α+T)/(α+t_x))^(r+x)).

    Under BG/NBD a customer without repeat purchases cannot have dropped out (dropout
    happens right after a repeat purchase), so P(alive) = 1 for x = 0.
    """
    x, t_x, T = _check_rft(x, t_x, T)
    return _p_alive(*_params4(params), x, t_x, T)


def _p_alive(r, alpha, a, b, x, t_x, T):
    xs = np.where(x > 0, x, 1.0)
    log_odds = (
        math.log(a) - np.log(b + xs - 1.0) + (r + xs) * (np.log(alpha + T) - np.log(alpha + t_x))
    )
    return np.where(x > 0, special.expit(-log_odds), 1.0)


def _hyp2f1_term(r: float, alpha: float, a: float, b: float, x, T, t):
    """((α+T)/(α+T+t))^(r+x) · ₂F₁(r+x, b+x; c; t/(α+T+t)), c = a+b+x−1 (FHL eq. 10).

    Evaluated through Pfaff's transformations, which remove the power prefactor and
    the large second parameter b+x::

        = ₂F₁(r+x, a−1; c; w)                              w = −t/(α+T)
        = (1−w)^(1−a) · ₂F₁(a+b−1−r, a−1; c; w/(w−1))      (w/(w−1) = t/(α+T+t))

    Checked against 40-digit mpmath values (random r, a ∈ [0.02, 20], b ∈ [0.02, 50],
    α ∈ [0.1, 100], x ≤ 1000, T ≤ 300, t ≤ 2000 weeks): scipy's ``hyp2f1`` gives the
    first form to ~1e-11 for w ∈ [−1, 0] but often inf or a few per cent off below
    −1, while the second form is good to ~1e-11 everywhere. The paper's original
    form overflows for large x. So: the first form for t ≤ α+T, the second beyond.
    """
    x, T, t = np.broadcast_arrays(x, T, t)
    c = a + b + x - 1.0
    w = -t / (alpha + T)
    f = np.empty(w.shape)
    near = w >= -1.0
    f[near] = special.hyp2f1(r + x[near], a - 1.0, c[near], w[near])
    far = ~near
    if np.any(far):
        wf = w[far]
        f[far] = np.exp((1.0 - a) * np.log1p(-wf)) * special.hyp2f1(
            a + b - 1.0 - r, a - 1.0, c[far], wf / (wf - 1.0)
        )
    return f


def _conditional_numerator(r, alpha, a, b, x, T, t):
    """(a+b+x−1)/(a−1) · [1 − hyp2f1 term]: E[Y(t)] for a customer known to be alive.

    The expression has removable singularities at a = 1 (0/0) and c = a+b+x−1 = 0, and
    scipy's ``hyp2f1`` returns inf/nan at some exactly integer parameter combinations
    (e.g. a = 3). There, and near a = 1, take the mean of the values at a(1 ± h): the
    function is smooth in a, so the error is O(h²) instead of a cancellation or a nan.
    """
    x, T, t = np.broadcast_arrays(x, T, t)

    def value(a_: float) -> NDArray[np.float64]:
        c = a_ + b + x - 1.0
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            return c / (a_ - 1.0) * (1.0 - _hyp2f1_term(r, alpha, a_, b, x, T, t))

    h = 1e-4
    near_singular = abs(a - 1.0) < h or bool(np.any(np.abs(a + b + x - 1.0) < h))
    out = np.full(x.shape, np.nan) if near_singular else value(a)
    bad = ~np.isfinite(out)
    if np.any(bad):
        steps = (2 * h, 3.7 * h) if near_singular else (1e-7, 1e-5, 1e-3)
        for step in steps:
            mean = 0.5 * (value(a * (1 + step)) + value(a * (1 - step)))
            out = np.where(bad, mean, out)
            bad = ~np.isfinite(out)
            if not np.any(bad):
                break
        else:
            raise FitFailed(
                "not_finite", "expected purchases could not be evaluated for these parameters"
            )
    return out


def conditional_expected_purchases(
    params: BGNBDParams,
    t: ArrayLike,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
) -> NDArray[np.float64]:
    """E[Y(t) | x, t_x, T]: expected purchases in the next ``t`` weeks (FHL 2005a, eq. 10).

    ``t`` broadcasts against the customers' arrays (e.g. ``t[:, None]`` for a table of
    horizons × customers). Non-negative and non-decreasing in t.
    """
    r, alpha, a, b = _params4(params)
    x, t_x, T = _check_rft(x, t_x, T)
    t = np.asarray(t, dtype=np.float64)
    if np.any(t < 0) or not np.all(np.isfinite(t)):
        raise ValueError("t must be finite and non-negative")
    numerator = _conditional_numerator(r, alpha, a, b, x, T, t)
    # numerator / (1 + δ·odds) = numerator · P(alive)
    return np.maximum(numerator * _p_alive(r, alpha, a, b, x, t_x, T), 0.0)


def expected_purchases(params: BGNBDParams, t: ArrayLike) -> NDArray[np.float64]:
    """E[X(t)]: expected purchases in (0, t] of a new customer (FHL 2005a, eq. 9)."""
    r, alpha, a, b = _params4(params)
    t = np.asarray(t, dtype=np.float64)
    zero = np.zeros_like(t)
    return np.maximum(_conditional_numerator(r, alpha, a, b, zero, zero, t), 0.0)


def discounted_expected_purchases(
    params: BGNBDParams,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    *,
    horizon_weeks: int,
    discount_rate: float = 0.0,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(expected orders in the horizon, their discounted sum) per customer.

    Weekly steps k = 1..H: orders in week k = E[Y(k)] − E[Y(k−1)], discounted by
    (1 + d)^(−k/52). E[Y(t) | x, t_x, T] = P(alive | x, t_x, T) · g(t; x, T), so the
    weekly table of g is computed once per distinct (x, T) pair (a few thousand even
    for a million customers) and scaled by each customer's P(alive).
    """
    if int(horizon_weeks) != horizon_weeks or horizon_weeks < 1:
        raise ValueError("horizon_weeks must be a whole number ≥ 1")
    if not math.isfinite(discount_rate) or discount_rate < 0:
        raise ValueError("discount_rate must be ≥ 0")
    r, alpha, a, b = _params4(params)
    x, t_x, T = _check_rft(x, t_x, T)
    shape = x.shape
    x_values, x_index = np.unique(x.ravel(), return_inverse=True)
    T_values, T_index = np.unique(T.ravel(), return_inverse=True)
    keys, inverse = np.unique(
        x_index.ravel() * T_values.size + T_index.ravel(), return_inverse=True
    )
    pairs = np.column_stack([x_values[keys // T_values.size], T_values[keys % T_values.size]])
    weeks = np.arange(1, int(horizon_weeks) + 1, dtype=np.float64)
    factor = (1.0 + discount_rate) ** (-weeks / WEEKS_PER_YEAR)
    total = np.empty(pairs.shape[0])
    discounted = np.empty(pairs.shape[0])
    chunk = max(1, 2_000_000 // weeks.size)  # bound the weeks × pairs table
    for start in range(0, pairs.shape[0], chunk):
        part = pairs[start : start + chunk]
        cumulative = _conditional_numerator(r, alpha, a, b, part[:, 0], part[:, 1], weeks[:, None])
        cumulative = np.maximum.accumulate(np.maximum(cumulative, 0.0), axis=0)  # rounding
        per_week = np.diff(cumulative, axis=0, prepend=0.0)
        total[start : start + chunk] = cumulative[-1]
        discounted[start : start + chunk] = np.einsum("k,kn->n", factor, per_week)
    alive = _p_alive(r, alpha, a, b, x.ravel(), t_x.ravel(), T.ravel())
    inverse = inverse.ravel()
    return (
        (alive * total[inverse]).reshape(shape),
        (alive * discounted[inverse]).reshape(shape),
    )


# --------------------------------------------------------------------------------------
# Gamma-Gamma
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GammaGammaParams:
    """Fitted Gamma-Gamma parameters and the fit's log-likelihood.

    ``frequency_value_correlation`` is the Pearson correlation between frequency and
    mean repeat order value among the fitted customers: the model assumes they are
    independent, so a large value (say above 0.3) is a warning sign.
    """

    p: float
    q: float
    gamma: float
    log_likelihood: float = math.nan
    n_customers: int = 0
    iterations: int = 0
    frequency_value_correlation: float = math.nan

    @property
    def population_mean_order_value(self) -> float:
        """E[M] = pγ / (q − 1) for a customer with no repeat purchases yet."""
        return self.p * self.gamma / (self.q - 1.0)

    def as_dict(self) -> dict[str, float]:
        return {
            "p": self.p,
            "q": self.q,
            "gamma": self.gamma,
            "log_likelihood": self.log_likelihood,
        }


@dataclass(frozen=True)
class _GGData:
    """Repeat buyers' (x, m̄, weight) with the sums the likelihood needs precomputed."""

    x: NDArray[np.float64]
    m: NDArray[np.float64]
    w: NDArray[np.float64]
    mx: NDArray[np.float64]  # m̄·x, the total repeat spend
    wx: NDArray[np.float64]  # w·x
    x_values: NDArray[np.float64]
    x_weight: NDArray[np.float64]  # total weight per distinct x
    n: float
    sum_log_m: float  # Σ w ln m̄
    sum_x_log_m: float  # Σ w x ln m̄
    sum_x_log_x: float  # Σ w x ln x


def _gg_data(frequency: ArrayLike, monetary_value: ArrayLike, weights: ArrayLike | None) -> _GGData:
    x = np.asarray(frequency, dtype=np.float64).ravel()
    m = np.asarray(monetary_value, dtype=np.float64).ravel()
    if x.shape != m.shape:
        raise ValueError("frequency and monetary_value must have the same length")
    if weights is None:
        w = np.ones(x.size)
    else:
        w = np.broadcast_to(np.asarray(weights, dtype=np.float64), x.shape).ravel()
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(m)) and np.all(np.isfinite(w))):
        raise ValueError("frequency, monetary_value and weights must be finite")
    if np.any(x < 0) or np.any(m < 0) or np.any(w < 0):
        raise ValueError("frequency, monetary_value and weights must be non-negative")
    # Only repeat buyers with a positive mean repeat value have a Gamma-Gamma density.
    keep = (x > 0) & (m > 0)
    x, m, w = x[keep], m[keep], w[keep]
    xv, ix = np.unique(x, return_inverse=True)
    wx = w * x
    log_m = np.log(m)
    return _GGData(
        x=x,
        m=m,
        w=w,
        mx=m * x,
        wx=wx,
        x_values=xv,
        x_weight=_weighted_counts(ix.ravel(), w, xv.size),
        n=float(w.sum()),
        sum_log_m=_dot(w, log_m),
        sum_x_log_m=_dot(wx, log_m),
        sum_x_log_x=_dot(wx, np.log(x)),
    )


def _gg_ll_grad(p: float, q: float, g: float, d: _GGData) -> tuple[float, NDArray[np.float64]]:
    """Gamma-Gamma log-likelihood of the mean repeat value m̄ given x, and its gradient.

    Per customer (Fader & Hardie, note 025)::

        LL = lnΓ(px+q) − lnΓ(px) − lnΓ(q) + q ln γ + (px−1) ln m̄ + px ln x
             − (px+q) ln(γ + m̄x)

    Special functions are taken per distinct x; only ln(γ + m̄x) is per customer.
    """
    xv, wv, n = d.x_values, d.x_weight, d.n
    pxv = p * xv
    dg_pxq = special.digamma(pxv + q)
    log_g = math.log(g)
    total = g + d.mx
    log_total = np.log(total)
    inv_total = 1.0 / total
    w_log = _dot(d.w, log_total)
    wx_log = _dot(d.wx, log_total)
    ll = (
        _dot(wv, special.gammaln(pxv + q) - special.gammaln(pxv))
        - n * special.gammaln(q)
        + n * q * log_g
        + p * d.sum_x_log_m
        - d.sum_log_m
        + p * d.sum_x_log_x
        - p * wx_log
        - q * w_log
    )
    grad = np.array(
        [
            _dot(wv, xv * (dg_pxq - special.digamma(pxv))) + d.sum_x_log_m + d.sum_x_log_x - wx_log,
            _dot(wv, dg_pxq) - n * special.digamma(q) + n * log_g - w_log,
            n * q / g - p * _dot(d.wx, inv_total) - q * _dot(d.w, inv_total),
        ]
    )
    return ll, grad


def gamma_gamma_log_likelihood(
    params: GammaGammaParams | ArrayLike,
    frequency: ArrayLike,
    monetary_value: ArrayLike,
    weights: ArrayLike | None = None,
) -> float:
    """Total Gamma-Gamma log-likelihood of (p, q, γ) over customers with x > 0, m̄ > 0."""
    p, q, g = _params3(params)
    return _gg_ll_grad(p, q, g, _gg_data(frequency, monetary_value, weights))[0]


def gamma_gamma_log_likelihood_gradient(
    params: GammaGammaParams | ArrayLike,
    frequency: ArrayLike,
    monetary_value: ArrayLike,
    weights: ArrayLike | None = None,
) -> NDArray[np.float64]:
    """Analytic gradient of :func:`gamma_gamma_log_likelihood` in (p, q, γ)."""
    p, q, g = _params3(params)
    return _gg_ll_grad(p, q, g, _gg_data(frequency, monetary_value, weights))[1]


def _params3(params: Any) -> tuple[float, float, float]:
    if isinstance(params, GammaGammaParams):
        return params.p, params.q, params.gamma
    p, q, g = (float(v) for v in params)
    return p, q, g


def fit_gamma_gamma(
    frequency: ArrayLike,
    monetary_value: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    initial: GammaGammaParams | ArrayLike | None = None,
    min_customers: int = MIN_GAMMA_GAMMA_CUSTOMERS,
) -> GammaGammaParams:
    """Maximum-likelihood Gamma-Gamma fit on the mean repeat order value.

    Uses the customers with frequency > 0 and a positive ``monetary_value`` (the mean
    of their repeat purchases); others are ignored. Raises :class:`InsufficientData`
    below ``min_customers`` such customers and :class:`FitFailed` when the fit does not
    converge or gives q ≤ 1 (no finite mean order value: predictions would be wild).
    """
    raw = _gg_data(frequency, monetary_value, weights)
    n = raw.n
    if n < max(min_customers, 1):
        raise InsufficientData(
            "too_few_repeat_buyers",
            f"{round(n)} customers with repeat purchases of positive value; at least "
            f"{max(min_customers, 1)} are needed to fit the order-value model",
        )
    # Fit in units of the mean order value, so that γ is a pure number of order 1:
    # the density of m̄/c is c times that of m̄, so LL = LL(scaled) − n ln c.
    unit = _dot(raw.w, raw.m) / n
    data = _gg_data(raw.x, raw.m / unit, raw.w)

    def objective(theta: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        params = np.exp(theta)
        ll, grad = _gg_ll_grad(params[0], params[1], params[2], data)
        return -ll / n, -grad * params / n

    # Method-of-moments flavoured starts: shape p from the spread of m̄ across
    # customers, q = 3 (finite variance), γ matching the mean pγ/(q−1) = 1.
    var = _dot(data.w, (data.m - 1.0) ** 2) / n
    p0 = min(max(1.0 / max(var, 1e-12), 0.5), 50.0)
    starts = [np.log([p0, 3.0, 2.0 / p0]), np.log([1.0, 2.0, 1.0])]
    if initial is not None:
        p_init, q_init, g_init = _params3(initial)
        starts.insert(0, np.log([p_init, q_init, g_init / unit]))
    theta, minimum, iterations = _maximise(objective, starts, ("p", "q", "gamma"), "Gamma-Gamma")
    p, q, g = (float(v) for v in np.exp(theta))
    if q <= 1.0:
        raise FitFailed(
            "no_finite_mean",
            f"the order-value fit gives q = {q:.3g} ≤ 1: the spread of order values is too "
            "heavy-tailed for a finite expected order value",
        )
    corr = math.nan
    if raw.x.size > 1 and np.std(raw.x) > 0 and np.std(raw.m) > 0:
        corr = float(np.corrcoef(raw.x, raw.m)[0, 1])
    return GammaGammaParams(
        p=p,
        q=q,
        gamma=g * unit,
        log_likelihood=-minimum * n - n * math.log(unit),
        n_customers=round(n),
        iterations=iterations,
        frequency_value_correlation=corr,
    )


def conditional_expected_order_value(
    params: GammaGammaParams, frequency: ArrayLike, monetary_value: ArrayLike
) -> NDArray[np.float64]:
    """E[M | x, m̄] = (p(γ + x·m̄)) / (px + q − 1) (weighted prior/observed mean).

    For x = 0 it is the population mean pγ / (q − 1).
    """
    p, q, g = _params3(params)
    if q <= 1.0:
        raise FitFailed("no_finite_mean", "q ≤ 1: the expected order value is infinite")
    x = np.asarray(frequency, dtype=np.float64)
    m = np.asarray(monetary_value, dtype=np.float64)
    m = np.where(x > 0, m, 0.0)
    return p * (g + x * m) / (p * x + q - 1.0)


def predicted_clv(
    bgnbd: BGNBDParams,
    gamma_gamma: GammaGammaParams,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    monetary_value: ArrayLike,
    *,
    horizon_weeks: int = 52,
    margin: float = 1.0,
    discount_rate: float = 0.0,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """(expected orders, expected order value, predicted CLV) per customer.

    CLV = margin × E[M | x, m̄] × Σ_k ΔE[Y(k)] (1 + d)^(−k/52), see the module
    docstring. Floats; round money to cents at the boundary.
    """
    margin = float(margin)
    discount_rate = float(discount_rate)
    if not math.isfinite(margin) or margin < 0:
        raise ValueError("margin must be ≥ 0")
    orders, discounted = discounted_expected_purchases(
        bgnbd, frequency, recency, T, horizon_weeks=horizon_weeks, discount_rate=discount_rate
    )
    value = conditional_expected_order_value(gamma_gamma, frequency, monetary_value)
    return orders, value, margin * value * discounted


# --------------------------------------------------------------------------------------
# Simulation (tests, benchmarks, demo data)
# --------------------------------------------------------------------------------------


def simulate_bgnbd(
    params: BGNBDParams, T: ArrayLike, rng: np.random.Generator
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Draw (frequency, recency) for customers observed for ``T`` weeks under BG/NBD.

    Each customer gets λ ~ Gamma(r, 1/α) and p ~ Beta(a, b); repeat purchases follow a
    Poisson process with rate λ, and after each one the customer drops out with
    probability p. Given N purchases in (0, T], the x-th arrival time is T·Beta(x, N−x+1).
    """
    r, alpha, a, b = _params4(params)
    T = np.asarray(T, dtype=np.float64)
    lam = rng.gamma(r, 1.0 / alpha, T.shape)
    p = rng.beta(a, b, T.shape)
    n = rng.poisson(lam * T)
    last = rng.geometric(p)  # the repeat purchase after which the customer drops out
    x = np.minimum(n, last).astype(np.int64)
    buyers = x > 0
    t_x = np.zeros(T.shape)
    t_x[buyers] = T[buyers] * rng.beta(x[buyers], n[buyers] - x[buyers] + 1)
    return x, t_x


def simulate_gamma_gamma(
    params: GammaGammaParams, frequency: ArrayLike, rng: np.random.Generator
) -> NDArray[np.float64]:
    """Draw the mean repeat order value m̄ for customers with ``frequency`` repeat purchases.

    ν ~ Gamma(q, 1/γ) per customer; each order value ~ Gamma(p, 1/ν), so the mean of x
    of them ~ Gamma(px, 1/(νx)). Customers with x = 0 get 0.
    """
    p, q, g = _params3(params)
    x = np.asarray(frequency, dtype=np.float64)
    nu = rng.gamma(q, 1.0 / g, x.shape)
    buyers = x > 0
    m = np.zeros(x.shape)
    m[buyers] = rng.gamma(p * x[buyers], 1.0 / (nu[buyers] * x[buyers]))
    return m
