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


def unsubscribe_target(*, contact_id: int, purpose: str) -> dict | None:
    """What the public unsubscribe page needs about a signed link's contact, or ``None``.

    Read without a user: the signed link is the credential. Only the contact's language
    (the page speaks it) and whether the purpose is withdrawn already are returned —
    nothing that names the person, since a forwarded mail's link shows this page to
    whoever holds it.
    """
    from relatiebeheer.relations.models import ConsentRecord, Contact

    from .models import Purpose

    if purpose not in {Purpose.SURVEYS, Purpose.CAMPAIGNS, Purpose.EVENTS}:
        return None
    language = Contact.objects.filter(pk=contact_id).values_list("language", flat=True).first()
    if language is None:
        return None
    latest = (
        ConsentRecord.objects.filter(contact_id=contact_id, purpose=purpose)
        .order_by("-recorded_at", "-id")
        .values_list("granted", flat=True)
        .first()
    )
    return {
        "language": language if language in {"nl", "en"} else "nl",
        "withdrawn": latest is False,
    }
