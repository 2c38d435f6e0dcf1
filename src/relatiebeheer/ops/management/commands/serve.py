"""Serve the app with gunicorn (a production server), optionally with a worker beside it.

With ``--with-worker`` the worker runs as a child process under a
:class:`~relatiebeheer.ops.supervisor.Supervisor`: a worker that dies (killed, crashed)
is started again with a growing delay, and every restart is logged.
"""

from __future__ import annotations

import logging
import os

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve the web app and API with gunicorn on HOST:PORT (default 127.0.0.1:8000)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_WORKERS", "2")))
        parser.add_argument("--threads", type=int, default=int(os.environ.get("WEB_THREADS", "4")))
        parser.add_argument(
            "--with-worker", action="store_true", help="Also run the background worker."
        )

    def handle(self, *args, host, port, workers, threads, with_worker, **options):
        from gunicorn.app.base import BaseApplication

        from relatiebeheer.ops.supervisor import supervise_worker

        supervisor = None
        if with_worker:
            if not logging.getLogger("relatiebeheer.ops.supervisor").isEnabledFor(logging.INFO):
                logging.getLogger("relatiebeheer.ops.supervisor").setLevel(logging.INFO)
            supervisor = supervise_worker().start()

        class App(BaseApplication):
            def load_config(self):
                self.cfg.set("bind", f"{host}:{port}")
                self.cfg.set("workers", workers)
                self.cfg.set("threads", threads)
                self.cfg.set("worker_class", "gthread")
                self.cfg.set("accesslog", os.environ.get("ACCESS_LOG") or None)
                self.cfg.set("graceful_timeout", 10)

            def load(self):
                from relatiebeheer.config.wsgi import application

                return application

        try:
            App().run()
        finally:
            if supervisor is not None:
                supervisor.stop()
