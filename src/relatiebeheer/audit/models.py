"""The audit log: who did what, when, on which record — append-only.

Rows hold ids, action names and the names of changed fields, never values, so that
erasing a person's data (GDPR) does not have to rewrite history.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AppendOnlyError(RuntimeError):
    pass


# Entries that hold a client's address (personal data): kept for a limited time only.
LOGIN_ACTIONS = ("auth.login", "auth.login_failed", "auth.logout")


class AuditEntryQuerySet(models.QuerySet):
    def expire_logins(self, *, before) -> int:
        """The one removal the log allows: login entries (they hold a client address)
        older than ``before`` — the retention in ``audit.retention``. Nothing else."""
        expired = AuditEntry.objects.filter(action__in=LOGIN_ACTIONS, at__lt=before)
        return models.QuerySet.delete(expired)[0]

    def update(self, **kwargs):
        raise AppendOnlyError("the audit log is append-only")

    def delete(self):
        raise AppendOnlyError("the audit log is append-only")


class AuditEntry(models.Model):
    at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    channel = models.CharField(_("via"), max_length=10)
    action = models.CharField(_("action"), max_length=60, db_index=True)
    object_type = models.CharField(_("record type"), max_length=40, blank=True)
    object_id = models.CharField(_("record id"), max_length=40, blank=True)
    account_id = models.BigIntegerField(_("account id"), null=True, blank=True, db_index=True)
    fields = models.JSONField(_("fields"), default=list, blank=True)
    extra = models.JSONField(_("details"), default=dict, blank=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_type}#{self.object_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("the audit log is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("the audit log is append-only")
