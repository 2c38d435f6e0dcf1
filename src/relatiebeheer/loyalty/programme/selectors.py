"""Reads of the loyalty programme: programmes, tier statuses and the tier overview, one
account's programme status (live), its points, and customer cards."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Count, QuerySet
from django.utils import timezone

from relatiebeheer.common.errors import NotFound
from relatiebeheer.core import loyalty_rules as rules
from relatiebeheer.relations.models import Account
from relatiebeheer.users.models import User
from relatiebeheer.value.models import AccountMetrics

from . import ledger
from .engine import live_status
from .models import Benefit, Card, LedgerEntry, PointsAccount, Programme, Reward, Tier, TierStatus


def programmes() -> QuerySet[Programme]:
    """Every programme with its tiers and entitlements, brackets, earn rules and rewards."""
    return Programme.objects.prefetch_related(
        "tiers__benefits", "brackets", "category_rules", "rewards"
    ).order_by("name", "id")


def status_list(
    *, actor: User, programme_id: int | None = None, tier_id: int | None = None
) -> QuerySet[TierStatus]:
    qs = TierStatus.objects.visible_to(actor).select_related("account", "tier", "programme")
    if programme_id:
        qs = qs.filter(programme_id=programme_id)
    if tier_id:
        qs = qs.filter(tier_id=tier_id)
    return qs.order_by("programme_id", "-tier__rank", "account__name", "account_id")


# --------------------------------------------------------------------------- the account


@dataclass
class ProgrammeView:
    """One programme as it concerns one account (the panel and the programme page)."""

    programme: Programme
    tier: rules.Tier | None
    tier_row: Tier | None
    since: date | None
    valid_until: date | None
    qualifying_spend: Decimal
    next_tier: rules.Tier | None
    needed_for_next: Decimal | None
    needed_to_keep: Decimal | None
    in_grace: bool
    period_start: date | None
    period_end: date | None
    benefits: list[Benefit] = field(default_factory=list)
    bonus: rules.BonusResult | None = None
    points: dict[str, Any] | None = None
    rewards: list[Reward] = field(default_factory=list)
    cards: list[Card] = field(default_factory=list)


def account_programmes(account: Account, *, today: date | None = None) -> list[ProgrammeView]:
    """Every active programme's live status for the account: the tier, since when, until
    when, "€ X more to reach / keep", the entitlements, the bonus so far, points and cards.

    Computed now with the core from the member's dated spend, so it is exact to the cent
    whatever the last evaluation saw; a fixed number of queries per programme.
    """
    today = today or timezone.localdate()
    views = []
    cards = list(
        Card.objects.filter(account=account).select_related("contact").order_by("-issued_on", "-id")
    )
    for programme in programmes().filter(active=True):
        _config, result, bonus = live_status(programme, account, as_of=today)
        tiers = {t.name: t for t in programme.tiers.all()}
        tier_row = tiers.get(result.tier.name) if result and result.tier else None
        views.append(
            ProgrammeView(
                programme=programme,
                tier=result.tier if result else None,
                tier_row=tier_row,
                since=result.since if result else None,
                valid_until=result.valid_until if result else None,
                qualifying_spend=result.qualifying_spend if result else Decimal("0.00"),
                next_tier=result.next_tier if result else None,
                needed_for_next=result.needed_for_next if result else None,
                needed_to_keep=result.needed_to_keep if result else None,
                in_grace=result.in_grace if result else False,
                period_start=result.period_start if result else None,
                period_end=result.period_end if result else None,
                benefits=list(tier_row.benefits.all()) if tier_row else [],
                bonus=bonus,
                points=points_summary(programme, account, today=today)
                if programme.points_enabled
                else None,
                rewards=[r for r in programme.rewards.all() if r.active],
                cards=[c for c in cards if c.programme_id == programme.pk],
            )
        )
    return views


def tier_overview(*, actor: User, programme: Programme) -> dict[str, Any]:
    """Accounts per tier (of those the actor sees) and the accounts closest to the next
    tier, from the last evaluation; ``recalculating``: the programme's rules changed
    since (its statuses carry an older version) and the evaluation has not run yet."""
    statuses = TierStatus.objects.visible_to(actor).filter(programme=programme)
    counts = dict(statuses.values("tier_id").annotate(n=Count("pk")).values_list("tier_id", "n"))
    tiers = [
        {"tier": tier, "accounts": counts.get(tier.pk, 0), "benefits": list(tier.benefits.all())}
        for tier in programme.tiers.all().order_by("-rank")
    ]
    closest = list(
        statuses.filter(needed_for_next__isnull=False, needed_for_next__gt=0)
        .select_related("account", "tier")
        .order_by("needed_for_next", "account_id")[:15]
    )
    lowest = programme.tiers.order_by("rank").first()
    reaching: list[dict[str, Any]] = []
    if lowest is not None and programme.level == Programme.MemberLevel.ACCOUNT:
        if programme.period == Programme.Period.CALENDAR_YEAR:
            holders = statuses.values("account_id")
            closest_metrics = list(
                AccountMetrics.objects.filter(
                    account__in=Account.objects.visible_to(actor).filter(archived=False),
                    revenue_this_year__lt=lowest.threshold,
                    revenue_this_year__gt=0,
                )
                .exclude(account_id__in=holders)
                .select_related("account")
                .order_by("-revenue_this_year", "account_id")[:15]
            )
            reaching = [
                {"metrics": m, "needed": lowest.threshold - m.revenue_this_year}
                for m in closest_metrics
            ]
    return {
        "tiers": tiers,
        "closest": closest,
        "reaching": reaching,
        "lowest": lowest,
        "total": sum(counts.values()),
        "recalculating": statuses.exclude(config_version=programme.version).exists(),
    }


def card_list(*, actor: User, account_id: int | None = None, number: str = "") -> QuerySet[Card]:
    qs = Card.objects.visible_to(actor).select_related("account", "contact", "programme")
    if account_id:
        qs = qs.filter(account_id=account_id)
    if number:
        qs = qs.filter(number="".join(ch for ch in number if ch.isdigit()))
    return qs.order_by("-issued_on", "-id")


def card_get(*, actor: User, pk: int) -> Card:
    card = (
        Card.objects.visible_to(actor)
        .select_related("account", "contact", "programme", "replaces")
        .filter(pk=pk)
        .first()
    )
    if card is None:
        raise NotFound()
    return card


# --------------------------------------------------------------------------- points


def points_summary(
    programme: Programme, account: Account, *, today: date | None = None
) -> dict[str, Any]:
    """Balance, pending and available points and the lots of one account (for display)."""
    today = today or timezone.localdate()
    pa = PointsAccount.objects.filter(programme=programme, account=account).first()
    if pa is None:
        return {"balance": 0, "pending": 0, "available": 0, "lots": [], "expiring": None}
    state = ledger.ledger_state(pa)
    lots = sorted(state.lots, key=lambda lot: lot.fifo_key)
    upcoming = [lot for lot in lots if lot.remaining and lot.expires_on and lot.expires_on >= today]
    return {
        "balance": state.balance,
        "pending": state.pending,
        "available": state.available_on(today),
        "lots": lots,
        "expiring": upcoming[0] if upcoming else None,
    }


def ledger_list(
    *, actor: User, account: Account, programme_id: int | None = None
) -> QuerySet[LedgerEntry]:
    """An account's points ledger (the actor sees the account), newest first."""
    qs = LedgerEntry.objects.filter(
        points_account__account=account,
        points_account__account__in=Account.objects.visible_to(actor),
    ).select_related("points_account__programme", "reward")
    if programme_id:
        qs = qs.filter(points_account__programme_id=programme_id)
    return qs.order_by("-id")
