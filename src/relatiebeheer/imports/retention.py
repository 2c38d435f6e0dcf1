"""Uploaded import files are not kept for ever.

* The source file of a job is deleted as soon as the job has imported it (a done,
  committed run: it cannot be run again).
* Every kept upload folder (a file checked but not imported, a failed run, the refused
  rows of a partial import) is deleted ``IMPORT_UPLOAD_RETENTION_DAYS`` (default 30)
  days after the job was last changed, by the scheduled job ``imports.cleanup``.
* An erasure of a contact removes every kept upload that names the person
  (``uploads_naming``, called by ``privacy.services.contact_erase``).

The job rows stay (who imported what, when, with which counts); their pages say the
file was removed.
"""

from __future__ import annotations

import html
import logging
import shutil
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from .jobs import imports_dir
from .models import ImportJob

if TYPE_CHECKING:
    from relatiebeheer.privacy.matching import Matcher

logger = logging.getLogger(__name__)


def upload_removed_message() -> str:
    return _(
        "The uploaded file was removed (after the import, after the retention period, or "
        "because it named a person whose data were erased). Upload it again to import it."
    )


def upload_kept(job: ImportJob) -> bool:
    return bool(job.path) and Path(job.path).exists()


def remove_source(job: ImportJob) -> None:
    """Delete the job's uploaded file (its refused rows stay until the retention)."""
    if job.path:
        Path(job.path).unlink(missing_ok=True)


def remove_upload(job: ImportJob) -> None:
    """Delete the job's whole upload folder (source and refused rows)."""
    if not job.path:
        return
    folder = Path(job.path).parent
    root = imports_dir().resolve()
    if folder.resolve().parent == root:  # only ever a job folder under var/imports
        shutil.rmtree(folder, ignore_errors=True)


def expired_jobs(now=None) -> list[ImportJob]:
    days = getattr(settings, "IMPORT_UPLOAD_RETENTION_DAYS", 30)
    cutoff = (now or timezone.now()) - timedelta(days=days)
    return list(
        ImportJob.objects.filter(updated_at__lt=cutoff).exclude(status__in=ImportJob.ACTIVE)
    )


def cleanup(now=None) -> int:
    """Delete the upload folders past the retention, and folders no job knows (left by
    an upload that failed halfway). Returns the number of folders removed."""
    removed = 0
    for job in expired_jobs(now):
        if Path(job.path).parent.exists():
            remove_upload(job)
            removed += 1
    known = {Path(p).parent.name for p in ImportJob.objects.values_list("path", flat=True)}
    days = getattr(settings, "IMPORT_UPLOAD_RETENTION_DAYS", 30)
    cutoff = (now or timezone.now()).timestamp() - days * 86400
    for folder in imports_dir().iterdir():
        if folder.is_dir() and folder.name not in known and folder.stat().st_mtime < cutoff:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


def _file_names(path: Path, matcher: Matcher, encoding: str, delimiter: str = ";") -> bool:
    if path.suffix == ".xlsx":
        try:
            with zipfile.ZipFile(path) as book:
                for name in book.namelist():
                    if name.endswith(".xml"):
                        text = html.unescape(book.read(name).decode("utf-8", "replace"))
                        if matcher.names(text):
                            return True
        except (zipfile.BadZipFile, OSError):
            return False
        return False
    with open(path, encoding=encoding or "utf-8", errors="replace", newline="") as handle:
        for line in handle:
            # "Mei;Li;…" names "Mei Li" too: the cells are read as words in a row.
            if matcher.names(line) or matcher.names(line.replace(delimiter or ";", " ")):
                return True
    return False


def uploads_naming(matcher: Matcher) -> list[ImportJob]:
    """Jobs whose kept upload (source or refused rows) names the person."""
    found = []
    for job in ImportJob.objects.exclude(path="").order_by("pk"):
        folder = Path(job.path).parent
        if not folder.exists():
            continue
        info = job.file_info or {}
        encoding, delimiter = info.get("encoding", "utf-8"), info.get("delimiter", ";")
        files = [p for p in (Path(job.path), folder / "rejected.csv") if p.exists()]
        try:
            if any(_file_names(p, matcher, encoding, delimiter) for p in files):
                found.append(job)
        except OSError:
            logger.warning("could not read the upload of import %s", job.pk)
    return found
