"""Run background tasks (django-tasks database backend) with the scheduler beside them."""

from __future__ import annotations

import threading
import time
import uuid

from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker

from relatiebeheer.ops import scheduler


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
        scheduler.heartbeat(worker_id, started_at)
        scheduler.recover_lost_tasks()
        stop = threading.Event()

        def scheduler_loop():
            last_tick = time.monotonic()
            while not stop.wait(min(poll, tick)):
                try:
                    close_old_connections()
                    scheduler.poll()
                    if time.monotonic() - last_tick >= tick:
                        last_tick = time.monotonic()
                        scheduler.heartbeat(worker_id, started_at)
                        scheduler.tick()
                        scheduler.recover_lost_tasks()
                except Exception:  # keep the loop alive; the next tick tries again
                    import logging

                    logging.getLogger(__name__).exception("scheduler tick failed")
                finally:
                    close_old_connections()

        scheduler.poll()  # marked work becomes tasks before the first run (also --batch)
        if not batch:
            scheduler.tick()
            threading.Thread(target=scheduler_loop, name="scheduler", daemon=True).start()
        worker = Worker(
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
