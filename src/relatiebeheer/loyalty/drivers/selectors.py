"""Reads of the loyalty drivers: the loyalty index (one selector for every page), the
stored scorecards and their trend, the falling list, competitor notes and judgements."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import DecimalField, ExpressionWrapper, F, OuterRef, QuerySet, Subquery
from django.utils import timezone

from relatiebeheer.common.errors import NotFound
from relatiebeheer.loyalty import pending
from relatiebeheer.relations.models import Account
from relatiebeheer.users.models import User

from .models import CompetitorNote, DriverScore, LoyaltySettings, TrustJudgement

CHUNK = 500


@dataclass(frozen=True)
class LoyaltyIndex:
    """An account's loyalty index as every page, list, report and API answer shows it.

    ``as_of`` is the day of the stored scorecard it comes from; ``refresh_pending`` says
    that data it is computed from changed (or the weights did) and the refresh has not
    stored the new figure yet; ``scorecard`` is the stored row (drivers, their parts).
    """

    account_id: int
    index: Decimal | None
    as_of: date | None
    refresh_pending: bool
    scorecard: DriverScore | None = field(default=None, compare=False)

    def driver(self, name: str) -> Decimal | None:
        return getattr(self.scorecard, name) if self.scorecard is not None else None

    def parts(self, name: str) -> list[dict[str, Any]]:
        """What a driver is made of: source, readings, mean and share (stored with it)."""
        if self.scorecard is None:
            return []
        return [
            {
                "source": part["source"],
                "readings": part["readings"],
                "mean": Decimal(part["mean"]),
                "share": Decimal(part["share"]),
            }
            for part in (self.scorecard.parts or {}).get(name, [])
        ]

    @property
    def weights(self) -> dict[str, int]:
        return dict(self.scorecard.weights) if self.scorecard is not None else {}


def _latest_on(day: date, value: str, *, outer: str = "account_id") -> Subquery:
    """``value`` of the account's latest stored scorecard on or before ``day`` (the
    account is the outer query's ``outer`` column)."""
    return Subquery(
        DriverScore.objects.filter(account_id=OuterRef(outer), as_of__lte=day)
        .order_by("-as_of")
        .values(value)[:1]
    )


def loyalty_index(
    account_ids: Iterable[int], *, as_of: date | None = None, with_parts: bool = False
) -> dict[int, LoyaltyIndex]:
    """The loyalty index of each account on ``as_of`` (default today): the one figure.

    **Stored, not live.** The index is the one of the account's latest stored scorecard
    on or before the day. Computing it live reads survey answers, contact moments,
    judgements, competitor notes, activities, orders and costs of 12 months — fine for
    one account, too slow for a portfolio, an export or the falling list, which also
    needs the index of 90 days ago and so must read stored scorecards anyway. Reading the
    stored figure everywhere makes every place agree. It stays current because every
    writer of data the drivers read fires the "accounts changed" hook, whose listener
    marks the account (:mod:`relatiebeheer.loyalty.pending`) and stores its new
    scorecard in the background; a change of the weights or the investment norm
    refreshes every scorecard; the daily evaluation stores the day's scorecards. While
    a refresh waits, ``refresh_pending`` is true and pages say so.

    Batch: a fixed number of queries per 500 accounts (``as_of`` per account through the
    unique (account, day) index). Not scoped to a user: callers pass ids they scoped.
    """
    day = as_of or timezone.localdate()
    ids = sorted({int(pk) for pk in account_ids})
    everything_waits = LoyaltySettings.load().refresh_pending
    waiting = pending.pending(ids) if not everything_waits else set(ids)
    rows: dict[int, DriverScore] = {}
    for start in range(0, len(ids), CHUNK):
        qs = DriverScore.objects.filter(
            account_id__in=ids[start : start + CHUNK], as_of=_latest_on(day, "as_of")
        )
        if not with_parts:
            qs = qs.defer("parts")
        rows.update((row.account_id, row) for row in qs)
    result = {}
    for pk in ids:
        row = rows.get(pk)
        result[pk] = LoyaltyIndex(
            account_id=pk,
            index=row.index if row is not None else None,
            as_of=row.as_of if row is not None else None,
            refresh_pending=pk in waiting,
            scorecard=row,
        )
    return result


def account_loyalty_index(account: Account, *, as_of: date | None = None) -> LoyaltyIndex:
    """:func:`loyalty_index` of one account, with what each driver is made of."""
    return loyalty_index([account.pk], as_of=as_of, with_parts=True)[account.pk]


def driver_history(account: Account, *, months: int = 24) -> list[DriverScore]:
    """The stored scorecards of the last ``months`` months, oldest first (the trend)."""
    since = timezone.localdate() - timedelta(days=months * 31)
    return list(DriverScore.objects.filter(account=account, as_of__gte=since).order_by("as_of"))


@dataclass(frozen=True)
class Fall:
    account: Account
    then: LoyaltyIndex
    now: LoyaltyIndex

    @property
    def drop(self) -> Decimal:
        """Both indexes exist for a fall (:func:`falling` lists no other)."""
        then, now = self.then.index or Decimal(0), self.now.index or Decimal(0)
        return (then - now).quantize(Decimal("0.1"))


def falling(*, actor: User, limit: int = 50, today: date | None = None) -> list[Fall]:
    """Accounts (that ``actor`` sees) whose loyalty index fell by at least the configured
    points against the index of the configured number of days ago, the largest fall
    first. Both figures are :func:`loyalty_index`'s, on today and on that day: the list
    is found with the same "latest stored scorecard on or before the day" in SQL."""
    settings = LoyaltySettings.load()
    today = today or timezone.localdate()
    cutoff = today - timedelta(days=settings.falling_days)
    found = (
        Account.objects.visible_to(actor)
        .filter(archived=False)
        .annotate(
            index_now=_latest_on(today, "index", outer="pk"),
            index_then=_latest_on(cutoff, "index", outer="pk"),
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
        .order_by("-drop", "name", "pk")[:limit]
    )
    accounts = list(found)
    ids = [a.pk for a in accounts]
    now_index = loyalty_index(ids, as_of=today)
    then_index = loyalty_index(ids, as_of=cutoff)
    return [Fall(a, then_index[a.pk], now_index[a.pk]) for a in accounts]


def note_list(*, actor: User, account_id: int | None = None) -> QuerySet[CompetitorNote]:
    qs = CompetitorNote.objects.visible_to(actor)
    if account_id:
        qs = qs.filter(account_id=account_id)
    return qs.order_by("-noted_on", "-id")


def note_get(*, actor: User, pk: int) -> CompetitorNote:
    note = CompetitorNote.objects.visible_to(actor).select_related("account").filter(pk=pk).first()
    if note is None:
        raise NotFound()
    return note


def judgement_list(*, actor: User, account_id: int | None = None) -> QuerySet[TrustJudgement]:
    qs = TrustJudgement.objects.visible_to(actor)
    if account_id:
        qs = qs.filter(account_id=account_id)
    return qs.order_by("-judged_on", "-id")
