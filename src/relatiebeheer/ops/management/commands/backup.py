from pathlib import Path

from django.core.management.base import CommandError

from relatiebeheer.audit.services import audit_log
from relatiebeheer.ops.backup import BackupError, backup
from relatiebeheer.ops.commands import ActorCommand
from relatiebeheer.users.access import is_admin


class Command(ActorCommand):
    help = "Back up the SQLite database online (while it is in use) and verify the copy."

    def add_arguments(self, parser):
        parser.add_argument(
            "file",
            nargs="?",
            help="Target file (default var/backups/relatiebeheer-<time>.sqlite3).",
        )

    def handle(self, *args, file, **options):
        if not is_admin(self.actor):
            raise CommandError("Only an administrator can make backups.", returncode=2)
        try:
            target = backup(Path(file) if file else None)
        except BackupError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        audit_log(actor=self.actor, action="backup.create", extra={"bytes": target.stat().st_size})
        self.stdout.write(self.style.SUCCESS(f"Backup written and verified: {target}"))
