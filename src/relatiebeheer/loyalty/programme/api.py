"""API of the loyalty programme: programmes, tier statuses and the tier overview, an
account's points ledger and redemptions, customer cards."""

import datetime as dt
from decimal import Decimal
from typing import Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Schema, Status
from ninja.pagination import paginate

from relatiebeheer.api.core import ERRORS, READ_ERRORS, Pagination
from relatiebeheer.api.types import (
    Id,
    In,
    NonNegativeMoney,
    RequiredText,
    Text,
    Version,
)
from relatiebeheer.common.errors import InvalidInput
from relatiebeheer.loyalty.api_common import (
    BenefitOut,
    LoyaltyRouter,
    account_or_422,
    contact_or_422,
    programme_or_422,
)
from relatiebeheer.relations import selectors as relations
from relatiebeheer.relations.rules import require_account_writable

from . import selectors, services
from .barcode import barcode_svg
from .models import Benefit, Programme, Reward

router = LoyaltyRouter()

Rate = Decimal
# Enumerations of the schema, from the models' choices.
BenefitKind = Literal[tuple(Benefit.Kind.values)]  # type: ignore[valid-type]
MemberLevel = Literal[tuple(Programme.MemberLevel.values)]  # type: ignore[valid-type]
Period = Literal[tuple(Programme.Period.values)]  # type: ignore[valid-type]
BonusMode = Literal[tuple(Programme.BonusMode.values)]  # type: ignore[valid-type]
BonusPeriod = Literal[tuple(Programme.BonusPeriod.values)]  # type: ignore[valid-type]
ConfirmOn = Literal[tuple(Programme.ConfirmOn.values)]  # type: ignore[valid-type]
CardScheme = Literal[tuple(Programme.CardScheme.values)]  # type: ignore[valid-type]

# --------------------------------------------------------------------------- programmes


class BenefitSchema(In):
    kind: BenefitKind
    description: Text(200) = ""


class TierSchema(In):
    name: RequiredText(60)
    rank: int = Field(ge=0, le=1000)
    threshold: NonNegativeMoney
    benefits: list[BenefitSchema] = Field(default_factory=list, max_length=20)


class BracketSchema(In):
    lower_bound: NonNegativeMoney
    rate: Rate = Field(ge=0, le=1, max_digits=7, decimal_places=6, description="0.02 = 2 %")


class CategoryRuleSchema(In):
    category: RequiredText(100)
    points_per_euro: Decimal = Field(ge=0, max_digits=8, decimal_places=4)


class RewardSchema(In):
    name: RequiredText(200)
    points: int = Field(ge=1, le=10**12)
    description: Text(2000) = ""
    active: bool = True


class ProgrammeIn(In):
    code: str = Field(min_length=1, max_length=40, pattern=r"^[-a-zA-Z0-9_]+$")
    # Replacing an existing programme: the version you read (409 if it changed since);
    # leave it out to replace whatever is there (configuration kept as code).
    version: Version | None = None
    name: RequiredText(100)
    description: Text(2000) = ""
    active: bool = True
    starts_on: dt.date
    level: MemberLevel = Programme.MemberLevel.ACCOUNT.value
    period: Period = Programme.Period.CALENDAR_YEAR.value
    grace_days: int = Field(90, ge=0, le=730)
    bonus_enabled: bool = False
    bonus_mode: BonusMode = Programme.BonusMode.WHOLE.value
    bonus_period: BonusPeriod = Programme.BonusPeriod.YEAR.value
    bonus_max_rate: Rate = Field(Decimal("0.035"), ge=0, le=1, max_digits=7, decimal_places=6)
    bonus_max_amount: NonNegativeMoney | None = None
    points_enabled: bool = False
    points_per_euro: Decimal = Field(Decimal("1"), ge=0, max_digits=8, decimal_places=4)
    points_per_order: int = Field(0, ge=0, le=10**9)
    points_expiry_months: int | None = Field(24, ge=1, le=240)
    points_confirm_on: ConfirmOn = Programme.ConfirmOn.DELIVERED.value
    point_value: NonNegativeMoney = Decimal("0.01")
    card_scheme: CardScheme = Programme.CardScheme.EAN13.value
    card_prefix: str = Field("29", max_length=6, pattern=r"^[0-9]*$")
    tiers: list[TierSchema] = Field(default_factory=list, max_length=20)
    brackets: list[BracketSchema] = Field(default_factory=list, max_length=50)
    category_rules: list[CategoryRuleSchema] = Field(default_factory=list, max_length=200)
    rewards: list[RewardSchema] = Field(default_factory=list, max_length=200)


class TierOut(Schema):
    id: int
    name: str
    rank: int
    threshold: Decimal
    benefits: list[BenefitOut]


class BracketOut(Schema):
    lower_bound: Decimal
    rate: Decimal


class CategoryRuleOut(Schema):
    category: str
    points_per_euro: Decimal


class RewardOut(Schema):
    id: int
    name: str
    points: int
    description: str
    active: bool


class ProgrammeOut(Schema):
    id: int
    code: str
    name: str
    description: str
    active: bool
    starts_on: dt.date
    level: str
    period: str
    grace_days: int
    bonus_enabled: bool
    bonus_mode: str
    bonus_period: str
    bonus_max_rate: Decimal
    bonus_max_amount: Decimal | None
    points_enabled: bool
    points_per_euro: Decimal
    points_per_order: int
    points_expiry_months: int | None
    points_confirm_on: str
    point_value: Decimal
    card_scheme: str
    card_prefix: str
    evaluated_through: dt.date | None
    version: int
    tiers: list[TierOut]
    brackets: list[BracketOut]
    category_rules: list[CategoryRuleOut]
    rewards: list[RewardOut]

    @staticmethod
    def resolve_tiers(obj):
        return [
            {
                "id": t.pk,
                "name": t.name,
                "rank": t.rank,
                "threshold": t.threshold,
                "benefits": [
                    {"kind": b.kind, "description": b.description, "label": str(b.label)}
                    for b in t.benefits.all()
                ],
            }
            for t in obj.tiers.all()
        ]

    @staticmethod
    def resolve_brackets(obj):
        return list(obj.brackets.all())

    @staticmethod
    def resolve_category_rules(obj):
        return list(obj.category_rules.all())

    @staticmethod
    def resolve_rewards(obj):
        return list(obj.rewards.all())


@router.get(
    "/loyalty/programmes",
    response={200: list[ProgrammeOut], **READ_ERRORS},
    summary="Loyalty programmes with tiers, entitlements, bonus brackets, earn rules and rewards",
)
def list_programmes(request: HttpRequest):
    return list(selectors.programmes())


@router.post(
    "/loyalty/programmes",
    response={200: ProgrammeOut, **ERRORS},
    summary="Create or replace a programme by its code (sales managers and administrators)",
)
def define_programme(request: HttpRequest, payload: ProgrammeIn):
    programme = services.programme_define(actor=request.auth, definition=payload.model_dump())
    return selectors.programmes().get(pk=programme.pk)


class LedgerOut(Schema):
    id: int
    programme_id: int
    kind: str
    key: str
    points: int
    on: dt.date
    source: str
    expires_on: dt.date | None
    pending: bool
    amount: Decimal | None
    reward_id: int | None

    @staticmethod
    def resolve_programme_id(obj):
        return obj.points_account.programme_id


class LedgerQuery(Schema):
    programme: Id | None = None


@router.get(
    "/loyalty/accounts/{account_id}/points",
    response={200: list[LedgerOut], **READ_ERRORS},
    summary="An account's points ledger (append-only), newest first",
)
@paginate(Pagination)
def ledger(request: HttpRequest, account_id: Id, filters: Query[LedgerQuery]):
    account = relations.account_get(actor=request.auth, pk=account_id)
    return selectors.ledger_list(
        actor=request.auth, account=account, programme_id=filters.programme
    )


class RedeemIn(In):
    programme_id: Id
    reward_id: Id | None = None
    points: int | None = Field(None, ge=1, le=10**12)
    key: str | None = Field(
        None,
        min_length=1,
        max_length=60,
        pattern=r"^[-a-zA-Z0-9_:.]+$",
        description="An idempotency key: a retry with the same key redeems once.",
    )


@router.post(
    "/loyalty/accounts/{account_id}/redemptions",
    response={201: LedgerOut, **ERRORS},
    summary="Redeem points for a reward (or a number of points); never below zero",
)
def redeem(request: HttpRequest, account_id: Id, payload: RedeemIn):
    account = relations.account_get(actor=request.auth, pk=account_id)
    require_account_writable(request.auth, account)
    programme = programme_or_422(payload.programme_id)
    reward = None
    if payload.reward_id is not None:
        reward = Reward.objects.filter(pk=payload.reward_id, programme=programme).first()
        if reward is None:
            raise InvalidInput({"reward_id": [_("Unknown reward.")]})
    elif payload.points is None:
        raise InvalidInput({"points": [_("Choose a reward or a number of points.")]})
    entry = services.points_redeem(
        actor=request.auth,
        account=account,
        programme=programme,
        reward=reward,
        points=payload.points if reward is None else None,
        key=payload.key,
    )
    return Status(201, entry)


# --------------------------------------------------------------------------- cards


class CardIn(In):
    account_id: Id
    programme_id: Id
    contact_id: Id | None = None


class ReasonIn(In):
    reason: Text(200) = ""


class CardOut(Schema):
    id: int
    programme_id: int
    account_id: int
    contact_id: int | None
    number: str
    status: str
    issued_on: dt.date
    blocked_on: dt.date | None
    block_reason: str
    replaces_id: int | None


class CardDetailOut(CardOut):
    barcode_svg: str


class CardQuery(Schema):
    account: Id | None = None
    number: str | None = Field(None, max_length=40, pattern=r"^[0-9 -]+$")


@router.get("/loyalty/cards", response={200: list[CardOut], **READ_ERRORS}, summary="List cards")
@paginate(Pagination)
def list_cards(request: HttpRequest, filters: Query[CardQuery]):
    return selectors.card_list(
        actor=request.auth, account_id=filters.account, number=filters.number or ""
    )


@router.post(
    "/loyalty/cards",
    response={201: CardOut, **ERRORS},
    summary="Issue a customer card (a number with a check digit)",
)
def create_card(request: HttpRequest, payload: CardIn):
    account = account_or_422(request.auth, payload.account_id)
    programme = programme_or_422(payload.programme_id)
    contact = contact_or_422(request.auth, payload.contact_id, account)
    return Status(
        201,
        services.card_issue(
            actor=request.auth, account=account, programme=programme, contact=contact
        ),
    )


@router.get(
    "/loyalty/cards/{card_id}",
    response={200: CardDetailOut, **READ_ERRORS},
    summary="A card, with its barcode as SVG",
)
def get_card(request: HttpRequest, card_id: Id):
    card = selectors.card_get(actor=request.auth, pk=card_id)
    out = CardOut.from_orm(card).model_dump()
    out["barcode_svg"] = str(barcode_svg(card.number, scheme=card.programme.card_scheme))
    return out


@router.post(
    "/loyalty/cards/{card_id}/block", response={200: CardOut, **ERRORS}, summary="Block a card"
)
def block_card(request: HttpRequest, card_id: Id, payload: ReasonIn):
    card = selectors.card_get(actor=request.auth, pk=card_id)
    return services.card_block(actor=request.auth, card=card, reason=payload.reason)


@router.post(
    "/loyalty/cards/{card_id}/replace",
    response={201: CardOut, **ERRORS},
    summary="Replace a card with a new number",
)
def replace_card(request: HttpRequest, card_id: Id, payload: ReasonIn):
    card = selectors.card_get(actor=request.auth, pk=card_id)
    return Status(201, services.card_replace(actor=request.auth, card=card, reason=payload.reason))


# --------------------------------------------------------------------------- tiers and lists


class StatusRowOut(Schema):
    account_id: int
    account: str
    programme_id: int
    member: str
    tier: str
    since: dt.date | None
    valid_until: dt.date | None
    qualifying_spend: Decimal
    needed_to_keep: Decimal | None
    needed_for_next: Decimal | None
    in_grace: bool
    bonus_so_far: Decimal
    bonus_rate: Decimal

    @staticmethod
    def resolve_account(obj):
        return obj.account.name

    @staticmethod
    def resolve_tier(obj):
        return obj.tier.name


class StatusQuery(Schema):
    programme: Id | None = None
    tier: Id | None = None


@router.get(
    "/loyalty/tier-statuses",
    response={200: list[StatusRowOut], **READ_ERRORS},
    summary="Accounts holding a tier (as the last evaluation found them)",
)
@paginate(Pagination)
def list_statuses(request: HttpRequest, filters: Query[StatusQuery]):
    return selectors.status_list(
        actor=request.auth, programme_id=filters.programme, tier_id=filters.tier
    )


class TierCountOut(Schema):
    programme_id: int
    programme: str
    tier: str
    threshold: Decimal
    accounts: int


@router.get(
    "/loyalty/tiers",
    response={200: list[TierCountOut], **READ_ERRORS},
    summary="The tier overview: accounts per tier",
)
def tier_counts(request: HttpRequest):
    rows = []
    for programme in selectors.programmes().filter(active=True):
        overview = selectors.tier_overview(actor=request.auth, programme=programme)
        for t in overview["tiers"]:
            rows.append(
                {
                    "programme_id": programme.pk,
                    "programme": programme.name,
                    "tier": t["tier"].name,
                    "threshold": t["tier"].threshold,
                    "accounts": t["accounts"],
                }
            )
    return rows
