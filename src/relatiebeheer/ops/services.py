"""The one action on background work: run a failed task again (administrators only)."""

from __future__ import annotations

import uuid

from django.db import transaction
from django.utils.translation import gettext as _

from relatiebeheer.audit.services import audit_log
from relatiebeheer.common.errors import Conflict, NotFound, PermissionRefused
from relatiebeheer.common.writers import writer
from relatiebeheer.users.access import is_admin
from relatiebeheer.users.models import User

from . import retries


@writer(accounts=False)
def task_retry(*, actor: User, task_id: str):
    """Put the failed task ``task_id`` back in the queue with a fresh set of attempts.

    Only a task that is FAILED now is requeued (a conditional update, so two clicks
    requeue it once); the audit row names the task, not its arguments (they may hold
    personal data). Retrying runs the task again as it was queued: the page says which
    tasks are idempotent (``ops.retries``)."""
    from django_tasks_db.models import DBTaskResult

    if not is_admin(actor):
        raise PermissionRefused()
    try:
        pk = uuid.UUID(str(task_id))
    except ValueError:
        raise NotFound() from None
    with transaction.atomic():
        result = DBTaskResult.objects.filter(pk=pk).first()
        if result is None:
            raise NotFound()
        if not retries.requeue(result, fresh=True):
            raise Conflict(_("This task has not failed (any more); there is nothing to retry."))
        audit_log(
            actor=actor,
            action="task.retry",
            extra={"task_id": str(result.pk), "task": result.task_path[-200:]},
        )
    return result
