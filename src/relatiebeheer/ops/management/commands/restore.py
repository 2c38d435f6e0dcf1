from pathlib import Path

from django.core.management import call_command
from django.core.management.base import CommandError

from relatiebeheer.audit.services import audit_log
from relatiebeheer.ops.backup import BackupError, restore
from relatiebeheer.ops.commands import ActorCommand
from relatiebeheer.users.access import is_admin


class Command(ActorCommand):
    help = "Restore a backup made with `relatiebeheer backup` (replaces all current data)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")

    def handle(self, *args, file, yes, **options):
        if not is_admin(self.actor):
            raise CommandError("Only an administrator can restore backups.", returncode=2)
        if not yes and input(f"Replace ALL current data with {file}? Type yes: ").strip() != "yes":
            raise CommandError("Nothing was restored.", returncode=2)
        actor_id = self.actor.pk
        try:
            restore(Path(file))
        except BackupError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        # A backup from an older version gets this version's schema.
        call_command("migrate", verbosity=0)
        from relatiebeheer.users.models import User

        actor = User.objects.filter(pk=actor_id).first()
        audit_log(actor=actor, action="backup.restore")
        self.stdout.write(self.style.SUCCESS(f"Restored {file}."))
