"""Loyalty's kept figures, checked against a fresh computation (``relatiebeheer
check-figures``; the worker runs it daily).

* **Cached points balances** (``PointsAccount.balance`` and ``pending``) against the
  append-only ledger they summarise: the balance is the sum of the entries, the pending
  points what the folded ledger leaves in unconfirmed earns. Repaired under the points
  account's row lock.

Tier statuses and scorecards are recomputed from the orders by the daily evaluation
itself (and for the accounts the hook names, at once), which writes only what differs:
a separate check would run the same evaluation a second time.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from relatiebeheer.ops.figure_checks import CheckResult, register_figure_check

from .programme import ledger

POINTS_CHECK = "loyalty.points"


def check_points_balances(*, repair: bool) -> CheckResult:
    result = CheckResult(name=POINTS_CHECK)
    result.checked, differences = ledger.cache_differences()
    for difference in differences:
        (balance, pending), (should, should_pending) = difference.cached, difference.ledger
        result.differ(
            f"points account {difference.points_account_id}: cached {balance} "
            f"(pending {pending}), ledger {should} (pending {should_pending})"
        )
        if repair and ledger.repair_cache(difference.points_account_id):
            result.repaired += 1
    return result


def register() -> None:
    register_figure_check(
        POINTS_CHECK,
        _("Cached points balances against the points ledger"),
        check_points_balances,
        order=60,
    )
