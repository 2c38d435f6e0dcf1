"""Keep a child process running: ``serve --with-worker`` supervises its worker with it.

A worker that exits while the server runs (killed, out of memory, crashed) is started
again after a delay that doubles with every quick death in a row (``first`` seconds,
at most ``cap``) and goes back to ``first`` once a worker has stayed up ``stable_after``
seconds. Every exit and restart is logged. :meth:`Supervisor.stop` ends the child (TERM,
then KILL after ``grace`` seconds) and does not restart it. ``on_exit(pid)`` runs after a
child exited by itself, before the restart (:func:`supervise_worker` recovers the dead
worker's tasks there).

A child that exits with code 0 was asked to stop: the worker ends that way only when it
handled SIGTERM or SIGINT (Ctrl-C in the terminal of ``make run`` sends SIGINT to every
process of the group, the server included, and a service manager stopping the service
sends SIGTERM to all of it). Such an exit is logged and not restarted, so a server that
is shutting down does not start a new worker on its way out; a killed (SIGKILL, out of
memory) or crashed worker (any other code) is restarted.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence

logger = logging.getLogger(__name__)


def worker_command() -> list[str]:
    """The worker as ``serve --with-worker`` starts it (this Python, this package)."""
    return [sys.executable, "-m", "relatiebeheer.cli", "worker"]


def _recover(pid: int) -> None:
    from django.db import close_old_connections

    from . import scheduler

    try:
        lost = scheduler.recover_dead_process(pid)
        if lost:
            logger.warning("worker (pid %s) left %d task(s) unfinished: recovered", pid, lost)
    finally:
        close_old_connections()


def supervise_worker(command: Sequence[str] | None = None, **kwargs) -> Supervisor:
    """The supervisor ``serve --with-worker`` runs: the worker command, and when a worker
    dies its unfinished tasks are recovered at once (``scheduler.recover_dead_process``:
    idempotent ones run again, the others are failed as lost) instead of after its
    heartbeat has aged."""
    kwargs.setdefault("on_exit", _recover)
    return Supervisor(list(command) if command else worker_command(), **kwargs)


class Supervisor:
    def __init__(
        self,
        command: Sequence[str],
        *,
        env: dict[str, str] | None = None,
        first: float = 1.0,
        cap: float = 60.0,
        stable_after: float = 30.0,
        grace: float = 15.0,
        name: str = "worker",
        popen: Callable[..., subprocess.Popen] = subprocess.Popen,
        popen_kwargs: dict | None = None,
        on_exit: Callable[[int], object] | None = None,
    ) -> None:
        self.command = list(command)
        self.env = env
        self.first, self.cap, self.stable_after, self.grace = first, cap, stable_after, grace
        self.name = name
        self._popen = popen
        self._popen_kwargs = popen_kwargs or {}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.process: subprocess.Popen | None = None
        self.restarts = 0
        self.delays: list[float] = []  # the waits before each restart, in order
        self.started = threading.Event()  # set whenever a child process was started
        self.on_exit = on_exit  # called with the pid of a child that exited by itself

    # --- the loop ----------------------------------------------------------------------
    def start(self) -> Supervisor:
        self._spawn()
        self._thread = threading.Thread(target=self._watch, name=f"{self.name}-supervisor")
        self._thread.daemon = True
        self._thread.start()
        return self

    def _spawn(self) -> None:
        with self._lock:
            if self._stop.is_set():
                return
            self.process = self._popen(self.command, env=self.env, **self._popen_kwargs)
            self.started_at = time.monotonic()
        logger.info("%s started (pid %s)", self.name, self.process.pid)
        self.started.set()

    def _watch(self) -> None:
        quick_deaths = 0
        while not self._stop.is_set():
            process = self.process
            if process is None:
                return
            code = process.wait()
            if self._stop.is_set():
                return
            if code == 0:
                logger.info("%s (pid %s) stopped on request; not restarted", self.name, process.pid)
                return
            if self.on_exit is not None:
                try:
                    self.on_exit(process.pid)
                except Exception:
                    logger.exception("%s: cleaning up after pid %s failed", self.name, process.pid)
            lived = time.monotonic() - self.started_at
            quick_deaths = 0 if lived >= self.stable_after else quick_deaths
            quick_deaths += 1
            delay = self.delay(quick_deaths)
            self.delays.append(delay)
            self.restarts += 1
            logger.warning(
                "%s (pid %s) exited with code %s after %.0f s; restart %d in %.1f s",
                self.name,
                process.pid,
                code,
                lived,
                self.restarts,
                delay,
            )
            if self._stop.wait(delay):
                return
            self.started.clear()
            self._spawn()

    def delay(self, quick_deaths: int) -> float:
        """The wait before a restart after ``quick_deaths`` short lives in a row."""
        return min(self.cap, self.first * 2 ** max(0, quick_deaths - 1))

    # --- stopping ----------------------------------------------------------------------
    def stop(self) -> None:
        """End the child (TERM, then KILL) and stop restarting it."""
        with self._lock:
            self._stop.set()
            process = self.process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=self.grace)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._thread is not None:
            self._thread.join(timeout=self.grace)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None
