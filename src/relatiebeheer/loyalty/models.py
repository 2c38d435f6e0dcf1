"""Loyalty's models, gathered from its rooms so Django finds them under the app label
``loyalty`` (the tables keep their names, ``loyalty_<model>``):

* :mod:`.binding.models` — binding activities, events and invitations, incentive ideas,
  the rapport with each contact, the register of wishes;
* :mod:`.drivers.models` — competitor notes, trust judgements, the index settings and
  the stored scorecards;
* :mod:`.programme.models` — programmes, tiers and entitlements, bonus brackets and
  settlements, earn rules, rewards, tier statuses, the points ledger and cards;
* :mod:`.campaigns.models` — loyalty campaigns and their members;
* :mod:`.pending` — the accounts whose loyalty figures wait for a refresh.

Amounts are integer cents (``MoneyField``), ``Decimal`` euros in code. The rules live
in :mod:`relatiebeheer.core.loyalty_rules` and :mod:`relatiebeheer.core.campaign_stats`.
"""

from .binding.models import (
    KIND_LEVEL,
    ActivityKind,
    BindingActivity,
    Event,
    IncentiveIdea,
    Invitation,
    Level,
    Rapport,
    Wish,
)
from .campaigns.models import Campaign, CampaignMember
from .drivers.models import (
    Comparison,
    CompetitorNote,
    DriverScore,
    LoyaltySettings,
    TrustJudgement,
    TrustLevel,
)
from .pending import PendingEvaluation
from .programme.models import (
    Benefit,
    BonusBracket,
    BonusRun,
    BonusSettlement,
    Card,
    CategoryRule,
    LedgerEntry,
    PointsAccount,
    Programme,
    Reward,
    Tier,
    TierChange,
    TierStatus,
)

__all__ = [
    "KIND_LEVEL",
    "ActivityKind",
    "Benefit",
    "BindingActivity",
    "BonusBracket",
    "BonusRun",
    "BonusSettlement",
    "Campaign",
    "CampaignMember",
    "Card",
    "CategoryRule",
    "Comparison",
    "CompetitorNote",
    "DriverScore",
    "Event",
    "IncentiveIdea",
    "Invitation",
    "LedgerEntry",
    "Level",
    "LoyaltySettings",
    "PendingEvaluation",
    "PointsAccount",
    "Programme",
    "Rapport",
    "Reward",
    "Tier",
    "TierChange",
    "TierStatus",
    "TrustJudgement",
    "TrustLevel",
    "Wish",
]
