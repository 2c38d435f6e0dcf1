"""The worker never stays dead: it survives transient database errors, and failed tasks
are retried by their policy.

The worker loop (``ops.worker.ResilientWorker``) runs in this process against the test
database; a database error is injected (monkeypatch) where the worker claims a task or
stores its result, and the test shows that the loop goes on, waits a growing, capped
delay, and that the tasks queued before and after still run. Retries: a task declared
idempotent that fails runs again until ``TASK_MAX_ATTEMPTS``; then it is failed with its
reason; a task not declared idempotent runs once.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil

import pytest
from django.db import InterfaceError, OperationalError
from django_tasks import task
from django_tasks.base import Task
from django_tasks_db.models import DBTaskResult, DBTaskResultQuerySet

import relatiebeheer
from relatiebeheer.ops import retries
from relatiebeheer.ops.worker import BACKOFF_MAX, ResilientWorker, backoff_delay

pytestmark = pytest.mark.django_db(transaction=True)

RAN: list[str] = []
ATTEMPTS: dict[str, int] = {}


@task()
def record(label: str) -> str:
    RAN.append(label)
    return label


@task()
def fails_first(label: str, times: int) -> str:
    ATTEMPTS[label] = ATTEMPTS.get(label, 0) + 1
    if ATTEMPTS[label] <= times:
        raise ValueError(f"boom {ATTEMPTS[label]}")
    RAN.append(label)
    return label


@task()
def not_idempotent() -> None:
    ATTEMPTS["once"] = ATTEMPTS.get("once", 0) + 1
    raise ValueError("refused")


retry_policy = retries.retry_policy
retry_policy(record, idempotent=True, why="test task")
retry_policy(fails_first, idempotent=True, why="test task")
retry_policy(not_idempotent, idempotent=False, why="test task")


@pytest.fixture(autouse=True)
def _clean():
    RAN.clear()
    ATTEMPTS.clear()


def _worker(batch=True, **kwargs) -> ResilientWorker:
    worker = ResilientWorker(
        queue_names=["*"],
        interval=0,
        batch=batch,
        backend_name="default",
        startup_delay=False,
        max_tasks=kwargs.pop("max_tasks", None),
        worker_id="w-test",
        excluded_queue_names=[],
    )
    worker.slept = []
    worker.sleep = worker.slept.append  # no real waiting; the delays are recorded
    return worker


def _failing(times: int, exc: BaseException, real):
    calls = {"n": 0}

    def wrapper(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] <= times:
            raise exc
        return real(*args, **kwargs)

    return wrapper


def test_backoff_grows_and_is_capped():
    delays = [backoff_delay(n) for n in range(1, 12)]
    assert delays[:4] == [0.5, 1.0, 2.0, 4.0]
    assert delays == sorted(delays)
    assert max(delays) == BACKOFF_MAX == 30


def test_a_locked_database_or_lost_connection_does_not_stop_the_worker(monkeypatch, caplog):
    # Given two tasks queued, and a database that fails the worker's claim 8 times
    record.enqueue("before-1")
    record.enqueue("before-2")
    errors = [OperationalError("database is locked")] * 5 + [
        InterfaceError("connection already closed"),
        OperationalError("server closed the connection unexpectedly"),
        OperationalError("database is locked"),
    ]
    real = DBTaskResultQuerySet.get_locked
    calls = {"n": 0}

    def flaky_get_locked(self):
        calls["n"] += 1
        if calls["n"] <= len(errors):
            raise errors[calls["n"] - 1]
        return real(self)

    monkeypatch.setattr(DBTaskResultQuerySet, "get_locked", flaky_get_locked)
    worker = _worker()

    # When the worker runs until the queue is empty
    with caplog.at_level(logging.WARNING, logger="relatiebeheer.ops.worker"):
        worker.run()

    # Then it went on after every error, waiting longer each time (capped), and ran both
    assert worker.errors_survived == 8
    assert worker.slept == [backoff_delay(n) for n in range(1, 9)]
    assert sorted(RAN) == ["before-1", "before-2"]
    assert DBTaskResult.objects.filter(status="SUCCESSFUL").count() == 2
    warnings = [r.getMessage() for r in caplog.records if "database error" in r.getMessage()]
    assert len(warnings) == 8
    assert "database is locked" in warnings[0]


def test_the_worker_keeps_trying_for_as_long_as_the_database_is_away(monkeypatch):
    # Given a database that fails 40 times in a row (far past the cap)
    record.enqueue("later")
    real = DBTaskResultQuerySet.get_locked
    monkeypatch.setattr(
        DBTaskResultQuerySet,
        "get_locked",
        _failing(40, OperationalError("database is locked"), real),
    )
    worker = _worker()
    worker.run()
    # Then it never exited: the delays stop growing at the cap, and the task ran after all
    assert len(worker.slept) == 40
    assert worker.slept[-1] == BACKOFF_MAX
    assert RAN == ["later"]


def test_a_task_queued_after_the_errors_still_runs(monkeypatch):
    # Given a worker that met errors on its first passes (not batch: it keeps polling)
    real = DBTaskResultQuerySet.get_locked
    monkeypatch.setattr(
        DBTaskResultQuerySet,
        "get_locked",
        _failing(3, OperationalError("database is locked"), real),
    )
    worker = _worker(batch=False, max_tasks=2)
    record.enqueue("first")
    enqueued_late = []

    def sleep(seconds):
        worker.slept.append(seconds)
        if len(worker.slept) == 3 and not enqueued_late:
            enqueued_late.append(record.enqueue("queued-after-the-errors"))

    worker.sleep = sleep
    worker.run()
    assert RAN == ["first", "queued-after-the-errors"]


def test_a_connection_lost_while_storing_the_result_is_settled_and_the_task_runs_again(
    monkeypatch, settings
):
    # Given storing results fails: first success, then the failure too (the connection is gone)
    settings.TASK_RETRY_DELAY = 0
    result = record.enqueue("stored-late")
    lost = OperationalError("server closed the connection unexpectedly")
    monkeypatch.setattr(
        DBTaskResult, "set_successful", _failing(1, lost, DBTaskResult.set_successful)
    )
    monkeypatch.setattr(DBTaskResult, "set_failed", _failing(1, lost, DBTaskResult.set_failed))
    worker = _worker()
    worker.run()
    # Then the worker survived, recorded the attempt as failed and ran the task again
    assert worker.errors_survived == 1
    row = DBTaskResult.objects.get(pk=result.id)
    assert row.status == "SUCCESSFUL"
    assert len(row.worker_ids) == 2
    assert RAN == ["stored-late", "stored-late"]


def test_a_failing_idempotent_task_is_retried_with_growing_delays(settings, monkeypatch):
    settings.TASK_MAX_ATTEMPTS = 3
    settings.TASK_RETRY_DELAY = 0
    result = fails_first.enqueue("twice", 2)
    _worker().run()
    row = DBTaskResult.objects.get(pk=result.id)
    assert (row.status, ATTEMPTS["twice"], len(row.worker_ids)) == ("SUCCESSFUL", 3, 3)

    settings.TASK_RETRY_DELAY = 10
    assert [retries.retry_delay(n).total_seconds() for n in (1, 2, 3)] == [10, 20, 40]
    settings.TASK_RETRY_DELAY_MAX = 15
    assert retries.retry_delay(3).total_seconds() == 15


def test_a_retry_waits_its_delay(settings):
    settings.TASK_RETRY_DELAY = 3600
    result = fails_first.enqueue("later", 1)
    _worker().run()  # batch: the retry is not due yet, so the worker stops
    row = DBTaskResult.objects.get(pk=result.id)
    assert row.status == "READY"
    assert ATTEMPTS["later"] == 1
    assert row.run_after > row.started_at
    assert retries.reason(row) == "ValueError: boom 1"


def test_a_task_failing_every_attempt_is_failed_with_its_reason(settings):
    settings.TASK_MAX_ATTEMPTS = 3
    settings.TASK_RETRY_DELAY = 0
    result = fails_first.enqueue("always", 99)
    _worker().run()
    row = DBTaskResult.objects.get(pk=result.id)
    assert row.status == "FAILED"
    assert ATTEMPTS["always"] == 3
    assert row.exception_class_path == "builtins.ValueError"
    assert retries.reason(row) == "ValueError: boom 3"


def test_a_task_not_declared_idempotent_runs_once(settings):
    settings.TASK_RETRY_DELAY = 0
    result = not_idempotent.enqueue()
    _worker().run()
    assert DBTaskResult.objects.get(pk=result.id).status == "FAILED"
    assert ATTEMPTS["once"] == 1


def _all_tasks():
    for info in pkgutil.walk_packages(relatiebeheer.__path__, "relatiebeheer."):
        if info.name.endswith(".tasks"):
            module = importlib.import_module(info.name)
            for obj in vars(module).values():
                if isinstance(obj, Task) and obj.func.__module__ == module.__name__:
                    yield obj


def test_every_task_declares_whether_it_may_be_retried():
    tasks = list(_all_tasks())
    assert len(tasks) >= 15
    missing = [t.module_path for t in tasks if retries.policy(t.module_path) is None]
    assert missing == []
    assert all(retries.policy(t.module_path).why for t in tasks)
    # Mails and imports are never repeated blindly.
    assert not retries.policy("relatiebeheer.outbox.tasks.send_outbox").idempotent
    assert not retries.policy("relatiebeheer.imports.tasks.run_import").idempotent


def test_the_retry_settings_default_to_3_attempts_after_10_seconds_doubled():
    from relatiebeheer.config import settings as defaults

    assert (defaults.TASK_MAX_ATTEMPTS, defaults.TASK_RETRY_DELAY) == (3, 10)
    assert defaults.WORKER_SILENT_AFTER == 120


def test_tasks_of_a_dead_worker_follow_the_same_policy(settings):
    from datetime import timedelta

    from django.utils import timezone

    from relatiebeheer.ops import scheduler
    from relatiebeheer.ops.models import WorkerHeartbeat

    # Given two tasks RUNNING on a worker whose heartbeat stopped long ago
    settings.TASK_RETRY_DELAY = 0
    safe, unsafe = record.enqueue("lost"), not_idempotent.enqueue()
    DBTaskResult.objects.filter(pk__in=[safe.id, unsafe.id]).update(
        status="RUNNING", worker_ids=["w-dead"], started_at=timezone.now()
    )
    WorkerHeartbeat.objects.create(
        worker_id="w-dead", pid=1, host="h", started_at=timezone.now(),
        last_seen=timezone.now() - timedelta(minutes=10),
    )  # fmt: skip
    # When a worker recovers them
    assert scheduler.recover_lost_tasks() == 2
    # Then the idempotent one waits to run again, the other stays failed with the reason
    assert DBTaskResult.objects.get(pk=safe.id).status == "READY"
    lost = DBTaskResult.objects.get(pk=unsafe.id)
    assert lost.status == "FAILED"
    assert lost.exception_class_path.endswith("WorkerLost")
    _worker().run()
    assert RAN == ["lost"]


def test_a_supervisor_recovers_the_tasks_of_its_dead_worker_at_once(settings):
    from django.utils import timezone

    from relatiebeheer.ops import scheduler
    from relatiebeheer.ops.models import WorkerHeartbeat

    # Given a task RUNNING on a worker that beat a second ago (so not yet aged)
    settings.TASK_RETRY_DELAY = 0
    scheduler.heartbeat("w-just-died", timezone.now())
    pid = WorkerHeartbeat.objects.get(worker_id="w-just-died").pid
    result = record.enqueue("interrupted")
    DBTaskResult.objects.filter(pk=result.id).update(status="RUNNING", worker_ids=["w-just-died"])
    assert scheduler.recover_lost_tasks() == 0  # its heartbeat is fresh
    # When its supervisor saw the process exit
    assert scheduler.recover_dead_process(pid) == 1
    # Then its task waits to run again; "last seen" still tells when the worker was alive
    assert DBTaskResult.objects.get(pk=result.id).status == "READY"
    assert WorkerHeartbeat.objects.filter(worker_id="w-just-died").exists()
    assert scheduler.recover_dead_process(pid) == 0  # nothing left to recover
