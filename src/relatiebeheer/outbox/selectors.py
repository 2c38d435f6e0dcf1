"""Reads of the outbox, scoped like customer data.

Admins, sales managers and readers see every message; an account manager sees the
messages about accounts they may see and the internal mails addressed to them.
"""

from __future__ import annotations

from django.db.models import Count, QuerySet

from relatiebeheer.common.errors import NotFound
from relatiebeheer.users.models import User

from .models import OutboxMessage, Status


def message_list(
    *,
    actor: User,
    status: str | None = None,
    purpose: str | None = None,
    account_id: int | None = None,
) -> QuerySet[OutboxMessage]:
    """Messages ``actor`` may see, newest first."""
    qs = OutboxMessage.objects.visible_to(actor).select_related("account", "contact")
    if status:
        qs = qs.filter(status=status)
    if purpose:
        qs = qs.filter(purpose=purpose)
    if account_id:
        qs = qs.filter(account_id=account_id)
    return qs.order_by("-created_at", "-id")


def delivery_unknown(*, actor: User) -> QuerySet[OutboxMessage]:
    """Mails whose delivery is unknown after a crash: a person decides what happens."""
    return message_list(actor=actor, status=Status.DELIVERY_UNKNOWN).order_by("created_at", "id")


def message_get(*, actor: User, pk: int) -> OutboxMessage:
    message = (
        OutboxMessage.objects.visible_to(actor).select_related("account").filter(pk=pk).first()
    )
    if message is None:
        raise NotFound()
    return message


def status_counts(*, actor: User) -> dict[str, int]:
    rows = (
        OutboxMessage.objects.visible_to(actor).order_by().values("status").annotate(n=Count("id"))
    )
    counts = {status: 0 for status in Status.values}
    counts.update({row["status"]: row["n"] for row in rows})
    return counts
