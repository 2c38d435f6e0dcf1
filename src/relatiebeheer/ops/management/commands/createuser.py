import getpass

from django.core.management.base import CommandError

from relatiebeheer.common.errors import DomainError, InvalidInput
from relatiebeheer.ops.commands import ActorCommand
from relatiebeheer.users.access import is_admin
from relatiebeheer.users.models import Role, User
from relatiebeheer.users.services import user_create


class Command(ActorCommand):
    help = "Create a user with a role (admin, sales_manager, account_manager, read_only)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", choices=Role.values, default=Role.ACCOUNT_MANAGER)
        parser.add_argument("--email", default="")
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument(
            "--password", help="Prefer the prompt or RELATIEBEHEER_PASSWORD over this flag."
        )
        parser.add_argument("--language", choices=["nl", "en"], default="nl")

    def handle(
        self, *args, username, role, email, first_name, last_name, password, language, **options
    ):
        import os

        if not is_admin(self.actor):
            raise CommandError("Only an administrator can create users.")
        if User.objects.filter(username=username).exists():
            raise CommandError(f"A user named {username!r} exists already.")
        password = (
            password or os.environ.get("RELATIEBEHEER_PASSWORD") or getpass.getpass("Password: ")
        )
        try:
            user_create(
                actor=self.actor,
                username=username,
                password=password,
                role=role,
                data={
                    "email": email,
                    "first_name": first_name,
                    "last_name": last_name,
                    "language": language,
                },
            )
        except InvalidInput as exc:
            raise CommandError(
                " ".join(str(m) for ms in exc.errors.values() for m in ms), returncode=2
            ) from exc
        except DomainError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        self.stdout.write(self.style.SUCCESS(f"Created {role} {username}."))
