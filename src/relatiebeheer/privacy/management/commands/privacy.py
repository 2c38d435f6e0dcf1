"""`relatiebeheer privacy export CONTACT_ID [FILE]` and `privacy erase CONTACT_ID --yes`."""

import json
from pathlib import Path

from django.core.management.base import CommandError

from relatiebeheer.common.errors import DomainError
from relatiebeheer.ops.commands import ActorCommand
from relatiebeheer.privacy import selectors as privacy_selectors
from relatiebeheer.privacy import services
from relatiebeheer.relations import selectors


class Command(ActorCommand):
    help = "Export everything held about a contact (JSON), or erase the contact's personal data."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        export = sub.add_parser("export")
        export.add_argument("contact_id", type=int)
        export.add_argument("file", nargs="?", default="-")
        erase = sub.add_parser("erase")
        erase.add_argument("contact_id", type=int)
        erase.add_argument("--yes", action="store_true", help="Confirm: this cannot be undone.")

    def handle(self, *args, action, contact_id, **options):
        try:
            contact = selectors.contact_get(actor=self.actor, pk=contact_id)
            if action == "export":
                text = privacy_selectors.contact_export_json(actor=self.actor, contact=contact)
                if options["file"] == "-":
                    self.stdout.write(text)
                else:
                    Path(options["file"]).write_text(text, encoding="utf-8")
                return
            if not options["yes"]:
                raise CommandError("Erasing cannot be undone: add --yes.", returncode=2)
            summary = services.contact_erase(actor=self.actor, contact=contact)
        except DomainError as exc:
            raise CommandError(str(exc.detail), returncode=2) from exc
        self.stdout.write(self.style.SUCCESS(f"Erased contact {contact_id}: {json.dumps(summary)}"))
