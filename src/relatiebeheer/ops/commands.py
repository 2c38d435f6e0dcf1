"""Base class for commands that change data on behalf of a named user."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from relatiebeheer.audit.context import set_channel
from relatiebeheer.users.access import system_user
from relatiebeheer.users.models import User


class ActorCommand(BaseCommand):
    """Adds ``--as USERNAME``; ``self.actor`` is that user (default the system user "cli")."""

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.add_argument(
            "--as",
            dest="as_user",
            metavar="USERNAME",
            default=None,
            help='Act as this user (default: the system user "cli"); the audit log records it.',
        )
        return parser

    def execute(self, *args, **options):
        set_channel("cli")
        username = options.get("as_user")
        if username:
            actor = User.objects.filter(username=username, is_active=True).first()
            if actor is None:
                raise CommandError(f"No active user named {username!r}.")
        else:
            actor = system_user()
        self.actor = actor
        return super().execute(*args, **options)
