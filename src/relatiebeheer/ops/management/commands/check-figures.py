"""`relatiebeheer check-figures` — compare every kept figure with a fresh computation."""

import json

from relatiebeheer.ops.commands import ActorCommand
from relatiebeheer.ops.figure_checks import check_figures, registered_checks


class Command(ActorCommand):
    help = (
        "Compare every kept figure (metric snapshot, dashboard figures, survey answer counts, "
        "points balances …) with a fresh computation; repair and report what differs. "
        "Exit code 1 when anything differed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--no-repair", action="store_true", help="Only report; change nothing.")
        parser.add_argument(
            "--only",
            action="append",
            choices=[c.name for c in registered_checks()],
            help="Run only this check (repeatable).",
        )
        parser.add_argument("--json", action="store_true", help="Print the results as JSON.")

    def handle(self, *args, no_repair, only, json: bool, **options):
        results = check_figures(actor=self.actor, repair=not no_repair, only=only)
        if json:
            self.stdout.write(_json([r.__dict__ for r in results]))
        else:
            labels = {c.name: c.label for c in registered_checks()}
            for r in results:
                state = "ok" if not r.differences else f"{r.differences} differed"
                if r.repaired:
                    state += f", {r.repaired} repaired"
                self.stdout.write(f"{labels[r.name]}: {r.checked} checked, {state}")
                for example in r.examples:
                    self.stdout.write(f"  {example}")
        if any(r.differences for r in results):
            raise SystemExit(1)


def _json(data) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)
