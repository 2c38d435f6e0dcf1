"""API of the loyalty drivers: the index settings, an account's drivers and trend,
competitor notes, trust judgements and the falling list."""

import datetime as dt
from decimal import Decimal
from typing import Literal

from django.http import HttpRequest
from ninja import Field, Query, Schema, Status
from ninja.pagination import paginate

from relatiebeheer.api.core import ERRORS, READ_ERRORS, Pagination
from relatiebeheer.api.serializers import register
from relatiebeheer.api.types import (
    DeleteQuery,
    Id,
    In,
    RequiredText,
    Text,
    Version,
    sent_fields,
)
from relatiebeheer.loyalty.api_common import (
    LoyaltyAccountQuery,
    LoyaltyRouter,
    ScoreOut,
    account_or_422,
)
from relatiebeheer.relations import selectors as relations

from . import selectors, services
from .models import DRIVERS, CompetitorNote, LoyaltySettings, TrustLevel

router = LoyaltyRouter()

Score5 = Literal[1, 2, 3, 4, 5]
TrustScore = Literal[tuple(sorted(TrustLevel.values))]  # type: ignore[valid-type]


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
    as_of: dt.date | None = Field(description="The day of the stored scorecard shown")
    index: Decimal | None
    refresh_pending: bool = Field(
        description="Data the drivers read changed; the refreshed scorecard is not stored yet"
    )
    weights: dict[str, int]
    drivers: list[DriverOut]
    history: list[ScoreOut]


@router.get(
    "/loyalty/accounts/{account_id}/drivers",
    response={200: ScorecardOut, **READ_ERRORS},
    summary="The loyalty index and its four drivers (stored), what each is made of, the trend",
)
def drivers(request: HttpRequest, account_id: Id):
    account = relations.account_get(actor=request.auth, pk=account_id)
    figure = selectors.account_loyalty_index(account)
    return {
        "as_of": figure.as_of,
        "index": figure.index,
        "refresh_pending": figure.refresh_pending,
        "weights": figure.weights or LoyaltySettings.load().weights,
        "drivers": [
            {"driver": key, "score": figure.driver(key), "parts": figure.parts(key)}
            for key in DRIVERS
        ],
        "history": selectors.driver_history(account),
    }


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
    account = account_or_422(request.auth, payload.account_id)
    note = services.competitor_note_create(
        actor=request.auth, account=account, data=payload.model_dump(exclude={"account_id"})
    )
    return Status(201, note)


@router.get(
    "/loyalty/competitor-notes/{competitor_note_id}",
    response={200: NoteOut, **READ_ERRORS},
    summary="Read a competitor note",
)
def get_note(request: HttpRequest, competitor_note_id: Id):
    return selectors.note_get(actor=request.auth, pk=competitor_note_id)


@router.delete(
    "/loyalty/competitor-notes/{competitor_note_id}",
    response={204: None, **ERRORS},
    summary="Delete a competitor note",
)
def delete_note(request: HttpRequest, competitor_note_id: Id, query: Query[DeleteQuery]):
    services.competitor_note_delete(
        actor=request.auth,
        note=selectors.note_get(actor=request.auth, pk=competitor_note_id),
        version=query.version,
    )
    return Status(204, None)


class JudgementIn(In):
    account_id: Id
    trust: TrustScore = Field(description="4 very high, 3 high, 2 low, 1 very low")
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
    account = account_or_422(request.auth, payload.account_id)
    return Status(
        201,
        services.trust_judge(
            actor=request.auth, account=account, trust=payload.trust, note=payload.note
        ),
    )


class FallingOut(Schema):
    account_id: int
    account: str
    index_then: Decimal
    index_now: Decimal
    drop: Decimal
    refresh_pending: bool


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
            "account_id": fall.account.pk,
            "account": fall.account.name,
            "index_then": fall.then.index,
            "index_now": fall.now.index,
            "drop": fall.drop,
            "refresh_pending": fall.now.refresh_pending,
        }
        for fall in selectors.falling(actor=request.auth, limit=filters.limit)
    ]
