"""API: the CLV calculator, an account's value figures and the value-management lists."""

import datetime as dt
from decimal import Decimal
from typing import Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from pydantic import ConfigDict

from relatiebeheer.api.core import ERRORS, READ_ERRORS, Pagination
from relatiebeheer.api.types import Id
from relatiebeheer.common.errors import InvalidInput
from relatiebeheer.core.clv import CLVInputError, present_value, simple_clv
from relatiebeheer.relations import selectors as relations

from . import selectors

router = Router(tags=["customer value"])


class CalculatorIn(Schema):
    model_config = ConfigDict(extra="forbid")

    order_value: Decimal = Field(ge=0, le=Decimal("999999999.99"), max_digits=11, decimal_places=2)
    margin: Decimal = Field(
        ge=0, le=1, max_digits=7, decimal_places=6, description="A fraction: 0.15 = 15 %"
    )
    orders: int = Field(ge=0, le=1_000_000)
    years: int = Field(ge=1, le=100)
    discount_rate: Decimal | None = Field(None, ge=0, le=1, max_digits=7, decimal_places=6)


class StepOut(Schema):
    key: str
    formula: str
    result: Decimal


class CalculatorOut(Schema):
    average_order_value: Decimal
    margin: Decimal
    profit_per_order: Decimal
    orders: int
    years: int
    clv: Decimal
    discount_rate: Decimal | None
    present_value: Decimal
    present_value_convention: str
    steps: list[StepOut]


@router.post(
    "/clv/simple", response={200: CalculatorOut, **ERRORS}, summary="Work out a simple CLV"
)
def calculate_clv(request: HttpRequest, payload: CalculatorIn):
    try:
        result = simple_clv(
            average_order_value=payload.order_value,
            margin=payload.margin,
            orders=payload.orders,
            years=payload.years,
        )
        pv = present_value(result.clv, years=payload.years, rate=payload.discount_rate or 0)
    except CLVInputError as exc:
        raise InvalidInput({exc.field or "__all__": [str(exc)]}) from exc
    return {
        "average_order_value": result.average_order_value,
        "margin": result.margin,
        "profit_per_order": result.profit_per_order,
        "orders": int(result.orders),
        "years": payload.years,
        "clv": result.clv,
        "discount_rate": payload.discount_rate,
        "present_value": pv.present_value,
        "present_value_convention": pv.convention.value,
        "steps": [{"key": s.key, "formula": s.formula, "result": s.result} for s in result.steps],
    }


class MetricsOut(Schema):
    account_id: int
    as_of: dt.date
    orders: int
    orders_12m: int
    first_order: dt.date | None
    last_order: dt.date | None
    revenue_total: Decimal
    revenue_12m: Decimal
    profit_12m: Decimal
    revenue_this_year: Decimal
    revenue_last_year: Decimal
    value_this_year: Decimal
    value_last_year: Decimal
    margin: Decimal | None = Field(description="The margin of W = v × m, in percent")
    margin_source: Literal["agreed", "observed", "default"] = Field(
        description="Where the margin came from: agreed with the account, the observed "
        "gross margin of its orders that carry cost of goods, or the default margin"
    )
    average_order_value: Decimal | None
    profit_per_order: Decimal | None
    period_years: int | None
    clv: Decimal | None
    clv_per_year: Decimal | None
    costs_since_first_order: Decimal
    rfm_r: int
    rfm_f: int
    rfm_m: int
    segment: str
    pyramid_level: str
    p_alive: float | None
    expected_orders_52w: float | None
    predicted_clv: Decimal | None
    pending: bool = Field(
        False, description="The account changed since; a refresh is queued (being recalculated)"
    )


class AccountValueOut(Schema):
    computed: bool = Field(description="False until the account's figures are first computed")
    pending: bool = Field(
        description="The account changed since these figures were computed; they are being "
        "recalculated"
    )
    as_of: dt.date | None
    clv: Decimal | None
    profit_per_order: Decimal | None
    margin: Decimal | None = Field(description="The margin of W = v × m, a fraction")
    margin_source: Literal["agreed", "observed", "default"] | None
    orders: int
    period_years: int | None
    present_value: Decimal | None
    present_value_convention: str
    investment_verdict: Literal["loss", "profit", "break_even"] | None
    investment: Decimal | None
    value_this_year: Decimal | None
    value_last_year: Decimal | None
    snapshot: MetricsOut | None
    prediction_unavailable: str | None


@router.get(
    "/accounts/{account_id}/value",
    response={200: AccountValueOut, **READ_ERRORS},
    summary="An account's customer value, CLV and prediction",
)
def account_value(request: HttpRequest, account_id: Id):
    account = relations.account_get(actor=request.auth, pk=account_id)
    card = selectors.account_value(actor=request.auth, account=account)
    return {
        "computed": card.computed,
        "pending": card.pending,
        "as_of": card.as_of,
        "clv": card.clv,
        "profit_per_order": card.profit_per_order,
        "margin": card.margin,
        "margin_source": card.margin_source,
        "orders": card.orders,
        "period_years": card.period_years,
        "present_value": card.present_value.present_value if card.present_value else None,
        "present_value_convention": "yearly: profit spread evenly over the years, discounted at each year end",
        "investment_verdict": card.investment.verdict.value if card.investment else None,
        "investment": card.investment.investment if card.investment else None,
        "value_this_year": card.value_this_year,
        "value_last_year": card.value_last_year,
        "snapshot": card.snapshot,
        "prediction_unavailable": (card.prediction_reason or {}).get("detail")
        if card.prediction_reason
        else None,
    }


class RankingQuery(Schema):
    order: Literal["-value_this_year", "-clv", "-predicted_clv", "-profit_12m", "-revenue_12m"] = (
        "-value_this_year"
    )
    segment: str | None = Field(None, max_length=30)
    pyramid_level: Literal["top", "large", "medium", "small", "inactive"] | None = None


@router.get(
    "/value/accounts",
    response={200: list[MetricsOut], **READ_ERRORS},
    summary="Accounts ranked by value",
)
@paginate(Pagination)
def value_ranking(request: HttpRequest, filters: Query[RankingQuery]):
    qs = selectors.with_pending(selectors.metrics_for(request.auth))
    if filters.segment:
        qs = qs.filter(segment=filters.segment)
    if filters.pyramid_level:
        qs = qs.filter(pyramid_level=filters.pyramid_level)
    return qs.order_by(filters.order, "account_id")


class SegmentOut(Schema):
    key: str
    accounts: int
    advice: str | None


class PyramidOut(Schema):
    key: str
    accounts: int
    profit: Decimal
    share: Decimal | None


class RetentionOut(Schema):
    year: int
    ordering_accounts: int
    retention: Decimal | None


class BudgetOut(Schema):
    industry: str
    accounts: int
    budget: Decimal
    clv: Decimal


class OverviewOut(Schema):
    pareto_top_share: Decimal | None
    pareto_accounts: int
    pyramid: list[PyramidOut]
    segments: list[SegmentOut]
    retention: list[RetentionOut]
    acquisition_budgets: list[BudgetOut]


@router.get(
    "/value/overview",
    response={200: OverviewOut, **READ_ERRORS},
    summary="Value management figures",
)
def value_overview(request: HttpRequest):
    actor = request.auth
    pareto = selectors.pareto(actor)
    return {
        "pareto_top_share": pareto["share"],
        "pareto_accounts": pareto["accounts"],
        "pyramid": [
            {k: v for k, v in level.items() if k != "label"} for level in selectors.pyramid(actor)
        ],
        "segments": [
            {k: v for k, v in s.items() if k != "label"}
            for s in selectors.rfm_grid(actor)["segments"]
        ],
        "retention": [
            {"year": year, "ordering_accounts": count, "retention": share}
            for year, share, count in selectors.retention(actor)
        ],
        "acquisition_budgets": selectors.acquisition_budgets(actor),
    }
