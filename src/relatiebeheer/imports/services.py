"""Import jobs: upload, map, check, import — the one path for the web, the API and the CLI.

Who may import (the rule, also in the README):

* read-only users import nothing;
* sales managers and administrators import into every account, and may set any
  account manager on imported accounts;
* account managers import into the accounts they may see (their portfolio and
  accounts shared with them): rows pointing at other accounts are refused as "unknown
  account", rows naming records of other accounts by number as "unknown record" (as if
  they did not exist; by external id: "external id already used"); accounts they
  create are theirs, and they cannot hand accounts to
  someone else (as in the account form).

A job is seen by the user who started it and by those who see every account; only
the user who started it changes or runs it.

Every public function here is a declared writer (``common.writers``). The rows
themselves are merged by the domains' bulk writers (``relations.bulk``,
``sales.bulk``), which write the job's audit row with its counts and fire the
"accounts changed" hook; a run that merges nothing audits its outcome here.
"""

from __future__ import annotations

import logging
import shutil
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from relatiebeheer.audit.context import current_channel
from relatiebeheer.audit.services import audit_log
from relatiebeheer.common import writers
from relatiebeheer.common.errors import Conflict, InvalidInput, NotFound
from relatiebeheer.common.files import DIR_MODE, open_private
from relatiebeheer.common.writers import writer
from relatiebeheer.hooks import accounts_changed
from relatiebeheer.relations.rules import require_can_change
from relatiebeheer.relations.staged import BulkAudit
from relatiebeheer.sales.rules import OverCredited
from relatiebeheer.users.models import User

from . import reader
from .engine import Engine, Outcome, write_rejected
from .fields import KINDS, detect_mapping
from .handlers import ImportAborted
from .jobs import (
    OPTION_KEYS,
    clean_mapping,
    clean_options,
    imports_dir,
    preset_mapping,
    rejected_path,
    require_own_job,
)
from .messages import file_problem
from .models import ImportIssue, ImportJob, ImportPreset
from .presets import best_preset
from .retention import remove_source, upload_kept, upload_removed_message

logger = logging.getLogger(__name__)

MAX_FILE_BYTES = 2 * 1024**3
# Files with more rows than this are imported by the background worker (web and API).
BACKGROUND_ROWS = 20_000


# --- creating and configuring ------------------------------------------------------------------


@writer(accounts=False)
def import_job_create(
    *,
    actor: User,
    kind: str,
    source,
    filename: str,
    mapping: Mapping[str, str] | None = None,
    options: Mapping[str, Any] | None = None,
    preset: str | int | None = None,
) -> ImportJob:
    """Store an uploaded file (a path, bytes or an uploaded file) and detect its layout.

    The mapping is, in order: the one given, the named preset (shipped key or a saved
    preset's id), a shipped preset that clearly recognises the headers, or the
    mapping detected from the header names.
    """
    require_can_change(actor)
    if kind not in KINDS:
        raise InvalidInput({"kind": [_("Choose one of: %(kinds)s.") % {"kinds": ", ".join(KINDS)}]})
    options = clean_options(actor, options)
    folder = imports_dir() / uuid.uuid4().hex
    folder.mkdir(mode=DIR_MODE)
    safe = "".join(ch for ch in Path(filename or "upload").name if ch.isalnum() or ch in "._- ")[
        :100
    ]
    suffix = ".xlsx" if safe.lower().endswith(".xlsx") else ".csv"
    target = folder / f"source{suffix}"
    try:
        size = _store(source, target)
        if size > MAX_FILE_BYTES:
            raise InvalidInput({"file": [file_problem("too_large")]})
        try:
            info = reader.sniff(target)
        except reader.FileProblem as exc:
            raise InvalidInput({"file": [file_problem(exc.code)]}) from exc
        if info.format == "xlsx" and target.suffix != ".xlsx":
            target = target.rename(folder / "source.xlsx")
        chosen = _initial_mapping(actor, kind, info.headers, mapping, preset, options)
    except Exception:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    job = ImportJob.objects.create(
        kind=kind,
        created_by=actor,
        channel=current_channel()[:10],
        language=(translation.get_language() or "nl")[:2],
        filename=(filename or safe)[:255],
        path=str(target),
        size=size,
        file_info=info.as_dict(),
        mapping=chosen,
        options=options,
        rows_total=reader.count_rows(target, info),
    )
    audit_log(
        actor=actor,
        action="import.upload",
        obj=job,
        extra={"kind": kind, "bytes": size, "format": info.format},
    )
    return job


def _store(source: Any, target: Path) -> int:
    """The upload as ``target``, readable by the server's user only (mode 0600)."""
    with open_private(target) as out:
        if isinstance(source, (str, Path)):
            with open(source, "rb") as handle:
                shutil.copyfileobj(handle, out, 1024 * 1024)
        elif isinstance(source, bytes):
            out.write(source)
        else:  # an UploadedFile, or the request body (common.bodylimit.LimitedBody)
            for chunk in source.chunks():
                out.write(chunk)
    return target.stat().st_size


def _initial_mapping(
    actor: User,
    kind: str,
    headers: list[str],
    mapping: Mapping[str, str] | None,
    preset: str | int | None,
    options: dict,
) -> dict[str, str]:
    if mapping:
        return clean_mapping(kind, headers, mapping)
    if preset is not None and preset != "":
        found = preset_mapping(actor, kind, preset, headers)
        if found is None:
            raise InvalidInput({"preset": [_("Unknown preset.")]})
        if found[1]:
            for key in ("notation", "date_order"):
                if key in found[1] and key not in options:
                    options[key] = found[1][key]
        return found[0]
    detected = detect_mapping(kind, headers)
    recognised = best_preset(kind, headers)
    if recognised is None:
        return detected
    options.setdefault("preset", recognised.key)
    # The preset names its columns exactly; the header detection fills in the rest.
    chosen = recognised.mapping_for(headers)
    taken = set(chosen.values())
    for field, header in detected.items():
        if field not in chosen and header not in taken:
            chosen[field] = header
    return chosen


@writer(accounts=False)
def import_job_configure(
    *,
    actor: User,
    job: ImportJob,
    mapping: Mapping[str, str] | None = None,
    options: Mapping[str, Any] | None = None,
) -> ImportJob:
    """Change the mapping and options of a job that has not started importing."""
    require_own_job(actor, job)
    if job.is_active and not job.is_stale:
        raise Conflict(_("This import is running; wait until it has finished."))
    if job.status == ImportJob.Status.DONE and not job.dry_run:
        raise Conflict(_("This file has been imported; upload it again to import it again."))
    info = reader.FileInfo.from_dict(job.file_info)
    fields = []
    if mapping is not None:
        job.mapping = clean_mapping(job.kind, info.headers, mapping)
        fields.append("mapping")
    if options is not None:
        merged = {**{k: v for k, v in job.options.items() if k in OPTION_KEYS}, **dict(options)}
        job.options = clean_options(actor, merged)
        fields.append("options")
    job.status = ImportJob.Status.UPLOADED
    job.save(update_fields=[*fields, "status", "updated_at"])
    audit_log(actor=actor, action="import.configure", obj=job, fields=fields)
    return job


# --- running ----------------------------------------------------------------------------------


@writer()
def import_job_start(
    *, actor: User, job: ImportJob, commit: bool, background: bool | None = None
) -> ImportJob:
    """Check (``commit=False``) or import the file; large files go to the background worker.

    ``background=None`` decides by size: more than ``BACKGROUND_ROWS`` rows (or an
    XLSX over 5 MB) run in the worker, the rest right away.
    """
    require_own_job(actor, job)
    if job.is_active and not job.is_stale:
        raise Conflict(_("This import is running; wait until it has finished."))
    if commit and job.status == ImportJob.Status.DONE and not job.dry_run:
        raise Conflict(_("This file has been imported; upload it again to import it again."))
    if not upload_kept(job):
        raise Conflict(upload_removed_message())
    _engine(job, actor)  # refuses a bad mapping before anything is queued
    if background is None:
        big = (job.rows_total or 0) > BACKGROUND_ROWS or (
            job.file_info.get("format") == "xlsx" and job.size > 5 * 1024 * 1024
        )
        background = big
    updated = ImportJob.objects.filter(pk=job.pk).exclude(status__in=ImportJob.ACTIVE).update(
        status=ImportJob.Status.QUEUED,
        phase="queued",
        heartbeat_at=timezone.now(),
        rows_done=0,
        message="",
    ) or (
        job.is_stale and ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.QUEUED)
    )
    if not updated:
        raise Conflict(_("This import is running; wait until it has finished."))
    job.refresh_from_db()
    audit_log(
        actor=actor,
        action="import.start",
        obj=job,
        extra={"commit": commit, "background": background},
    )
    if background:
        from .tasks import run_import

        transaction.on_commit(lambda: run_import.enqueue(job_id=job.pk, commit=commit))
        accounts_changed([])  # queued: the worker's run changes the accounts, if any
        return job
    return run_job(job.pk, commit=commit)


def _engine(job: ImportJob, actor: User, **callbacks: Any) -> Engine:
    info = reader.FileInfo.from_dict(job.file_info)
    try:
        return Engine(
            kind=job.kind,
            path=job.path,
            info=info,
            mapping=job.mapping,
            options=job.options,
            actor=actor,
            **callbacks,
        )
    except ImportAborted as exc:
        raise InvalidInput(
            {
                "mapping": [
                    file_problem(exc.code) % exc.params if exc.params else file_problem(exc.code)
                ]
            }
        ) from exc


@writer(acts="system")
def run_job(job_id: int, *, commit: bool) -> ImportJob:
    """Run a queued job in this process (the worker's task and small files call this).

    A merge is written by the kind's bulk writer, which writes the job's audit row and
    fires the hook; a check, a refused file, a run with nothing to change or a failure
    is audited here and changes no account."""
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    actor = job.created_by
    phase_status = ImportJob.Status.VALIDATING
    # Claim the queued job: a job that is no longer queued was declared interrupted
    # (``mark_stale_jobs``: "nothing was imported, start it again") or is run by another
    # task; running it anyway would import what the page says was not.
    claimed = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.QUEUED).update(
        status=phase_status, phase="checking", rows_done=0, heartbeat_at=timezone.now(), summary={}
    )
    if not claimed:
        writers.nothing_to_write()
        job.refresh_from_db()
        return job
    ImportIssue.objects.filter(job=job).delete()
    rejected_path(job).unlink(missing_ok=True)
    last = [0.0]

    def progress(done: int, phase: str) -> None:
        now = time.monotonic()
        if phase == "checking" and now - last[0] < 0.5:
            return
        last[0] = now
        status = ImportJob.Status.IMPORTING if phase == "importing" else ImportJob.Status.VALIDATING
        # Outside the merge transaction: other sessions see the progress as it happens.
        ImportJob.objects.filter(pk=job.pk).update(
            rows_done=done, phase=phase, status=status, heartbeat_at=timezone.now()
        )

    def sink(issues: list[dict]) -> None:
        ImportIssue.objects.bulk_create(
            [ImportIssue(job_id=job.pk, **issue) for issue in issues], batch_size=1000
        )

    def merged(outcome: Outcome) -> None:
        # In the merge transaction: the job is "done" exactly when the rows are in (the
        # bulk writer wrote the audit row with the counts).
        _finish(job, actor, outcome, commit=True, audit=False)

    def merge_audit(outcome: Outcome) -> BulkAudit:
        return BulkAudit(
            action=f"import.{job.kind}",
            obj=job,
            rows=outcome.valid,
            extra=_audit_extra(job, outcome, ImportJob.Status.DONE),
        )

    engine = None
    try:
        with translation.override(job.language):
            engine = _engine(
                job,
                actor,
                progress=progress,
                issue_sink=sink,
                on_merged=merged,
                merge_audit=merge_audit,
            )
            outcome = engine.run(commit=commit and not job.dry_run)
        if not outcome.merged or not (outcome.created or outcome.updated):
            _finish(job, actor, outcome, commit=commit and not job.dry_run and outcome.merged)
            accounts_changed([])  # nothing merged: no account changed
        if outcome.invalid:
            with translation.override(job.language):
                write_rejected(engine, rejected_path(job), language=job.language)
    except OverCredited as exc:
        _fail(
            job,
            actor,
            _("%(problem)s (orders %(ids)s)")
            % {"problem": exc.errors["revenue"][0], "ids": ", ".join(map(str, exc.order_ids[:20]))},
        )
    except InvalidInput as exc:
        _fail(job, actor, "; ".join(str(m) for msgs in exc.errors.values() for m in msgs))
    except reader.FileProblem as exc:
        _fail(job, actor, file_problem(exc.code))
    except Exception as exc:
        logger.exception("import %s failed", job.pk)
        _fail(
            job,
            actor,
            _("The import failed: %(error)s. Nothing was imported.") % {"error": str(exc)[:300]},
        )
    job.refresh_from_db()
    if commit and not job.dry_run and job.status == ImportJob.Status.DONE:
        remove_source(job)  # imported: the upload is not kept (see retention.py)
    return job


def _finish(
    job: ImportJob, actor: User, outcome: Outcome, *, commit: bool, audit: bool = True
) -> None:
    if outcome.invalid and not job.partial:
        status = ImportJob.Status.INVALID
    elif commit:
        status = ImportJob.Status.DONE
    else:
        status = ImportJob.Status.VALIDATED
    ImportJob.objects.filter(pk=job.pk).update(
        status=status,
        phase="done" if commit else "checked",
        rows_total=outcome.rows,
        rows_done=outcome.rows,
        rows_valid=outcome.valid,
        rows_invalid=outcome.invalid,
        created=outcome.created,
        updated=outcome.updated,
        unchanged=outcome.unchanged,
        summary=outcome.summary,
        seconds=outcome.seconds,
        finished_at=timezone.now(),
        heartbeat_at=timezone.now(),
        message="",
    )
    if audit:
        audit_log(
            actor=actor,
            action=f"import.{job.kind}" if commit else "import.check",
            obj=job,
            extra={
                **_audit_extra(job, outcome, status),
                "created": outcome.created,
                "updated": outcome.updated,
                "unchanged": outcome.unchanged,
                "accounts": len(outcome.account_ids),
            },
        )


def _audit_extra(job: ImportJob, outcome: Outcome, status: str) -> dict[str, Any]:
    return {
        "kind": job.kind,
        "rows": outcome.rows,
        "invalid": outcome.invalid,
        "partial": job.partial,
        "status": status,
    }


def _fail(job: ImportJob, actor: User, message: str) -> None:
    """The run failed: nothing was merged (its transaction rolled back), say so."""
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.FAILED,
        phase="failed",
        message=message[:2000],
        finished_at=timezone.now(),
    )
    audit_log(actor=actor, action="import.failed", obj=job, extra={"kind": job.kind})
    accounts_changed([])  # nothing merged: no account changed


@writer(accounts=False, acts="system")
def mark_stale_jobs() -> int:
    """Jobs whose worker died (killed, machine restarted): nothing was merged, say so."""
    from .models import STALE_AFTER

    cutoff = timezone.now() - STALE_AFTER
    with transaction.atomic():
        stale = list(
            ImportJob.objects.filter(
                status__in=ImportJob.ACTIVE, heartbeat_at__lt=cutoff
            ).values_list("pk", flat=True)
        )
        if not stale:
            writers.nothing_to_write()
            return 0
        count = ImportJob.objects.filter(pk__in=stale).update(
            status=ImportJob.Status.FAILED,
            phase="failed",
            message=_(
                "The import was interrupted before it finished. Nothing was imported; "
                "start it again."
            ),
        )
        audit_log(actor=None, action="import.interrupted", extra={"jobs": stale[:100]})
    return count


# --- presets ----------------------------------------------------------------------------------


@writer(accounts=False)
def preset_save(*, actor: User, job: ImportJob, name: str, shared: bool = False) -> ImportPreset:
    """Save a job's mapping and options (notation, date order) as a named preset."""
    require_can_change(actor)
    name = " ".join((name or "").split())[:100]
    if not name:
        raise InvalidInput({"name": [_("Give the preset a name.")]})
    options = {k: v for k, v in job.options.items() if k in {"notation", "date_order"}}
    preset, _created = ImportPreset.objects.update_or_create(
        owner=actor,
        kind=job.kind,
        name=name,
        defaults={"mapping": job.mapping, "options": options, "shared": shared},
    )
    audit_log(actor=actor, action="import.preset_save", obj=preset, extra={"kind": job.kind})
    return preset


@writer(accounts=False)
def preset_delete(*, actor: User, preset: ImportPreset) -> None:
    require_can_change(actor)
    if preset.owner_id != actor.pk:
        raise NotFound()
    audit_log(actor=actor, action="import.preset_delete", obj=preset)
    preset.delete()
