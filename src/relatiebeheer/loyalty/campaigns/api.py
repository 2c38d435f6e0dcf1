"""API of loyalty campaigns: drafts, launch and result."""

import datetime as dt
from decimal import Decimal
from typing import Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Schema, Status
from ninja.pagination import paginate

from relatiebeheer.api.core import ERRORS, READ_ERRORS, Pagination
from relatiebeheer.api.serializers import register
from relatiebeheer.api.types import (
    Id,
    In,
    Money,
    NonNegativeMoney,
    RequiredText,
    Text,
    Version,
    sent_fields,
)
from relatiebeheer.common.errors import InvalidInput
from relatiebeheer.loyalty.api_common import (
    LoyaltyRouter,
    account_or_422,
    programme_or_422,
)
from relatiebeheer.loyalty.programme.models import Tier

from . import results, selectors, services
from .models import Campaign
from .rules import TARGETABLE_SEGMENTS

router = LoyaltyRouter()

# Enumerations of the schema, from the models' choices.
SegmentName = Literal[tuple(key for key, _label in TARGETABLE_SEGMENTS)]  # type: ignore[valid-type]
Metric = Literal[tuple(Campaign.Metric.values)]  # type: ignore[valid-type]
Selection = Literal[tuple(Campaign.Selection.values)]  # type: ignore[valid-type]
ValueField = Literal[tuple(Campaign.ValueField.values)]  # type: ignore[valid-type]
Incentive = Literal[tuple(Campaign.Incentive.values)]  # type: ignore[valid-type]


class CampaignFields(In):
    goal_metric: Metric = Campaign.Metric.REVENUE.value
    goal_lift: Decimal = Field(Decimal("10"), ge=-100, le=1000, max_digits=6, decimal_places=2)
    selection: Selection | None = None
    segments: list[SegmentName] = Field(default_factory=list, max_length=len(TARGETABLE_SEGMENTS))
    tier_id: Id | None = None
    value_field: ValueField = Campaign.ValueField.VALUE_THIS_YEAR.value
    value_min: Money | None = None
    value_max: Money | None = None
    account_id: Id | None = None
    incentive: Incentive = Campaign.Incentive.BONUS_DISCOUNT.value
    incentive_rate: Decimal = Field(Decimal("2"), ge=0, le=100, max_digits=6, decimal_places=2)
    gift: Text(200) = ""
    gift_value: NonNegativeMoney | None = None
    programme_id: Id | None = None
    benefits: Text(10_000) = ""
    budget: NonNegativeMoney = Decimal("0.00")
    fixed_cost: NonNegativeMoney = Decimal("0.00")
    control_fraction: Decimal = Field(
        Decimal("0.2"), ge=0, le=Decimal("0.9"), max_digits=4, decimal_places=3
    )
    mail_subject: Text(200) = ""
    mail_text: Text(20_000) = ""


class CampaignIn(CampaignFields):
    name: RequiredText(200)
    goal: RequiredText(300)
    starts_on: dt.date
    ends_on: dt.date
    benefits: RequiredText(10_000)


class CampaignPatch(CampaignFields):
    version: Version
    name: Text(200, 1) | None = None
    goal: Text(300, 1) | None = None
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    goal_metric: Metric | None = None
    incentive: Incentive | None = None


class CampaignOut(Schema):
    id: int
    name: str
    goal: str
    goal_metric: str
    goal_lift: Decimal
    starts_on: dt.date
    ends_on: dt.date
    selection: str
    segments: list[str]
    tier_id: int | None
    value_field: str
    value_min: Decimal | None
    value_max: Decimal | None
    account_id: int | None
    incentive: str
    incentive_rate: Decimal
    gift: str
    gift_value: Decimal | None
    programme_id: int | None
    benefits: str
    budget: Decimal
    fixed_cost: Decimal
    control_fraction: Decimal
    mail_subject: str
    status: str
    launched_at: dt.datetime | None
    mails_queued: int
    version: int


register(Campaign, CampaignOut)


def _campaign_data(actor, payload) -> dict:
    data = sent_fields(payload, exclude={"version", "tier_id", "account_id", "programme_id"})
    if "tier_id" in payload.model_fields_set:
        data["tier"] = None
        if payload.tier_id is not None:
            data["tier"] = Tier.objects.filter(pk=payload.tier_id).first()
            if data["tier"] is None:
                raise InvalidInput({"tier_id": [_("Unknown tier.")]})
    if "programme_id" in payload.model_fields_set:
        data["programme"] = programme_or_422(payload.programme_id) if payload.programme_id else None
    if "account_id" in payload.model_fields_set:
        data["account"] = account_or_422(actor, payload.account_id) if payload.account_id else None
        if data["account"] is not None and "selection" not in data:
            data["selection"] = Campaign.Selection.ACCOUNT
    for key in ("name", "goal", "starts_on", "ends_on", "goal_metric", "incentive", "selection"):
        if key in data and data[key] is None:
            if key == "selection":
                data.pop(key)
                continue
            raise InvalidInput({key: [_("This field cannot be empty.")]})
    return data


@router.get(
    "/loyalty/campaigns", response={200: list[CampaignOut], **READ_ERRORS}, summary="List campaigns"
)
@paginate(Pagination)
def list_campaigns(request: HttpRequest):
    return selectors.campaign_list(actor=request.auth)


@router.post(
    "/loyalty/campaigns",
    response={201: CampaignOut, **ERRORS},
    summary="Create a draft campaign (goal, duration, selection, incentive, benefits, budget)",
)
def create_campaign(request: HttpRequest, payload: CampaignIn):
    data = _campaign_data(request.auth, payload)
    data.setdefault("selection", Campaign.Selection.SEGMENT)
    return Status(201, services.campaign_create(actor=request.auth, data=data))


@router.get(
    "/loyalty/campaigns/{campaign_id}",
    response={200: CampaignOut, **READ_ERRORS},
    summary="Read a campaign",
)
def get_campaign(request: HttpRequest, campaign_id: Id):
    return selectors.campaign_get(actor=request.auth, pk=campaign_id)


@router.patch(
    "/loyalty/campaigns/{campaign_id}",
    response={200: CampaignOut, **ERRORS},
    summary="Change a draft campaign",
)
def update_campaign(request: HttpRequest, campaign_id: Id, payload: CampaignPatch):
    campaign = selectors.campaign_get(actor=request.auth, pk=campaign_id)
    data = _campaign_data(request.auth, payload)
    return services.campaign_update(
        actor=request.auth, campaign=campaign, version=payload.version, data=data
    )


class LaunchIn(In):
    version: Version


@router.post(
    "/loyalty/campaigns/{campaign_id}/launch",
    response={200: CampaignOut, **ERRORS},
    summary="Launch: fix the selection, hold out the control group, mail the targets",
)
def launch_campaign(request: HttpRequest, campaign_id: Id, payload: LaunchIn):
    campaign = selectors.campaign_get(actor=request.auth, pk=campaign_id)
    return services.campaign_launch(actor=request.auth, campaign=campaign, version=payload.version)


class EstimateOut(Schema):
    metric: str
    design: str
    target_n: int
    control_n: int
    target_mean: float
    control_mean: float
    difference: float
    ci_low: float | None
    ci_high: float | None
    confidence: float
    p_value: float | None
    lift_pct: float | None
    lift_ci_low: float | None
    lift_ci_high: float | None
    weaker_evidence: bool
    note: str


class ProfitOut(Schema):
    extra_revenue: Decimal
    extra_revenue_low: Decimal | None
    extra_revenue_high: Decimal | None
    extra_profit: Decimal
    extra_profit_low: Decimal | None
    extra_profit_high: Decimal | None
    campaign_cost: Decimal
    verdict: str


class ResultOut(Schema):
    phase: str
    design: str
    measured_from: dt.date
    measured_to: dt.date
    target_n: int
    control_n: int
    revenue: EstimateOut | None
    orders: EstimateOut | None
    profit: ProfitOut | None
    margin: Decimal | None
    cost: Decimal
    cost_parts: dict[str, Decimal]
    goal_verdict: str
    message: str
    scope: str = Field(
        description="all: over accounts you may see; book: also other portfolios' accounts "
        "(each group large enough, see note); withheld: no figures (see message)"
    )
    note: str


@router.get(
    "/loyalty/campaigns/{campaign_id}/result",
    response={200: ResultOut, **READ_ERRORS},
    summary="The effect with its confidence interval, and cost against extra profit",
)
def campaign_result(request: HttpRequest, campaign_id: Id):
    campaign = selectors.campaign_get(actor=request.auth, pk=campaign_id)
    result = results.campaign_result(campaign, actor=request.auth)
    out = dict(result.__dict__)
    out.pop("chart", None)
    for key in ("revenue", "orders", "profit"):
        if out[key] is not None:
            out[key] = out[key].__dict__
    out["message"] = str(out["message"])
    out["note"] = str(out["note"])
    return out
