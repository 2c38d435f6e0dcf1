import getpass

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from relatiebeheer.audit.services import audit_log
from relatiebeheer.ops.commands import ActorCommand
from relatiebeheer.users.access import is_admin
from relatiebeheer.users.models import Role, User


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
        user = User(
            username=username,
            email=email,
            first_name=first_name,
            last_name=last_name,
            role=role,
            language=language,
            is_staff=role == Role.ADMIN,
            is_superuser=role == Role.ADMIN,
        )
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        user.set_password(password)
        user.save()
        audit_log(actor=self.actor, action="user.create", obj=user, extra={"role": role})
        self.stdout.write(self.style.SUCCESS(f"Created {role} {username}."))
