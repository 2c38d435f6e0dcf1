"""Scheduled work: automatic invitations, reminders, overdue follow-ups, counter cleanup.

Each job is registered with the worker's scheduler (``ops.scheduler.register``), which
enqueues it once per time slot whatever the number of workers; each job is itself
idempotent (automatic sends are recorded per contact moment, reminders and overdue
notices claim their row before mailing, mails have idempotency keys). The monthly
answer counts need no job of their own: they are kept by every writer and checked by
the daily figure check (``satisfaction.counts``).
"""

from datetime import timedelta

from django_tasks import task

from relatiebeheer.ops import scheduler
from relatiebeheer.ops.retries import retry_policy


@task()
def auto_invite() -> int:
    from .sending.services import auto_invite as run

    return run()


@task()
def send_reminders() -> int:
    from .sending.services import send_reminders as run

    return run()


@task()
def notify_overdue_followups() -> int:
    from .followups.services import followups_notify_overdue

    return followups_notify_overdue()


@task()
def cleanup_rate_counters() -> int:
    from .ratelimit import cleanup

    return cleanup()


scheduler.register("satisfaction.auto_invite", timedelta(minutes=15), auto_invite.enqueue)
scheduler.register("satisfaction.reminders", timedelta(minutes=30), send_reminders.enqueue)
scheduler.register(
    "satisfaction.followups_overdue", timedelta(hours=1), notify_overdue_followups.enqueue
)
scheduler.register("satisfaction.rate_counters", timedelta(hours=1), cleanup_rate_counters.enqueue)

# Each job is idempotent (see the module docstring): automatic sends are recorded per
# contact moment, reminders and overdue notices claim their row before mailing, mails
# have idempotency keys, and the counter cleanup deletes only expired rows.
for _task in (auto_invite, send_reminders, notify_overdue_followups, cleanup_rate_counters):
    retry_policy(_task, idempotent=True, why="claims its rows; mails have idempotency keys")
