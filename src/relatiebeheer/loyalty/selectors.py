"""Reads for loyalty, always starting from what the actor may see."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    QuerySet,
    Subquery,
)
from django.utils import timezone

from relatiebeheer.common.errors import NotFound
from relatiebeheer.relations.models import Account

from .models import (
    Benefit,
    BindingActivity,
    Campaign,
    Card,
    CompetitorNote,
    DriverScore,
    Event,
    Invitation,
    LoyaltySettings,
    Programme,
    TierStatus,
    TrustJudgement,
    Wish,
)


def _get(qs: QuerySet, pk: int):
    obj = qs.filter(pk=pk).first()
    if obj is None:
        raise NotFound()
    return obj


def binding_list(*, actor, account_id: int | None = None, level: str | None = None):
    qs = BindingActivity.objects.visible_to(actor).select_related("account", "contact", "interest")
    if account_id:
        qs = qs.filter(account_id=account_id)
    if level:
        qs = qs.filter(level=level)
    return qs.order_by("-id")


def binding_get(*, actor, pk: int) -> BindingActivity:
    return _get(BindingActivity.objects.visible_to(actor).select_related("account"), pk)


def wish_list(*, actor, account_id: int | None = None):
    qs = Wish.objects.visible_to(actor)
    if account_id:
        qs = qs.filter(account_id=account_id)
    return qs.order_by("account_id", "aspect", "id")


def wish_get(*, actor, pk: int) -> Wish:
    return _get(Wish.objects.visible_to(actor).select_related("account"), pk)


def note_list(*, actor, account_id: int | None = None):
    qs = CompetitorNote.objects.visible_to(actor)
    if account_id:
        qs = qs.filter(account_id=account_id)
    return qs.order_by("-noted_on", "-id")


def note_get(*, actor, pk: int) -> CompetitorNote:
    return _get(CompetitorNote.objects.visible_to(actor).select_related("account"), pk)


def judgement_list(*, actor, account_id: int | None = None):
    qs = TrustJudgement.objects.visible_to(actor)
    if account_id:
        qs = qs.filter(account_id=account_id)
    return qs.order_by("-judged_on", "-id")


def event_list(*, actor, upcoming: bool | None = None):
    qs = Event.objects.visible_to(actor).select_related("interest", "organiser")
    if upcoming is True:
        qs = qs.filter(starts_at__gte=timezone.now() - timedelta(hours=12))
    return qs.order_by("-starts_at", "-id")


def event_get(*, actor, pk: int) -> Event:
    return _get(Event.objects.visible_to(actor).select_related("interest", "organiser"), pk)


def invitations_for(*, actor, event: Event):
    return (
        Invitation.objects.visible_to(actor)
        .filter(event=event)
        .select_related("contact", "account")
        .order_by("account__name", "contact__last_name", "id")
    )


def invitation_get(*, actor, pk: int) -> Invitation:
    return _get(
        Invitation.objects.visible_to(actor).select_related(
            "event", "contact", "account", "activity"
        ),
        pk,
    )


def card_list(*, actor, account_id: int | None = None, number: str = ""):
    qs = Card.objects.visible_to(actor).select_related("account", "contact", "programme")
    if account_id:
        qs = qs.filter(account_id=account_id)
    if number:
        qs = qs.filter(number="".join(ch for ch in number if ch.isdigit()))
    return qs.order_by("-issued_on", "-id")


def card_get(*, actor, pk: int) -> Card:
    return _get(
        Card.objects.visible_to(actor).select_related(
            "account", "contact", "programme", "replaces"
        ),
        pk,
    )


def campaign_list(*, actor):
    return (
        Campaign.objects.visible_to(actor).select_related("account").order_by("-starts_on", "-id")
    )


def campaign_get(*, actor, pk: int) -> Campaign:
    return _get(
        Campaign.objects.visible_to(actor).select_related("account", "tier", "programme"), pk
    )


def programmes():
    return Programme.objects.prefetch_related(
        "tiers__benefits", "brackets", "category_rules", "rewards"
    ).order_by("name", "id")


def status_list(*, actor, programme_id: int | None = None, tier_id: int | None = None):
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
    tier: object | None  # core Tier
    tier_row: object | None  # the Tier model
    since: date | None
    valid_until: date | None
    qualifying_spend: Decimal
    next_tier: object | None
    needed_for_next: Decimal | None
    needed_to_keep: Decimal | None
    in_grace: bool
    period_start: date | None
    period_end: date | None
    benefits: list[Benefit] = field(default_factory=list)
    bonus: object | None = None
    points: dict | None = None
    rewards: list = field(default_factory=list)
    cards: list[Card] = field(default_factory=list)


def account_programmes(account: Account, *, today: date | None = None) -> list[ProgrammeView]:
    """Every active programme's live status for the account: the tier, since when, until
    when, "€ X more to reach / keep", the entitlements, the bonus so far, points and cards.

    Computed now with the core from the member's dated spend, so it is exact to the cent
    whatever the last evaluation saw; a fixed number of queries per programme.
    """
    from .engine import live_status
    from .points import points_summary

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


def driver_history(account: Account, *, months: int = 24) -> list[DriverScore]:
    since = timezone.localdate() - timedelta(days=months * 31)
    return list(DriverScore.objects.filter(account=account, as_of__gte=since).order_by("as_of"))


# --------------------------------------------------------------------------- lists


def falling(*, actor, limit: int = 50, today: date | None = None) -> list[dict]:
    """Accounts whose loyalty index fell by at least the configured points, compared with
    the index in effect the configured number of days ago (latest first)."""
    settings = LoyaltySettings.load()
    today = today or timezone.localdate()
    cutoff = today - timedelta(days=settings.falling_days)
    latest = DriverScore.objects.filter(
        account=OuterRef("pk"), index__isnull=False, as_of__lte=today
    ).order_by("-as_of")
    before = latest.filter(as_of__lte=cutoff)
    rows = (
        Account.objects.visible_to(actor)
        .filter(archived=False)
        .annotate(
            index_now=Subquery(latest.values("index")[:1]),
            index_then=Subquery(before.values("index")[:1]),
        )
        .filter(index_now__isnull=False, index_then__isnull=False)
        .annotate(
            drop=ExpressionWrapper(
                F("index_then") - F("index_now"),
                output_field=DecimalField(max_digits=5, decimal_places=1),
            )
        )
        .filter(drop__gte=settings.falling_points)
        .select_related("manager")
        .order_by("-drop", "name")[:limit]
    )
    return [
        {
            "account": a,
            "now": Decimal(str(a.index_now)),
            "then": Decimal(str(a.index_then)),
            "drop": Decimal(str(a.drop)).quantize(Decimal("0.1")),
        }
        for a in rows
    ]


def tier_overview(*, actor, programme: Programme) -> dict:
    """Accounts per tier (of those the actor sees) and the accounts closest to the next
    tier, from the last evaluation."""
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
    reaching: list = []
    if lowest is not None and programme.level == Programme.MemberLevel.ACCOUNT:
        from relatiebeheer.value.models import AccountMetrics

        if programme.period == Programme.Period.CALENDAR_YEAR:
            holders = statuses.values("account_id")
            reaching = list(
                AccountMetrics.objects.filter(
                    account__in=Account.objects.visible_to(actor).filter(archived=False),
                    revenue_this_year__lt=lowest.threshold,
                    revenue_this_year__gt=0,
                )
                .exclude(account_id__in=holders)
                .select_related("account")
                .order_by("-revenue_this_year", "account_id")[:15]
            )
    return {
        "tiers": tiers,
        "closest": closest,
        "reaching": [
            {"metrics": m, "needed": lowest.threshold - m.revenue_this_year} for m in reaching
        ],
        "lowest": lowest,
        "total": sum(counts.values()),
    }
