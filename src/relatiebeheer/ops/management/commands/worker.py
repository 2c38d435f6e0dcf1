"""Run background tasks (django-tasks database backend) with the scheduler beside them.

The task loop is :class:`relatiebeheer.ops.worker.ResilientWorker`: a transient database
error (locked, connection lost) is logged and retried with a growing delay, never the end
of the worker; failed tasks are retried by their policy (``ops.retries``). The scheduler
thread writes the worker's heartbeat every ``HEARTBEAT_EVERY`` seconds.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid

from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django.utils import timezone

from relatiebeheer.ops import scheduler
from relatiebeheer.ops.worker import ResilientWorker, close_connections, with_backoff

HEARTBEAT_EVERY = 5.0  # seconds


class Command(BaseCommand):
    help = "Run background tasks and the scheduler (sends due mails, reminders, evaluations)."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=1.0, help="Seconds between polls.")
        parser.add_argument("--batch", action="store_true", help="Run what is queued, then stop.")
        parser.add_argument("--max-tasks", type=int, default=None)
        parser.add_argument(
            "--tick", type=float, default=10.0, help="Seconds between scheduler ticks."
        )
        parser.add_argument(
            "--poll",
            type=float,
            default=2.0,
            help="Seconds between looks for accounts whose figures wait for a refresh.",
        )

    def handle(self, *args, interval, batch, max_tasks, tick, poll, **options):
        worker_id = f"w-{uuid.uuid4().hex[:12]}"
        started_at = timezone.now()
        with_backoff(lambda: scheduler.heartbeat(worker_id, started_at), what="the heartbeat")
        with_backoff(scheduler.recover_lost_tasks, what="recovering lost tasks")
        stop = threading.Event()

        def scheduler_loop():
            last_tick = last_beat = time.monotonic()
            while not stop.wait(min(poll, tick, HEARTBEAT_EVERY)):
                try:
                    close_old_connections()
                    if time.monotonic() - last_beat >= HEARTBEAT_EVERY:
                        last_beat = time.monotonic()
                        scheduler.heartbeat(worker_id, started_at)
                    scheduler.poll()
                    if time.monotonic() - last_tick >= tick:
                        last_tick = time.monotonic()
                        scheduler.tick()
                        scheduler.recover_lost_tasks()
                except Exception:  # keep the loop alive; the next tick tries again
                    logging.getLogger(__name__).exception("scheduler tick failed")
                    close_connections()
                finally:
                    close_old_connections()

        # marked work becomes tasks before the first run (also --batch)
        with_backoff(scheduler.poll, what="the first poll")
        if not batch:
            with_backoff(scheduler.tick, what="the first tick")
            threading.Thread(target=scheduler_loop, name="scheduler", daemon=True).start()
        worker = ResilientWorker(
            queue_names=["*"],
            interval=interval,
            batch=batch,
            backend_name="default",
            startup_delay=not batch,
            max_tasks=max_tasks,
            worker_id=worker_id,
            excluded_queue_names=[],
        )
        worker.configure_signals()
        try:
            worker.run()
        finally:
            stop.set()
            time.sleep(0)
