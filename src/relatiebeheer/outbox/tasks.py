"""Background work of the outbox: send after each commit, sweep every minute, recover."""

from __future__ import annotations

from datetime import timedelta

from django.utils.translation import gettext_lazy as _
from django_tasks import task

from relatiebeheer.ops import scheduler, status
from relatiebeheer.ops.retries import retry_policy


def _claim_ref(context) -> str:
    """``db:<task id>`` when the database backend runs the task (see ``recover_stuck``)."""
    try:
        from django_tasks import task_backends
        from django_tasks_db.backend import DatabaseBackend

        result = context.task_result
        if isinstance(task_backends[result.backend], DatabaseBackend):
            return f"db:{result.id}"
    except Exception:  # noqa: S110 - any other backend: the claim ages out instead
        pass
    return ""


@task(takes_context=True)
def send_outbox(context, message_ids: list[int] | None = None) -> int:
    from .sending import send_due

    report = send_due(ids=message_ids, claimed_by=_claim_ref(context))
    return len(report.sent)


@task(takes_context=True)
def sweep_outbox(context) -> int:
    """Flag stuck messages, then send whatever is due (retries, lost enqueues)."""
    from .sending import recover_stuck, send_due

    recover_stuck()
    return len(send_due(claimed_by=_claim_ref(context)).sent)


def _after_tasks_lost(task_paths: list[str]) -> None:
    """A worker died: its half-sent mails become "delivery unknown"; the rest go out."""
    from .sending import due_ids, recover_stuck

    recover_stuck()
    if due_ids(limit=1):
        send_outbox.enqueue(message_ids=None)


scheduler.register("outbox.sweep", timedelta(minutes=1), sweep_outbox.enqueue)
scheduler.on_tasks_lost(_after_tasks_lost)

# Not retried: the minute sweep sends whatever is due anyway, and a mail whose sending
# was interrupted must wait for a person ("delivery unknown"), never go out twice.
for _task in (send_outbox, sweep_outbox):
    retry_policy(_task, idempotent=False, why="the minute sweep sends what is due")


def _backlog() -> int:
    """Mails waiting to be sent (queued, or being handed to the mail server)."""
    from .models import OutboxMessage, Status

    return OutboxMessage.objects.filter(status__in=[Status.QUEUED, Status.SENDING]).count()


status.register_figure("outbox.backlog", _("Mails waiting in the outbox"), _backlog, order=10)
