"""``relatiebeheer status``: the state of the background work, for people and monitors.

Exit status 0 when a worker was seen within ``WORKER_SILENT_AFTER`` seconds, 2 when not
(so a cron job or monitor can alert). ``--json`` prints the same as
``GET /api/v1/status``; ``--retry TASK_ID`` runs a failed task again (audited).
"""

from __future__ import annotations

import json

from django.core.management.base import CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from relatiebeheer.common.errors import DomainError
from relatiebeheer.ops import selectors, services
from relatiebeheer.ops.commands import ActorCommand


def _when(value) -> str:
    if value is None:
        return _("never")
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S")


class Command(ActorCommand):
    help = "Show the background work: worker heartbeat, queue, failed tasks, backlogs."

    def add_arguments(self, parser):
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="Print JSON (as the API)."
        )
        parser.add_argument("--retry", metavar="TASK_ID", help="Run a failed task again.")

    def handle(self, *args, as_json: bool = False, retry: str | None = None, **options):
        try:
            if retry:
                result = services.task_retry(actor=self.actor, task_id=retry)
                self.stdout.write(_("Task %(id)s is queued to run again.") % {"id": result.pk})
                return
            state = selectors.system_status(actor=self.actor)
        except DomainError as exc:
            raise CommandError(str(exc.detail)) from exc
        if as_json:
            self.stdout.write(_dump(state))
        else:
            self._print(state)
        if state.worker_silent:
            raise SystemExit(2)

    def _print(self, state) -> None:
        w = self.stdout.write
        w(_("Worker last seen: %(when)s") % {"when": _when(state.worker_last_seen)})
        if state.worker_silent:
            w(
                self.style.ERROR(
                    _("No worker seen for more than %(seconds)s seconds.")
                    % {"seconds": state.silent_after_seconds}
                )
            )
        w(_("Tasks waiting: %(n)s (oldest queued: %(when)s)") % {
            "n": state.queue_length, "when": _when(state.oldest_waiting)})  # fmt: skip
        w(_("Running: %(n)s; waiting to be retried: %(r)s") % {
            "n": state.running, "r": state.waiting_retry})  # fmt: skip
        for figure in state.figures:
            value = _when(figure.value) if figure.kind == "time" else figure.value
            w(f"{figure.label}: {value}")
        w(_("Failed in the last 7 days: %(n)s") % {"n": state.failed_count})
        for task in state.failed:
            w(
                f"  {_when(task.finished_at)}  {task.id}  {task.task}  ×{task.attempts}  {task.reason}"
            )


def _dump(state) -> str:
    from relatiebeheer.ops.api import StatusOut

    return json.dumps(StatusOut.from_orm(state).model_dump(mode="json"), indent=2)
