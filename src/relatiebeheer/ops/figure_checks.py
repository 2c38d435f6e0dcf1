"""Kept figures checked against a fresh computation, and repaired.

Some figures are kept rather than computed on every read, because computing them on a
big book takes too long for a page: the metric snapshot, the dashboard's period
figures, the monthly survey answer counts, the cached points balances. Each app that
keeps such a figure registers a *check* here (in its ``ready()``): it recomputes the
figure from the rows it summarises, compares, and — when asked — writes the fresh value
where it differs, in one transaction.

``relatiebeheer check-figures`` runs every check and reports what differed; the worker
runs it daily (``figures.check``). A difference is a bug or an interrupted refresh, so
it is reported (and audited) even when it is repaired.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction

from relatiebeheer.audit.services import audit_log
from relatiebeheer.common.writers import writer
from relatiebeheer.users.models import User


@dataclass
class CheckResult:
    """What one check found: how many figures it compared, how many differed (with a
    few examples to show), and how many it wrote back."""

    name: str
    checked: int = 0
    differences: int = 0
    repaired: int = 0
    examples: list[str] = field(default_factory=list)

    def differ(self, example: str) -> None:
        self.differences += 1
        if len(self.examples) < 10:
            self.examples.append(example)


Check = Callable[..., CheckResult]


@dataclass(frozen=True)
class _Registered:
    name: str
    label: str
    check: Check
    order: int


_checks: dict[str, _Registered] = {}


def register_figure_check(name: str, label: str, check: Check, *, order: int = 100) -> None:
    """``check(repair: bool) -> CheckResult``; ``label`` says in words what is kept."""
    _checks[name] = _Registered(name, label, check, order)


def registered_checks() -> list[_Registered]:
    return sorted(_checks.values(), key=lambda c: (c.order, c.name))


@writer(accounts=False)
def check_figures(
    *, actor: User | None = None, repair: bool = True, only: list[str] | None = None
) -> list[CheckResult]:
    """Run the checks (or ``only`` these); with ``repair`` each writes back what differs
    in its own transaction. One audit row records the counts (never values)."""
    results = []
    for registered in registered_checks():
        if only and registered.name not in only:
            continue
        with transaction.atomic():
            result = registered.check(repair=repair)
        result.name = registered.name
        results.append(result)
    audit_log(
        actor=actor,
        action="figures.check",
        extra={
            r.name: {"checked": r.checked, "differences": r.differences, "repaired": r.repaired}
            for r in results
        },
    )
    return results


def _daily() -> None:
    from .tasks import check_figures_task

    check_figures_task.enqueue()


def register_schedule() -> None:
    from . import scheduler

    scheduler.register("figures.check", timedelta(days=1), _daily)
