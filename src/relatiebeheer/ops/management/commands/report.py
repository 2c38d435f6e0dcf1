"""`relatiebeheer report account NAME --pdf plan.pdf [--lang en]` and `report portfolio USER`."""

from pathlib import Path

from django.core.management.base import CommandError
from django.utils import translation

from relatiebeheer.audit.services import audit_log
from relatiebeheer.common.errors import DomainError
from relatiebeheer.ops.commands import ActorCommand
from relatiebeheer.relations.models import Account


class Command(ActorCommand):
    help = "Make an account plan or a portfolio report as PDF (what --as USERNAME may see)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="kind", required=True)
        account = sub.add_parser("account", help="The account plan of one account.")
        account.add_argument("account", help="The account's name (or its number).")
        account.add_argument("--pdf", required=True, help="Where to write the PDF.")
        account.add_argument("--lang", choices=["nl", "en"], default="nl")
        portfolio = sub.add_parser("portfolio", help="The portfolio report of an account manager.")
        portfolio.add_argument("username")
        portfolio.add_argument("--pdf", required=True)
        portfolio.add_argument("--lang", choices=["nl", "en"], default="nl")

    def handle(self, *args, kind, pdf, lang, **options):
        from relatiebeheer.reports.pdf import render_pdf

        with translation.override(lang):
            try:
                if kind == "account":
                    template, context, obj = self._plan(options["account"])
                else:
                    template, context, obj = self._portfolio(options["username"])
                content = render_pdf(template, {**context, "LANGUAGE_CODE": lang})
            except DomainError as exc:
                raise CommandError(str(exc.detail), returncode=2) from exc
        Path(pdf).write_bytes(content)
        audit_log(
            actor=self.actor,
            action=f"export.{'account_plan' if kind == 'account' else 'portfolio'}",
            obj=obj,
        )
        self.stdout.write(self.style.SUCCESS(f"Wrote {pdf} ({len(content):,} bytes)."))

    def _plan(self, name: str):
        from relatiebeheer.reports.plan import account_plan

        visible = Account.objects.visible_to(self.actor)
        matches = (
            list(visible.filter(pk=int(name)))
            if name.isdigit()
            else list(visible.filter(name__iexact=name))
        )
        if not matches:
            matches = list(visible.search(name)[:5])
        if len(matches) != 1:
            found = ", ".join(f"{a.name} ({a.pk})" for a in matches[:5])
            raise CommandError(
                f"No single account matches {name!r}" + (f": {found}" if found else "."),
                returncode=2,
            )
        return (
            "reports/plan_pdf.html",
            {"plan": account_plan(actor=self.actor, account=matches[0])},
            matches[0],
        )

    def _portfolio(self, username: str):
        from django.utils import timezone

        from relatiebeheer.reports.portfolio import managers_for, portfolio
        from relatiebeheer.reports.registry import portfolio_columns

        manager = managers_for(self.actor).filter(username=username).first()
        if manager is None:
            raise CommandError(f"No portfolio of {username!r} that you may see.", returncode=2)
        context = {
            "manager": manager,
            "rows": portfolio(actor=self.actor, manager=manager),
            "columns": portfolio_columns(),
            "generated_at": timezone.now(),
        }
        return "reports/portfolio_pdf.html", context, manager
