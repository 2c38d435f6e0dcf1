"""The daily removal of login records past their retention (see ``retention.py``)."""

from __future__ import annotations

from datetime import timedelta

from django_tasks import task

from relatiebeheer.ops import scheduler
from relatiebeheer.ops.retries import retry_policy


@task()
def expire_login_records() -> dict[str, int]:
    from .retention import login_records_expire

    return login_records_expire()


scheduler.register("audit.expire_logins", timedelta(days=1), expire_login_records.enqueue)
retry_policy(
    expire_login_records,
    idempotent=True,
    why="removes only records past their retention; a second run finds none",
)
