"""Did the campaign work? Its effect measured against a random control group.

Design
------
Before a campaign starts, :func:`split_control_group` holds back a random share of the
accounts (deterministic: seeded with the campaign id, so the same campaign always gets
the same split). After the campaign, the per-account revenue (or number of orders) of
both groups over the same period goes into :func:`compare_groups`:

* **difference in means** target − control, with a **Welch t confidence interval**
  (unequal variances; 95 % by default; the t quantile from ``scipy.stats.t`` at the
  Welch–Satterthwaite degrees of freedom) and the two-sided p-value;
* **lift %** = difference / control mean × 100, with an interval by the delta method
  (the ratio of two independent means; approximate, and ``None`` when the control mean
  is 0).

:func:`campaign_profit` turns the revenue effect into money: **extra profit = difference
× number of targeted accounts × margin − campaign cost**, for the estimate and for both
ends of the interval, and says whether the campaign paid for itself.

A campaign aimed at **one account** has no control group. :func:`before_after` compares
periods before and after (e.g. monthly revenue) with the same Welch interval and marks
the result as **weaker evidence**: a season, a price change or the market moves the
after-period too, and nothing separates that from the campaign.

Numbers: statistics are floats; money (:class:`CampaignProfit`) is ``Decimal``, rounded
once to cents by :func:`~relatiebeheer.core.money.quantize_money`.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from scipy import stats

from relatiebeheer.core.money import quantize_money

__all__ = [
    "CampaignEffect",
    "CampaignProfit",
    "Design",
    "EffectEstimate",
    "StatsError",
    "before_after",
    "campaign_effect",
    "campaign_profit",
    "compare_groups",
    "split_control_group",
]


class StatsError(ValueError):
    """Input that cannot give an estimate; ``code`` is a stable machine name."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class Design(StrEnum):
    CONTROL_GROUP = "control_group"
    BEFORE_AFTER = "before_after"


@dataclass(frozen=True)
class EffectEstimate:
    """The difference target − control (or after − before) in one metric.

    ``ci_low``/``ci_high`` bound the difference; ``lift_pct`` and its interval are in
    percent of the control (before) mean. ``weaker_evidence`` is set for a before/after
    comparison (no control group). Interval fields are ``None`` when a group has fewer
    than two values.
    """

    metric: str
    design: Design
    target_n: int
    control_n: int
    target_mean: float
    control_mean: float
    difference: float
    standard_error: float | None
    df: float | None
    ci_low: float | None
    ci_high: float | None
    confidence: float
    p_value: float | None
    lift_pct: float | None
    lift_ci_low: float | None
    lift_ci_high: float | None
    weaker_evidence: bool = False
    note: str = ""

    @property
    def significant(self) -> bool:
        """The interval excludes 0."""
        return (
            self.ci_low is not None
            and self.ci_high is not None
            and (self.ci_low > 0 or self.ci_high < 0)
        )


def _clean(values: Iterable[float | int | Decimal], what: str) -> list[float]:
    result = [float(v) for v in values]
    if any(not math.isfinite(v) for v in result):
        raise StatsError("not_finite", f"{what} contains a value that is not a finite number")
    return result


def _mean_var(values: Sequence[float]) -> tuple[float, float]:
    n = len(values)
    mean = math.fsum(values) / n
    var = math.fsum((v - mean) ** 2 for v in values) / (n - 1) if n > 1 else 0.0
    return mean, var


def _estimate(
    target: Sequence[float],
    control: Sequence[float],
    *,
    metric: str,
    confidence: float,
    design: Design,
    require_interval: bool,
) -> EffectEstimate:
    if not 0 < confidence < 1:
        raise StatsError(
            "bad_confidence", f"confidence is a fraction between 0 and 1: {confidence}"
        )
    n_t, n_c = len(target), len(control)
    if n_t == 0 or n_c == 0 or (require_interval and (n_t < 2 or n_c < 2)):
        raise StatsError("too_few", "each group needs at least two accounts")
    mean_t, var_t = _mean_var(target)
    mean_c, var_c = _mean_var(control)
    difference = mean_t - mean_c

    se = df = ci_low = ci_high = p_value = None
    lift = lift_low = lift_high = None
    if n_t >= 2 and n_c >= 2:
        a, b = var_t / n_t, var_c / n_c
        se = math.sqrt(a + b)
        if se > 0:
            df = (a + b) ** 2 / (a**2 / (n_t - 1) + b**2 / (n_c - 1))
        else:  # both groups constant: no spread, the interval is the point itself
            df = float(n_t + n_c - 2)
        t_crit = float(stats.t.ppf(0.5 + confidence / 2, df))
        ci_low, ci_high = difference - t_crit * se, difference + t_crit * se
        if se > 0:
            p_value = float(2 * stats.t.sf(abs(difference) / se, df))
        else:
            p_value = 1.0 if difference == 0 else 0.0
        if mean_c != 0:
            # Delta method for mean_t / mean_c − 1 with independent groups.
            lift_se = math.sqrt(a / mean_c**2 + mean_t**2 * b / mean_c**4) * 100
            centre = difference / mean_c * 100
            lift_low, lift_high = centre - t_crit * lift_se, centre + t_crit * lift_se
    if mean_c != 0:
        lift = difference / mean_c * 100
    return EffectEstimate(
        metric=metric,
        design=design,
        target_n=n_t,
        control_n=n_c,
        target_mean=mean_t,
        control_mean=mean_c,
        difference=difference,
        standard_error=se,
        df=df,
        ci_low=ci_low,
        ci_high=ci_high,
        confidence=confidence,
        p_value=p_value,
        lift_pct=lift,
        lift_ci_low=lift_low,
        lift_ci_high=lift_high,
    )


def compare_groups(
    target: Iterable[float | int | Decimal],
    control: Iterable[float | int | Decimal],
    *,
    metric: str = "revenue",
    confidence: float = 0.95,
) -> EffectEstimate:
    """Per-account values of the target and control group → difference, Welch CI, lift.

    Every account of a group counts, including those with 0 (no orders): leaving them out
    would compare buyers with buyers. Each group needs at least two accounts.
    """
    return _estimate(
        _clean(target, "target"),
        _clean(control, "control"),
        metric=metric,
        confidence=confidence,
        design=Design.CONTROL_GROUP,
        require_interval=True,
    )


@dataclass(frozen=True)
class CampaignEffect:
    """The campaign's effect on revenue and, when given, on the number of orders."""

    revenue: EffectEstimate
    orders: EffectEstimate | None = None


def campaign_effect(
    *,
    target_revenue: Iterable[float | int | Decimal],
    control_revenue: Iterable[float | int | Decimal],
    target_orders: Iterable[float | int] | None = None,
    control_orders: Iterable[float | int] | None = None,
    confidence: float = 0.95,
) -> CampaignEffect:
    """Revenue (and orders) per account, target versus control group."""
    revenue = compare_groups(
        target_revenue, control_revenue, metric="revenue", confidence=confidence
    )
    orders = None
    if target_orders is not None and control_orders is not None:
        orders = compare_groups(
            target_orders, control_orders, metric="orders", confidence=confidence
        )
    elif (target_orders is None) != (control_orders is None):
        raise StatsError("orders_one_sided", "give the orders of both groups or of neither")
    return CampaignEffect(revenue=revenue, orders=orders)


def before_after(
    before: Iterable[float | int | Decimal],
    after: Iterable[float | int | Decimal],
    *,
    metric: str = "revenue",
    confidence: float = 0.95,
) -> EffectEstimate:
    """One account: values per period (e.g. month) before versus after the campaign.

    The result is flagged ``weaker_evidence`` (no control group). With a single value on
    a side there is only the difference, no interval.
    """
    estimate = _estimate(
        _clean(after, "after"),
        _clean(before, "before"),
        metric=metric,
        confidence=confidence,
        design=Design.BEFORE_AFTER,
        require_interval=False,
    )
    return replace(
        estimate,
        weaker_evidence=True,
        note=(
            "before/after comparison without a control group: changes in the same "
            "period (season, prices, market) are not separated from the campaign"
        ),
    )


@dataclass(frozen=True)
class CampaignProfit:
    """Extra revenue and profit of a campaign for all targeted accounts, in euros.

    ``*_low``/``*_high`` follow from the ends of the difference's interval (``None``
    without one). ``verdict``: ``"profitable"`` when even the low end covers the cost,
    ``"loss"`` when even the high end does not, otherwise ``"inconclusive"``.
    """

    extra_revenue: Decimal
    extra_revenue_low: Decimal | None
    extra_revenue_high: Decimal | None
    extra_profit: Decimal
    extra_profit_low: Decimal | None
    extra_profit_high: Decimal | None
    campaign_cost: Decimal
    verdict: str


def _exact(value: float | Decimal | int) -> Fraction:
    """A float as the decimal it prints as (its shortest repr), exactly."""
    return Fraction(Decimal(repr(value)) if isinstance(value, float) else value)


def _money(value: Fraction) -> Decimal:
    """An exact amount rounded once to cents (half up)."""
    whole, rest = divmod(value.numerator, value.denominator)
    # Enough exact decimals that only the cent rounding remains: scale to 1/1000 cent and
    # keep a sticky digit for anything below it (it cannot turn a tie into a non-tie).
    scaled = Fraction(rest, value.denominator) * 100_000
    digits = int(scaled)
    sticky = 1 if scaled != digits else 0
    return quantize_money(Decimal(whole) + Decimal(digits * 10 + sticky).scaleb(-6))


def campaign_profit(
    effect: EffectEstimate,
    *,
    targeted_accounts: int,
    margin: Decimal,
    campaign_cost: Decimal,
) -> CampaignProfit:
    """Extra profit = difference × targeted accounts × margin − campaign cost.

    ``effect`` must be a revenue estimate (per account, in euros); ``margin`` is a fraction
    (0.45 = 45 %). Each amount is computed exactly and rounded once to cents.
    """
    if targeted_accounts < 0:
        raise StatsError("bad_count", "targeted_accounts must be ≥ 0")
    if not 0 <= margin <= 1:
        raise StatsError("bad_margin", f"margin is a fraction between 0 and 1: {margin}")
    cost = Fraction(campaign_cost)

    rate = Fraction(margin)

    def revenue(diff: float) -> Fraction:
        return _exact(diff) * targeted_accounts

    extra = revenue(effect.difference)
    low = None if effect.ci_low is None else revenue(effect.ci_low)
    high = None if effect.ci_high is None else revenue(effect.ci_high)
    profit_low = None if low is None else low * rate - cost
    profit_high = None if high is None else high * rate - cost
    if profit_low is not None and profit_low > 0:
        verdict = "profitable"
    elif profit_high is not None and profit_high < 0:
        verdict = "loss"
    else:
        verdict = "inconclusive"
    return CampaignProfit(
        extra_revenue=_money(extra),
        extra_revenue_low=None if low is None else _money(low),
        extra_revenue_high=None if high is None else _money(high),
        extra_profit=_money(extra * rate - cost),
        extra_profit_low=None if profit_low is None else _money(profit_low),
        extra_profit_high=None if profit_high is None else _money(profit_high),
        campaign_cost=quantize_money(Decimal(campaign_cost)),
        verdict=verdict,
    )


def split_control_group(
    account_ids: Iterable[Hashable], fraction: float | Decimal, *, seed: str | int
) -> tuple[list[Hashable], list[Hashable]]:
    """Split accounts into (target, control), holding back ``fraction`` as control group.

    Deterministic: each account gets a SHA-256 draw from ``seed`` (use the campaign id)
    and its id; the accounts with the lowest draws form the control group, exactly
    ``round(fraction × n)`` of them (half up). The same seed and ids give the same split
    in any input order, on any machine and Python version; both lists keep the input
    order. Ids must be unique. Split once, when the campaign starts, and store it: a
    different list of accounts gives a different split.
    """
    ids = list(account_ids)
    if len(set(ids)) != len(ids):
        raise StatsError("duplicate_ids", "account ids must be unique")
    share = Fraction(Decimal(str(fraction)))
    if not 0 <= share < 1:
        raise StatsError("bad_fraction", f"the control fraction lies in [0, 1): {fraction}")
    size = int(share * len(ids) + Fraction(1, 2))

    def draw(account_id: Hashable) -> bytes:
        return hashlib.sha256(f"{seed}\x00{account_id}".encode()).digest()

    control_ids = set(sorted(ids, key=lambda i: (draw(i), str(i)))[:size])
    target = [i for i in ids if i not in control_ids]
    control = [i for i in ids if i in control_ids]
    return target, control
