"""`relatiebeheer portfolio transfer FROM TO` — hand a whole portfolio over in one action."""

from django.core.management.base import CommandError

from relatiebeheer.common.errors import DomainError
from relatiebeheer.ops.commands import ActorCommand
from relatiebeheer.relations.services import portfolio_transfer
from relatiebeheer.users.models import User


class Command(ActorCommand):
    help = "Hand every account of one account manager to another (sales managers and admins)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        transfer = sub.add_parser("transfer")
        transfer.add_argument("from_username")
        transfer.add_argument("to_username")

    def handle(self, *args, action, from_username, to_username, **options):
        users = {
            u.username: u
            for u in User.objects.filter(username__in=[from_username, to_username], is_active=True)
        }
        for name in (from_username, to_username):
            if name not in users:
                raise CommandError(f"No active user named {name!r}.", returncode=2)
        try:
            moved = portfolio_transfer(
                actor=self.actor, from_user=users[from_username], to_user=users[to_username]
            )
        except DomainError as exc:
            raise CommandError(str(exc.detail), returncode=2) from exc
        self.stdout.write(
            self.style.SUCCESS(f"Handed {moved} accounts from {from_username} to {to_username}.")
        )
