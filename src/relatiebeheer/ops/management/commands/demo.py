"""``relatiebeheer demo``: load the demo story, or print its logins."""

from __future__ import annotations

import time
from datetime import date

from django.contrib.auth.hashers import check_password
from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from relatiebeheer.audit.context import channel
from relatiebeheer.common.errors import DomainError
from relatiebeheer.demo import story
from relatiebeheer.ops.commands import ActorCommand
from relatiebeheer.relations.models import Account
from relatiebeheer.users.access import is_admin
from relatiebeheer.users.models import Role, User

ROLE_NAMES = {
    Role.ADMIN: "admin",
    Role.SALES_MANAGER: "sales manager",
    Role.ACCOUNT_MANAGER: "account manager",
    Role.READ_ONLY: "read-only",
}


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(
            f"--today takes a date as YYYY-MM-DD, not {value!r}.", returncode=2
        ) from exc


class Command(ActorCommand):
    help = (
        "Load the demo (Studio Noord Fashion and its retail customers, with de Bijenkorf as "
        "the lesson's key account) in one transaction, or print the demo logins."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Load only when the database has no accounts yet (else do nothing).",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Load even though the database has accounts (adds the demo beside them).",
        )
        parser.add_argument(
            "--print-logins",
            action="store_true",
            help="Only print the demo logins (username, password, role, what they see).",
        )
        parser.add_argument(
            "--today",
            metavar="YYYY-MM-DD",
            help="Tell the story as if today were this date (default: today).",
        )

    def execute(self, *args, **options):
        # A context, not a bare set: call_command in a test leaves the channel as it was.
        with channel("cli"):
            return super().execute(*args, **options)

    def handle(self, *args, if_empty, force, print_logins, today, **options):
        if print_logins:
            self.print_logins()
            return
        day = _day(today) if today else timezone.localdate()
        if Account.objects.exists():
            if if_empty:
                self.stdout.write("The database has accounts already; the demo was not loaded.")
                return
            if not force:
                raise CommandError(
                    "The database has accounts already, so the demo was not loaded. "
                    "Use --if-empty to skip quietly, or --force to add the demo anyway.",
                    returncode=2,
                )
        if not is_admin(self.actor):
            raise CommandError("Only an administrator can load the demo (it creates users).")
        started = time.perf_counter()
        try:
            summary = story.load(actor=self.actor, today=day)
        except (story.DemoError, DomainError) as exc:
            raise CommandError(f"The demo was not loaded (nothing was changed): {exc}") from exc
        # The value pages read the metric snapshot: fill it now rather than wait for the worker.
        from relatiebeheer.value.services import metrics_recompute

        metrics_recompute(actor=self.actor, as_of=day)
        seconds = time.perf_counter() - started
        accounts = ", ".join(
            f"{count} {status.replace('_', ' ')}" for status, count in summary.accounts.items()
        )
        counts = ", ".join(f"{count} {name}" for name, count in summary.counts.items())
        self.stdout.write(
            self.style.SUCCESS(f"Loaded the demo as of {day:%Y-%m-%d} in {seconds:.1f} s.")
        )
        self.stdout.write(f"  {sum(summary.accounts.values())} accounts ({accounts}); {counts}.")
        if summary.kept_users:
            self.stdout.write(
                self.style.WARNING(
                    "  These users existed already and were left as they were (password "
                    "unchanged): " + ", ".join(summary.kept_users)
                )
            )
        self.stdout.write("  Log in with the users shown by: relatiebeheer demo --print-logins")

    def print_logins(self) -> None:
        """The table of demo logins that still work (the password is checked, not assumed)."""
        users = {
            u.username: u
            for u in User.objects.filter(username__in=[d.username for d in story.DEMO_USERS])
        }
        works: dict[str, bool] = {}  # one check per stored hash: the demo users share one
        rows = []
        for demo in story.DEMO_USERS:
            user = users.get(demo.username)
            if user is None or not user.is_active:
                continue
            if user.password not in works:
                works[user.password] = check_password(story.DEMO_PASSWORD, user.password)
            if works[user.password]:
                rows.append((demo.username, story.DEMO_PASSWORD, ROLE_NAMES[user.role], demo.sees))
        if not rows:
            self.stdout.write(
                "No demo logins in this database (load the demo with: relatiebeheer demo)."
            )
            return
        header = ("username", "password", "role", "sees")
        widths = [max(len(row[i]) for row in (header, *rows)) for i in range(3)]
        for row in (header, *rows):
            cells = [cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)]
            self.stdout.write("  " + "  ".join([*cells, row[3]]))
