"""Sending the outbox through Django's email backend, at most once per message.

The protocol for one message:

1. **Claim** — in its own transaction: ``UPDATE … SET status='sending' WHERE id=… AND
   status='queued'``. Zero rows: another worker has it (or it is done); skip. In the
   same transaction the consent is checked again (withdrawn → ``cancelled``) and the
   send-time renderer runs (e.g. it stores the hash of a fresh answer token). Commit.
2. **Hand over** to the mail server.
3. **Record** the outcome: ``sent``; or, when the server refused it for certain (it
   answered with an error code, or no connection could be made), back to ``queued``
   for a later attempt (4xx) or ``failed`` (5xx, or too many attempts); or, when the
   outcome is unknown (the connection broke mid-transfer), ``delivery_unknown``.

A worker killed between 1 and 3 leaves the message in ``sending``. When the scheduler
marks that worker's task as lost (or a claim without a task grows stale), the message
becomes ``delivery_unknown``: it is shown to a manager, who resends it deliberately or
marks it sent — it is never resent blindly.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .models import OutboxMessage, Status
from .rendering import render

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
STALE_CLAIM = timedelta(minutes=15)
_DEFINITE = (
    smtplib.SMTPRecipientsRefused,
    smtplib.SMTPSenderRefused,
    smtplib.SMTPDataError,
    smtplib.SMTPHeloError,
    smtplib.SMTPAuthenticationError,
    smtplib.SMTPNotSupportedError,
    smtplib.SMTPConnectError,
)


@dataclass
class SendReport:
    sent: list[int] = field(default_factory=list)
    retry: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    unknown: list[int] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)


def _backoff(attempts: int) -> timedelta:
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


def _code(exc: Exception) -> int | None:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in exc.recipients.values()]
        return max(codes) if codes else None
    return getattr(exc, "smtp_code", None)


def due_ids(now=None, ids: list[int] | None = None, limit: int = 500) -> list[int]:
    now = now or timezone.now()
    qs = OutboxMessage.objects.filter(status=Status.QUEUED, next_attempt_at__lte=now)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return list(qs.order_by("id").values_list("id", flat=True)[:limit])


def _claim(pk: int, claimed_by: str) -> tuple[OutboxMessage, object] | None:
    """Step 1; returns the message and its rendered mail, or ``None`` if not ours."""
    from relatiebeheer.relations.models import Contact
    from relatiebeheer.relations.selectors import contacts_with_consent

    now = timezone.now()
    with transaction.atomic():
        claimed = OutboxMessage.objects.filter(pk=pk, status=Status.QUEUED).update(
            status=Status.SENDING,
            claimed_at=now,
            claimed_by=claimed_by,
            attempts=F("attempts") + 1,
        )
        if not claimed:
            return None
        message = OutboxMessage.objects.get(pk=pk)
        if message.purpose != "internal":
            allowed = message.contact_id is not None and (
                contacts_with_consent(
                    Contact.objects.filter(pk=message.contact_id), message.purpose
                )
                .filter(email__iexact=message.to)
                .exists()
            )
            if not allowed:
                OutboxMessage.objects.filter(pk=pk).update(
                    status=Status.CANCELLED, last_error="no consent (or address changed)"
                )
                return message, None
        rendered = render(message)
    return message, rendered


def _finish(pk: int, **values) -> None:
    OutboxMessage.objects.filter(pk=pk, status=Status.SENDING).update(**values)


def _email(message: OutboxMessage, rendered) -> EmailMultiAlternatives:
    email = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.to],
        headers=rendered.headers,
    )
    if rendered.html:
        email.attach_alternative(rendered.html, "text/html")
    return email


def _alive(connection) -> bool:
    smtp = getattr(connection, "connection", None)
    if smtp is None or not hasattr(smtp, "noop"):
        return True
    try:
        return smtp.noop()[0] == 250
    except (smtplib.SMTPException, OSError):
        return False


def send_due(*, ids: list[int] | None = None, claimed_by: str = "", limit: int = 500) -> SendReport:
    """Send the queued messages that are due (only ``ids`` if given). Safe to run anywhere,
    by any number of workers at once."""
    report = SendReport()
    pending = due_ids(ids=ids, limit=limit)
    if not pending:
        return report
    connection = get_connection(fail_silently=False)
    try:
        connection.open()
    except Exception as exc:  # nothing was claimed or handed over: try again later
        logger.warning("mail server unreachable: %s", exc)
        now = timezone.now()
        for pk in pending:
            OutboxMessage.objects.filter(pk=pk, status=Status.QUEUED).update(
                last_error=str(exc)[:500], next_attempt_at=now + _backoff(1)
            )
        report.retry.extend(pending)
        return report
    try:
        for pk in pending:
            if not _alive(connection):
                connection.close()
                connection.open()
            claim = _claim(pk, claimed_by)
            if claim is None:
                continue
            message, rendered = claim
            if rendered is None:
                report.cancelled.append(pk)
                continue
            try:
                connection.send_messages([_email(message, rendered)])
            except _DEFINITE as exc:
                code = _code(exc)
                permanent = (code is not None and code >= 500) or message.attempts >= MAX_ATTEMPTS
                _finish(
                    pk,
                    status=Status.FAILED if permanent else Status.QUEUED,
                    last_error=f"{type(exc).__name__}: {exc}"[:500],
                    next_attempt_at=timezone.now() + _backoff(message.attempts),
                    claimed_by="",
                )
                (report.failed if permanent else report.retry).append(pk)
                if not isinstance(exc, smtplib.SMTPRecipientsRefused | smtplib.SMTPDataError):
                    connection.close()
                    connection.open()
            except Exception as exc:
                # The mail may or may not have reached the server: never guess.
                logger.warning("delivery of outbox message %s unknown: %s", pk, exc)
                _finish(
                    pk,
                    status=Status.DELIVERY_UNKNOWN,
                    last_error=f"{type(exc).__name__}: {exc}"[:500],
                )
                report.unknown.append(pk)
                try:
                    connection.close()
                    connection.open()
                except Exception:
                    break
            else:
                _finish(pk, status=Status.SENT, sent_at=timezone.now(), last_error="")
                report.sent.append(pk)
    finally:
        try:
            connection.close()
        except Exception:  # noqa: S110 - closing a broken connection may fail too
            pass
    return report


def recover_stuck(now=None) -> list[int]:
    """Flag messages left in ``sending`` by a task that is no longer running.

    A claim made by a database-backend task (``db:<id>``) is stuck once that task is not
    RUNNING any more (the scheduler marks the tasks of dead workers failed); any other
    claim once it is older than ``STALE_CLAIM``.
    """
    from django_tasks_db.models import DBTaskResult

    now = now or timezone.now()
    stuck = []
    rows = list(
        OutboxMessage.objects.filter(status=Status.SENDING).values_list(
            "id", "claimed_by", "claimed_at"
        )
    )
    task_ids = [ref[3:] for _pk, ref, _at in rows if ref.startswith("db:")]
    running = {
        str(pk)
        for pk in DBTaskResult.objects.filter(pk__in=task_ids, status="RUNNING").values_list(
            "id", flat=True
        )
    }
    for pk, ref, claimed_at in rows:
        if ref.startswith("db:"):
            if ref[3:] not in running:
                stuck.append(pk)
        elif claimed_at is None or claimed_at < now - STALE_CLAIM:
            stuck.append(pk)
    if stuck:
        OutboxMessage.objects.filter(pk__in=stuck, status=Status.SENDING).update(
            status=Status.DELIVERY_UNKNOWN,
            last_error="The worker stopped while sending; whether the mail arrived is unknown.",
        )
        logger.warning("outbox: %d message(s) flagged as delivery unknown", len(stuck))
    return stuck
