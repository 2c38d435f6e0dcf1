"""Soak (about 30 s): the worker is SIGKILLed 5 times under load, supervised the way
``serve --with-worker`` supervises it (``ops.supervisor.supervise_worker``). Every queued
task completes, and the effect of each happens exactly once.

Each task sleeps a little (the load) and records its mark under a unique key in its own
transaction (``get_or_create``), so running it again after a kill that came between its
commit and the recording of its result changes nothing: it is declared idempotent and
retried. The kills come while a task is running, each after the worker has done some work since
its start; the supervisor recovers the dead worker's task at once and starts a new one.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from django.db import transaction
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from relatiebeheer.ops.models import ScheduledRun
from relatiebeheer.ops.retries import retry_policy
from relatiebeheer.ops.supervisor import supervise_worker, worker_command

from .processes import database_url

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

TASKS = 120
KILLS = 5
ROOT = Path(__file__).resolve().parent.parent


@task()
def soak_step(n: int) -> int:
    """The load: a short piece of work, then its mark (once, whatever happens)."""
    time.sleep(0.02)
    with transaction.atomic():
        _mark, created = ScheduledRun.objects.get_or_create(job="soak", slot=n)
    return int(created)


retry_policy(soak_step, idempotent=True, why="records its mark once (a unique key)")


def _until(check, timeout=90.0, step=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(step)
    raise AssertionError(f"not within {timeout} s")


def test_a_worker_killed_5_times_under_load_completes_every_task_exactly_once(settings):
    settings.TASK_RETRY_DELAY = 0  # the recovery runs in this process (the supervisor)
    ids = [soak_step.enqueue(n).id for n in range(TASKS)]
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "LOG_LEVEL": "ERROR",
        "TASK_RETRY_DELAY": "0",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    supervisor = supervise_worker(
        [*worker_command(), "--interval", "0.1"],
        env=env,
        first=0.2,
        cap=1.0,
        popen_kwargs={"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL},
    )
    started = time.monotonic()
    supervisor.start()
    try:
        done = DBTaskResult.objects.filter(task_path=soak_step.module_path, status="SUCCESSFUL")
        for kill in range(1, KILLS + 1):
            pid, before = supervisor.pid, done.count()
            # Kill it in the middle of a task, once it has done some work since its start
            _until(
                lambda pid=pid, before=before: (
                    done.count() >= before + 5
                    and DBTaskResult.objects.filter(status="RUNNING").exists()
                    and supervisor.pid == pid
                )
            )
            os.kill(pid, signal.SIGKILL)
            _until(lambda kill=kill, pid=pid: supervisor.restarts == kill and supervisor.pid != pid)
        _until(
            lambda: done.count() == TASKS,
            timeout=180,
        )
    finally:
        supervisor.stop()
    seconds = time.monotonic() - started

    states = DBTaskResult.objects.filter(pk__in=ids)
    assert sorted(set(states.values_list("status", flat=True))) == ["SUCCESSFUL"]
    marks = ScheduledRun.objects.filter(job="soak")
    assert marks.count() == TASKS
    assert sorted(marks.values_list("slot", flat=True)) == list(range(TASKS))
    assert supervisor.restarts == KILLS
    # The kills did interrupt tasks: some ran more than once (their mark was made once).
    assert states.filter(worker_ids__isnull=False).count() == TASKS
    rerun = sum(1 for w in states.values_list("worker_ids", flat=True) if len(w) > 1)
    assert rerun >= 1
    print(f"soak: {TASKS} tasks, {KILLS} kills, {rerun} tasks run again, {seconds:.0f} s")
