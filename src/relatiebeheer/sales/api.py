"""API: orders (with lines and credit notes) and cost entries."""

import datetime as dt
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import field_validator

from relatiebeheer.api.core import ERRORS, READ_ERRORS, Pagination
from relatiebeheer.api.serializers import register
from relatiebeheer.api.types import (
    DeleteQuery,
    Id,
    In,
    Money,
    NonNegativeMoney,
    Text,
    Version,
    sent_fields,
)
from relatiebeheer.common.errors import InvalidInput
from relatiebeheer.relations.models import Account

from . import selectors, services
from .models import CostEntry, Order

router = Router(tags=["orders"])
AMSTERDAM = ZoneInfo("Europe/Amsterdam")

OrderStatus = Literal["open", "delivered", "paid", "cancelled"]
CostCategory = Literal[
    "service", "campaign", "incentive", "gift_event", "account_management", "other"
]


def _business_date(value):
    """A timestamp counts on its calendar day in Amsterdam (31 Dec 23:30 stays in that year)."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=AMSTERDAM)
        return value.astimezone(AMSTERDAM).date()
    return value


class LineIn(In):
    product: Text(200, 1)
    category: Text(100) = ""
    quantity: Decimal = Field(
        Decimal("1"),
        max_digits=12,
        decimal_places=3,
        ge=Decimal("-999999999"),
        le=Decimal("999999999"),
    )
    revenue: Money
    cost: Money = Decimal("0.00")


class LineOut(Schema):
    id: int
    product: str
    category: str
    quantity: Decimal
    revenue: Decimal
    cost: Decimal


class OrderFields(In):
    number: Text(40) = ""
    external_id: Text(64) = ""
    status: OrderStatus = "open"
    vat_rate: Decimal = Field(Decimal("21.00"), ge=0, le=100, max_digits=5, decimal_places=2)
    notes: Text(10_000) = ""

    @field_validator("date", mode="before", check_fields=False)
    @classmethod
    def _date(cls, value):
        if isinstance(value, str) and "T" in value:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        return _business_date(value)


class OrderIn(OrderFields):
    account_id: Id
    date: dt.date = Field(
        description="Order date; a timestamp is taken on its day in Europe/Amsterdam."
    )
    revenue: Money | None = Field(
        None, description="Required without lines; with lines it is their sum."
    )
    cost_of_goods: Money | None = None
    credit_of_id: Id | None = Field(None, description="Makes this a credit note for that order.")
    lines: list[LineIn] = Field(default_factory=list, max_length=1000)


class OrderPatch(OrderFields):
    version: Version
    date: dt.date | None = None
    revenue: Money | None = None
    cost_of_goods: Money | None = None
    lines: list[LineIn] | None = Field(None, max_length=1000)


class OrderOut(Schema):
    id: int
    account_id: int
    date: dt.date
    number: str
    external_id: str
    status: OrderStatus
    revenue: Decimal
    cost_of_goods: Decimal
    vat_rate: Decimal
    credit_of_id: int | None
    notes: str
    lines: list[LineOut]
    version: int


register(Order, OrderOut)


class OrderQuery(Schema):
    account: Id | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    status: OrderStatus | None = None


def _account(actor, pk: int) -> Account:
    account = Account.objects.visible_to(actor).filter(pk=pk).first()
    if account is None:
        raise InvalidInput({"account_id": [_("Unknown account.")]})
    return account


@router.get(
    "/orders", response={200: list[OrderOut], **READ_ERRORS}, summary="List orders and credit notes"
)
@paginate(Pagination)
def list_orders(request: HttpRequest, filters: Query[OrderQuery]):
    return selectors.order_list(
        actor=request.auth,
        account_id=filters.account,
        date_from=filters.date_from,
        date_to=filters.date_to,
        status=filters.status,
    )


@router.post(
    "/orders", response={201: OrderOut, **ERRORS}, summary="Record an order or a credit note"
)
def create_order(request: HttpRequest, payload: OrderIn):
    account = _account(request.auth, payload.account_id)
    data = payload.model_dump(exclude={"account_id", "lines", "credit_of_id"})
    if not payload.lines and payload.revenue is None:
        raise InvalidInput({"revenue": [_("Give the revenue, or order lines.")]})
    data["credit_of"] = None
    if payload.credit_of_id is not None:
        original = Order.objects.visible_to(request.auth).filter(pk=payload.credit_of_id).first()
        if original is None:
            raise InvalidInput({"credit_of_id": [_("Unknown order.")]})
        data["credit_of"] = original
    if not payload.lines:
        data.setdefault("cost_of_goods", None)
        if data["cost_of_goods"] is None:
            data["cost_of_goods"] = Decimal("0.00")
    lines = [line.model_dump() for line in payload.lines]
    order = services.order_create(actor=request.auth, account=account, data=data, lines=lines)
    return Status(201, selectors.order_get(actor=request.auth, pk=order.pk))


@router.get("/orders/{order_id}", response={200: OrderOut, **READ_ERRORS}, summary="Read an order")
def get_order(request: HttpRequest, order_id: Id):
    return selectors.order_get(actor=request.auth, pk=order_id)


@router.patch("/orders/{order_id}", response={200: OrderOut, **ERRORS}, summary="Change an order")
def update_order(request: HttpRequest, order_id: Id, payload: OrderPatch):
    order = selectors.order_get(actor=request.auth, pk=order_id)
    data = sent_fields(payload, exclude={"version", "lines"})
    for key in ("date", "revenue", "cost_of_goods"):
        if key in data and data[key] is None:
            raise InvalidInput({key: [_("This field cannot be empty.")]})
    lines = [line.model_dump() for line in payload.lines] if payload.lines is not None else None
    services.order_update(
        actor=request.auth, order=order, version=payload.version, data=data, lines=lines
    )
    return selectors.order_get(actor=request.auth, pk=order.pk)


@router.delete("/orders/{order_id}", response={204: None, **ERRORS}, summary="Delete an order")
def delete_order(request: HttpRequest, order_id: Id, query: Query[DeleteQuery]):
    services.order_delete(
        actor=request.auth,
        order=selectors.order_get(actor=request.auth, pk=order_id),
        version=query.version,
    )
    return Status(204, None)


# --- costs ------------------------------------------------------------------------------


class CostFields(In):
    description: Text(200) = ""
    external_id: Text(64) = ""


class CostIn(CostFields):
    account_id: Id
    date: dt.date
    category: CostCategory
    amount: NonNegativeMoney


class CostPatch(CostFields):
    version: Version
    date: dt.date | None = None
    category: CostCategory | None = None
    amount: NonNegativeMoney | None = None


class CostOut(Schema):
    id: int
    account_id: int
    date: dt.date
    category: CostCategory
    amount: Decimal
    description: str
    external_id: str
    version: int


register(CostEntry, CostOut)


class CostQuery(Schema):
    account: Id | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    category: CostCategory | None = None


@router.get(
    "/costs",
    response={200: list[CostOut], **READ_ERRORS},
    summary="List cost entries",
    tags=["costs"],
)
@paginate(Pagination)
def list_costs(request: HttpRequest, filters: Query[CostQuery]):
    return selectors.cost_list(
        actor=request.auth,
        account_id=filters.account,
        date_from=filters.date_from,
        date_to=filters.date_to,
        category=filters.category,
    )


@router.post(
    "/costs", response={201: CostOut, **ERRORS}, summary="Record a cost entry", tags=["costs"]
)
def create_cost(request: HttpRequest, payload: CostIn):
    account = _account(request.auth, payload.account_id)
    entry = services.cost_entry_create(
        actor=request.auth, account=account, data=payload.model_dump(exclude={"account_id"})
    )
    return Status(201, entry)


@router.get(
    "/costs/{cost_id}",
    response={200: CostOut, **READ_ERRORS},
    summary="Read a cost entry",
    tags=["costs"],
)
def get_cost(request: HttpRequest, cost_id: Id):
    return selectors.cost_get(actor=request.auth, pk=cost_id)


@router.patch(
    "/costs/{cost_id}",
    response={200: CostOut, **ERRORS},
    summary="Change a cost entry",
    tags=["costs"],
)
def update_cost(request: HttpRequest, cost_id: Id, payload: CostPatch):
    entry = selectors.cost_get(actor=request.auth, pk=cost_id)
    data = sent_fields(payload, exclude={"version"})
    for key in ("date", "category", "amount"):
        if key in data and data[key] is None:
            raise InvalidInput({key: [_("This field cannot be empty.")]})
    return services.cost_entry_update(
        actor=request.auth, entry=entry, version=payload.version, data=data
    )


@router.delete(
    "/costs/{cost_id}",
    response={204: None, **ERRORS},
    summary="Delete a cost entry",
    tags=["costs"],
)
def delete_cost(request: HttpRequest, cost_id: Id, query: Query[DeleteQuery]):
    services.cost_entry_delete(
        actor=request.auth,
        entry=selectors.cost_get(actor=request.auth, pk=cost_id),
        version=query.version,
    )
    return Status(204, None)
