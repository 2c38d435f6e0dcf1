"""The outbox: every mail the application sends, written in the transaction that caused it.

A message is sent by the background worker, never twice: a worker *claims* a message
(``queued`` → ``sending``, one conditional UPDATE that commits before anything goes to
the mail server) and records the outcome afterwards. A message left in ``sending`` by a
worker that died cannot be known to have arrived or not; it becomes
``delivery_unknown`` and waits for a person to resend it deliberately or mark it sent.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Purpose(models.TextChoices):
    SURVEYS = "surveys", _("Surveys")
    CAMPAIGNS = "campaigns", _("Newsletters and campaigns")
    EVENTS = "events", _("Event invitations")
    INTERNAL = "internal", _("Internal (to our own users)")


class Status(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    DELIVERY_UNKNOWN = "delivery_unknown", _("Delivery unknown")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class OutboxMessageQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Messages about accounts ``user`` may see, plus internal mails to ``user``."""
        from relatiebeheer.users.access import account_visibility_q

        q = account_visibility_q(user, "account__")
        if q is None:
            return self
        mine = models.Q(account__isnull=True, to_user=user) if user.is_authenticated else None
        return self.filter(q | mine) if mine is not None else self.filter(q)


class OutboxMessage(models.Model):
    key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices)
    to = models.EmailField(_("to"), max_length=254)
    subject = models.CharField(_("subject"), max_length=300)
    text = models.TextField(_("plain text"))
    html = models.TextField(_("HTML"), blank=True)
    language = models.CharField(_("language"), max_length=5, default="nl")
    contact = models.ForeignKey(
        "relations.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="outbox_messages",
    )
    account = models.ForeignKey(
        "relations.Account",
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="outbox_messages",
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("to user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A send-time renderer fills placeholders that must never be stored (e.g. a raw
    # single-use answer token): see ``outbox.rendering``.
    renderer = models.CharField(max_length=100, blank=True)
    renderer_args = models.JSONField(default=dict, blank=True)

    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.QUEUED
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    claimed_at = models.DateTimeField(_("sending since"), null=True, blank=True)
    claimed_by = models.CharField(_("claimed by task"), max_length=64, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)

    objects = OutboxMessageQuerySet.as_manager()

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["account", "-created_at"]),
            models.Index(fields=["-created_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(purpose__in=["surveys", "campaigns", "events", "internal"]),
                name="outbox_purpose_known",
            )
        ]

    def __str__(self) -> str:
        return f"{self.key} → {self.status}"
