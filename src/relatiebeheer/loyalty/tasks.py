"""Background work: evaluate the programmes and store the scorecards daily, refresh the
accounts the "accounts changed" hook names, and re-evaluate a programme whose rules or
the scorecards whose weights changed."""

from __future__ import annotations

from datetime import timedelta

from django.utils.translation import gettext_lazy as _
from django_tasks import task

from relatiebeheer.ops import scheduler, status
from relatiebeheer.ops.retries import retry_policy

# A change to more accounts than this is left to the next full evaluation.
PARTIAL_LIMIT = 2000


@task()
def evaluate_all() -> int:
    """The daily run: every programme and every scorecard for the whole book (idempotent)."""
    from .bulk import evaluate

    return sum(report.tier_holders for report in evaluate())


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


@task()
def evaluate_pending() -> int:
    """Evaluate the accounts the "accounts changed" hook marked (at most PARTIAL_LIMIT at
    a time; the next poll takes the rest) and store their scorecards."""
    from . import pending
    from .bulk import evaluate

    marked, _read_at = pending.read()
    if not marked:
        return 0
    chosen = sorted(marked)[:PARTIAL_LIMIT]
    return sum(report.members for report in evaluate(account_ids=chosen))


def mark_pending(account_ids: list[int]) -> None:
    """The "accounts changed" listener inside the writer's transaction: mark the accounts
    (their figures wait for a refresh, and their history is re-read); the worker's poll
    evaluates them within seconds."""
    from . import pending

    if len(account_ids) <= PARTIAL_LIMIT:
        pending.mark(account_ids)


def after_large_change(account_ids: list[int]) -> None:
    """After the commit: a change to more accounts than a partial evaluation handles marks
    them (outside the writer's transaction, which stays short) and queues the whole
    book's evaluation."""
    from . import pending

    if len(account_ids) > PARTIAL_LIMIT:
        pending.mark(account_ids)
        evaluate_all.enqueue()


def poll_pending() -> bool:
    """The worker's poll: evaluate the marked accounts (one task at a time)."""
    from . import pending

    if not pending.PendingEvaluation.objects.exists():
        return False
    if scheduler.already_queued(evaluate_pending.module_path) or scheduler.already_queued(
        evaluate_all.module_path
    ):
        return False
    evaluate_pending.enqueue()
    return True


scheduler.register("loyalty.evaluate", timedelta(days=1), evaluate_all.enqueue)
scheduler.register_poll("loyalty.evaluate_pending", poll_pending)

# Evaluations and scorecards are computed from the orders and judgements as they are:
# running one twice gives the same tiers and scores (see ``evaluate_all``).
for _task in (evaluate_all, evaluate_programme_task, store_all_scorecards, evaluate_pending):
    retry_policy(_task, idempotent=True, why="evaluates from the data as it is")


def _last_evaluation():
    """When the whole book's loyalty evaluation last finished (the daily task)."""
    from django_tasks_db.models import DBTaskResult

    return (
        DBTaskResult.objects.filter(status="SUCCESSFUL", task_path=evaluate_all.module_path)
        .order_by("-finished_at")
        .values_list("finished_at", flat=True)
        .first()
    )


status.register_figure(
    "loyalty.last_evaluation", _("Last loyalty evaluation"), _last_evaluation, kind="time"
)
