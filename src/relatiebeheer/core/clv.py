"""Simple customer lifetime value (CLV) and its present value, with the worked calculation.

The formulas (DESIGN.md, "Formulas and the worked examples"):

* ``W = v × m`` — profit per order: average order value ``v`` times profit margin ``m``;
* ``CLV = W × A`` — ``A`` is the (average) number of orders over a period of ``n`` years;
* ``PV = Σ_{t=1..n} (CLV / n) / (1 + d)^t`` — the present value at a yearly rate ``d``.

Every result carries its *uitwerking* (worked calculation) as a tuple of :class:`Step`:
a stable ``key``, a ``formula`` in symbols, the substituted :class:`Term` values and the
``result``. The core returns data, never language: a UI, the CLI or a PDF looks up a
translated label for each step key and symbol and formats the numbers by their
:class:`Unit` (``money.format_money`` for money, a percentage for a ratio).

Symbols used in formulas:

======  =================================================================
symbol  meaning
======  =================================================================
v       average order value (revenue per order, excl. VAT)
m       profit margin, a fraction (0.45 = 45 %)
W       average profit per order
A       number of orders over the period (an average when for a segment)
n       the period in years
N       number of orders counted (orders from an account's history)
R_o     revenue of the orders; R_c revenue of the credit notes (≤ 0)
C_o     cost of goods of the orders; C_c cost of goods of the credit notes
R, C, P revenue, cost of goods and profit (P = R − C) over the period
CLV     customer lifetime value over the period
d       yearly discount rate (inflation or cost of capital), a fraction
r       the monthly rate equivalent to d: (1 + d)^(1/12) − 1
p       profit per year (or per month) when the CLV is spread evenly
t, k    index of a year (t) or a month (k), counted from 1
F       sum of the discount factors
PV      present value
======  =================================================================

Arithmetic is exact ``Decimal``: products are computed with enough digits to be exact,
divisions to 50 significant digits. Amounts are rounded to cents once, at the end, with
``money.quantize_money`` (half up); the ``*_exact`` fields keep the unrounded values and
the step results are unrounded too (format them with ``format_money``, which rounds for
display). Because rounding happens once, a rounded ``W`` times ``A`` may differ from the
rounded CLV by a cent: the CLV is rounded from the exact product, never from a rounded W.

Floats are refused (``CLVInputError`` code ``float_not_allowed``): a float such as 0.1 is
not the decimal number it looks like. Pass ``Decimal``, ``int`` or a decimal string; read
what a person typed with ``money.parse_amount`` / ``money.parse_percentage`` first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from enum import StrEnum
from typing import TypeAlias

from relatiebeheer.core.money import quantize_money

__all__ = [
    "DIVISION_PRECISION",
    "MARGIN_LIMIT",
    "MAX_YEARS",
    "BookedOrder",
    "CLVInputError",
    "CLVResult",
    "MarginChoice",
    "MarginSource",
    "PVConvention",
    "PresentValueResult",
    "Step",
    "Term",
    "Unit",
    "account_clv",
    "acquisition_budget",
    "clv_margin",
    "present_value",
    "simple_clv",
    "simple_clv_from_orders",
]

#: Significant digits for divisions (money / count, 1 / (1 + d)^t). Far beyond a cent for
#: any amount a customer can be worth, so rounding the result once gives the exact cents.
DIVISION_PRECISION = 50

#: Upper bound on the period, which bounds the number of present-value terms.
MAX_YEARS = 100

#: What the functions accept as a number: never a float (see the module docstring).
Number: TypeAlias = Decimal | int | str


class CLVInputError(ValueError):
    """Input that the CLV or customer-value formulas cannot use.

    ``code`` is a stable machine name for translations and API errors, ``field`` names
    the argument at fault; the message is English, for logs and developers.

    Codes: ``not_a_number``, ``float_not_allowed``, ``negative_order_value``,
    ``margin_out_of_range``, ``negative_orders``, ``years_not_positive``,
    ``years_too_many``, ``years_not_whole``, ``months_not_whole``, ``rate_out_of_range``,
    ``unknown_convention``,
    ``credit_note_positive``, ``no_customers``, ``mixed_periods`` (and, from
    :mod:`relatiebeheer.core.value`, ``negative_minutes``, ``negative_hourly_cost``,
    ``duplicate_customer``, ``fraction_out_of_range``).
    """

    def __init__(self, code: str, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


class Unit(StrEnum):
    """How a number in a step is to be read and formatted."""

    MONEY = "money"  # euros excl. VAT; format with money.format_money
    RATIO = "ratio"  # a fraction, shown as a percentage (0.45 → 45 %)
    COUNT = "count"  # a number of orders; may be fractional when an average
    YEARS = "years"
    MONTHS = "months"
    INDEX = "index"  # the t of a year or k of a month in a sum
    FACTOR = "factor"  # a dimensionless multiplier, e.g. a sum of discount factors


@dataclass(frozen=True, slots=True)
class Term:
    """One substituted value in a step: ``symbol`` = ``value`` (in ``unit``)."""

    symbol: str
    value: Decimal
    unit: Unit


@dataclass(frozen=True, slots=True)
class Step:
    """One line of a worked calculation: ``formula`` with ``values`` substituted = ``result``.

    ``key`` is stable (renderers map it to a label); ``result`` is exact (unrounded).
    """

    key: str
    formula: str
    values: tuple[Term, ...]
    result: Decimal
    unit: Unit

    def value(self, symbol: str) -> Decimal:
        """The substituted value of ``symbol`` (``KeyError`` if the step has none)."""
        for term in self.values:
            if term.symbol == symbol:
                return term.value
        raise KeyError(symbol)


class PVConvention(StrEnum):
    """How the present value spreads and discounts the CLV; a UI states it with the PV.

    * ``yearly``: the CLV is spread evenly over ``n`` whole years and each year's share
      is discounted at the end of that year: ``PV = Σ_{t=1..n} (CLV / n) / (1 + d)^t``.
    * ``monthly``: the CLV is spread evenly over ``12n`` whole months and each month's
      share is discounted at the end of that month at the equivalent monthly rate, so
      ``PV = Σ_{k=1..12n} (CLV / 12n) / (1 + d)^(k/12)``. Allows periods such as 1.5
      years, and is a little higher than ``yearly`` since profit arrives earlier.
    """

    YEARLY = "yearly"
    MONTHLY = "monthly"


@dataclass(frozen=True, slots=True)
class CLVResult:
    """A simple CLV with its worked calculation.

    ``profit_per_order`` (W) and ``clv`` are rounded to cents; ``*_exact`` are not.
    ``average_order_value``, ``margin`` and W are ``None`` only for
    :func:`simple_clv_from_orders` when they are undefined (no orders, or revenue ≤ 0
    for the margin). ``revenue``, ``cost_of_goods`` and ``profit`` are set only when
    the CLV was computed from orders. Step keys, in order: ``profit_per_order``,
    ``clv`` (simple); ``revenue``, ``cost_of_goods``, ``profit``,
    ``average_order_value``, ``margin``, ``profit_per_order``, ``clv`` (from orders,
    leaving out the undefined ones).
    """

    average_order_value: Decimal | None
    margin: Decimal | None
    orders: Decimal
    years: Decimal
    profit_per_order: Decimal | None
    clv: Decimal
    profit_per_order_exact: Decimal | None
    clv_exact: Decimal
    steps: tuple[Step, ...]
    revenue: Decimal | None = None
    cost_of_goods: Decimal | None = None
    profit: Decimal | None = None

    def present_value(
        self, rate: Number, *, convention: PVConvention = PVConvention.YEARLY
    ) -> PresentValueResult:
        """The present value of this CLV over its own period (uses the exact CLV)."""
        return present_value(self.clv_exact, years=self.years, rate=rate, convention=convention)


@dataclass(frozen=True, slots=True)
class PresentValueResult:
    """A present value with its worked calculation and the convention that produced it.

    ``periods`` is the number of years (yearly) or months (monthly);
    ``profit_per_period`` the CLV's even share per period (exact); ``discount_sum`` is
    ``F = Σ 1 / (1 + d)^(period in years)`` so that ``PV = CLV × F / periods``.
    Step keys, yearly: ``profit_per_year``, then ``discounted_profit`` once per year
    (with ``t``), then ``present_value``; monthly: ``monthly_rate``,
    ``profit_per_month``, ``discount_sum``, ``present_value``.
    """

    clv: Decimal
    years: Decimal
    rate: Decimal
    convention: PVConvention
    periods: int
    profit_per_period: Decimal
    discount_sum: Decimal
    present_value: Decimal
    present_value_exact: Decimal
    steps: tuple[Step, ...]


def simple_clv(
    *, average_order_value: Number, margin: Number, orders: Number, years: Number
) -> CLVResult:
    """The simple CLV: ``W = v × m``, ``CLV = W × A``, over a period of ``years``.

    ``margin`` is a fraction in 0..1, ``average_order_value`` and ``orders`` are ≥ 0
    (``orders`` may be fractional: an average per customer), ``years`` > 0. W and the
    CLV are exact products, each rounded to cents once (half up). Example:
    € 180, 45 %, 12 orders in 3 years → W = € 81,00, CLV = € 972,00 per 3 years.
    """
    v = _number(average_order_value, "average_order_value")
    m = _number(margin, "margin")
    a = _number(orders, "orders")
    n = _years(years)
    if v < 0:
        raise CLVInputError(
            "negative_order_value",
            "average order value must be 0 or more",
            field="average_order_value",
        )
    if not 0 <= m <= 1:
        raise CLVInputError(
            "margin_out_of_range",
            "margin must be a fraction from 0 to 1 (45 % = 0.45)",
            field="margin",
        )
    if a < 0:
        raise CLVInputError("negative_orders", "number of orders must be 0 or more", field="orders")

    return _simple(v, m, a, n)


def _simple(v: Decimal, m: Decimal, a: Decimal, n: Decimal) -> CLVResult:
    """``W = v × m`` and ``CLV = W × A`` (exact products, each rounded once)."""
    w = _exact_product(v, m)
    clv = _exact_product(w, a)
    steps = (
        Step(
            "profit_per_order",
            "W = v × m",
            (Term("v", v, Unit.MONEY), Term("m", m, Unit.RATIO)),
            w,
            Unit.MONEY,
        ),
        Step(
            "clv",
            "CLV = W × A",
            (Term("W", w, Unit.MONEY), Term("A", a, Unit.COUNT)),
            clv,
            Unit.MONEY,
        ),
    )
    return CLVResult(
        average_order_value=v,
        margin=m,
        orders=a,
        years=n,
        profit_per_order=_round(w),
        clv=_round(clv),
        profit_per_order_exact=w,
        clv_exact=clv,
        steps=steps,
    )


def simple_clv_from_orders(
    orders: Iterable[tuple[Number, Number]],
    *,
    years: Number,
    credit_notes: Iterable[tuple[Number, Number]] = (),
) -> CLVResult:
    """The simple CLV of one customer from its orders over a period of ``years``.

    ``orders`` and ``credit_notes`` are ``(revenue, cost_of_goods)`` pairs excluding
    VAT, signed as booked (leave cancelled orders out). An order's revenue is ≥ 0; a
    credit note's revenue is ≤ 0 (as the ``order_credit_note_sign`` constraint in
    ``sales`` requires) and its cost of goods is normally ≤ 0 when goods come back.

    Credit notes reduce revenue, cost of goods and profit, but are **not orders**: they
    do not count in N, so a return lowers the average order value and W instead of
    adding an order. With N orders, R = R_o + R_c, C = C_o + C_c, P = R − C:

    * ``v = R / N``, ``m = P / R`` (``None`` when R ≤ 0: a margin of a non-positive
      revenue means nothing), ``W = P / N``, ``A = N``, so ``CLV = W × A = P`` exactly;
    * a loss-making customer is real data, so m may be negative or above 1 here (the
      0..1 check applies to :func:`simple_clv`, whose margin a person typed);
    * without orders W and v are undefined (``None``) and ``CLV = P``: 0 without credit
      notes, negative for an account with only returns in the period.
    """
    n = _years(years)
    order_revenues: list[Decimal] = []
    order_costs: list[Decimal] = []
    for revenue, cost in orders:
        r = _number(revenue, "orders")
        if r < 0:
            raise CLVInputError(
                "negative_order_value",
                "an order's revenue must be 0 or more; pass returns as credit notes",
                field="orders",
            )
        order_revenues.append(r)
        order_costs.append(_number(cost, "orders"))
    credit_revenues: list[Decimal] = []
    credit_costs: list[Decimal] = []
    for revenue, cost in credit_notes:
        r = _number(revenue, "credit_notes")
        if r > 0:
            raise CLVInputError(
                "credit_note_positive",
                "a credit note's revenue must be 0 or less (signed as booked)",
                field="credit_notes",
            )
        credit_revenues.append(r)
        credit_costs.append(_number(cost, "credit_notes"))

    count = len(order_revenues)
    order_revenue, order_cost = _exact_sum(order_revenues), _exact_sum(order_costs)
    credit_revenue, credit_cost = _exact_sum(credit_revenues), _exact_sum(credit_costs)
    total_revenue = _exact_sum([order_revenue, credit_revenue])
    total_cost = _exact_sum([order_cost, credit_cost])
    profit = _exact_sum([total_revenue, -total_cost])
    a = Decimal(count)
    steps = [
        Step(
            "revenue",
            "R = R_o + R_c",
            (Term("R_o", order_revenue, Unit.MONEY), Term("R_c", credit_revenue, Unit.MONEY)),
            total_revenue,
            Unit.MONEY,
        ),
        Step(
            "cost_of_goods",
            "C = C_o + C_c",
            (Term("C_o", order_cost, Unit.MONEY), Term("C_c", credit_cost, Unit.MONEY)),
            total_cost,
            Unit.MONEY,
        ),
        Step(
            "profit",
            "P = R − C",
            (Term("R", total_revenue, Unit.MONEY), Term("C", total_cost, Unit.MONEY)),
            profit,
            Unit.MONEY,
        ),
    ]
    v = m = w = None
    if count:
        v = _divide(total_revenue, a)
        steps.append(
            Step(
                "average_order_value",
                "v = R / N",
                (Term("R", total_revenue, Unit.MONEY), Term("N", a, Unit.COUNT)),
                v,
                Unit.MONEY,
            )
        )
    if total_revenue > 0:
        m = _divide(profit, total_revenue)
        steps.append(
            Step(
                "margin",
                "m = P / R",
                (Term("P", profit, Unit.MONEY), Term("R", total_revenue, Unit.MONEY)),
                m,
                Unit.RATIO,
            )
        )
    if count:
        w = _divide(profit, a)
        steps.append(
            Step(
                "profit_per_order",
                "W = P / N",
                (Term("P", profit, Unit.MONEY), Term("N", a, Unit.COUNT)),
                w,
                Unit.MONEY,
            )
        )
        # W × A with A = N is P itself; P is exact where P / N × N may not be.
        steps.append(
            Step(
                "clv",
                "CLV = W × A",
                (Term("W", w, Unit.MONEY), Term("A", a, Unit.COUNT)),
                profit,
                Unit.MONEY,
            )
        )
    else:
        steps.append(Step("clv", "CLV = P", (Term("P", profit, Unit.MONEY),), profit, Unit.MONEY))
    return CLVResult(
        average_order_value=v,
        margin=m,
        orders=a,
        years=n,
        profit_per_order=None if w is None else _round(w),
        clv=_round(profit),
        profit_per_order_exact=w,
        clv_exact=profit,
        steps=tuple(steps),
        revenue=total_revenue,
        cost_of_goods=total_cost,
        profit=profit,
    )


class MarginSource(StrEnum):
    """Which margin an account's CLV used (shown next to W wherever W is shown)."""

    AGREED = "agreed"  # the margin agreed with the account (typed on the account)
    OBSERVED = "observed"  # the gross margin of its own orders that carry cost of goods
    DEFAULT = "default"  # the organisation's default margin


#: The largest margin (either sign) the snapshot keeps: ±999,99 %. An observed margin
#: beyond it only comes from credit notes that all but cancel their orders' revenue.
MARGIN_LIMIT = Decimal("9.9999")

#: Margins are kept to a hundredth of a percent, as an agreed margin is typed.
MARGIN_STEP = Decimal("0.0001")


@dataclass(frozen=True, slots=True)
class BookedOrder:
    """One plain order of an account (not cancelled, not a credit note) with the credit
    notes that correct it, each as ``(revenue, cost_of_goods)`` signed as booked."""

    revenue: Decimal | int | str
    cost_of_goods: Decimal | int | str
    credit_notes: tuple[tuple[Decimal | int | str, Decimal | int | str], ...] = ()


@dataclass(frozen=True, slots=True)
class MarginChoice:
    """The margin a CLV uses and where it came from.

    ``margin`` is a fraction rounded to a hundredth of a percent (0.1523 = 15,23 %).
    For an observed margin, ``revenue`` and ``cost_of_goods`` are the sums it was taken
    from (orders that carry cost of goods, net of their credit notes); else ``None``.
    """

    margin: Decimal
    source: MarginSource
    revenue: Decimal | None = None
    cost_of_goods: Decimal | None = None


def clv_margin(
    *,
    agreed: Number | None,
    default: Number,
    orders: Iterable[BookedOrder] = (),
) -> MarginChoice:
    """The margin m of ``W = v × m`` for one account: agreed, else observed, else default.

    1. **agreed**: the margin agreed with the account (a fraction 0..1), when one is set.
    2. **observed**: the gross margin of the account's orders that *carry cost of goods*
       (cost of goods ≠ 0; an order booked without it says nothing about the margin):
       ``m = Σ (revenue − cost of goods) / Σ revenue``, with each of those orders'
       credit notes netted in both sums (a return lowers revenue and cost, a price
       correction only revenue, so it lowers the margin); credit notes of orders
       without cost of goods count in neither sum. Used when that net revenue is
       positive. Rounded half up to a hundredth of a percent, the precision of an
       agreed margin, so the ``W = v × m`` shown reconciles with the m shown; kept
       within ±``MARGIN_LIMIT``. A loss-making account gets a negative margin: that
       is what its orders say.
    3. **default**: the organisation's default margin otherwise.

    ``orders`` are the account's plain orders (not cancelled, not credit notes) up to
    the day the CLV is for, with their credit notes.
    """
    if agreed is not None:
        m = _number(agreed, "agreed")
        _check_margin(m, "agreed")
        return MarginChoice(m, MarginSource.AGREED)
    revenue: list[Decimal] = []
    cost: list[Decimal] = []
    for order in orders:
        order_cost = _number(order.cost_of_goods, "orders")
        if order_cost == 0:
            continue
        revenue.append(_number(order.revenue, "orders"))
        cost.append(order_cost)
        for credit_revenue, credit_cost in order.credit_notes:
            revenue.append(_number(credit_revenue, "orders"))
            cost.append(_number(credit_cost, "orders"))
    total_revenue, total_cost = _exact_sum(revenue), _exact_sum(cost)
    if revenue and total_revenue > 0:
        exact = _divide(_exact_sum([total_revenue, -total_cost]), total_revenue)
        with localcontext(prec=DIVISION_PRECISION):
            m = exact.quantize(MARGIN_STEP, rounding=ROUND_HALF_UP)
        m = max(-MARGIN_LIMIT, min(MARGIN_LIMIT, m))
        return MarginChoice(m, MarginSource.OBSERVED, total_revenue, total_cost)
    m = _number(default, "default")
    _check_margin(m, "default")
    return MarginChoice(m, MarginSource.DEFAULT)


def _check_margin(m: Decimal, field: str) -> None:
    if not 0 <= m <= 1:
        raise CLVInputError(
            "margin_out_of_range",
            "margin must be a fraction from 0 to 1 (45 % = 0.45)",
            field=field,
        )


def account_clv(
    orders: Iterable[BookedOrder],
    *,
    years: Number,
    agreed_margin: Number | None,
    default_margin: Number,
) -> tuple[MarginChoice, CLVResult | None]:
    """An account's simple CLV over its relationship so far, as the snapshot keeps it.

    ``v`` = net revenue (orders and all their credit notes) / number of orders,
    ``m`` from :func:`clv_margin`, ``W = v × m``, ``A`` = number of orders,
    ``CLV = W × A``, each rounded once. Unlike :func:`simple_clv` the margin may be
    negative (observed on loss-making orders) and ``v`` negative (credit notes beyond
    the orders' revenue). Without orders there is no CLV (``None``).
    """
    orders = list(orders)
    choice = clv_margin(agreed=agreed_margin, default=default_margin, orders=orders)
    if not orders:
        return choice, None
    n = _years(years)
    revenue = _exact_sum(
        [_number(o.revenue, "orders") for o in orders]
        + [_number(r, "orders") for o in orders for r, _c in o.credit_notes]
    )
    count = Decimal(len(orders))
    m = choice.margin
    clv = _exact_product(revenue, m)
    # W from the revenue in one division (not from a rounded v): exact at a half cent.
    w = _divide(clv, count)
    v = _divide(revenue, count)
    steps = (
        Step(
            "profit_per_order",
            "W = v × m",
            (Term("v", v, Unit.MONEY), Term("m", m, Unit.RATIO)),
            w,
            Unit.MONEY,
        ),
        Step(
            "clv",
            "CLV = W × A",
            (Term("W", w, Unit.MONEY), Term("A", count, Unit.COUNT)),
            clv,
            Unit.MONEY,
        ),
    )
    result = CLVResult(
        average_order_value=v,
        margin=m,
        orders=count,
        years=n,
        profit_per_order=_round(w),
        clv=_round(clv),
        profit_per_order_exact=w,
        clv_exact=clv,
        steps=steps,
        revenue=revenue,
    )
    return choice, result


def acquisition_budget(clvs: Iterable[CLVResult | Number]) -> Decimal:
    """The most to spend to win or keep one customer of a segment: the mean CLV.

    Takes the segment's CLVs (results, whose exact CLV is used, or amounts) and
    rounds the mean once. Results with different periods are refused
    (``mixed_periods``): a mean of a 2-year and a 3-year CLV is no budget for either.
    An empty segment is refused (``no_customers``).
    """
    values: list[Decimal] = []
    periods: set[Decimal] = set()
    for item in clvs:
        if isinstance(item, CLVResult):
            values.append(item.clv_exact)
            periods.add(item.years)
        else:
            values.append(_number(item, "clvs"))
    if not values:
        raise CLVInputError("no_customers", "a budget needs at least one CLV", field="clvs")
    if len(periods) > 1:
        raise CLVInputError(
            "mixed_periods",
            "the CLVs cover different periods; compare like with like",
            field="clvs",
        )
    return _round(_divide(_exact_sum(values), Decimal(len(values))))


def present_value(
    clv: Number,
    *,
    years: Number,
    rate: Number,
    convention: PVConvention = PVConvention.YEARLY,
) -> PresentValueResult:
    """The present value (contante waarde) of ``clv`` earned evenly over ``years``.

    ``rate`` is the yearly discount rate as a fraction from 0 to 1 (3 % = 0.03); see
    :class:`PVConvention` for how the profit is spread and discounted. The yearly
    convention needs whole years (``years_not_whole``), the monthly one whole months
    (``months_not_whole``). Computed as ``PV = CLV × F / periods`` with
    ``F = Σ 1 / (1 + d)^(period in years)``, so d = 0 gives the CLV exactly; PV falls
    strictly as d rises (for a positive CLV). Rounded to cents once. Example:
    CLV € 8.550, 2 years, 3 % → € 8.180,08.
    """
    value = _number(clv, "clv")
    n = _years(years)
    d = _number(rate, "rate")
    if not 0 <= d <= 1:
        raise CLVInputError(
            "rate_out_of_range", "rate must be a fraction from 0 to 1 (3 % = 0.03)", field="rate"
        )
    try:
        convention = PVConvention(convention)
    except ValueError as exc:
        raise CLVInputError(
            "unknown_convention", f"no such convention: {convention!r}", field="convention"
        ) from exc
    if convention is PVConvention.YEARLY:
        if n != n.to_integral_value():
            raise CLVInputError(
                "years_not_whole",
                "the yearly convention needs whole years; use the monthly convention",
                field="years",
            )
        return _present_value_yearly(value, n, d)
    months = n * 12
    if months != months.to_integral_value():
        raise CLVInputError(
            "months_not_whole",
            "the monthly convention needs a whole number of months",
            field="years",
        )
    return _present_value_monthly(value, n, int(months), d)


def _present_value_yearly(clv: Decimal, n: Decimal, d: Decimal) -> PresentValueResult:
    periods = int(n)
    with localcontext(prec=DIVISION_PRECISION):
        p = clv / n
        factors = [1 / (1 + d) ** t for t in range(1, periods + 1)]
        discount_sum = sum(factors, Decimal(0))
        pv = clv * discount_sum / n
        steps = [
            Step(
                "profit_per_year",
                "p = CLV / n",
                (Term("CLV", clv, Unit.MONEY), Term("n", n, Unit.YEARS)),
                p,
                Unit.MONEY,
            )
        ]
        steps.extend(
            Step(
                "discounted_profit",
                "p / (1 + d)^t",
                (
                    Term("p", p, Unit.MONEY),
                    Term("d", d, Unit.RATIO),
                    Term("t", Decimal(t), Unit.INDEX),
                ),
                p * factor,
                Unit.MONEY,
            )
            for t, factor in enumerate(factors, start=1)
        )
        steps.append(
            Step(
                "present_value",
                "PV = Σ_{t=1..n} p / (1 + d)^t",
                (
                    Term("p", p, Unit.MONEY),
                    Term("d", d, Unit.RATIO),
                    Term("n", n, Unit.YEARS),
                ),
                pv,
                Unit.MONEY,
            )
        )
        return PresentValueResult(
            clv=clv,
            years=n,
            rate=d,
            convention=PVConvention.YEARLY,
            periods=periods,
            profit_per_period=p,
            discount_sum=discount_sum,
            present_value=_round(pv),
            present_value_exact=pv,
            steps=tuple(steps),
        )


def _present_value_monthly(clv: Decimal, n: Decimal, months: int, d: Decimal) -> PresentValueResult:
    with localcontext(prec=DIVISION_PRECISION):
        monthly_factor = (1 + d) ** (Decimal(1) / 12)
        r = monthly_factor - 1
        big_n = Decimal(months)
        p = clv / big_n
        discount_sum = sum((1 / monthly_factor**k for k in range(1, months + 1)), Decimal(0))
        pv = clv * discount_sum / big_n
        steps = (
            Step(
                "monthly_rate",
                "r = (1 + d)^(1/12) − 1",
                (Term("d", d, Unit.RATIO),),
                r,
                Unit.RATIO,
            ),
            Step(
                "profit_per_month",
                "p = CLV / 12n",
                (Term("CLV", clv, Unit.MONEY), Term("n", n, Unit.YEARS)),
                p,
                Unit.MONEY,
            ),
            Step(
                "discount_sum",
                "F = Σ_{k=1..12n} 1 / (1 + r)^k",
                (Term("r", r, Unit.RATIO), Term("12n", big_n, Unit.MONTHS)),
                discount_sum,
                Unit.FACTOR,
            ),
            Step(
                "present_value",
                "PV = p × F",
                (Term("p", p, Unit.MONEY), Term("F", discount_sum, Unit.FACTOR)),
                pv,
                Unit.MONEY,
            ),
        )
        return PresentValueResult(
            clv=clv,
            years=n,
            rate=d,
            convention=PVConvention.MONTHLY,
            periods=months,
            profit_per_period=p,
            discount_sum=discount_sum,
            present_value=_round(pv),
            present_value_exact=pv,
            steps=steps,
        )


def _number(value: object, field: str) -> Decimal:
    """A finite ``Decimal`` from a Decimal, int or decimal string; floats are refused."""
    if isinstance(value, float):
        raise CLVInputError(
            "float_not_allowed", f"{field}: pass a Decimal or a string, not a float", field=field
        )
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise CLVInputError("not_a_number", f"{field}: not a number: {value!r}", field=field)
    try:
        number = Decimal(value)
    except (InvalidOperation, ValueError) as exc:
        raise CLVInputError(
            "not_a_number", f"{field}: not a number: {value!r}", field=field
        ) from exc
    if not number.is_finite():
        raise CLVInputError("not_a_number", f"{field}: not a finite number: {value!r}", field=field)
    return number


def _years(value: object) -> Decimal:
    n = _number(value, "years")
    if n <= 0:
        raise CLVInputError(
            "years_not_positive", "the period must be more than 0 years", field="years"
        )
    if n > MAX_YEARS:
        raise CLVInputError(
            "years_too_many", f"the period can be at most {MAX_YEARS} years", field="years"
        )
    return n


def _digits(value: Decimal) -> int:
    return len(value.as_tuple().digits)


def _exact_product(a: Decimal, b: Decimal) -> Decimal:
    """``a × b`` with enough precision that nothing is rounded."""
    with localcontext(prec=_digits(a) + _digits(b) + 2):
        return a * b


def _exact_sum(values: Iterable[Decimal]) -> Decimal:
    """Σ values with enough precision that nothing is rounded (0 for none)."""
    values = list(values)
    if not values:
        return Decimal(0)
    lowest = min(int(v.as_tuple().exponent) for v in values)
    highest = max(v.adjusted() for v in values)
    with localcontext(prec=max(highest - lowest, 0) + len(str(len(values))) + 3):
        return sum(values, Decimal(0))


def _divide(numerator: Decimal, denominator: Decimal) -> Decimal:
    with localcontext(prec=DIVISION_PRECISION):
        return numerator / denominator


def _round(value: Decimal) -> Decimal:
    """The one rounding: to cents, half up (with room for amounts of any size)."""
    with localcontext(prec=max(DIVISION_PRECISION, value.adjusted() + 5)):
        return quantize_money(value)
