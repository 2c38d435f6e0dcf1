"""A small scheduler beside the task worker.

The django-tasks database backend has no scheduler and no retries. The worker runs
:func:`tick` every few seconds: each registered job whose time slot has come is
enqueued once (the ``ScheduledRun`` unique constraint makes that idempotent, with
any number of workers), and tasks left RUNNING by a worker that died are marked
failed with :class:`WorkerLost`, so features that care (the outbox) can flag their
work as "delivery unknown" instead of repeating it blindly; tasks declared idempotent
go back in the queue (``ops.retries``).
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import ScheduledRun, WorkerHeartbeat

logger = logging.getLogger(__name__)
HEARTBEAT_TIMEOUT = timedelta(seconds=90)


class WorkerLost(RuntimeError):
    """The worker running this task stopped (killed or crashed) before it finished."""


@dataclass(frozen=True)
class Job:
    name: str
    every: timedelta
    enqueue: Callable[[], object]


_jobs: dict[str, Job] = {}
_polls: dict[str, Callable[[], object]] = {}
_recoverers: list[Callable[[list[str]], None]] = []


def register(name: str, every: timedelta, enqueue: Callable[[], object]) -> None:
    """Run ``enqueue()`` once per ``every`` (slots are aligned to the epoch)."""
    _jobs[name] = Job(name, every, enqueue)


def register_poll(name: str, poll: Callable[[], object]) -> None:
    """Run ``poll()`` in every worker every ``--poll`` seconds (2 by default; the
    scheduled jobs tick every ``--tick``, 10): a cheap look for marked work (accounts
    whose figures wait for a refresh) that queues a task when there is some. It must be
    idempotent: several workers poll."""
    _polls[name] = poll


def poll() -> list[str]:
    """Run every registered poll; return the names of those that queued work."""
    queued = []
    for name, check in _polls.items():
        try:
            if check():
                queued.append(name)
        except Exception:  # one failing poll must not stop the others or the tick
            logger.exception("poll %s failed", name)
    return queued


def already_queued(task_path: str) -> bool:
    """Whether a task of ``task_path`` waits to run (so a poll need not queue another)."""
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.ready().filter(task_path=task_path).exists()


def on_tasks_lost(callback: Callable[[list[str]], None]) -> None:
    """``callback(task_paths)`` runs after tasks of dead workers were marked failed."""
    _recoverers.append(callback)


def heartbeat(worker_id: str, started_at) -> None:
    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={
            "pid": os.getpid(),
            "host": socket.gethostname()[:200],
            "started_at": started_at,
            "last_seen": now,
        },
    )


def due_jobs(now) -> list[tuple[Job, int]]:
    epoch = int(now.timestamp())
    return [(job, epoch // int(job.every.total_seconds())) for job in _jobs.values()]


def tick(now=None) -> list[str]:
    """Enqueue the jobs whose slot has come and not been enqueued yet; return their names."""
    now = now or timezone.now()
    started = []
    for job, slot in due_jobs(now):
        try:
            with transaction.atomic():
                run = ScheduledRun.objects.create(job=job.name, slot=slot)
                result = job.enqueue()
                run.task_id = str(getattr(result, "id", ""))[:64]
                run.save(update_fields=["task_id"])
        except IntegrityError:
            continue  # another worker (or an earlier tick) enqueued this slot
        started.append(job.name)
    return started


def recover_lost_tasks(now=None, *, dead: tuple[str, ...] = ()) -> int:
    """Mark tasks RUNNING on workers without a recent heartbeat (or on the workers named
    in ``dead``) as failed (WorkerLost)."""
    from django_tasks_db.models import DBTaskResult

    now = now or timezone.now()
    alive = set(
        WorkerHeartbeat.objects.filter(last_seen__gte=now - HEARTBEAT_TIMEOUT).values_list(
            "worker_id", flat=True
        )
    ) - set(dead)
    lost, paths = [], []
    for result in DBTaskResult.objects.filter(status="RUNNING").only(
        "id", "worker_ids", "task_path"
    ):
        worker = result.worker_ids[-1] if result.worker_ids else None
        if worker not in alive:
            lost.append(result.id)
            paths.append(result.task_path)
    if lost:
        DBTaskResult.objects.filter(id__in=lost, status="RUNNING").update(
            status="FAILED",
            finished_at=now,
            exception_class_path=f"{WorkerLost.__module__}.{WorkerLost.__qualname__}",
            traceback="The worker running this task stopped before it finished.",
        )
        logger.warning("marked %d task(s) of stopped workers as failed", len(lost))
        from . import retries

        retries.requeue_lost(DBTaskResult.objects.filter(id__in=lost, status="FAILED"))
        for callback in _recoverers:
            callback(paths)
    WorkerHeartbeat.objects.filter(last_seen__lt=now - HEARTBEAT_TIMEOUT * 10).delete()
    return len(lost)


def recover_dead_process(pid: int, host: str | None = None) -> int:
    """A supervisor saw its worker process ``pid`` on ``host`` (default: this machine)
    exit: its tasks are lost now, not only once its heartbeat has aged. Returns the
    number of tasks marked lost (those declared idempotent go back in the queue)."""
    host = (host or socket.gethostname())[:200]
    dead = tuple(
        WorkerHeartbeat.objects.filter(pid=pid, host=host).values_list("worker_id", flat=True)
    )
    if not dead:
        return 0
    # The heartbeat row stays: "last seen" on the status page is still true, and it ages
    # out like any other.
    return recover_lost_tasks(dead=dead)
