"""Bulk writers of the loyalty programme: the evaluation of one programme (tiers, bonus
settlement, points), the points ledger brought in line with the orders, and the cached
points balances rebuilt from the ledger.

They derive loyalty's own figures from the orders and declare ``accounts=False``: they
change no data another figure is computed from (a settled bonus is booked through the
sales service, which fires the "accounts changed" hook for its accounts), and they are
what the hook's listener runs, so firing it would only queue themselves again. Each
writes one audit row with its counts when it wrote something.
"""

from __future__ import annotations

import time
from datetime import date

from django.db import transaction

from relatiebeheer.audit.services import audit_log
from relatiebeheer.common import writers
from relatiebeheer.common.writers import writer
from relatiebeheer.loyalty import pending
from relatiebeheer.users.models import User

from . import ledger
from .bonus import settle_bonus
from .config import load_config
from .engine import ProgrammeReport, evaluate_tiers
from .models import Programme


def _wrote(report: ProgrammeReport) -> bool:
    return bool(
        report.statuses_written
        or report.statuses_removed
        or report.tier_changes
        or report.bonus_settlements
        or report.bonus_periods_settled
        or any(report.points.values())
    )


@writer(accounts=False, bulk=True, locks=("loyalty.programme",))
def evaluate_programme(
    programme: Programme,
    *,
    as_of: date,
    account_ids: list[int] | None = None,
    actor: User | None = None,
    settle: bool = True,
    sync_points: bool = True,
    dirty: set[int] | None = None,
) -> ProgrammeReport:
    """Evaluate one programme on ``as_of`` for every account (or only ``account_ids``).

    See :mod:`.engine`. ``settle``: settle bonus periods that ended before ``as_of``
    (full runs only); ``sync_points``: book earned, confirmed, reversed and expired
    points. ``dirty``: accounts whose data changed (read from the hook's marks when not
    given; the marks are cleared by the whole evaluation, ``loyalty.bulk.evaluate``,
    once every programme and the scorecards have seen them).
    """
    if dirty is None:
        dirty, _read_at = pending.read(account_ids)
    report = ProgrammeReport(programme=programme.code, as_of=as_of.isoformat())
    timings = report.seconds
    started = time.perf_counter()
    config = load_config(programme)
    if config.tiers or config.scheme:
        evaluate_tiers(config, as_of, account_ids, dirty, report)
    timings["tiers"] = round(time.perf_counter() - started, 3)
    if settle and account_ids is None and config.scheme is not None:
        mark = time.perf_counter()
        settle_bonus(config, as_of, actor, report)
        timings["bonus_settlement"] = round(time.perf_counter() - mark, 3)
    if sync_points and programme.points_enabled:
        mark = time.perf_counter()
        report.points = ledger.sync(
            programme,
            as_of=as_of,
            account_ids=account_ids,
            since=None if account_ids is not None else programme.evaluated_through,
        )
        timings["points"] = round(time.perf_counter() - mark, 3)
    with transaction.atomic():
        writers.lock(Programme.objects.filter(pk=programme.pk))
        if account_ids is None and programme.evaluated_through != as_of:
            Programme.objects.filter(pk=programme.pk).update(evaluated_through=as_of)
            programme.evaluated_through = as_of
        if _wrote(report):
            audit_log(
                actor=actor,
                action="loyalty.programme.evaluate",
                obj=programme,
                extra={
                    "as_of": report.as_of,
                    "accounts": None if account_ids is None else len(account_ids),
                    "statuses_written": report.statuses_written,
                    "statuses_removed": report.statuses_removed,
                    "tier_changes": report.tier_changes,
                    "bonus_settlements": report.bonus_settlements,
                    "points": report.points,
                },
            )
        else:
            writers.nothing_to_write()
    timings["total"] = round(time.perf_counter() - started, 3)
    return report


@writer(accounts=False, bulk=True, locks=("loyalty.programme",))
def points_sync(
    programme: Programme,
    *,
    as_of: date,
    account_ids: list[int] | None = None,
    since: date | None = None,
    actor: User | None = None,
) -> dict[str, int]:
    """Bring the ledger in line with the orders: earn, confirm, reverse, expire.

    Set-based where it can be: the orders without an earn entry are found with one
    query and booked in bulk under the programme's row lock; confirmations, reversals
    and expiries lock and fold only the points accounts they concern. Expiries are
    booked in full runs (``account_ids`` None) for lots that expired since ``since`` (the
    previous evaluation; all of them when None). Idempotent: a second run books nothing.
    """
    counts = ledger.sync(programme, as_of=as_of, account_ids=account_ids, since=since)
    if any(counts.values()):
        audit_log(actor=actor, action="points.sync", obj=programme, extra=dict(counts))
    else:
        writers.nothing_to_write()
    return counts


@writer(accounts=False, bulk=True, locks=("loyalty.pointsaccount",))
def points_rebuild(programme: Programme | None = None, *, actor: User | None = None) -> int:
    """Set every cached balance that differs from its ledger; return how many were wrong.

    The differences are found set-based (:func:`.ledger.cache_differences`); each is
    rebuilt under its points account's row lock.
    """
    _checked, differences = ledger.cache_differences(programme)
    repaired = sum(ledger.repair_cache(d.points_account_id) for d in differences)
    if repaired:
        audit_log(
            actor=actor,
            action="points.rebuild",
            obj=programme,
            extra={"repaired": repaired},
        )
    else:
        writers.nothing_to_write()
    return repaired
