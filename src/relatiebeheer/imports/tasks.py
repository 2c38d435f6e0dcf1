"""Background imports (django-tasks): large files are imported by the worker."""

from datetime import timedelta

from django_tasks import task

from relatiebeheer.ops import scheduler
from relatiebeheer.ops.retries import retry_policy


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


retry_policy(
    run_import,
    idempotent=False,
    why="a merge that committed must not run twice; an interrupted import is marked "
    "failed by imports.mark_stale and started again by a person",
)
retry_policy(mark_stale_imports, idempotent=True, why="marks only jobs still active and stale")
retry_policy(cleanup_uploads, idempotent=True, why="deletes only files past their retention")
