"""The status page for administrators (and sales managers, who may read it)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import retries, selectors, services


@login_required
def status_page(request):
    state = selectors.system_status(actor=request.user)
    idempotent = {path for path, rule in retries.policies().items() if rule.idempotent}
    return render(
        request,
        "ops/status.html",
        {"status": state, "idempotent": idempotent, "max_attempts": retries.max_attempts()},
    )


@login_required
@require_POST
def task_retry(request, task_id: str):
    services.task_retry(actor=request.user, task_id=task_id)
    messages.success(request, _("The task is queued to run again."))
    return redirect("ops:status")
