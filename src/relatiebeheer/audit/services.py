"""Writing the audit log. Called by services inside their own transaction."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import models
from django.utils.crypto import salted_hmac

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


def keyed_hash(value: str) -> str:
    """HMAC-SHA256 of ``value`` keyed with ``SECRET_KEY``: the audit log's stand-in for a
    typed username that matches no user. Equal names give equal hashes (a spray shows),
    but without the key the name cannot be recovered or tested."""
    return salted_hmac("relatiebeheer.audit.typed_username", value, algorithm="sha256").hexdigest()
