"""Writing to the outbox, and the deliberate actions on mails: resend, mark as sent,
unsubscribe.

:func:`mail_enqueue` is the one way any feature sends mail (survey invitations,
campaign mails, event invitations, notices to our own users). Call it inside your own
writer's transaction: the message exists exactly when the thing that caused it exists,
and the worker sends it after the commit. The enqueueing writers write no audit row of
their own (``audit=False``): the message row records what was sent, to whom, by whom
and when, and the caller audits the action that caused it (an invitation, a campaign).
No mail changes an account's figures (``accounts=False``).
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from relatiebeheer.audit.services import audit_log
from relatiebeheer.common import writers
from relatiebeheer.common.errors import Conflict, InvalidInput, PermissionRefused
from relatiebeheer.common.writers import writer
from relatiebeheer.relations.models import Contact
from relatiebeheer.users.access import can_manage_portfolios
from relatiebeheer.users.models import User

from .models import OutboxMessage, Purpose, Status

logger = logging.getLogger(__name__)
CONTACT_PURPOSES = {Purpose.SURVEYS, Purpose.CAMPAIGNS, Purpose.EVENTS}


@writer(audit=False, accounts=False)
def mail_enqueue(
    *,
    key: str,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    language: str = "nl",
    purpose: str,
    contact: Contact | None = None,
    account_id: int | None = None,
    actor: User | None = None,
) -> OutboxMessage:
    """Put one mail in the outbox; the worker sends it after the surrounding commit.

    ``key`` is an idempotency key: enqueueing the same key again returns the message
    made the first time and changes nothing (so a retried job cannot mail twice).
    ``purpose`` is "surveys", "campaigns", "events" (mails to a ``contact``, who must be
    given: they carry a one-click unsubscribe link for that purpose and are only sent
    while the contact's consent for it stands) or "internal" (mails to our own users).
    """
    return _enqueue(
        key=key,
        to=to,
        subject=subject,
        text=text,
        html=html,
        language=language,
        purpose=purpose,
        contact=contact,
        account_id=account_id,
        actor=actor,
    )


@writer(audit=False, accounts=False, acts="system")
def mail_enqueue_rendered(
    *, renderer: str, renderer_args: dict[str, Any], **kwargs: Any
) -> OutboxMessage:
    """:func:`mail_enqueue` with a send-time renderer (see ``outbox.rendering``)."""
    return _enqueue(renderer=renderer, renderer_args=renderer_args, **kwargs)


def _enqueue(
    *,
    key: str,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    language: str = "nl",
    purpose: str,
    contact: Contact | None = None,
    account_id: int | None = None,
    actor: User | None = None,
    to_user: User | None = None,
    renderer: str = "",
    renderer_args: dict[str, Any] | None = None,
) -> OutboxMessage:
    if purpose not in Purpose.values:
        raise InvalidInput({"purpose": [_("Unknown purpose.")]})
    if purpose in CONTACT_PURPOSES and contact is None:
        raise InvalidInput({"contact": [_("Mails to contacts name the contact.")]})
    if not key or len(key) > 200:
        raise InvalidInput({"key": [_("Give a key of at most 200 characters.")]})
    if not to or "@" not in to:
        raise InvalidInput({"to": [_("Enter a valid email address.")]})
    existing = OutboxMessage.objects.filter(key=key).first()
    if existing is not None:
        return existing
    if account_id is None and contact is not None:
        account_id = contact.account_id
    message = OutboxMessage(
        key=key,
        purpose=purpose,
        to=to,
        subject=subject[:300],
        text=text,
        html=html or "",
        language=(language or "nl")[:5],
        contact=contact,
        account_id=account_id,
        to_user=to_user,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        renderer=renderer,
        renderer_args=renderer_args or {},
    )
    try:
        with transaction.atomic():
            message.save()
    except IntegrityError:
        # The same key enqueued at the same moment by someone else: theirs stands.
        existing = OutboxMessage.objects.filter(key=key).first()
        if existing is None:
            raise
        return existing
    _send_after_commit(message.pk)
    return message


@writer(audit=False, accounts=False, acts="system")
def internal_mail_enqueue(
    *,
    key: str,
    user: User | None,
    subject: str,
    text: str,
    html: str | None = None,
    account_id: int | None = None,
) -> OutboxMessage | None:
    """A notice to one of our own users (in their language); ``None`` if they have no address."""
    if not user or not user.email:
        return None
    return _enqueue(
        key=key,
        to=user.email,
        subject=subject,
        text=text,
        html=html,
        language=getattr(user, "language", "nl"),
        purpose=Purpose.INTERNAL,
        account_id=account_id,
        to_user=user,
    )


class _Batch:
    """The messages enqueued in one transaction: one send task after the commit."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.ids: list[int] = []

    def flush(self) -> None:
        if getattr(self.connection, "_outbox_batch", None) is self:
            self.connection._outbox_batch = None
        from .tasks import send_outbox

        try:
            send_outbox.enqueue(message_ids=self.ids)
        except Exception:  # the minute sweep sends them anyway
            logger.exception("could not enqueue the outbox send task")


def _send_after_commit(message_id: int) -> None:
    connection = transaction.get_connection()
    batch = getattr(connection, "_outbox_batch", None)
    if batch is not None and any(entry[1] == batch.flush for entry in connection.run_on_commit):
        batch.ids.append(message_id)
        return
    batch = _Batch(connection)
    batch.ids.append(message_id)
    connection._outbox_batch = batch
    transaction.on_commit(batch.flush)


# --- deliberate actions on flagged mails -------------------------------------------------


def _require_outbox_manager(actor: User) -> None:
    if not can_manage_portfolios(actor):
        raise PermissionRefused(_("Only a sales manager or an administrator handles the outbox."))


@writer(accounts=False)
def message_resend(*, actor: User, message: OutboxMessage) -> OutboxMessage:
    """Send a mail again on purpose (after "delivery unknown" or "failed").

    One conditional UPDATE on the status is both the check and the change, so of two
    managers resending at the same moment one succeeds and the other gets a conflict."""
    _require_outbox_manager(actor)
    with transaction.atomic():
        updated = OutboxMessage.objects.filter(
            pk=message.pk, status__in=[Status.DELIVERY_UNKNOWN, Status.FAILED]
        ).update(
            status=Status.QUEUED,
            next_attempt_at=timezone.now(),
            resolved_by=actor,
            resolved_at=timezone.now(),
            claimed_by="",
            claimed_at=None,
        )
        if not updated:
            raise Conflict(_("Only a mail whose delivery is unknown or that failed is resent."))
        audit_log(
            actor=actor,
            action="outbox.resend",
            obj=message,
            account_id=message.account_id,
            extra={"purpose": message.purpose},
        )
        _send_after_commit(message.pk)
    message.refresh_from_db()
    return message


@writer(accounts=False)
def message_mark_sent(*, actor: User, message: OutboxMessage) -> OutboxMessage:
    """Record that a mail whose delivery was unknown did arrive (nothing is sent)."""
    _require_outbox_manager(actor)
    with transaction.atomic():
        updated = OutboxMessage.objects.filter(
            pk=message.pk, status=Status.DELIVERY_UNKNOWN
        ).update(
            status=Status.SENT,
            sent_at=message.claimed_at or timezone.now(),
            resolved_by=actor,
            resolved_at=timezone.now(),
        )
        if not updated:
            raise Conflict(_("Only a mail whose delivery is unknown can be marked as sent."))
        audit_log(
            actor=actor,
            action="outbox.mark_sent",
            obj=message,
            account_id=message.account_id,
            extra={"purpose": message.purpose},
        )
    message.refresh_from_db()
    return message


@writer(acts="public")
def unsubscribe(*, contact_id: int, purpose: str) -> bool:
    """The one-click link: withdraw ``purpose`` consent (as the system user).

    Returns whether the contact exists. A second click records nothing new. The consent
    register is written by ``relations.services.consent_record`` (its audit row and
    hook); the contact's queued mails for the purpose are cancelled with it.
    """
    from relatiebeheer.relations.models import ConsentRecord
    from relatiebeheer.relations.services import consent_record
    from relatiebeheer.users.access import system_user

    contact = Contact.objects.filter(pk=contact_id).select_related("account").first()
    if contact is None or purpose not in {p.value for p in CONTACT_PURPOSES}:
        writers.nothing_to_write()
        return False
    latest = (
        ConsentRecord.objects.filter(contact=contact, purpose=purpose)
        .order_by("-recorded_at", "-id")
        .values_list("granted", flat=True)
        .first()
    )
    if latest is False:
        writers.nothing_to_write()
        return True
    with transaction.atomic():
        consent_record(
            actor=system_user(),
            contact=contact,
            purpose=purpose,
            granted=False,
            source="unsubscribe_link",
        )
        # Mails for this purpose that have not gone out yet are not sent any more.
        OutboxMessage.objects.filter(contact=contact, purpose=purpose, status=Status.QUEUED).update(
            status=Status.CANCELLED, last_error="consent withdrawn"
        )
    return True
