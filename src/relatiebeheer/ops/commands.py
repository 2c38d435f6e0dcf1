"""Base class for commands that change data on behalf of a named user."""

from __future__ import annotations

import argparse

from django.core.management.base import BaseCommand, CommandError

from relatiebeheer.audit.context import set_channel
from relatiebeheer.common.writers import door
from relatiebeheer.users.access import system_user
from relatiebeheer.users.models import User

AS_HELP = 'Act as this user (default: the system user "cli"); the audit log records it.'


def _add_as(parser, default=None) -> None:
    parser.add_argument("--as", dest="as_user", metavar="USERNAME", default=default, help=AS_HELP)


class ActorCommand(BaseCommand):
    """Adds ``--as USERNAME``; ``self.actor`` is that user (default the system user "cli").

    ``--as`` works before and after a subcommand (``account add X --as daan``).
    """

    def create_parser(self, prog_name, subcommand, **kwargs):
        declared = self.add_arguments

        def add_arguments(parser):
            _add_as(parser)
            make_subparsers = parser.add_subparsers

            def add_subparsers(**options):
                action = make_subparsers(**options)
                make_parser = action.add_parser

                def add_parser(*args, **parser_options):
                    sub = make_parser(*args, **parser_options)
                    _add_as(sub, default=argparse.SUPPRESS)
                    return sub

                action.add_parser = add_parser
                return action

            parser.add_subparsers = add_subparsers
            declared(parser)

        self.add_arguments = add_arguments
        try:
            return super().create_parser(prog_name, subcommand, **kwargs)
        finally:
            del self.add_arguments

    def execute(self, *args, **options):
        set_channel("cli")
        username = options.get("as_user")
        if username:
            actor = User.objects.filter(username=username, is_active=True).first()
            if actor is None:
                raise CommandError(f"No active user named {username!r}.", returncode=2)
        else:
            actor = system_user()
        self.actor = actor
        with door("cli"):
            return super().execute(*args, **options)
