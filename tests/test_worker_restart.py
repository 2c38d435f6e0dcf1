"""``serve --with-worker`` supervises its worker: a worker that dies is started again.

The supervisor (``ops.supervisor.Supervisor``, what ``serve --with-worker`` runs) starts
the real worker command (``worker_command()``) as a subprocess against the test
database; the test SIGKILLs it, sees a new worker come back (a new heartbeat with a new
pid) and run a task queued after the kill, and finds the restart in the log. A command
that dies at once is restarted with a doubling, capped delay; ``stop()`` ends it for good.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time

import pytest

from relatiebeheer.ops.models import WorkerHeartbeat
from relatiebeheer.ops.supervisor import Supervisor, worker_command

from .processes import database_url


def _until(check, timeout=60.0, step=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"not within {timeout} s")


def _beating(pid):
    return WorkerHeartbeat.objects.filter(pid=pid).exists()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_killed_worker_is_started_again_and_runs_what_was_queued(caplog):
    from relatiebeheer.reports.tasks import refresh_dashboard

    env = {**os.environ, "DATABASE_URL": database_url(), "LOG_LEVEL": "ERROR"}
    supervisor = Supervisor(
        [*worker_command(), "--interval", "0.2"],
        env=env,
        first=0.2,
        popen_kwargs={"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL},
    )
    with caplog.at_level(logging.INFO, logger="relatiebeheer.ops.supervisor"):
        supervisor.start()
        try:
            # Given a running worker (its heartbeat names its pid)
            first = supervisor.pid
            _until(lambda: _beating(first))
            # When it is killed
            os.kill(first, signal.SIGKILL)
            # Then a new worker comes back and runs a task queued after the kill
            _until(lambda: supervisor.restarts == 1 and supervisor.pid != first)
            result = refresh_dashboard.enqueue()
            second = supervisor.pid
            _until(lambda: _beating(second))
            from django_tasks_db.models import DBTaskResult

            _until(lambda: DBTaskResult.objects.get(pk=result.id).status == "SUCCESSFUL")
            assert supervisor.process.poll() is None
        finally:
            supervisor.stop()
    messages = [r.getMessage() for r in caplog.records]
    assert any(f"pid {first}) exited with code -9" in m and "restart 1" in m for m in messages)
    assert supervisor.process.poll() is not None  # stopped for good


def test_a_worker_that_keeps_dying_is_restarted_with_a_growing_capped_delay(caplog):
    supervisor = Supervisor(
        [sys.executable, "-c", "raise SystemExit(3)"], first=0.05, cap=0.2, stable_after=60
    )
    with caplog.at_level(logging.WARNING, logger="relatiebeheer.ops.supervisor"):
        supervisor.start()
        try:
            _until(lambda: supervisor.restarts >= 5, timeout=30)
        finally:
            supervisor.stop()
    assert supervisor.delays[:5] == [0.05, 0.1, 0.2, 0.2, 0.2]
    restarts = [r.getMessage() for r in caplog.records if "exited with code 3" in r.getMessage()]
    assert len(restarts) >= 5
    after = supervisor.restarts
    time.sleep(0.5)
    assert supervisor.restarts == after  # stopped: no restart any more


def test_restart_delays_double_up_to_the_cap():
    supervisor = Supervisor(["true"], first=1.0, cap=60.0)
    assert [supervisor.delay(n) for n in (1, 2, 3, 7, 8)] == [1.0, 2.0, 4.0, 60.0, 60.0]


def test_a_worker_that_stayed_up_long_enough_restarts_after_the_first_delay_again():
    # stable_after=0: every life counts as long, so the delay never grows
    supervisor = Supervisor(
        [sys.executable, "-c", "raise SystemExit(3)"], first=0.05, cap=1.0, stable_after=0
    )
    supervisor.start()
    try:
        _until(lambda: supervisor.restarts >= 3, timeout=30)
    finally:
        supervisor.stop()
    assert set(supervisor.delays) == {0.05}


def test_the_supervisor_waits_1_second_doubling_to_60_and_resets_after_30_seconds_up():
    supervisor = Supervisor(worker_command())
    assert (supervisor.first, supervisor.cap, supervisor.stable_after) == (1.0, 60.0, 30.0)


def test_serve_with_worker_runs_the_worker_under_a_supervisor(monkeypatch):
    from django.core.management import call_command
    from gunicorn.app.base import BaseApplication

    from relatiebeheer.ops import supervisor as module

    started, stopped = [], []

    class FakeSupervisor:
        def __init__(self, command, **kwargs):
            self.command = command

        def start(self):
            started.append(self.command)
            return self

        def stop(self):
            stopped.append(True)

    monkeypatch.setattr(module, "Supervisor", FakeSupervisor)
    monkeypatch.setattr(BaseApplication, "run", lambda self: None)
    call_command("serve", "--with-worker", "--port", "1")
    assert started == [worker_command()]
    assert stopped == [True]  # the worker ends with the server


def test_a_worker_that_was_asked_to_stop_is_not_restarted(caplog):
    """Exit code 0 means the worker handled SIGTERM/SIGINT (Ctrl-C reaches the whole
    process group of ``make run``): a server on its way out starts no new worker."""
    caplog.set_level(logging.INFO, logger="relatiebeheer.ops.supervisor")
    supervisor = Supervisor([sys.executable, "-c", "pass"], first=0.05, cap=0.2).start()
    try:
        time.sleep(1.0)
        assert supervisor.restarts == 0
        assert any("stopped on request" in r.getMessage() for r in caplog.records)
    finally:
        supervisor.stop()
