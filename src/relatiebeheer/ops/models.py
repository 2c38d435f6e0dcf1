"""Bookkeeping for the background worker: heartbeats and scheduled runs."""

from django.db import models


class WorkerHeartbeat(models.Model):
    """A running worker says it is alive every few seconds (used to recover its tasks)."""

    worker_id = models.CharField(max_length=64, primary_key=True)
    pid = models.IntegerField()
    host = models.CharField(max_length=200)
    started_at = models.DateTimeField()
    last_seen = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.worker_id


class ScheduledRun(models.Model):
    """One row per job and time slot: the unique constraint makes enqueueing idempotent,
    also with several workers running the scheduler at once."""

    job = models.CharField(max_length=100)
    slot = models.BigIntegerField()
    enqueued_at = models.DateTimeField(auto_now_add=True)
    task_id = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "slot"], name="scheduled_run_unique")]

    def __str__(self) -> str:
        return f"{self.job}@{self.slot}"
