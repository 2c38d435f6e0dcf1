"""Background work: evaluate the programmes and store the scorecards daily, refresh the
accounts the "accounts changed" hook names, and re-evaluate a programme whose rules or
the scorecards whose weights changed."""

from __future__ import annotations

from datetime import timedelta

from django_tasks import task

from relatiebeheer.ops import scheduler

# A change to more accounts than this is left to the next full evaluation.
PARTIAL_LIMIT = 2000


@task()
def evaluate_all() -> int:
    """The daily run: every programme and every scorecard for the whole book (idempotent)."""
    from .bulk import evaluate

    return sum(report.tier_holders for report in evaluate())


@task()
def evaluate_accounts(account_ids: list[int]) -> int:
    """Re-evaluate the members of these accounts and store their scorecards."""
    from .bulk import evaluate

    return sum(report.members for report in evaluate(account_ids=list(account_ids)))


@task()
def evaluate_programme_task(programme_id: int) -> int:
    """Evaluate one programme for the whole book (after its rules changed)."""
    from django.utils import timezone

    from .programme.bulk import evaluate_programme
    from .programme.models import Programme

    programme = Programme.objects.filter(pk=programme_id, active=True).first()
    if programme is None:
        return 0
    return evaluate_programme(programme, as_of=timezone.localdate()).tier_holders


@task()
def store_all_scorecards() -> int:
    """Store every scorecard again (after the index weights or the norm changed)."""
    from .drivers.bulk import store_scorecards

    return store_scorecards()


def accounts_changed(account_ids: list[int]) -> None:
    """The "accounts changed" listener: mark the accounts (their figures wait for a
    refresh, and their history is re-read) and evaluate them in the background."""
    from . import pending

    pending.mark(account_ids)
    if len(account_ids) <= PARTIAL_LIMIT:
        evaluate_accounts.enqueue(account_ids=list(account_ids))


scheduler.register("loyalty.evaluate", timedelta(days=1), evaluate_all.enqueue)
