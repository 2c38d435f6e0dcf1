"""Import jobs, their reported problems, and saved column mappings (presets)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from relatiebeheer.users.access import sees_all_accounts

from .fields import KIND_LABELS, KINDS

# A running job whose worker has not reported for this long has died (killed, crashed).
STALE_AFTER = timedelta(minutes=10)


class ImportJobQuerySet(models.QuerySet):
    def visible_to(self, user):
        """A job is seen by whoever started it and by those who see every account."""
        if not user or not user.is_authenticated or not user.is_active:
            return self.none()
        if sees_all_accounts(user):
            return self
        return self.filter(created_by=user)


class ImportJob(models.Model):
    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Uploaded")
        QUEUED = "queued", _("Queued")
        VALIDATING = "validating", _("Checking rows")
        VALIDATED = "validated", _("Checked")
        IMPORTING = "importing", _("Importing")
        DONE = "done", _("Done")
        INVALID = "invalid", _("Rows not valid: nothing imported")
        FAILED = "failed", _("Failed")

    ACTIVE = (Status.QUEUED, Status.VALIDATING, Status.IMPORTING)

    kind = models.CharField(_("kind"), max_length=20, choices=list(KIND_LABELS.items()))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="import_jobs"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    channel = models.CharField(max_length=10, default="web")
    language = models.CharField(max_length=5, default="nl")
    filename = models.CharField(_("file"), max_length=255)
    path = models.CharField(max_length=500)
    size = models.BigIntegerField(default=0)
    file_info = models.JSONField(default=dict)
    mapping = models.JSONField(_("column mapping"), default=dict)
    # notation (nl/en), date_order (dmy/mdy), partial, dry_run, account_id, preset
    options = models.JSONField(default=dict)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.UPLOADED
    )
    phase = models.CharField(max_length=20, blank=True)
    rows_total = models.BigIntegerField(null=True, blank=True)
    rows_done = models.BigIntegerField(default=0)
    rows_valid = models.BigIntegerField(default=0)
    rows_invalid = models.BigIntegerField(default=0)
    created = models.BigIntegerField(default=0)
    updated = models.BigIntegerField(default=0)
    unchanged = models.BigIntegerField(default=0)
    summary = models.JSONField(default=dict)
    message = models.TextField(blank=True)
    seconds = models.FloatField(default=0)

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["created_by", "-created_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=KINDS), name="import_job_kind_valid")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.filename}"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def is_stale(self) -> bool:
        seen = self.heartbeat_at or self.updated_at
        return self.is_active and seen is not None and timezone.now() - seen > STALE_AFTER

    @property
    def percent(self) -> int:
        if self.status in {self.Status.DONE, self.Status.INVALID, self.Status.VALIDATED}:
            return 100
        if not self.rows_total:
            return 0
        return min(99, int(100 * self.rows_done / self.rows_total))

    @property
    def partial(self) -> bool:
        return bool(self.options.get("partial"))

    @property
    def dry_run(self) -> bool:
        return bool(self.options.get("dry_run"))


class ImportIssue(models.Model):
    """One problem with one cell (or row): what the report and the API show.

    The reason is stored as a code with parameters and put into words when it is shown,
    so every reader gets it in their own language. At most ``MAX_ISSUES`` are stored
    per job; the counts per column and reason in ``ImportJob.summary`` cover them all.
    """

    MAX_ISSUES = 5000

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="issues")
    row = models.PositiveBigIntegerField()
    column = models.CharField(max_length=255, blank=True)
    field = models.CharField(max_length=40, blank=True)
    value = models.CharField(max_length=200, blank=True)
    code = models.CharField(max_length=40)
    params = models.JSONField(default=dict)

    class Meta:
        ordering = ["row", "id"]
        indexes = [models.Index(fields=["job", "row"])]

    def __str__(self) -> str:
        return f"{self.row}:{self.column} {self.code}"


class ImportPresetQuerySet(models.QuerySet):
    def visible_to(self, user):
        if not user or not user.is_authenticated:
            return self.none()
        return self.filter(Q(owner=user) | Q(shared=True))


class ImportPreset(models.Model):
    """A saved column mapping (with its options) for files of one kind and layout."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="import_presets"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=list(KIND_LABELS.items()))
    name = models.CharField(_("name"), max_length=100)
    mapping = models.JSONField(_("column mapping"), default=dict)
    options = models.JSONField(default=dict)
    shared = models.BooleanField(_("shared with everyone"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ImportPresetQuerySet.as_manager()

    class Meta:
        verbose_name = _("import preset")
        verbose_name_plural = _("import presets")
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "kind", "name"], name="import_preset_name_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name
