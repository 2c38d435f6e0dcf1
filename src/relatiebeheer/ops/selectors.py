"""Reads of the background work's state: the status page, ``relatiebeheer status`` and
``GET /api/v1/status`` all read :func:`system_status`.

Only administrators and sales managers may read it (``users.access.can_see_operations``);
anyone else gets :class:`~relatiebeheer.common.errors.PermissionRefused` (a friendly 403).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Max, Min
from django.utils import timezone

from relatiebeheer.common.errors import PermissionRefused
from relatiebeheer.users.access import can_see_operations, is_admin

from . import retries, status
from .models import WorkerHeartbeat

FAILED_WINDOW = timedelta(days=7)
FAILED_SHOWN = 50


@dataclass(frozen=True)
class WorkerSeen:
    worker_id: str
    pid: int
    host: str
    started_at: datetime
    last_seen: datetime


@dataclass(frozen=True)
class FailedTask:
    id: str
    task: str
    task_path: str
    enqueued_at: datetime
    finished_at: datetime | None
    attempts: int
    reason: str


@dataclass(frozen=True)
class FigureValue:
    key: str
    label: str
    kind: str
    value: Any


@dataclass
class SystemStatus:
    now: datetime
    worker_last_seen: datetime | None
    worker_silent: bool
    silent_after_seconds: int
    workers: list[WorkerSeen]
    queue_length: int
    oldest_waiting: datetime | None
    waiting_retry: int
    running: int
    failed: list[FailedTask]
    failed_count: int
    figures: list[FigureValue] = field(default_factory=list)
    can_retry: bool = False


def silent_after() -> timedelta:
    return timedelta(seconds=int(getattr(settings, "WORKER_SILENT_AFTER", 120)))


def worker_last_seen() -> datetime | None:
    return WorkerHeartbeat.objects.aggregate(last=Max("last_seen"))["last"]


def worker_is_silent(last_seen: datetime | None, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return last_seen is None or now - last_seen > silent_after()


def _check(actor) -> None:
    if not can_see_operations(actor):
        raise PermissionRefused()


def system_status(*, actor) -> SystemStatus:
    """The worker's heartbeat, the queue, failed tasks of the last 7 days and the figures
    other apps registered (outbox backlog, last recompute, last evaluation)."""
    from django_tasks_db.models import DBTaskResult, get_date_max

    _check(actor)
    now = timezone.now()
    last_seen = worker_last_seen()
    ready = DBTaskResult.objects.ready()
    queue = ready.order_by().aggregate(n=Min("enqueued_at"))
    failed_qs = DBTaskResult.objects.filter(
        status="FAILED", finished_at__gte=now - FAILED_WINDOW
    ).order_by("-finished_at")
    failed = [
        FailedTask(
            id=str(row.pk),
            task=row.task_path.rsplit(".", 1)[-1],
            task_path=row.task_path,
            enqueued_at=row.enqueued_at,
            finished_at=row.finished_at,
            attempts=retries.attempts(row),
            reason=retries.reason(row)[:300],
        )
        for row in failed_qs[:FAILED_SHOWN]
    ]
    return SystemStatus(
        now=now,
        worker_last_seen=last_seen,
        worker_silent=worker_is_silent(last_seen, now),
        silent_after_seconds=int(silent_after().total_seconds()),
        workers=[
            WorkerSeen(w.worker_id, w.pid, w.host, w.started_at, w.last_seen)
            for w in WorkerHeartbeat.objects.order_by("-last_seen")[:20]
        ],
        queue_length=ready.count(),
        oldest_waiting=queue["n"],
        waiting_retry=DBTaskResult.objects.filter(
            status="READY", run_after__gt=now, run_after__lt=get_date_max()
        ).count(),
        running=DBTaskResult.objects.filter(status="RUNNING").count(),
        failed=failed,
        failed_count=failed_qs.count(),
        figures=[FigureValue(f.key, str(f.label), f.kind, f.load()) for f in status.figures()],
        can_retry=is_admin(actor),
    )


def worker_warning(*, actor) -> dict | None:
    """For the dashboard: ``{"last_seen": …}`` when ``actor`` is an administrator and no
    worker was seen for ``WORKER_SILENT_AFTER`` seconds (2 minutes); otherwise ``None``."""
    if not is_admin(actor):
        return None
    last_seen = worker_last_seen()
    if not worker_is_silent(last_seen):
        return None
    return {"last_seen": last_seen, "minutes": int(silent_after().total_seconds() // 60)}
