"""Retries of failed background tasks, applied where the worker runs them.

django-tasks' database backend records a task as FAILED with its exception class and
traceback and never runs it again. The worker (:mod:`relatiebeheer.ops.worker`) calls
:func:`after_run` after each task: a failed task whose policy says it is *idempotent*
and that has attempts left (``settings.TASK_MAX_ATTEMPTS``, default 3) is put back in
the queue (status READY) to run after a growing delay (``TASK_RETRY_DELAY`` seconds,
doubled per attempt, at most ``TASK_RETRY_DELAY_MAX``); otherwise it stays FAILED with
its reason. The number of attempts is the number of workers that claimed the row (the
library appends one ``worker_ids`` entry per claim), so no table of our own is needed.

**Only idempotent tasks are retried.** Each task module declares every task's policy
with :func:`retry_policy` — whether running it twice is safe, and why — beside the task
itself; ``tests/test_worker_supervision.py`` fails when a task has no policy. Tasks of a
worker that died (``scheduler.recover_lost_tasks``) follow the same policy.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

RESULT_NOT_STORED = "The result could not be stored: the database failed while the task ran."


@dataclass(frozen=True)
class RetryPolicy:
    task_path: str
    idempotent: bool
    why: str


_policies: dict[str, RetryPolicy] = {}


def retry_policy(task, *, idempotent: bool, why: str) -> None:
    """Declare whether ``task`` may run again after a failure (``idempotent``) and why."""
    _policies[task.module_path] = RetryPolicy(task.module_path, idempotent, why)


def policy(task_path: str) -> RetryPolicy | None:
    if task_path not in _policies:
        # The policy is declared beside the task: importing its module declares it.
        from django.utils.module_loading import import_string

        try:
            import_string(task_path)
        except ImportError:
            return None
    return _policies.get(task_path)


def policies() -> dict[str, RetryPolicy]:
    return dict(_policies)


def max_attempts() -> int:
    return max(1, int(getattr(settings, "TASK_MAX_ATTEMPTS", 3)))


def retry_delay(attempt: int) -> timedelta:
    """The wait before attempt ``attempt + 1``: TASK_RETRY_DELAY doubled per attempt."""
    first = float(getattr(settings, "TASK_RETRY_DELAY", 10))
    cap = float(getattr(settings, "TASK_RETRY_DELAY_MAX", 3600))
    return timedelta(seconds=min(cap, first * 2 ** max(0, attempt - 1)))


def attempts(result) -> int:
    """How often the task was claimed (started) so far."""
    return len(result.worker_ids or [])


def will_retry(result) -> bool:
    rule = policy(result.task_path)
    return bool(rule and rule.idempotent and attempts(result) < max_attempts())


def after_run(result) -> bool:
    """Requeue ``result`` if it failed and may run again; return whether it was requeued."""
    if result.status != "FAILED":
        return False
    if not will_retry(result):
        logger.error(
            "task %s (%s) failed after %d attempt(s): %s",
            result.id,
            result.task_path,
            attempts(result),
            result.exception_class_path,
        )
        return False
    delay = retry_delay(attempts(result))
    requeued = requeue(result, run_after=timezone.now() + delay)
    if requeued:
        logger.warning(
            "task %s (%s) failed (attempt %d of %d: %s); trying again in %d s",
            result.id,
            result.task_path,
            attempts(result),
            max_attempts(),
            result.exception_class_path,
            delay.total_seconds(),
        )
    return requeued


def requeue(result, *, run_after=None, fresh: bool = False) -> bool:
    """Put a FAILED task back in the queue (only if it is still FAILED). ``fresh``: a
    person asked for it, so it gets a new set of attempts."""
    from django_tasks_db.models import DBTaskResult

    changes = {
        "status": "READY",
        "run_after": run_after or timezone.now(),
        "finished_at": None,
    }
    if fresh:
        changes["worker_ids"] = []
    with transaction.atomic():
        done = DBTaskResult.objects.filter(pk=result.pk, status="FAILED").update(**changes) == 1
    if done:
        for name, value in changes.items():
            setattr(result, name, value)
    return done


def mark_failed(result, *, reason: str, exception_class_path: str = "") -> None:
    """Record a task as failed with ``reason`` (when the library could not)."""
    from django_tasks_db.models import DBTaskResult

    from .scheduler import WorkerLost

    path = exception_class_path or f"{WorkerLost.__module__}.{WorkerLost.__qualname__}"
    now = timezone.now()
    DBTaskResult.objects.filter(pk=result.pk).update(
        status="FAILED", finished_at=now, exception_class_path=path, traceback=reason
    )
    result.status, result.finished_at = "FAILED", now
    result.exception_class_path, result.traceback = path, reason


def requeue_lost(results) -> list[str]:
    """Tasks of a dead worker (already marked failed) that may run again go back in the
    queue; return the ids of those that did."""
    return [str(result.pk) for result in results if after_run(result)]


def reason(result) -> str:
    """One line saying why a task failed: the last line of its traceback."""
    lines = [line for line in (result.traceback or "").strip().splitlines() if line.strip()]
    last = lines[-1].strip() if lines else ""
    return last or result.exception_class_path.rsplit(".", 1)[-1]
