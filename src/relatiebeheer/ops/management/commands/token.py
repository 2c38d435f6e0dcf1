"""`relatiebeheer token create USERNAME NAME` — a personal API token (shown once)."""

from django.core.management.base import CommandError

from relatiebeheer.common.errors import DomainError
from relatiebeheer.ops.commands import ActorCommand
from relatiebeheer.users.access import is_admin
from relatiebeheer.users.models import ApiToken, User
from relatiebeheer.users.services import token_create, token_revoke


class Command(ActorCommand):
    help = "Create or revoke personal API tokens. Only the token's hash is stored."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create")
        create.add_argument("username")
        create.add_argument("name")
        revoke = sub.add_parser("revoke")
        revoke.add_argument("hint", help="The first characters shown in the token list.")

    def handle(self, *args, action, **options):
        if action == "create":
            user = User.objects.filter(username=options["username"], is_active=True).first()
            if user is None:
                raise CommandError(f"No active user named {options['username']!r}.", returncode=2)
            if user != self.actor and not is_admin(self.actor):
                raise CommandError(
                    "Only an administrator makes tokens for someone else.", returncode=2
                )
            try:
                _token, raw = token_create(actor=self.actor, user=user, name=options["name"])
            except DomainError as exc:
                raise CommandError(str(exc), returncode=2) from exc
            self.stdout.write(raw)
        else:
            tokens = ApiToken.objects.active().filter(hint__startswith=options["hint"][:10])
            if not is_admin(self.actor):
                tokens = tokens.filter(user=self.actor)
            if tokens.count() != 1:
                raise CommandError("No single active token starts like that.", returncode=2)
            token = token_revoke(actor=self.actor, token=tokens.get())
            self.stdout.write(f"Revoked {token}.")
