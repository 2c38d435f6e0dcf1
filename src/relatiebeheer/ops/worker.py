"""The task worker that never stops on a database hiccup, and retries failed tasks.

django-tasks' database worker (``django_tasks_db``'s ``Worker``) exits on any database
error other than "database is locked" while it claims a task, and on any error while it
stores a result: one locked SQLite file or one dropped PostgreSQL connection stopped all
background work. :class:`ResilientWorker` runs the same loop, but a *transient* database
error (:func:`is_transient`: ``OperationalError`` — locked, lost connection, server gone
— and ``InterfaceError``) is logged, the connection is closed, and the loop waits a
growing delay (:func:`backoff_delay`, capped) before it tries again. It never exits on
one. A task whose result could not be stored because of such an error is settled on the
next pass (:meth:`ResilientWorker._settle`).

Failed tasks are retried at the point the worker runs them (``run_task``), not by
changing the library: see :mod:`relatiebeheer.ops.retries`.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable

from django.db import InterfaceError, OperationalError, close_old_connections, connections
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction

from . import retries

logger = logging.getLogger(__name__)

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (OperationalError, InterfaceError)
BACKOFF_FIRST = 0.5  # seconds after the first error in a row
BACKOFF_MAX = 30.0  # never wait longer than this between tries


def is_transient(exc: BaseException) -> bool:
    """A database error that may pass by itself (locked file, lost connection)."""
    return isinstance(exc, TRANSIENT_ERRORS)


def backoff_delay(
    failures: int, *, first: float = BACKOFF_FIRST, cap: float = BACKOFF_MAX
) -> float:
    """Seconds to wait after ``failures`` transient errors in a row: doubling, capped."""
    return min(cap, first * 2 ** max(0, failures - 1))


def close_connections() -> None:
    """Drop every database connection of this thread (a broken one is opened anew)."""
    for conn in connections.all(initialized_only=True):
        try:
            conn.close()
        except Exception:  # noqa: S110 - a connection that cannot even close is gone anyway
            pass


def with_backoff(
    action: Callable[[], object],
    *,
    what: str,
    sleep: Callable[[float], None] = time.sleep,
    attempts: int | None = None,
) -> object:
    """Run ``action()`` until it passes without a transient database error (startup steps
    of the worker: the first heartbeat, recovery, the first tick)."""
    failures = 0
    while True:
        try:
            return action()
        except TRANSIENT_ERRORS as exc:
            failures += 1
            if attempts is not None and failures >= attempts:
                raise
            delay = backoff_delay(failures)
            logger.warning(
                "worker: %s failed on a database error (%s); trying again in %.1f s",
                what,
                exc,
                delay,
            )
            close_connections()
            sleep(delay)


class ResilientWorker(Worker):
    """``django_tasks_db``'s worker loop, surviving transient database errors."""

    sleep: Callable[[float], None] = staticmethod(time.sleep)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.failures = 0  # transient errors in a row
        self.errors_survived = 0  # in this worker's life (tests, the status page)
        self._unsettled: DBTaskResult | None = None

    def run(self) -> None:
        logger.info("Starting worker worker_id=%s", self.worker_id)
        if self.startup_delay and self.interval:
            self.sleep(random.random())  # noqa: S311 - spread workers started together
        while self.running:
            try:
                done = self._step()
            except TRANSIENT_ERRORS as exc:
                self.failures += 1
                self.errors_survived += 1
                delay = backoff_delay(self.failures)
                logger.warning(
                    "worker %s: database error (%s: %s); trying again in %.1f s",
                    self.worker_id,
                    type(exc).__name__,
                    exc,
                    delay,
                )
                close_connections()
                if self.running:
                    self.sleep(delay)
                continue
            self.failures = 0
            if done:
                return

    def _step(self) -> bool:
        """One pass of the loop: claim and run one task. True: the worker is done."""
        close_old_connections()
        self._settle()
        tasks = DBTaskResult.objects.ready().filter(backend_name=self.backend_name)
        if not self.process_all_queues:
            tasks = tasks.filter(queue_name__in=self.queue_names)
        if self.excluded_queue_names:
            tasks = tasks.exclude(queue_name__in=self.excluded_queue_names)
        with exclusive_transaction(tasks.db):
            task_result = tasks.get_locked()
            if task_result is not None:
                task_result.claim(self.worker_id)
        if task_result is not None:
            self.run_task(task_result)
        if self.batch and task_result is None:
            logger.info("No more tasks for worker_id=%s - exiting.", self.worker_id)
            return True
        if self.max_tasks is not None and self._run_tasks >= self.max_tasks:
            logger.info("Ran %d tasks on worker_id=%s - exiting.", self._run_tasks, self.worker_id)
            return True
        close_old_connections()
        if self.running and task_result is None:
            self.sleep(self.interval)
        return False

    def run_task(self, db_task_result: DBTaskResult) -> None:
        """Run the task (the library records success or failure), then apply the retry
        policy to a failure. A database error while storing the result leaves the task
        to :meth:`_settle` on the next pass."""
        self._unsettled = db_task_result
        super().run_task(db_task_result)
        retries.after_run(db_task_result)
        self._unsettled = None

    def _settle(self) -> None:
        """A task whose result could not be stored (the database failed in between) is
        still RUNNING under this worker: record it as failed, then the retry policy
        decides whether it runs again."""
        result = self._unsettled
        if result is None:
            return
        result.refresh_from_db()
        if result.status == "RUNNING" and result.worker_ids[-1:] == [self.worker_id]:
            retries.mark_failed(result, reason=retries.RESULT_NOT_STORED)
        retries.after_run(result)
        self._unsettled = None
