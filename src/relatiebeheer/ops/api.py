"""API: the status of the background work, for monitoring (administrators and sales
managers), and the retry of a failed task (administrators)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from relatiebeheer.api.core import ERRORS, Problem

from . import selectors, services

router = Router(tags=["status"])


class WorkerOut(Schema):
    worker_id: str
    pid: int
    host: str
    started_at: datetime
    last_seen: datetime


class FailedTaskOut(Schema):
    id: str
    task: str
    task_path: str
    enqueued_at: datetime
    finished_at: datetime | None
    attempts: int
    reason: str


class FigureOut(Schema):
    key: str
    label: str
    kind: str
    value: Any


class StatusOut(Schema):
    now: datetime
    worker_last_seen: datetime | None
    worker_silent: bool
    silent_after_seconds: int
    workers: list[WorkerOut]
    queue_length: int
    oldest_waiting: datetime | None
    waiting_retry: int
    running: int
    failed_count: int
    failed: list[FailedTaskOut]
    figures: list[FigureOut]


class RetriedOut(Schema):
    id: str
    task_path: str
    status: str


@router.get(
    "/status",
    response={200: StatusOut, 401: Problem, 403: Problem},
    summary="The background work: worker heartbeat, queue, failed tasks, backlogs",
)
def get_status(request: HttpRequest):
    return selectors.system_status(actor=request.auth)


@router.post(
    "/status/tasks/{task_result_id}/retry",
    response={200: RetriedOut, **ERRORS},
    summary="Run a failed task again (administrators)",
)
def retry_task(request: HttpRequest, task_result_id: str):
    result = services.task_retry(actor=request.auth, task_id=task_result_id)
    return {"id": str(result.pk), "task_path": result.task_path, "status": result.status}
