"""The metric snapshot checked against a fresh computation (``relatiebeheer check-figures``).

Each stored row is recomputed for its own day (``as_of``: the last full run's, or a
later one for a row refreshed since) and compared on the account's own figures: order
counts and dates, revenue, profit, customer value, costs, the margin and its source,
average order value, W, the CLV and its period, recency. The RFM scores, segment,
pyramid level and the prediction are left out: they rank an account among all the
others (or come from a fitted model), so they move when *other* accounts change, and
the daily recompute re-ranks them anyway. Accounts with a refresh queued are skipped
(their row is known to be behind and says so on every page). Repair writes fresh rows
for the accounts that differ or are missing, scored against the last run like a
refresh, and deletes rows of accounts that no longer exist; with more than 2,000 rows
wrong it recomputes the whole book instead.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np

from relatiebeheer.core.money import from_cents
from relatiebeheer.ops.figure_checks import CheckResult
from relatiebeheer.relations.models import Account

from .compute import Computed, compute, predict
from .models import AccountMetrics, MetricsRun, PendingRefresh
from .services import FULL_RECOMPUTE_ABOVE

# (model field, key in Computed.columns, kind)
COMPARED = [
    ("orders", "orders", "int"),
    ("orders_12m", "orders_12m", "int"),
    ("first_order", "first_order", "date"),
    ("last_order", "last_order", "date"),
    ("revenue_total", "revenue_total", "money"),
    ("profit_total", "profit_total", "money"),
    ("revenue_12m", "revenue_12m", "money"),
    ("profit_12m", "profit_12m", "money"),
    ("revenue_this_year", "revenue_this_year", "money"),
    ("revenue_last_year", "revenue_last_year", "money"),
    ("value_this_year", "value_this_year", "money"),
    ("value_last_year", "value_last_year", "money"),
    ("costs_since_first_order", "costs_since_first_order", "money"),
    ("margin", "margin_bp", "margin"),
    ("margin_source", "margin_source", "str"),
    ("average_order_value", "average_order_value", "money_if_orders"),
    ("profit_per_order", "profit_per_order", "money_if_orders"),
    ("period_years", "period_years", "int_if_orders"),
    ("clv", "clv", "money_if_orders"),
    ("clv_per_year", "clv_per_year", "money_if_orders"),
    ("recency_days", "recency_days", "int_if_orders"),
]
FIELDS = [name for name, _key, _kind in COMPARED]


def _fresh_value(computed: Computed, i: int, key: str, kind: str) -> Any:
    value = computed.columns[key][i]
    if kind.endswith("_if_orders") and not computed.columns["has_orders"][i]:
        return None
    if kind.startswith("money"):
        return from_cents(int(value))
    if kind.startswith("int"):
        return int(value)
    if kind == "date":
        return None if np.isnat(value) else value.astype(object)
    if kind == "margin":
        return (Decimal(int(value)) / 100).quantize(Decimal("0.01"))
    return str(value)


def _fresh_rows(computed: Computed) -> dict[int, tuple]:
    return {
        int(account_id): tuple(
            _fresh_value(computed, i, key, kind) for _name, key, kind in COMPARED
        )
        for i, account_id in enumerate(computed.account_ids)
    }


def _compute(day: date, ids: list[int], **options: Any) -> Computed:
    """``compute()`` for ``ids``; for many, the whole book's pass (one query, not a list
    of ids longer than a database takes as parameters), scored against the last run."""
    if len(ids) <= FULL_RECOMPUTE_ABOVE:
        return compute(day, ids, **options)
    computed = compute(day)
    keep = np.isin(computed.account_ids, np.asarray(ids, dtype=np.int64))
    computed.account_ids = computed.account_ids[keep]
    computed.columns = {name: values[keep] for name, values in computed.columns.items()}
    return computed


def snapshot_check(*, repair: bool) -> CheckResult:
    """Compare every stored row with a fresh ``compute()`` of its day; with ``repair``
    write fresh rows where they differ (see the module docstring)."""
    result = CheckResult("value.snapshot")
    run = MetricsRun.objects.order_by("-computed_at", "-id").first()
    if run is None:
        return result  # nothing kept yet: nothing to check
    pending = set(PendingRefresh.objects.values_list("account_id", flat=True))
    stored = {
        row[0]: tuple(row[1:])
        for row in AccountMetrics.objects.values_list("account_id", "as_of", *FIELDS)
    }
    days: dict[date, list[int]] = defaultdict(list)
    for account_id, values in stored.items():
        days[values[0]].append(account_id)
    existing = set(Account.objects.values_list("pk", flat=True))
    days[run.as_of].extend(sorted(existing - stored.keys()))  # missing rows: the run's day
    wrong: dict[date, list[int]] = defaultdict(list)
    for day, ids in sorted(days.items()):
        ids = sorted(set(ids) & existing - pending)
        if not ids:
            continue
        fresh = _fresh_rows(_compute(day, ids, score=False))
        for account_id in ids:
            result.checked += 1
            now = fresh.get(account_id)
            kept = stored[account_id][1:] if account_id in stored else None
            if kept == now:
                continue
            wrong[day].append(account_id)
            if kept is None:
                result.differ(f"account {account_id}: no row")
                continue
            changed = [
                f"{name} {old} → {new}"
                for name, old, new in zip(FIELDS, kept, now or (), strict=False)
                if old != new
            ]
            result.differ(f"account {account_id} ({day}): {', '.join(changed)}")
    gone = sorted(stored.keys() - existing)
    for account_id in gone:
        result.checked += 1
        result.differ(f"account {account_id}: a row for an account that no longer exists")
    if repair and result.differences:
        from .services import metrics_recompute, metrics_store_rows

        if sum(len(ids) for ids in wrong.values()) > FULL_RECOMPUTE_ABOVE:
            # So many rows wrong: the whole recompute (as the refresh does for many).
            metrics_recompute(as_of=run.as_of)
            result.repaired = result.differences
            return result
        for day, ids in wrong.items():
            computed = compute(day, ids, run_stats=run.stats)
            predict(computed, params=run.prediction)
            result.repaired += metrics_store_rows(computed)
        if gone:
            AccountMetrics.objects.filter(account_id__in=gone).delete()
            result.repaired += len(gone)
    return result
