"""`relatiebeheer account add|show|list` — accounts from the command line, through the services."""

import json

from django.core.management.base import CommandError

from relatiebeheer.common.errors import DomainError, InvalidInput
from relatiebeheer.ops.commands import ActorCommand
from relatiebeheer.relations import selectors, services
from relatiebeheer.users.models import User


class Command(ActorCommand):
    help = "Add, show or list accounts (as --as USERNAME; what that user may see and change)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="Create an account.")
        add.add_argument("name")
        add.add_argument("--kvk", dest="kvk_number", default="")
        add.add_argument("--vat", dest="vat_number", default="")
        add.add_argument("--city", default="")
        add.add_argument("--industry", default="")
        add.add_argument(
            "--status", default="prospect", choices=["prospect", "customer", "key_account"]
        )
        add.add_argument("--manager", help="Username of the account manager.")
        show = sub.add_parser("show", help="Show one account as JSON.")
        show.add_argument("id", type=int)
        lst = sub.add_parser("list", help="List accounts (name, city, status).")
        lst.add_argument("--search", default="")
        lst.add_argument("--limit", type=int, default=50)

    def handle(self, *args, action, **options):
        try:
            getattr(self, f"do_{action}")(**options)
        except InvalidInput as exc:
            raise CommandError(
                "; ".join(
                    f"{field}: {' '.join(map(str, msgs))}" for field, msgs in exc.errors.items()
                ),
                returncode=2,
            ) from exc
        except DomainError as exc:
            raise CommandError(str(exc.detail), returncode=2) from exc

    def do_add(self, name, kvk_number, vat_number, city, industry, status, manager, **_):
        data = {
            "name": name,
            "kvk_number": kvk_number,
            "vat_number": vat_number,
            "city": city,
            "industry": industry,
            "status": status,
        }
        if manager:
            user = User.objects.filter(username=manager, is_active=True).first()
            if user is None:
                raise CommandError(f"No active user named {manager!r}.", returncode=2)
            data["manager"] = user
        account = services.account_create(actor=self.actor, data=data)
        self.stdout.write(self.style.SUCCESS(f"Created account {account.pk}: {account.name}"))

    def do_show(self, id, **_):
        from relatiebeheer.relations.api import AccountOut

        account = selectors.account_get(actor=self.actor, pk=id)
        self.stdout.write(
            json.dumps(AccountOut.from_orm(account).model_dump(mode="json"), indent=2)
        )

    def do_list(self, search, limit, **_):
        filters = selectors.AccountFilters(q=search)
        for account in selectors.account_list(actor=self.actor, filters=filters)[:limit]:
            self.stdout.write(
                f"{account.pk:>8}  {account.name:<40} {account.city:<20} {account.status}"
            )
