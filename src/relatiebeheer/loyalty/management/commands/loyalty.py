"""`relatiebeheer loyalty evaluate|rebuild-points` — the loyalty programme from the command line."""

from __future__ import annotations

import json
from datetime import date

from django.core.management.base import CommandError

from relatiebeheer.ops.commands import ActorCommand


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"--as-of: not a date (YYYY-MM-DD): {text!r}", returncode=2) from exc


class Command(ActorCommand):
    help = (
        "Loyalty programme: `evaluate` recomputes tiers, bonuses (settling ended bonus "
        "periods as cost entries), points (earn, confirm, reverse, expire) and the loyalty "
        "drivers for every account; running it twice changes nothing. `rebuild-points` "
        "recomputes every cached points balance from the ledger."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        evaluate = sub.add_parser("evaluate", help="Evaluate every active programme.")
        evaluate.add_argument("--as-of", default=None, help="YYYY-MM-DD (default today).")
        evaluate.add_argument(
            "--programme", default=None, help="Only the programme with this code."
        )
        evaluate.add_argument("--json", action="store_true", help="Print the report as JSON.")
        evaluate.add_argument(
            "--no-drivers", action="store_true", help="Skip storing the loyalty scorecards."
        )
        sub.add_parser("rebuild-points", help="Recompute cached points balances from the ledger.")

    def handle(self, *args, action, **options):
        if action == "rebuild-points":
            from relatiebeheer.loyalty.programme.bulk import points_rebuild

            wrong = points_rebuild(actor=self.actor)
            self.stdout.write(f"{wrong} cached balance(s) corrected.")
            return
        from relatiebeheer.loyalty.bulk import evaluate
        from relatiebeheer.loyalty.models import Programme
        from relatiebeheer.users.access import can_change_data

        if not can_change_data(self.actor):
            raise CommandError("This user may not change data.", returncode=2)
        as_of = _day(options["as_of"]) if options["as_of"] else None
        programmes = None
        if options["programme"]:
            programmes = list(Programme.objects.filter(code=options["programme"]))
            if not programmes:
                raise CommandError(
                    f"No programme with code {options['programme']!r}.", returncode=2
                )
        reports = evaluate(
            as_of=as_of, programmes=programmes, actor=self.actor, drivers=not options["no_drivers"]
        )
        if options["json"]:
            self.stdout.write(json.dumps([r.as_dict() for r in reports], indent=2, default=str))
            return
        for r in reports:
            tiers = ", ".join(f"{name}: {n}" for name, n in sorted(r.per_tier.items())) or "none"
            self.stdout.write(
                f"{r.programme} as of {r.as_of}: {r.members} members, {r.tier_holders} with a "
                f"tier ({tiers}); {r.statuses_written} status(es) written, "
                f"{r.statuses_removed} removed, {r.tier_changes} tier change(s); "
                f"{r.bonus_settlements} bonus settlement(s) ({r.bonus_total}); "
                f"points {r.points or '-'}; {r.seconds.get('total', 0):.2f} s"
            )
