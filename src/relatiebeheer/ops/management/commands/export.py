"""`relatiebeheer export accounts FILE` — the shared exporter from the command line."""

from pathlib import Path

from django.core.management.base import CommandError
from django.utils import translation

from relatiebeheer.audit.services import audit_log
from relatiebeheer.exports import ExportTooLarge, csv_lines, write_xlsx
from relatiebeheer.ops.commands import ActorCommand
from relatiebeheer.relations import selectors
from relatiebeheer.relations.exports import account_columns

LISTS = {"accounts": (account_columns, lambda actor: selectors.account_list(actor=actor))}


class Command(ActorCommand):
    help = "Export a list (what --as USERNAME may see) to CSV or XLSX, in Dutch or English."

    def add_arguments(self, parser):
        parser.add_argument("list", choices=sorted(LISTS))
        parser.add_argument("file", help="Where to write; '-' for standard output (CSV only).")
        parser.add_argument("--format", choices=["csv", "xlsx"], default=None)
        parser.add_argument("--lang", choices=["nl", "en"], default="nl")

    def handle(self, *args, list, file, format, lang, **options):
        fmt = format or ("xlsx" if file.endswith(".xlsx") else "csv")
        columns_for, rows_for = LISTS[list]
        with translation.override(lang):
            columns = columns_for()
            rows = rows_for(self.actor).iterator(chunk_size=2000)
            audit_log(actor=self.actor, action=f"export.{list}", extra={"format": fmt})
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
