"""Writing the audit log. Called by services inside their own transaction."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import models

from relatiebeheer.common import writers

from .context import current_channel
from .models import AuditEntry


def audit_log(
    *,
    actor,
    action: str,
    obj: models.Model | None = None,
    fields: Iterable[str] = (),
    account_id: int | None = None,
    extra: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one row: ``actor`` did ``action`` (e.g. ``"account.update"``) on ``obj``.

    ``fields`` are the names of changed fields and ``extra`` holds ids or counts —
    never personal data or secrets (the log must survive an erasure unchanged).
    """
    if account_id is None and obj is not None:
        account_id = getattr(obj, "account_id", None)
        if account_id is None and obj._meta.model_name == "account":
            account_id = obj.pk
    writers.audited()
    actor_id = getattr(actor, "pk", None) if actor is not None and actor.is_authenticated else None
    return AuditEntry.objects.create(
        actor_id=actor_id,
        channel=current_channel(),
        action=action,
        object_type=(obj._meta.model_name or "") if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        account_id=account_id,
        fields=sorted(fields),
        extra=extra or {},
    )
