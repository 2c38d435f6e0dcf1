"""Background imports (django-tasks): large files are imported by the worker."""

from datetime import timedelta

from django_tasks import task

from relatiebeheer.ops import scheduler


@task()
def run_import(job_id: int, commit: bool) -> str:
    from relatiebeheer.audit.context import channel

    from .services import run_job

    with channel("worker"):
        return run_job(job_id, commit=commit).status


@task()
def mark_stale_imports() -> int:
    from .services import mark_stale_jobs

    return mark_stale_jobs()


scheduler.register("imports.mark_stale", timedelta(minutes=10), mark_stale_imports.enqueue)


@task()
def cleanup_uploads() -> int:
    """Delete uploaded files past IMPORT_UPLOAD_RETENTION_DAYS (see ``retention.py``)."""
    from .retention import cleanup

    return cleanup()


scheduler.register("imports.cleanup", timedelta(days=1), cleanup_uploads.enqueue)
