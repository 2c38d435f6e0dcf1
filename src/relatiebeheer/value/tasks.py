"""Background work for the metric snapshot: refresh after changes, recompute daily."""

from datetime import timedelta

from django_tasks import task

from relatiebeheer.ops import scheduler


@task()
def refresh_account_metrics(account_ids: list[int]) -> int:
    from .services import metrics_refresh_accounts

    return metrics_refresh_accounts(account_ids)


@task()
def recompute_metrics() -> int:
    from .services import metrics_recompute

    return metrics_recompute().accounts


def schedule_refresh(account_ids: list[int]) -> None:
    """The "accounts changed" listener: refresh just those accounts in the background."""
    refresh_account_metrics.enqueue(account_ids=list(account_ids))


scheduler.register("metrics.recompute", timedelta(days=1), recompute_metrics.enqueue)
