"""Reads of customer value and CLV: one account's figures, and the value-management lists.

**One source for every page.** Customer value, CLV (with W, the margin and its source)
and the scores are read from the metric snapshot (``AccountMetrics``) by every place
that shows them: the account page's value card, the account plan, the portfolio report,
the value page's ranking and lists, the management dashboard, the API and the exports.
They go through :func:`metrics_for` (lists and sums) and :func:`account_value` (one
account, built on it), so two pages can never show two amounts for one account.

**Freshness.** A change to an account's orders, costs or contact moments fires the
"accounts changed" hook; after the change commits, its listener marks the account
(``PendingRefresh``) and queues a refresh, which the worker runs within seconds. The
refresh recomputes those accounts, writes their rows and clears the marks it saw (a
mark added meanwhile stays for the next refresh); the daily whole-book recompute clears
the marks it saw too. While an account has a mark, the pages that show its stored
figures say "being recalculated" (``pending``), and so does the API (``pending``), so a
figure shown is either current or says that it is about to change.

One gap remains: a refresh that lands while a whole-book recompute is still reading is
overwritten by that recompute's older row for the account, and its mark is gone by
then; the account stays behind until its next change, the next recompute, or the daily
figure check, which reports and repairs it (``value.checks``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from relatiebeheer.core.clv import PresentValueResult, present_value
from relatiebeheer.core.value import InvestmentComparison, investment_versus_clv
from relatiebeheer.organisation.models import OrganisationSettings
from relatiebeheer.relations.models import Account
from relatiebeheer.users.access import account_visibility_q, sees_all_accounts
from relatiebeheer.users.models import User

from .models import AccountMetrics, MetricsRun, PendingRefresh


@dataclass(frozen=True)
class ValueCard:
    """An account's customer value and CLV as the snapshot holds them.

    ``computed`` is false when the account has no snapshot row yet (a new account before
    its first refresh): the money fields are then empty. ``pending`` says a refresh is
    queued because the account changed since ``as_of``'s figures were computed.
    """

    computed: bool
    pending: bool
    as_of: date | None
    orders: int
    revenue_total: Decimal | None
    average_order_value: Decimal | None
    margin: Decimal | None  # a fraction: 0.15 = 15 %
    margin_source: str | None  # "agreed", "observed" or "default"
    margin_source_label: str | None
    profit_per_order: Decimal | None
    period_years: int | None
    clv: Decimal | None
    clv_per_year: Decimal | None
    present_value: PresentValueResult | None
    discount_rate: Decimal
    value_this_year: Decimal | None
    value_last_year: Decimal | None
    investment: InvestmentComparison | None
    snapshot: AccountMetrics | None
    prediction_reason: dict[str, Any] | None


def metrics_for(actor: User) -> QuerySet[AccountMetrics]:
    """Snapshot rows of the accounts ``actor`` may see (with the account joined): the
    one read of stored customer value and CLV for lists, rankings, sums and exports."""
    # The access rule as a filter on the snapshot's own account column: for users who see
    # every account it is no filter at all (not a 100k-row IN subquery on each aggregate).
    visible = account_visibility_q(actor, prefix="account__")
    rows = (
        AccountMetrics.objects.all() if visible is None else AccountMetrics.objects.filter(visible)
    )
    return rows.select_related("account", "account__manager")


def with_pending(rows: QuerySet[AccountMetrics]) -> QuerySet[AccountMetrics]:
    """``rows`` with ``pending`` (a refresh is queued) on each; for pages of rows, not
    for sums over the book."""
    marks = PendingRefresh.objects.filter(account_id=OuterRef("account_id"))
    return rows.annotate(pending=Exists(marks))


def pending_accounts(account_ids: list[int]) -> set[int]:
    """Which of ``account_ids`` have a refresh queued (their stored figures will change)."""
    found: set[int] = set()
    for start in range(0, len(account_ids), 500):
        chunk = account_ids[start : start + 500]
        found.update(
            PendingRefresh.objects.filter(account_id__in=chunk).values_list("account_id", flat=True)
        )
    return found


def pending_count(actor: User) -> int:
    """How many of the accounts ``actor`` may see have a refresh queued."""
    marks = PendingRefresh.objects.all()
    if not sees_all_accounts(actor):
        marks = marks.filter(account_id__in=Account.objects.visible_to(actor).values("id"))
    return marks.values("account_id").distinct().count()


def account_value(*, actor: User, account: Account) -> ValueCard:
    """The customer value and CLV of one account (which ``actor`` may see), from the
    snapshot, with what follows from them: the present value at the discount rate and
    the costs since the first order against the CLV."""
    from .labels import MARGIN_SOURCE_CHOICES

    row = with_pending(metrics_for(actor).filter(account_id=account.pk)).first()
    if row is not None:
        pending = bool(row.pending)  # type: ignore[attr-defined]  # the annotation
    else:
        pending = PendingRefresh.objects.filter(account_id=account.pk).exists()
    settings = OrganisationSettings.load()
    rate = settings.discount_rate / 100
    run = MetricsRun.objects.order_by("-computed_at", "-id").only("prediction").first()
    reason = None
    if run is not None and not run.prediction.get("available"):
        reason = run.prediction
    clv = row.clv if row is not None else None
    years = row.period_years if row is not None else None
    pv = None
    investment = None
    if row is not None and clv is not None and years:
        if clv > 0:
            pv = present_value(clv, years=years, rate=rate)
        investment = investment_versus_clv(clv=clv, investment=row.costs_since_first_order)
    source = row.margin_source if row is not None else None
    return ValueCard(
        computed=row is not None,
        pending=pending,
        as_of=row.as_of if row is not None else None,
        orders=row.orders if row is not None else 0,
        revenue_total=row.revenue_total if row is not None else None,
        average_order_value=row.average_order_value if row is not None else None,
        margin=row.margin / 100 if row is not None and row.margin is not None else None,
        margin_source=source,
        margin_source_label=str(dict(MARGIN_SOURCE_CHOICES)[source]) if source else None,
        profit_per_order=row.profit_per_order if row is not None else None,
        period_years=years,
        clv=clv,
        clv_per_year=row.clv_per_year if row is not None else None,
        present_value=pv,
        discount_rate=rate,
        value_this_year=row.value_this_year if row is not None else None,
        value_last_year=row.value_last_year if row is not None else None,
        investment=investment,
        snapshot=row,
        prediction_reason=reason,
    )


def value_overview(actor: User) -> dict[str, Any]:
    """Figures for the customer-value page, computed in the database."""
    rows = metrics_for(actor)
    totals = rows.aggregate(
        accounts=Count("account"),
        with_orders=Count("account", filter=Q(orders__gt=0)),
        profit_12m=Sum("profit_12m"),
        value_this_year=Sum("value_this_year"),
        clv=Sum("clv"),
        predicted=Sum("predicted_clv"),
    )
    totals["pending"] = pending_count(actor)
    return totals


# --- value management -------------------------------------------------------------------

ADVICE = {
    # segment → (advice key, more/less/keep)
    "champions": "keep",
    "loyal": "keep",
    "potential_loyalist": "more",
    "new": "more",
    "promising": "more",
    "need_attention": "more",
    "about_to_sleep": "more",
    "at_risk": "more",
    "cannot_lose": "more",
    "hibernating": "less",
    "lost": "less",
}


def retention(
    actor: User, *, years: int = 4, today: date | None = None
) -> list[tuple[int, Decimal | None, int]]:
    """Per year: the share of last year's ordering accounts that ordered again this year.

    Returns (year, share or None, accounts that ordered that year), oldest first.
    Counted in the database (distinct account per year), over the accounts ``actor``
    may see.
    """
    from django.db.models.functions import ExtractYear

    from relatiebeheer.core.value import retention_by_year
    from relatiebeheer.sales.models import Order

    today = today or timezone.localdate()
    first_year = today.year - years
    if sees_all_accounts(actor):
        stored = _stored_retention(first_year + 1, today.year)
        if stored is not None:
            return stored
    rows = (
        Order.objects.visible_to(actor)
        .counting()
        .filter(credit_of__isnull=True, date__gte=date(first_year, 1, 1), date__lte=today)
        .annotate(year=ExtractYear("date"))
        .values_list("year", "account_id")
        .order_by()  # no default ordering columns inside the DISTINCT
        .distinct()
    )
    by_year: dict[int, set[int]] = {}
    for year, account_id in rows.iterator(chunk_size=10_000):
        by_year.setdefault(year, set()).add(account_id)
    shares = retention_by_year(by_year) if by_year else {}
    return [
        (year, shares.get(year), len(by_year.get(year, ())))
        for year in range(first_year + 1, today.year + 1)
    ]


def _stored_retention(first: int, last: int) -> list[tuple[int, Decimal | None, int]] | None:
    """The whole book's retention as the dashboard figures hold it (refreshed with every
    metrics recompute, like the rest of this page): counting distinct ordering accounts
    per year over millions of orders on every page view would take seconds. ``None``
    when a year is missing (no refresh yet), so the caller counts instead."""
    from relatiebeheer.core.value import retention_rate
    from relatiebeheer.reports.models import PeriodFigures

    stored = {
        row.period.year: row
        for row in PeriodFigures.objects.filter(
            manager__isnull=True,
            kind=PeriodFigures.Kind.YEAR,
            period__gte=date(first, 1, 1),
            period__lte=date(last, 1, 1),
        )
    }
    if any(year not in stored for year in range(first, last + 1)):
        return None
    return [
        (
            year,
            retention_rate(
                stored[year].retained_accounts or 0, stored[year].previous_accounts or 0
            ),
            stored[year].ordering_accounts,
        )
        for year in range(first, last + 1)
    ]


def pareto(actor: User, *, points: int = 50) -> dict[str, Any]:
    """Share of 12-month profit from the top 20 % of accounts, and a curve to draw it.

    Ranked by profit descending, then account id (the core's rule); the top is
    ceil(20 % × n) of the accounts with orders in the last 12 months.
    """
    import math

    import numpy as np

    rows = list(
        metrics_for(actor)
        .filter(orders_12m__gt=0)
        .order_by("-profit_12m", "account_id")
        .values_list("profit_12m", flat=True)
    )
    if not rows:
        return {"accounts": 0, "share": None, "curve": []}
    cents = np.array([int(v * 100) for v in rows], dtype=np.int64)
    total = int(cents.sum())
    top = math.ceil(0.2 * cents.size)
    share = Decimal(int(cents[:top].sum())) / Decimal(total) if total > 0 else None
    cumulative = np.cumsum(cents)
    steps = np.unique(np.linspace(1, cents.size, min(points, cents.size)).round().astype(int))
    curve = [
        {
            "accounts": float(k / cents.size),
            "profit": float(cumulative[k - 1] / total) if total > 0 else 0.0,
        }
        for k in steps
    ]
    return {"accounts": int(cents.size), "top": top, "share": share, "curve": curve}


def pyramid(actor: User) -> list[dict[str, Any]]:
    from .labels import PYRAMID_CHOICES

    rows = {
        row["pyramid_level"]: row
        for row in metrics_for(actor)
        .order_by()
        .values("pyramid_level")
        .annotate(accounts=Count("account"), profit=Sum("profit_12m"), revenue=Sum("revenue_12m"))
    }
    total_profit = sum((r["profit"] or 0 for r in rows.values()), Decimal(0))
    levels = []
    for key, label in PYRAMID_CHOICES:
        row = rows.get(key, {})
        profit = row.get("profit") or Decimal("0.00")
        levels.append(
            {
                "key": key,
                "label": label,
                "accounts": row.get("accounts", 0),
                "profit": profit,
                "share": (profit / total_profit) if total_profit > 0 else None,
            }
        )
    return levels


def rfm_grid(actor: User) -> dict[str, Any]:
    """Counts per segment, and per (R, FM) cell for the 5 × 5 grid."""
    from .labels import SEGMENT_CHOICES

    segments = dict(
        metrics_for(actor)
        .order_by()
        .values_list("segment")
        .annotate(n=Count("account"))
        .values_list("segment", "n")
    )
    return {
        "segments": [
            {
                "key": key,
                "label": label,
                "accounts": segments.get(key, 0),
                "advice": ADVICE.get(key),
            }
            for key, label in SEGMENT_CHOICES
        ]
    }


def high_value_at_risk(actor: User, *, limit: int = 10) -> QuerySet[AccountMetrics]:
    """Valuable accounts that are slipping: at risk / cannot lose, or P(alive) below 50 %."""
    return (
        metrics_for(actor)
        .filter(Q(segment__in=["at_risk", "cannot_lose"]) | Q(p_alive__lt=0.5, orders__gt=1))
        .filter(clv__gt=0)
        .order_by("-clv", "account_id")[:limit]
    )


def ranking(
    actor: User, *, order: str = "-value_this_year", limit: int = 25
) -> QuerySet[AccountMetrics]:
    """The accounts ``actor`` may see ranked by a stored figure, each with ``pending``."""
    allowed = {"-value_this_year", "-clv", "-predicted_clv", "-profit_12m", "-revenue_12m"}
    order = order if order in allowed else "-value_this_year"
    return with_pending(metrics_for(actor)).order_by(order, "account_id")[:limit]


def acquisition_budgets(actor: User, *, limit: int = 15) -> list[dict[str, Any]]:
    """Per industry: the average CLV per year of its customers — what one new customer
    of that kind may cost to win (the lesson: the CLV is the most you may spend)."""
    from django.db.models import Avg

    rows = (
        metrics_for(actor)
        .filter(orders__gt=0)
        .exclude(account__industry="")
        .values("account__industry")
        .annotate(accounts=Count("account"), budget=Avg("clv_per_year"), clv=Avg("clv"))
        .order_by("-budget")[:limit]
    )
    from relatiebeheer.core.money import quantize_money

    return [
        {
            "industry": r["account__industry"],
            "accounts": r["accounts"],
            # Avg over a cents column is a number of cents (float or Decimal by database).
            "budget": quantize_money(Decimal(str(r["budget"] or 0)) / 100),
            "clv": quantize_money(Decimal(str(r["clv"] or 0)) / 100),
        }
        for r in rows
    ]
