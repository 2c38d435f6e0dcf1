"""Background work: evaluate the programmes daily, and the members whose orders changed."""

from datetime import timedelta

from django_tasks import task

from relatiebeheer.ops import scheduler

# A change to more accounts than this is left to the next full evaluation.
PARTIAL_LIMIT = 2000


@task()
def evaluate_all() -> int:
    """The daily run: every programme for the whole book (idempotent)."""
    from .engine import evaluate

    return sum(report.tier_holders for report in evaluate())


@task()
def evaluate_accounts(account_ids: list[int]) -> int:
    """Re-evaluate the members of these accounts (after their orders changed)."""
    from .engine import evaluate

    return sum(report.members for report in evaluate(account_ids=list(account_ids)))


def accounts_changed(account_ids: list[int]) -> None:
    """The "accounts changed" listener: mark the accounts (so their history is re-read)
    and evaluate their members in the background."""
    from .engine import mark_dirty

    mark_dirty(account_ids)
    if len(account_ids) <= PARTIAL_LIMIT:
        evaluate_accounts.enqueue(account_ids=list(account_ids))


scheduler.register("loyalty.evaluate", timedelta(days=1), evaluate_all.enqueue)
