"""`relatiebeheer export LIST FILE` — any registered list through the shared exporter.

Lists come from ``relatiebeheer.exports_registry`` (apps register theirs in
``ready()``); ``--filter KEY=VALUE`` sets the same filters as the list's page (e.g.
``--filter status=customer --filter city=Amsterdam``).
"""

from pathlib import Path

from django.core.management.base import CommandError
from django.utils import translation

from relatiebeheer.audit.services import audit_log
from relatiebeheer.exports import ExportTooLarge, csv_lines, write_xlsx
from relatiebeheer.exports_registry import export_lists, get_export
from relatiebeheer.ops.commands import ActorCommand


class Command(ActorCommand):
    help = "Export a list (what --as USERNAME may see) to CSV or XLSX, in Dutch or English."

    def add_arguments(self, parser):
        parser.add_argument(
            "list", help="One of: " + ", ".join(item.key for item in export_lists())
        )
        parser.add_argument("file", help="Where to write; '-' for standard output (CSV only).")
        parser.add_argument("--format", choices=["csv", "xlsx"], default=None)
        parser.add_argument("--lang", choices=["nl", "en"], default="nl")
        parser.add_argument(
            "--filter",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="A filter of the list's page, e.g. status=customer (repeatable).",
        )

    def handle(self, *args, list, file, format, lang, filter, **options):
        item = get_export(list)
        if item is None:
            choices = ", ".join(i.key for i in export_lists())
            raise CommandError(f"Unknown list {list!r}; choose one of: {choices}.", returncode=2)
        params = {}
        for pair in filter:
            key, sep, value = pair.partition("=")
            if not sep or key not in item.filters:
                raise CommandError(
                    f"Unknown filter {pair!r}; this list knows: {', '.join(item.filters)}.",
                    returncode=2,
                )
            params[key] = value
        fmt = format or ("xlsx" if file.endswith(".xlsx") else "csv")
        with translation.override(lang):
            columns = item.columns()
            rows = item.rows(self.actor, params)
            if hasattr(rows, "iterator"):
                rows = rows.iterator(chunk_size=2000)
            audit_log(
                actor=self.actor,
                action=f"export.{item.key}",
                extra={"format": fmt, "filters": params},
            )
            if fmt == "xlsx":
                if file == "-":
                    raise CommandError("XLSX needs a file name.", returncode=2)
                try:
                    count = write_xlsx(columns, rows, file, lang=lang)
                except ExportTooLarge as exc:
                    Path(file).unlink(missing_ok=True)
                    raise CommandError(str(exc), returncode=2) from exc
            elif file == "-":
                for line in csv_lines(columns, rows, lang=lang):
                    self.stdout.write(line, ending="")
                return
            else:
                count = -1  # the header line is not a row
                with open(file, "w", encoding="utf-8", newline="") as out:
                    for line in csv_lines(columns, rows, lang=lang):
                        out.write(line)
                        count += 1
        self.stdout.write(self.style.SUCCESS(f"Wrote {count} rows to {file}."))
