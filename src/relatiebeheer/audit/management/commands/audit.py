"""`relatiebeheer audit` — read the audit log (administrators and sales managers).

The same selector as the page and ``GET /api/v1/audit``: the same filters, the same
refusal for account managers and read-only users. Read-only; a CSV export is audited.
"""

from __future__ import annotations

import json
from datetime import date

from django.core.management.base import CommandError
from django.utils import timezone, translation

from relatiebeheer.audit import selectors
from relatiebeheer.audit.services import audit_log
from relatiebeheer.common.errors import DomainError, InvalidInput
from relatiebeheer.exports import csv_lines
from relatiebeheer.ops.commands import ActorCommand


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"Not a date (YYYY-MM-DD): {text!r}.", returncode=2) from exc


class Command(ActorCommand):
    help = "Show the audit log, newest first, or export it as CSV (--as an admin or sales manager)."

    def add_arguments(self, parser):
        parser.add_argument("--user", help="Entries by this username or about them.")
        parser.add_argument("--account", type=int, help="Entries about this account id.")
        parser.add_argument("--action", help="An action, or a prefix ending in a dot (auth.).")
        parser.add_argument("--from", dest="date_from", help="First day, YYYY-MM-DD.")
        parser.add_argument("--to", dest="date_to", help="Last day (included), YYYY-MM-DD.")
        parser.add_argument("--limit", type=int, default=50, help="At most this many (default 50).")
        parser.add_argument("--csv", metavar="FILE", help="Write every match as CSV ('-': stdout).")
        parser.add_argument("--json", action="store_true", help="One JSON object per line.")
        parser.add_argument("--lang", choices=["nl", "en"], default="nl")

    def handle(self, *args, **o):
        if o["account"] is not None and o["account"] < 1:
            raise CommandError("--account takes a positive account id.", returncode=2)
        if o["limit"] < 1:
            raise CommandError("--limit takes a positive number.", returncode=2)
        filters = selectors.AuditFilters(
            user=o["user"] or None,
            account=o["account"],
            action=o["action"] or None,
            date_from=_day(o["date_from"]) if o["date_from"] else None,
            date_to=_day(o["date_to"]) if o["date_to"] else None,
        )
        with translation.override(o["lang"]):
            try:
                entries = selectors.audit_entry_list(actor=self.actor, filters=filters)
            except InvalidInput as exc:
                said = "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in exc.errors.items())
                raise CommandError(said, returncode=2) from exc
            except DomainError as exc:
                raise CommandError(str(exc.detail or exc.title), returncode=2) from exc
            if o["csv"]:
                self._csv(entries, filters, o["csv"], o["lang"])
                return
            for entry in entries[: o["limit"]]:
                self.stdout.write(self._line(entry, as_json=o["json"]))

    def _csv(self, entries, filters, target, lang):
        audit_log(actor=self.actor, action="export.audit", extra={"filters": filters.as_dict()})
        lines = csv_lines(selectors.audit_columns(), entries.iterator(chunk_size=2000), lang=lang)
        if target == "-":
            for line in lines:
                self.stdout.write(line, ending="")
            return
        count = -1  # the header line is not a row
        with open(target, "w", encoding="utf-8", newline="") as out:
            for line in lines:
                out.write(line)
                count += 1
        self.stdout.write(self.style.SUCCESS(f"Wrote {count} entries to {target}."))

    @staticmethod
    def _line(entry, *, as_json: bool) -> str:
        who = entry.actor.username if entry.actor_id else ""
        if as_json:
            return json.dumps(
                {
                    "id": entry.pk,
                    "at": entry.at.isoformat(),
                    "actor": who or None,
                    "channel": entry.channel,
                    "action": entry.action,
                    "object_type": entry.object_type,
                    "object_id": entry.object_id,
                    "account_id": entry.account_id,
                    "fields": entry.fields,
                    "extra": entry.extra,
                },
                sort_keys=True,
            )
        record = f"{entry.object_type}#{entry.object_id}" if entry.object_type else "-"
        parts = [
            timezone.localtime(entry.at).strftime("%Y-%m-%d %H:%M:%S"),
            who or "-",
            entry.channel,
            entry.action,
            record,
            f"account {entry.account_id}" if entry.account_id else "-",
            ",".join(entry.fields or []) or "-",
            json.dumps(entry.extra, sort_keys=True) if entry.extra else "",
        ]
        return "  ".join(parts).rstrip()
