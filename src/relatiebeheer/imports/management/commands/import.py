"""`relatiebeheer import KIND FILE` — import accounts, contacts, orders, costs or contact moments."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from django.core.management.base import CommandError
from django.utils import translation

from relatiebeheer.common.errors import DomainError, InvalidInput
from relatiebeheer.imports import jobs, selectors, services
from relatiebeheer.imports.fields import KINDS, fields_for
from relatiebeheer.imports.messages import describe
from relatiebeheer.imports.models import ImportJob
from relatiebeheer.ops.commands import ActorCommand


def parse_mapping(text: str) -> dict[str, str] | None:
    """``field=Header;field=Header`` (or with commas), or a JSON file with that object."""
    path = Path(text)
    if text.endswith(".json") and path.exists():
        data = json.loads(path.read_text(encoding="utf-8"))
        return data.get("mapping", data)
    if "=" not in text:
        return None
    separator = ";" if ";" in text else ","
    mapping = {}
    for part in text.split(separator):
        if not part.strip():
            continue
        field, _eq, header = part.partition("=")
        mapping[field.strip()] = header.strip()
    return mapping


class Command(ActorCommand):
    help = (
        "Import a CSV or XLSX file (as --as USERNAME). All-or-nothing unless --partial; "
        "exit code 2 with the report when rows are not valid."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=KINDS)
        parser.add_argument("file")
        parser.add_argument(
            "--mapping",
            help="field=Column;field=Column, a preset (e.g. exact_online_accounts or a saved "
            "preset's number) or a JSON file. Default: detected from the column names.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Check and count; change nothing."
        )
        parser.add_argument(
            "--partial", action="store_true", help="Import the valid rows, reject the rest."
        )
        parser.add_argument(
            "--notation", choices=["nl", "en"], help="Amounts: 1.234,56 (nl) or 1,234.56 (en)."
        )
        parser.add_argument(
            "--date-order", choices=["dmy", "mdy"], help="05-11-2026: dmy = 5 November."
        )
        parser.add_argument(
            "--account", type=int, help="Rows without an account column belong to this account."
        )
        parser.add_argument(
            "--rejected", help="Write the rejected rows (with a reason column) to this CSV."
        )
        parser.add_argument("--save-preset", help="Save the mapping under this name.")
        parser.add_argument(
            "--show-mapping", action="store_true", help="Print the mapping and stop."
        )
        parser.add_argument(
            "--lang", choices=["nl", "en"], default=None, help="Language of the report."
        )
        parser.add_argument("--limit", type=int, default=50, help="Problems shown (default 50).")

    def handle(self, *args, **o):
        lang = o["lang"] or getattr(self.actor, "language", "nl") or "nl"
        with translation.override(lang):
            try:
                return self._handle(**{**o, "lang": lang})
            except InvalidInput as exc:
                raise CommandError(
                    "; ".join(f"{f}: {' '.join(map(str, m))}" for f, m in exc.errors.items()),
                    returncode=2,
                ) from exc
            except DomainError as exc:
                raise CommandError(str(exc.detail), returncode=2) from exc

    def _handle(self, *, kind, file, lang, **o):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}", returncode=2)
        mapping = preset = None
        if o["mapping"]:
            mapping = parse_mapping(o["mapping"])
            if mapping is None:
                preset = o["mapping"]
        options = {
            "partial": o["partial"],
            "dry_run": o["dry_run"],
            "notation": o["notation"],
            "date_order": o["date_order"],
            "account_id": o["account"],
        }
        job = services.import_job_create(
            actor=self.actor,
            kind=kind,
            source=path,
            filename=path.name,
            mapping=mapping,
            options=options,
            preset=preset,
        )
        specs = fields_for(kind)
        self.stdout.write(
            f"{job.filename}: {job.file_info['format'].upper()}, {len(job.file_info['headers'])} columns"
        )
        for field, header in job.mapping.items():
            self.stdout.write(f"  {header!r:<32} -> {field} ({specs[field].label})")
        unmapped = [h for h in job.file_info["headers"] if h not in job.mapping.values()]
        if unmapped:
            self.stdout.write("  not imported: " + ", ".join(repr(h) for h in unmapped))
        preview = selectors.job_preview(job, rows=5)
        for warning in preview["warnings"]:
            self.stdout.write(self.style.WARNING(f"  ! {warning}"))
        if o["save_preset"]:
            saved = services.preset_save(actor=self.actor, job=job, name=o["save_preset"])
            self.stdout.write(f"Saved the mapping as preset {saved.pk} ({saved.name}).")
        if o["show_mapping"]:
            return
        done = threading.Event()
        progress = threading.Thread(target=self._progress, args=(job.pk, done), daemon=True)
        progress.start()
        try:
            job = services.import_job_start(
                actor=self.actor, job=job, commit=not o["dry_run"], background=False
            )
        finally:
            done.set()
            if progress.is_alive():
                progress.join(timeout=2)
        self._summary(job, dry_run=o["dry_run"])
        if o["rejected"] and job.rows_invalid:
            source = jobs.rejected_path(job)
            if source.exists():
                Path(o["rejected"]).write_bytes(source.read_bytes())
                self.stdout.write(f"Rejected rows written to {o['rejected']}.")
        if job.status == ImportJob.Status.FAILED:
            raise CommandError(job.message, returncode=1)
        if job.rows_invalid:
            self._report(job, limit=o["limit"])
            if not job.partial:
                raise CommandError(
                    f"{job.rows_invalid} of {job.rows_total} rows are not valid: nothing imported.",
                    returncode=2,
                )
            raise CommandError(
                f"{job.rows_invalid} of {job.rows_total} rows were not valid and were left out.",
                returncode=2,
            )

    def _progress(self, job_id: int, done: threading.Event) -> None:
        from django.db import close_old_connections

        width = 30
        tty = self.stderr.isatty()
        shown = None
        try:
            while not done.wait(0.5):
                job = (
                    ImportJob.objects.filter(pk=job_id)
                    .values("rows_done", "rows_total", "phase")
                    .first()
                )
                if not job:
                    continue
                state = (job["rows_done"] * 10 // max(1, job["rows_total"] or 1), job["phase"])
                if not tty and state == shown:
                    continue
                shown = state
                total = job["rows_total"] or 0
                share = min(1.0, job["rows_done"] / total) if total else 0.0
                filled = int(width * share)
                self.stderr.write(
                    f"{chr(13) if tty else ''}[{'#' * filled}{'.' * (width - filled)}] "
                    f"{job['rows_done']:>10,}/{total:,} {job['phase']:<10}",
                    ending="" if tty else "\n",
                )
            if tty and shown is not None:
                self.stderr.write("")
        finally:
            close_old_connections()

    def _summary(self, job: ImportJob, *, dry_run: bool) -> None:
        verb = "would be" if dry_run else ""
        self.stdout.write(
            f"{job.rows_total or 0} rows: {job.rows_valid} valid, {job.rows_invalid} not valid; "
            f"{job.created} {verb} created, {job.updated} {verb} updated, {job.unchanged} unchanged "
            f"({job.seconds:.1f} s)".replace("  ", " ")
        )
        if job.status == ImportJob.Status.DONE:
            self.stdout.write(self.style.SUCCESS(f"Imported (job {job.pk})."))

    def _report(self, job: ImportJob, *, limit: int) -> None:
        self.stdout.write("row\tcolumn\tvalue\treason")
        for issue in job.issues.all()[:limit]:
            self.stdout.write(
                f"{issue.row}\t{issue.column or issue.field}\t{issue.value}\t{describe(issue.code, issue.params)}"
            )
        if job.rows_invalid > limit:
            self.stdout.write("… and more (see --rejected FILE for every rejected row).")
