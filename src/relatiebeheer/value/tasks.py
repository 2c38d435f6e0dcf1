"""Background work for the metric snapshot: refresh after changes, recompute daily."""

from datetime import timedelta

from django.utils.translation import gettext_lazy as _
from django_tasks import task

from relatiebeheer.ops import scheduler, status
from relatiebeheer.ops.retries import retry_policy


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


def mark_pending(account_ids: list[int]) -> None:
    """The "accounts changed" listener inside the writer's transaction: mark the accounts,
    so pages say their figures are being recalculated until the worker's poll refreshes
    them (within seconds). A change to more accounts than a refresh handles is left to
    the whole-book recompute queued after the commit."""
    from .services import FULL_RECOMPUTE_ABOVE, metrics_mark_pending

    if len(account_ids) <= FULL_RECOMPUTE_ABOVE:
        metrics_mark_pending(list(account_ids))


def after_large_change(account_ids: list[int]) -> None:
    """After the commit: thousands of accounts changed at once (an import) → one
    whole-book recompute instead of thousands of marks."""
    from .services import FULL_RECOMPUTE_ABOVE

    if len(account_ids) > FULL_RECOMPUTE_ABOVE:
        recompute_metrics.enqueue()


def poll_pending() -> bool:
    """The worker's poll: refresh the marked accounts (one task at a time)."""
    from .models import PendingRefresh

    path = refresh_account_metrics.module_path
    if not PendingRefresh.objects.exists() or scheduler.already_queued(path):
        return False
    refresh_account_metrics.enqueue(account_ids=[])
    return True


scheduler.register("metrics.recompute", timedelta(days=1), recompute_metrics.enqueue)
scheduler.register_poll("metrics.refresh_pending", poll_pending)

# Both recompute figures from the orders and costs as they are: running one twice
# gives the same figures.
retry_policy(refresh_account_metrics, idempotent=True, why="recomputes from the data as it is")
retry_policy(recompute_metrics, idempotent=True, why="recomputes from the data as it is")


def _last_recompute():
    from .models import MetricsRun

    return MetricsRun.objects.order_by("-computed_at").values_list("computed_at", flat=True).first()


status.register_figure(
    "metrics.last_recompute", _("Last recompute of the figures"), _last_recompute, kind="time"
)
