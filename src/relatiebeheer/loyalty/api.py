"""The loyalty API (``/api/v1/loyalty/…``): each room's operations (binding, drivers,
programme, campaigns) mounted on one router, plus one account's loyalty summary.
Thin: the services and selectors do the work."""

import datetime as dt
from decimal import Decimal

from django.http import HttpRequest
from ninja import Field, Schema

from relatiebeheer.api.core import READ_ERRORS
from relatiebeheer.api.types import Id
from relatiebeheer.relations import selectors as relations

from .api_common import BenefitOut, GapOut, LoyaltyRouter, ScoreOut, gaps_out
from .binding.api import router as binding_router
from .binding.matrix import binding_matrix
from .campaigns.api import router as campaigns_router
from .drivers.api import router as drivers_router
from .drivers.selectors import account_loyalty_index
from .programme.api import router as programme_router
from .programme.selectors import account_programmes

router = LoyaltyRouter(tags=["loyalty"])


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


class AccountLoyaltyOut(Schema):
    account_id: int
    programmes: list[TierStatusOut]
    score: ScoreOut | None = Field(description="The stored scorecard the loyalty index comes from")
    index_refresh_pending: bool = Field(
        description="Data the loyalty index is computed from changed; the new figure is not "
        "stored yet"
    )
    gaps: list[GapOut]


@router.get(
    "/loyalty/accounts/{account_id}",
    response={200: AccountLoyaltyOut, **READ_ERRORS},
    summary="An account's tiers, entitlements, points, loyalty index and binding gaps",
)
def account_loyalty(request: HttpRequest, account_id: Id):
    account = relations.account_get(actor=request.auth, pk=account_id)
    views = account_programmes(account)
    index = account_loyalty_index(account)
    matrix = binding_matrix(account, with_suggestions=False)
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
        "score": index.scorecard,
        "index_refresh_pending": index.refresh_pending,
        "gaps": gaps_out(matrix.gaps),
    }


for _room in (programme_router, drivers_router, binding_router, campaigns_router):
    router.add_router("", _room)
