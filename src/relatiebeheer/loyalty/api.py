"""API: binding activities, wishes, drivers, events, the programme (tiers, points, cards)
and loyalty campaigns. Thin: the services and selectors do the work."""

import datetime as dt
from decimal import Decimal
from typing import Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
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
from relatiebeheer.common.errors import InvalidInput, VersionConflict
from relatiebeheer.relations import selectors as relations
from relatiebeheer.relations.models import Account, Contact
from relatiebeheer.relations.services import require_account_writable

from . import binding, campaigns, points, selectors, services
from .barcode import barcode_svg
from .drivers import DRIVERS, scorecard
from .models import (
    BindingActivity,
    Campaign,
    CompetitorNote,
    Event,
    Invitation,
    LedgerEntry,
    LoyaltySettings,
    Programme,
    Reward,
    Tier,
    Wish,
)

router = Router(tags=["loyalty"])

LevelName = Literal["financial", "social", "structural"]
KindName = Literal[
    "discount", "bonus", "terms", "attention", "event", "incentive",
    "delivery", "account_manager", "edi", "stock", "other",
]  # fmt: skip
ActivityStatus = Literal["planned", "done", "cancelled"]
Score5 = Literal[1, 2, 3, 4, 5]
Rate = Decimal


def _account(actor, pk: int) -> Account:
    account = Account.objects.visible_to(actor).filter(pk=pk).first()
    if account is None:
        raise InvalidInput({"account_id": [_("Unknown account.")]})
    return account


def _contact(actor, pk: int | None, account: Account | None = None, field: str = "contact_id"):
    if pk is None:
        return None
    contact = Contact.objects.visible_to(actor).filter(pk=pk).first()
    if contact is None or (account is not None and contact.account_id != account.pk):
        raise InvalidInput({field: [_("Unknown contact.")]})
    return contact


def _programme(pk: int, field: str = "programme_id") -> Programme:
    programme = Programme.objects.filter(pk=pk).first()
    if programme is None:
        raise InvalidInput({field: [_("Unknown programme.")]})
    return programme


# --------------------------------------------------------------------------- programmes


class BenefitSchema(In):
    kind: Literal["account_manager", "service_desk", "parking", "on_account", "bonus", "other"]
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
    level: Literal["account", "head_office", "buying_group"] = "account"
    period: Literal["calendar_year", "rolling_12_months"] = "calendar_year"
    grace_days: int = Field(90, ge=0, le=730)
    bonus_enabled: bool = False
    bonus_mode: Literal["whole", "marginal"] = "whole"
    bonus_period: Literal["year", "quarter"] = "year"
    bonus_max_rate: Rate = Field(Decimal("0.035"), ge=0, le=1, max_digits=7, decimal_places=6)
    bonus_max_amount: NonNegativeMoney | None = None
    points_enabled: bool = False
    points_per_euro: Decimal = Field(Decimal("1"), ge=0, max_digits=8, decimal_places=4)
    points_per_order: int = Field(0, ge=0, le=10**9)
    points_expiry_months: int | None = Field(24, ge=1, le=240)
    points_confirm_on: Literal["delivered", "paid"] = "delivered"
    point_value: NonNegativeMoney = Decimal("0.01")
    card_scheme: Literal["ean13", "luhn"] = "ean13"
    card_prefix: str = Field("29", max_length=6, pattern=r"^[0-9]*$")
    tiers: list[TierSchema] = Field(default_factory=list, max_length=20)
    brackets: list[BracketSchema] = Field(default_factory=list, max_length=50)
    category_rules: list[CategoryRuleSchema] = Field(default_factory=list, max_length=200)
    rewards: list[RewardSchema] = Field(default_factory=list, max_length=200)


class BenefitOut(Schema):
    kind: str
    description: str
    label: str


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


class SettingsSchema(Schema):
    weight_trust: int = Field(ge=0, le=1000)
    weight_satisfaction: int = Field(ge=0, le=1000)
    weight_alternatives: int = Field(ge=0, le=1000)
    weight_investment: int = Field(ge=0, le=1000)
    falling_points: Decimal = Field(ge=Decimal("0.1"), le=100, max_digits=4, decimal_places=1)
    falling_days: int = Field(ge=7, le=730)
    gap_months: int = Field(ge=1, le=12)
    investment_norm: Decimal = Field(ge=Decimal("0.01"), le=100, max_digits=5, decimal_places=2)
    version: int


class SettingsIn(In):
    version: Version  # the version you read; 409 with the saved settings if it changed
    weight_trust: int | None = Field(None, ge=0, le=1000)
    weight_satisfaction: int | None = Field(None, ge=0, le=1000)
    weight_alternatives: int | None = Field(None, ge=0, le=1000)
    weight_investment: int | None = Field(None, ge=0, le=1000)
    falling_points: Decimal | None = Field(
        None, ge=Decimal("0.1"), le=100, max_digits=4, decimal_places=1
    )
    falling_days: int | None = Field(None, ge=7, le=730)
    gap_months: int | None = Field(None, ge=1, le=12)
    investment_norm: Decimal | None = Field(
        None, ge=Decimal("0.01"), le=100, max_digits=5, decimal_places=2
    )


@router.get(
    "/loyalty/settings",
    response={200: SettingsSchema, **READ_ERRORS},
    summary="The loyalty index weights and the signal thresholds",
)
def get_settings(request: HttpRequest):
    return LoyaltySettings.load()


@router.post(
    "/loyalty/settings",
    response={200: SettingsSchema, **ERRORS},
    summary="Change the index weights and thresholds (sales managers and administrators)",
)
def update_settings(request: HttpRequest, payload: SettingsIn):
    data = {k: v for k, v in sent_fields(payload).items() if v is not None and k != "version"}
    return services.settings_update(actor=request.auth, data=data, version=payload.version)


# --------------------------------------------------------------------------- one account


class TierStatusOut(Schema):
    programme_id: int
    programme: str
    tier: str | None
    since: dt.date | None
    valid_until: dt.date | None
    qualifying_spend: Decimal
    period_start: dt.date | None
    period_end: dt.date | None
    next_tier: str | None
    needed_for_next: Decimal | None
    needed_to_keep: Decimal | None
    in_grace: bool
    entitlements: list[BenefitOut]
    bonus_so_far: Decimal | None
    bonus_rate: Decimal | None
    points_balance: int | None
    points_pending: int | None
    points_available: int | None


class ScoreOut(Schema):
    as_of: dt.date
    trust: Decimal | None
    satisfaction: Decimal | None
    alternatives: Decimal | None
    investment: Decimal | None
    index: Decimal | None


class GapOut(Schema):
    level: str
    last_done: dt.date | None
    months: int | None
    message: str


class AccountLoyaltyOut(Schema):
    account_id: int
    programmes: list[TierStatusOut]
    score: ScoreOut | None
    gaps: list[GapOut]


@router.get(
    "/loyalty/accounts/{account_id}",
    response={200: AccountLoyaltyOut, **READ_ERRORS},
    summary="An account's tiers, entitlements, points, loyalty index and binding gaps",
)
def account_loyalty(request: HttpRequest, account_id: Id):
    account = relations.account_get(actor=request.auth, pk=account_id)
    views = selectors.account_programmes(account)
    latest = account.driver_scores.order_by("-as_of").first()
    matrix = binding.binding_matrix(account, with_suggestions=False)
    return {
        "account_id": account.pk,
        "programmes": [
            {
                "programme_id": v.programme.pk,
                "programme": v.programme.name,
                "tier": v.tier.name if v.tier else None,
                "since": v.since,
                "valid_until": v.valid_until,
                "qualifying_spend": v.qualifying_spend,
                "period_start": v.period_start,
                "period_end": v.period_end,
                "next_tier": v.next_tier.name if v.next_tier else None,
                "needed_for_next": v.needed_for_next,
                "needed_to_keep": v.needed_to_keep,
                "in_grace": v.in_grace,
                "entitlements": [
                    {"kind": b.kind, "description": b.description, "label": str(b.label)}
                    for b in v.benefits
                ],
                "bonus_so_far": v.bonus.bonus if v.bonus else None,
                "bonus_rate": v.bonus.effective_rate if v.bonus else None,
                "points_balance": v.points["balance"] if v.points else None,
                "points_pending": v.points["pending"] if v.points else None,
                "points_available": v.points["available"] if v.points else None,
            }
            for v in views
        ],
        "score": latest,
        "gaps": [
            {"level": g.level, "last_done": g.last_done, "months": g.months, "message": g.message}
            for g in matrix.gaps
        ],
    }


class MatrixRowOut(Schema):
    level: str
    label: str
    counts: list[int]
    total: int
    last_done: dt.date | None


class SuggestionOut(Schema):
    level: str
    text: str
    contact_id: int | None
    event_id: int | None
    kind: str


class MatrixOut(Schema):
    months: list[dt.date]
    rows: list[MatrixRowOut]
    gaps: list[GapOut]
    suggestions: list[SuggestionOut]


@router.get(
    "/loyalty/accounts/{account_id}/binding-matrix",
    response={200: MatrixOut, **READ_ERRORS},
    summary="Binding activities per level over 12 months, gaps and suggestions",
)
def binding_matrix(request: HttpRequest, account_id: Id):
    account = relations.account_get(actor=request.auth, pk=account_id)
    matrix = binding.binding_matrix(account)
    return {
        "months": matrix.months,
        "rows": [
            {
                "level": r["level"],
                "label": str(r["label"]),
                "counts": r["counts"],
                "total": r["total"],
                "last_done": r["last_done"],
            }
            for r in matrix.rows
        ],
        "gaps": [
            {"level": g.level, "last_done": g.last_done, "months": g.months, "message": g.message}
            for g in matrix.gaps
        ],
        "suggestions": [s.__dict__ for s in matrix.suggestions],
    }


class PartOut(Schema):
    source: str
    readings: int
    mean: Decimal
    share: Decimal


class DriverOut(Schema):
    driver: str
    score: Decimal | None
    parts: list[PartOut]


class ScorecardOut(Schema):
    as_of: dt.date
    index: Decimal | None
    weights: dict[str, int]
    drivers: list[DriverOut]
    history: list[ScoreOut]


@router.get(
    "/loyalty/accounts/{account_id}/drivers",
    response={200: ScorecardOut, **READ_ERRORS},
    summary="The four loyalty drivers now, what each is made of, and the stored trend",
)
def drivers(request: HttpRequest, account_id: Id):
    account = relations.account_get(actor=request.auth, pk=account_id)
    card = scorecard(account)
    return {
        "as_of": card.as_of,
        "index": card.index.score,
        "weights": card.weights,
        "drivers": [
            {
                "driver": key,
                "score": card.score(key),
                "parts": [
                    {"source": p.source, "readings": p.readings, "mean": p.mean, "share": p.share}
                    for p in card.drivers[key].parts
                ],
            }
            for key in DRIVERS
        ],
        "history": selectors.driver_history(account),
    }


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
    qs = LedgerEntry.objects.filter(points_account__account=account).select_related(
        "points_account"
    )
    if filters.programme:
        qs = qs.filter(points_account__programme_id=filters.programme)
    return qs.order_by("-id")


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
    programme = _programme(payload.programme_id)
    reward = None
    if payload.reward_id is not None:
        reward = Reward.objects.filter(pk=payload.reward_id, programme=programme).first()
        if reward is None:
            raise InvalidInput({"reward_id": [_("Unknown reward.")]})
    elif payload.points is None:
        raise InvalidInput({"points": [_("Choose a reward or a number of points.")]})
    entry = points.points_redeem(
        actor=request.auth,
        account=account,
        programme=programme,
        reward=reward,
        points=payload.points if reward is None else None,
        key=payload.key,
    )
    return Status(201, LedgerEntry.objects.select_related("points_account").get(pk=entry.pk))


# --------------------------------------------------------------------------- binding activities


class BindingFields(In):
    level: LevelName | None = None
    title: Text(200, 1) | None = None
    notes: Text(10_000) = ""
    status: ActivityStatus | None = None
    planned_on: dt.date | None = None
    done_on: dt.date | None = None
    contact_id: Id | None = None
    interest: Text(60) | None = None
    cost: NonNegativeMoney | None = None


class BindingIn(BindingFields):
    account_id: Id
    kind: KindName
    title: RequiredText(200)
    status: ActivityStatus = "done"
    channel: Literal["phone", "visit", "email", "video", "chat", "event"] | None = None


class BindingPatch(BindingFields):
    version: Version
    kind: KindName | None = None


class BindingOut(Schema):
    id: int
    account_id: int
    level: str
    kind: str
    title: str
    notes: str
    status: str
    planned_on: dt.date | None
    done_on: dt.date | None
    contact_id: int | None
    interest: str | None
    interaction_id: int | None
    event_id: int | None
    cost: Decimal | None
    version: int

    @staticmethod
    def resolve_interest(obj):
        return obj.interest.name if obj.interest_id else None


register(BindingActivity, BindingOut)


class BindingQuery(Schema):
    account: Id | None = None
    level: LevelName | None = None


def _binding_data(actor, payload, account) -> dict:
    data = sent_fields(
        payload, exclude={"account_id", "version", "contact_id", "interest", "channel"}
    )
    if "contact_id" in payload.model_fields_set:
        data["contact"] = _contact(actor, payload.contact_id, account)
    if "interest" in payload.model_fields_set:
        data["interest"] = services._interest(payload.interest)
    return data


@router.get(
    "/loyalty/binding-activities",
    response={200: list[BindingOut], **READ_ERRORS},
    summary="List binding activities",
)
@paginate(Pagination)
def list_binding(request: HttpRequest, filters: Query[BindingQuery]):
    return selectors.binding_list(
        actor=request.auth, account_id=filters.account, level=filters.level
    )


@router.post(
    "/loyalty/binding-activities",
    response={201: BindingOut, **ERRORS},
    summary="Log a binding activity (done: also a contact moment) or plan one",
)
def create_binding(request: HttpRequest, payload: BindingIn):
    account = _account(request.auth, payload.account_id)
    data = _binding_data(request.auth, payload, account)
    activity = services.binding_activity_create(
        actor=request.auth, account=account, data=data, channel=payload.channel
    )
    return Status(201, activity)


@router.get(
    "/loyalty/binding-activities/{binding_id}",
    response={200: BindingOut, **READ_ERRORS},
    summary="Read a binding activity",
)
def get_binding(request: HttpRequest, binding_id: Id):
    return selectors.binding_get(actor=request.auth, pk=binding_id)


@router.patch(
    "/loyalty/binding-activities/{binding_id}",
    response={200: BindingOut, **ERRORS},
    summary="Change a binding activity (e.g. mark a planned one done)",
)
def update_binding(request: HttpRequest, binding_id: Id, payload: BindingPatch):
    activity = selectors.binding_get(actor=request.auth, pk=binding_id)
    data = _binding_data(request.auth, payload, activity.account)
    for key in ("level", "kind", "title", "status"):
        if key in data and data[key] is None:
            raise InvalidInput({key: [_("This field cannot be empty.")]})
    return services.binding_activity_update(
        actor=request.auth, activity=activity, version=payload.version, data=data
    )


@router.delete(
    "/loyalty/binding-activities/{binding_id}",
    response={204: None, **ERRORS},
    summary="Delete a binding activity",
)
def delete_binding(request: HttpRequest, binding_id: Id):
    services.binding_activity_delete(
        actor=request.auth, activity=selectors.binding_get(actor=request.auth, pk=binding_id)
    )
    return Status(204, None)


# --------------------------------------------------------------------------- wishes


AspectName = Literal[
    "assortment", "ordering", "timing", "delivery", "payment", "service", "communication", "other"
]
WishStatus = Literal["met", "partly", "planned", "not_met"]


class WishIn(In):
    account_id: Id
    aspect: AspectName
    wish: RequiredText(300)
    how_we_meet: Text(10_000) = ""
    status: WishStatus = "not_met"
    level: LevelName = "structural"


class WishPatch(In):
    version: Version
    aspect: AspectName | None = None
    wish: Text(300, 1) | None = None
    how_we_meet: Text(10_000) | None = None
    status: WishStatus | None = None
    level: LevelName | None = None


class WishOut(Schema):
    id: int
    account_id: int
    aspect: str
    wish: str
    how_we_meet: str
    status: str
    level: str
    version: int


register(Wish, WishOut)


class LoyaltyAccountQuery(Schema):
    account: Id | None = None


@router.get(
    "/loyalty/wishes",
    response={200: list[WishOut], **READ_ERRORS},
    summary="The register of wishes and buying behaviour",
)
@paginate(Pagination)
def list_wishes(request: HttpRequest, filters: Query[LoyaltyAccountQuery]):
    return selectors.wish_list(actor=request.auth, account_id=filters.account)


@router.post("/loyalty/wishes", response={201: WishOut, **ERRORS}, summary="Record a wish")
def create_wish(request: HttpRequest, payload: WishIn):
    account = _account(request.auth, payload.account_id)
    wish = services.wish_create(
        actor=request.auth, account=account, data=payload.model_dump(exclude={"account_id"})
    )
    return Status(201, wish)


@router.patch(
    "/loyalty/wishes/{wish_id}", response={200: WishOut, **ERRORS}, summary="Change a wish"
)
def update_wish(request: HttpRequest, wish_id: Id, payload: WishPatch):
    wish = selectors.wish_get(actor=request.auth, pk=wish_id)
    data = {k: v for k, v in sent_fields(payload, exclude={"version"}).items() if v is not None}
    return services.wish_update(actor=request.auth, wish=wish, version=payload.version, data=data)


@router.delete("/loyalty/wishes/{wish_id}", response={204: None, **ERRORS}, summary="Delete a wish")
def delete_wish(request: HttpRequest, wish_id: Id):
    services.wish_delete(
        actor=request.auth, wish=selectors.wish_get(actor=request.auth, pk=wish_id)
    )
    return Status(204, None)


# --------------------------------------------------------------------------- drivers' inputs


class NoteIn(In):
    account_id: Id
    competitor: RequiredText(120)
    share: int | None = Field(None, ge=0, le=100)
    price: Score5 | None = None
    quality: Score5 | None = None
    service: Score5 | None = None
    notes: Text(10_000) = ""
    noted_on: dt.date | None = None


class NoteOut(Schema):
    id: int
    account_id: int
    competitor: str
    share: int | None
    price: int | None
    quality: int | None
    service: int | None
    notes: str
    noted_on: dt.date
    version: int


register(CompetitorNote, NoteOut)


@router.get(
    "/loyalty/competitor-notes",
    response={200: list[NoteOut], **READ_ERRORS},
    summary="Competitors the accounts also buy from, and how we compare",
)
@paginate(Pagination)
def list_notes(request: HttpRequest, filters: Query[LoyaltyAccountQuery]):
    return selectors.note_list(actor=request.auth, account_id=filters.account)


@router.post(
    "/loyalty/competitor-notes",
    response={201: NoteOut, **ERRORS},
    summary="Note a competitor (1 = we are much worse … 5 = we are much better)",
)
def create_note(request: HttpRequest, payload: NoteIn):
    account = _account(request.auth, payload.account_id)
    note = services.competitor_note_create(
        actor=request.auth, account=account, data=payload.model_dump(exclude={"account_id"})
    )
    return Status(201, note)


@router.delete(
    "/loyalty/competitor-notes/{competitor_note_id}",
    response={204: None, **ERRORS},
    summary="Delete a competitor note",
)
def delete_note(request: HttpRequest, competitor_note_id: Id):
    services.competitor_note_delete(
        actor=request.auth, note=selectors.note_get(actor=request.auth, pk=competitor_note_id)
    )
    return Status(204, None)


class JudgementIn(In):
    account_id: Id
    trust: Literal[1, 2, 3, 4] = Field(description="4 very high, 3 high, 2 low, 1 very low")
    note: Text(300) = ""


class JudgementOut(Schema):
    id: int
    account_id: int
    trust: int
    note: str
    judged_on: dt.date


@router.get(
    "/loyalty/trust-judgements",
    response={200: list[JudgementOut], **READ_ERRORS},
    summary="The account managers' judgements of trust",
)
@paginate(Pagination)
def list_judgements(request: HttpRequest, filters: Query[LoyaltyAccountQuery]):
    return selectors.judgement_list(actor=request.auth, account_id=filters.account)


@router.post(
    "/loyalty/trust-judgements",
    response={201: JudgementOut, **ERRORS},
    summary="Judge the account's trust (the latest judgement counts)",
)
def create_judgement(request: HttpRequest, payload: JudgementIn):
    account = _account(request.auth, payload.account_id)
    return Status(
        201,
        services.trust_judge(
            actor=request.auth, account=account, trust=payload.trust, note=payload.note
        ),
    )


class KlikIn(In):
    klik: bool = Field(description="Is there a klik with this contact?")
    note: Text(300) = ""


class KlikOut(Schema):
    id: int
    contact_id: int
    klik: bool
    note: str
    judged_on: dt.date


@router.get(
    "/loyalty/contacts/{contact_id}/klik",
    response={200: list[KlikOut], **READ_ERRORS},
    summary="The judgements of the personal relationship with a contact, newest first",
)
def list_klik(request: HttpRequest, contact_id: Id):
    contact = relations.contact_get(actor=request.auth, pk=contact_id)
    return list(contact.rapports.order_by("-judged_on", "-id")[:100])


@router.post(
    "/loyalty/contacts/{contact_id}/klik",
    response={201: KlikOut, **ERRORS},
    summary="Judge whether there is a klik with a contact",
)
def create_klik(request: HttpRequest, contact_id: Id, payload: KlikIn):
    contact = relations.contact_get(actor=request.auth, pk=contact_id)
    return Status(
        201,
        services.klik_judge(
            actor=request.auth, contact=contact, klik=payload.klik, note=payload.note
        ),
    )


# --------------------------------------------------------------------------- events


class EventFields(In):
    location: Text(200) = ""
    description: Text(10_000) = ""
    interest: Text(60) | None = None
    capacity: int | None = Field(None, ge=1, le=100_000)
    cost_per_guest: NonNegativeMoney | None = None
    shared: bool = False


class EventIn(EventFields):
    name: RequiredText(200)
    starts_at: dt.datetime
    contact_ids: list[Id] = Field(default_factory=list, max_length=500)
    mail: bool = True


class EventPatch(EventFields):
    version: Version
    name: Text(200, 1) | None = None
    starts_at: dt.datetime | None = None
    location: Text(200) | None = None
    description: Text(10_000) | None = None
    shared: bool | None = None


class EventInvitationOut(Schema):
    id: int
    event_id: int
    contact_id: int
    account_id: int
    status: str
    responded_at: dt.datetime | None
    mailed: bool
    version: int


register(Invitation, EventInvitationOut)


class EventOut(Schema):
    id: int
    name: str
    starts_at: dt.datetime
    location: str
    description: str
    interest: str | None
    capacity: int | None
    cost_per_guest: Decimal | None
    shared: bool
    organiser_id: int | None
    version: int

    @staticmethod
    def resolve_interest(obj):
        return obj.interest.name if obj.interest_id else None


class EventDetailOut(EventOut):
    invitations: list[EventInvitationOut]

    @staticmethod
    def resolve_invitations(obj):
        return obj.visible_invitations


register(Event, EventOut)


def _contacts(actor, ids: list[int], field: str = "contact_ids") -> list[Contact]:
    contacts = list(Contact.objects.visible_to(actor).filter(pk__in=ids).select_related("account"))
    if len(contacts) != len(set(ids)):
        raise InvalidInput({field: [_("Unknown contact.")]})
    return contacts


@router.get("/loyalty/events", response={200: list[EventOut], **READ_ERRORS}, summary="List events")
@paginate(Pagination)
def list_events(request: HttpRequest):
    return selectors.event_list(actor=request.auth)


@router.post(
    "/loyalty/events",
    response={201: EventDetailOut, **ERRORS},
    summary="Create an event and invite contacts (mailed where consent allows)",
)
def create_event(request: HttpRequest, payload: EventIn):
    contacts = _contacts(request.auth, payload.contact_ids)
    data = payload.model_dump(exclude={"contact_ids", "mail"})
    event = services.event_create(
        actor=request.auth, data=data, invitees=contacts, mail=payload.mail
    )
    return Status(201, _event_detail(request, event.pk))


def _event_detail(request, pk) -> Event:
    event = selectors.event_get(actor=request.auth, pk=pk)
    event.visible_invitations = list(selectors.invitations_for(actor=request.auth, event=event))
    return event


@router.get(
    "/loyalty/events/{event_id}",
    response={200: EventDetailOut, **READ_ERRORS},
    summary="An event and the invitations the user may see",
)
def get_event(request: HttpRequest, event_id: Id):
    return _event_detail(request, event_id)


@router.patch(
    "/loyalty/events/{event_id}", response={200: EventOut, **ERRORS}, summary="Change an event"
)
def update_event(request: HttpRequest, event_id: Id, payload: EventPatch):
    event = selectors.event_get(actor=request.auth, pk=event_id)
    data = sent_fields(payload, exclude={"version"})
    for key in ("name", "starts_at", "location", "description", "shared"):
        if key in data and data[key] is None:
            raise InvalidInput({key: [_("This field cannot be empty.")]})
    return services.event_update(
        actor=request.auth, event=event, version=payload.version, data=data
    )


class EventInviteIn(In):
    contact_ids: list[Id] = Field(min_length=1, max_length=500)
    mail: bool = True


@router.post(
    "/loyalty/events/{event_id}/invitations",
    response={201: list[EventInvitationOut], **ERRORS},
    summary="Invite contacts to an event",
)
def invite(request: HttpRequest, event_id: Id, payload: EventInviteIn):
    event = selectors.event_get(actor=request.auth, pk=event_id)
    contacts = _contacts(request.auth, payload.contact_ids)
    made = services.invitations_create(
        actor=request.auth, event=event, contacts=contacts, mail=payload.mail
    )
    return Status(201, made)


class RsvpIn(In):
    version: Version
    status: Literal["invited", "accepted", "declined", "attended", "no_show"] | None = None


@router.patch(
    "/loyalty/invitations/{event_invitation_id}",
    response={200: EventInvitationOut, **ERRORS},
    summary="Record the answer (RSVP) or the attendance",
)
def respond(request: HttpRequest, event_invitation_id: Id, payload: RsvpIn):
    invitation = selectors.invitation_get(actor=request.auth, pk=event_invitation_id)
    require_account_writable(request.auth, invitation.account)
    if payload.status is None:  # nothing to change, but a stale version is still a conflict
        if payload.version != invitation.version:
            raise VersionConflict(current=invitation)
        return invitation
    return services.invitation_respond(
        actor=request.auth, invitation=invitation, version=payload.version, status=payload.status
    )


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
    account = _account(request.auth, payload.account_id)
    programme = _programme(payload.programme_id)
    contact = _contact(request.auth, payload.contact_id, account)
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


# --------------------------------------------------------------------------- campaigns


SegmentName = Literal[
    "champions", "loyal", "potential_loyalist", "new", "promising", "need_attention",
    "about_to_sleep", "at_risk", "cannot_lose", "hibernating", "lost",
]  # fmt: skip


class CampaignFields(In):
    goal_metric: Literal["revenue", "orders"] = "revenue"
    goal_lift: Decimal = Field(Decimal("10"), ge=-100, le=1000, max_digits=6, decimal_places=2)
    selection: Literal["segment", "tier", "value", "account"] | None = None
    segments: list[SegmentName] = Field(default_factory=list, max_length=11)
    tier_id: Id | None = None
    value_field: Literal["value_this_year", "clv", "revenue_12m"] = "value_this_year"
    value_min: Money | None = None
    value_max: Money | None = None
    account_id: Id | None = None
    incentive: Literal["bonus_discount", "points_multiplier", "savings_gift"] = "bonus_discount"
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
    goal_metric: Literal["revenue", "orders"] | None = None
    incentive: Literal["bonus_discount", "points_multiplier", "savings_gift"] | None = None


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
        data["programme"] = _programme(payload.programme_id) if payload.programme_id else None
    if "account_id" in payload.model_fields_set:
        data["account"] = _account(actor, payload.account_id) if payload.account_id else None
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
    return Status(201, campaigns.campaign_create(actor=request.auth, data=data))


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
    return campaigns.campaign_update(
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
    return campaigns.campaign_launch(actor=request.auth, campaign=campaign, version=payload.version)


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


@router.get(
    "/loyalty/campaigns/{campaign_id}/result",
    response={200: ResultOut, **READ_ERRORS},
    summary="The effect with its confidence interval, and cost against extra profit",
)
def campaign_result(request: HttpRequest, campaign_id: Id):
    campaign = selectors.campaign_get(actor=request.auth, pk=campaign_id)
    result = campaigns.campaign_result(campaign)
    out = dict(result.__dict__)
    out.pop("chart", None)
    for key in ("revenue", "orders", "profit"):
        if out[key] is not None:
            out[key] = out[key].__dict__
    out["message"] = str(out["message"])
    return out


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


class FallingOut(Schema):
    account_id: int
    account: str
    index_then: Decimal
    index_now: Decimal
    drop: Decimal


class FallingQuery(Schema):
    limit: int = Field(50, ge=1, le=500)


@router.get(
    "/loyalty/falling",
    response={200: list[FallingOut], **READ_ERRORS},
    summary="Accounts whose loyalty index is falling",
)
def falling(request: HttpRequest, filters: Query[FallingQuery]):
    return [
        {
            "account_id": row["account"].pk,
            "account": row["account"].name,
            "index_then": row["then"],
            "index_now": row["now"],
            "drop": row["drop"],
        }
        for row in selectors.falling(actor=request.auth, limit=filters.limit)
    ]
