"""Background work for the metric snapshot: refresh after changes, recompute daily."""

from datetime import timedelta

from django_tasks import task

from relatiebeheer.ops import scheduler


@task()
def refresh_account_metrics(account_ids: list[int]) -> int:
    """Refresh ``account_ids`` and every other account with a pending mark."""
    from .services import metrics_refresh_accounts

    return metrics_refresh_accounts(account_ids)


@task()
def recompute_metrics() -> int:
    """The daily whole-book recompute: the same sequence as ``relatiebeheer recompute``."""
    from .services import metrics_recompute

    return metrics_recompute().accounts


def schedule_refresh(account_ids: list[int]) -> None:
    """The "accounts changed" listener (after the change committed): mark the accounts,
    so pages say their figures are being recalculated, and refresh them in the
    background."""
    from .services import metrics_mark_pending

    metrics_mark_pending(list(account_ids))
    refresh_account_metrics.enqueue(account_ids=list(account_ids))


scheduler.register("metrics.recompute", timedelta(days=1), recompute_metrics.enqueue)
