"""Customer value per year, retention, investment versus CLV, Pareto share and pyramid.

Plain Python with exact ``Decimal`` arithmetic; amounts exclude VAT and are rounded to
cents once, at the end, with ``money.quantize_money`` (half up). Bad input raises
:class:`~relatiebeheer.core.clv.CLVInputError` with a stable ``code``. Floats are
refused, as in :mod:`relatiebeheer.core.clv`.

Customer ids (for retention, Pareto and the pyramid) may be anything hashable; the
ranking functions also sort them, so the ids passed to one call must be mutually
comparable (all ints, or all strings).
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from enum import StrEnum
from typing import Any

from relatiebeheer.core.clv import (
    CLVInputError,
    CLVResult,
    Number,
    _divide,
    _exact_product,
    _exact_sum,
    _number,
    _round,
)

__all__ = [
    "PYRAMID_CUTOFFS",
    "CustomerPyramid",
    "CustomerValue",
    "InvestmentComparison",
    "ParetoShare",
    "PyramidLevel",
    "PyramidLevelName",
    "Verdict",
    "customer_pyramid",
    "customer_value",
    "investment_versus_clv",
    "pareto_share",
    "retention_by_year",
]

MINUTES_PER_HOUR = Decimal(60)


# --- customer value per year -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CustomerValue:
    """The breakdown of one customer's value in one year.

    ``total = revenue − cost_of_goods − cost_entries_total − contact_cost``. The
    components are exact (``contact_cost`` may have fractions of a cent);
    ``total_exact`` is their exact sum and ``total`` is that sum rounded once, so the
    rounded components shown next to it can differ from it by a cent.
    ``cost_entries`` holds ``(category, amount)`` pairs when the costs came by
    category (categories in first-seen order), else it is empty.
    """

    year: int | None
    revenue: Decimal
    cost_of_goods: Decimal
    gross_profit: Decimal
    cost_entries: tuple[tuple[str, Decimal], ...]
    cost_entries_total: Decimal
    contact_minutes: Decimal
    hourly_cost: Decimal
    contact_cost: Decimal
    total_exact: Decimal
    total: Decimal


def customer_value(
    *,
    revenue: Number,
    cost_of_goods: Number,
    cost_entries: Mapping[str, Number] | Iterable[Number] = (),
    contact_minutes: Number = 0,
    hourly_cost: Number = 0,
    year: int | None = None,
) -> CustomerValue:
    """Customer value (klantwaarde) for one year.

    ``value = revenue − cost of goods − cost entries − contact minutes / 60 × hourly cost``

    All amounts are for that year and exclude VAT. ``revenue`` and ``cost_of_goods``
    are net of credit notes and may be negative (a year of returns); ``cost_entries``
    are the costs booked for the customer (service, campaigns, incentives and bonuses,
    account management, …) as amounts or as a mapping category → amount, any sign (a
    correction may be negative). ``contact_minutes`` (time spent in interactions) and
    ``hourly_cost`` (the installation's hourly cost setting) must be ≥ 0.
    """
    r = _number(revenue, "revenue")
    c = _number(cost_of_goods, "cost_of_goods")
    minutes = _number(contact_minutes, "contact_minutes")
    rate = _number(hourly_cost, "hourly_cost")
    if minutes < 0:
        raise CLVInputError(
            "negative_minutes", "contact minutes must be 0 or more", field="contact_minutes"
        )
    if rate < 0:
        raise CLVInputError(
            "negative_hourly_cost", "the hourly cost must be 0 or more", field="hourly_cost"
        )
    by_category: dict[str, Decimal] = {}
    if isinstance(cost_entries, Mapping):
        for category, amount in cost_entries.items():
            by_category[str(category)] = _number(amount, "cost_entries")
        costs = list(by_category.values())
    else:
        costs = [_number(amount, "cost_entries") for amount in cost_entries]
    costs_total = _exact_sum(costs)
    contact_cost = _divide(_exact_product(minutes, rate), MINUTES_PER_HOUR)
    gross_profit = _exact_sum([r, -c])
    total = _exact_sum([gross_profit, -costs_total, -contact_cost])
    return CustomerValue(
        year=year,
        revenue=r,
        cost_of_goods=c,
        gross_profit=gross_profit,
        cost_entries=tuple(by_category.items()),
        cost_entries_total=costs_total,
        contact_minutes=minutes,
        hourly_cost=rate,
        contact_cost=contact_cost,
        total_exact=total,
        total=_round(total),
    )


# --- retention ---------------------------------------------------------------------


def retention_rate(retained: int, previous: int) -> Decimal | None:
    """``retained / previous`` as the ``Decimal`` fraction ``retention_by_year`` gives;
    ``None`` when last year had no ordering customers."""
    if not previous:
        return None
    return _divide(Decimal(retained), Decimal(previous))


def retention_by_year(
    customers_by_year: Mapping[int, Collection[Hashable]],
) -> dict[int, Decimal | None]:
    """Per year, the share of last year's ordering customers that ordered again.

    ``customers_by_year`` maps a year to the ids of the customers with an order that
    year. The answer covers every year from the first to the last key (a year missing
    in between had no ordering customers, so its retention is 0). The rate is
    ``|last year ∩ this year| / |last year|`` as a ``Decimal`` fraction (not rounded;
    format it as a percentage), or ``None`` when last year had no ordering customers —
    always so for the first year.
    """
    if not customers_by_year:
        return {}
    years = range(min(customers_by_year), max(customers_by_year) + 1)
    result: dict[int, Decimal | None] = {}
    for year in years:
        previous = set(customers_by_year.get(year - 1, ()))
        if not previous:
            result[year] = None
            continue
        current = set(customers_by_year.get(year, ()))
        result[year] = retention_rate(len(previous & current), len(previous))
    return result


# --- investment versus CLV ---------------------------------------------------------


class Verdict(StrEnum):
    """What investing in a customer does to the profit on them over the CLV's period."""

    LOSS = "loss"  # investment > CLV
    PROFIT = "profit"  # investment < CLV
    BREAK_EVEN = "break_even"  # investment = CLV (to the cent)


@dataclass(frozen=True, slots=True)
class InvestmentComparison:
    """Investment over a period against the CLV of the same period.

    ``difference = CLV − investment`` rounded once (positive: what is left as profit;
    negative: the loss). ``verdict`` follows the rounded difference, so the word and
    the amount shown always agree. ``years`` is the CLV's period when known.
    """

    investment: Decimal
    clv: Decimal
    difference: Decimal
    difference_exact: Decimal
    verdict: Verdict
    years: Decimal | None


def investment_versus_clv(
    *, clv: CLVResult | Number, investment: Iterable[Number] | Number
) -> InvestmentComparison:
    """Compare what was (or will be) spent on a customer with its CLV.

    ``investment`` is the total of the cost entries over the CLV's period, or the
    entries themselves. The CLV is the most one may spend over that period: spending
    more is a loss, less a profit (DESIGN.md). With a :class:`CLVResult` its exact CLV
    is used.
    """
    if isinstance(clv, CLVResult):
        value, years = clv.clv_exact, clv.years
    else:
        value, years = _number(clv, "clv"), None
    if isinstance(investment, Decimal | int | str | float):
        spent = _number(investment, "investment")
    else:
        spent = _exact_sum(_number(amount, "investment") for amount in investment)
    exact = _exact_sum([value, -spent])
    difference = _round(exact)
    if difference > 0:
        verdict = Verdict.PROFIT
    elif difference < 0:
        verdict = Verdict.LOSS
    else:
        verdict = Verdict.BREAK_EVEN
    return InvestmentComparison(
        investment=_round(spent),
        clv=_round(value),
        difference=difference,
        difference_exact=exact,
        verdict=verdict,
        years=years,
    )


# --- Pareto share and customer pyramid -----------------------------------------------


@dataclass(frozen=True, slots=True)
class ParetoShare:
    """How much of the profit the top customers bring in.

    ``top_count = ceil(top_fraction × customer_count)``; ``share = top_profit /
    total_profit`` (unrounded fraction) or ``None`` when the total profit is ≤ 0. With
    loss-making customers the share can exceed 1: the top earns more than the whole.
    """

    customer_count: int
    top_count: int
    top_fraction: Decimal
    top_customers: tuple[Any, ...]
    top_profit: Decimal
    total_profit: Decimal
    share: Decimal | None


def pareto_share(
    profits: Mapping[Any, Number], *, top_fraction: Number = Decimal("0.2")
) -> ParetoShare:
    """The share of profit from the top 20 % of customers (the 80/20 rule, checked).

    ``profits`` maps every customer to count (typically those with orders in the
    period) to its profit or customer value in the period. The top is
    ``ceil(top_fraction × n)`` customers (so 1 of 1..5 customers, 2 of 6..10), ranked
    by profit descending and then by id ascending, so ties are broken the same way
    whatever order the database returned. Amounts are rounded once.
    """
    fraction = _number(top_fraction, "top_fraction")
    if not 0 <= fraction <= 1:
        raise CLVInputError(
            "fraction_out_of_range", "top_fraction must be from 0 to 1", field="top_fraction"
        )
    ranked = _rank(profits)
    k = _ceil_share(fraction, len(ranked))
    top = ranked[:k]
    top_profit = _exact_sum(p for _, p in top)
    total = _exact_sum(p for _, p in ranked)
    return ParetoShare(
        customer_count=len(ranked),
        top_count=k,
        top_fraction=fraction,
        top_customers=tuple(customer for customer, _ in top),
        top_profit=_round(top_profit),
        total_profit=_round(total),
        share=_divide(top_profit, total) if total > 0 else None,
    )


class PyramidLevelName(StrEnum):
    """The levels of the customer pyramid, from the top down."""

    TOP = "top"
    LARGE = "large"
    MEDIUM = "medium"
    SMALL = "small"
    INACTIVE = "inactive"


#: Cumulative share of the active customers down to and including each ranked level.
PYRAMID_CUTOFFS: tuple[tuple[PyramidLevelName, Decimal], ...] = (
    (PyramidLevelName.TOP, Decimal("0.01")),
    (PyramidLevelName.LARGE, Decimal("0.05")),
    (PyramidLevelName.MEDIUM, Decimal("0.20")),
    (PyramidLevelName.SMALL, Decimal(1)),
)


@dataclass(frozen=True, slots=True)
class PyramidLevel:
    """One level: its customers (in rank order), their total profit and share of it."""

    name: PyramidLevelName
    customers: tuple[Any, ...]
    profit: Decimal
    share: Decimal | None

    @property
    def count(self) -> int:
        return len(self.customers)


@dataclass(frozen=True, slots=True)
class CustomerPyramid:
    """The five levels top → inactive, and the level of each customer."""

    levels: tuple[PyramidLevel, ...]
    level_of: Mapping[Any, PyramidLevelName]
    total_profit: Decimal

    def level(self, name: PyramidLevelName | str) -> PyramidLevel:
        name = PyramidLevelName(name)
        return next(level for level in self.levels if level.name is name)


def customer_pyramid(
    profits: Mapping[Any, Number], *, inactive: Iterable[Any] = ()
) -> CustomerPyramid:
    """Sort customers into the customer pyramid by profit in a period.

    ``profits`` maps customers to their profit (or customer value) in the period;
    ``inactive`` are the customers without orders in the period (those missing from
    ``profits`` count with profit 0). The others — the n active customers — are ranked
    by profit descending, then by id ascending (deterministic ties), and cut at
    cumulative counts rounded up:

    ========  ==========================================  ============================
    level     customers                                   ranks (1-based)
    ========  ==========================================  ============================
    top       the top 1 % of active customers             1 .. ceil(0.01 n)
    large     the next 4 %                                … ceil(0.05 n)
    medium    the next 15 %                               … ceil(0.20 n)
    small     the remaining active customers              … n
    inactive  no orders in the period (not ranked)        —
    ========  ==========================================  ============================

    So top + large + medium are exactly the top 20 % of :func:`pareto_share`, and the
    top holds one customer for 1..100 active customers. A level may be empty for small n
    (10 customers: 1 top, 0 large, 1 medium, 8 small). Each level carries its
    total profit (rounded once) and its share of the total profit (``None`` when
    the total is ≤ 0); inactive customers' profit (costs, credit notes) counts too.
    """
    inactive = list(inactive)
    inactive_set = set(inactive)
    active = {c: p for c, p in profits.items() if c not in inactive_set}
    ranked = _rank(active)
    idle = [(c, _number(profits[c], "profits") if c in profits else Decimal(0)) for c in inactive]
    if len({c for c, _ in idle}) != len(idle):
        raise CLVInputError("duplicate_customer", "a customer is listed twice", field="inactive")
    idle.sort(key=lambda item: item[0])

    groups: list[tuple[PyramidLevelName, list[tuple[Any, Decimal]]]] = []
    start = 0
    for name, cumulative in PYRAMID_CUTOFFS:
        end = _ceil_share(cumulative, len(ranked))
        groups.append((name, ranked[start:end]))
        start = end
    groups.append((PyramidLevelName.INACTIVE, idle))

    total = _exact_sum(p for _, members in groups for _, p in members)
    levels = []
    level_of: dict[Any, PyramidLevelName] = {}
    for name, members in groups:
        profit = _exact_sum(p for _, p in members)
        levels.append(
            PyramidLevel(
                name=name,
                customers=tuple(c for c, _ in members),
                profit=_round(profit),
                share=_divide(profit, total) if total > 0 else None,
            )
        )
        level_of.update((c, name) for c, _ in members)
    return CustomerPyramid(levels=tuple(levels), level_of=level_of, total_profit=_round(total))


def _rank(profits: Mapping[Any, Number]) -> list[tuple[Any, Decimal]]:
    """Customers by profit descending, then id ascending: the one deterministic order."""
    items = [(customer, _number(profit, "profits")) for customer, profit in profits.items()]
    items.sort(key=lambda item: (-item[1], item[0]))
    return items


def _ceil_share(fraction: Decimal, n: int) -> int:
    """``ceil(fraction × n)``, exactly."""
    return int(_exact_product(fraction, Decimal(n)).to_integral_value(rounding=ROUND_CEILING))
