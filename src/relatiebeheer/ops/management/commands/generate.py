"""Generate a large, deterministic data set (load tests, benchmarks, demos)."""

from __future__ import annotations

from datetime import date

from django.core.management.base import CommandError

from relatiebeheer.demo.generate import (
    GenerateError,
    GenerateOptions,
    database_is_empty,
    default_managers,
    generate,
)
from relatiebeheer.ops.commands import ActorCommand
from relatiebeheer.users.access import is_admin


def _positive(value: str) -> int:
    number = int(value.replace("_", "").replace(",", ""))
    if number < 0:
        raise ValueError(value)
    return number


def _range(value: str) -> tuple[int, int]:
    low, _, high = value.partition("-")
    lo = int(low)
    hi = int(high) if high else lo
    if lo < 0 or hi < lo:
        raise ValueError(value)
    return lo, hi


class Command(ActorCommand):
    help = (
        "Generate a large, deterministic data set: account managers, accounts, orders (about "
        "1 percent credit notes), contacts, contact moments, tasks and costs, with three years "
        "of history up to --today. The same --seed and --today give the same data. Defaults "
        "for N accounts: 20×N orders; one account manager (am001…) per 400 accounts, at most "
        "50; 1-3 contacts per account; 2×N contact moments; N/2 tasks; 2×N cost entries; no "
        "order lines (--lines adds 1-6 per order). 100k accounts with 2M orders take roughly 35 s "
        "on SQLite (2 cores). A database that has accounts already is left alone unless "
        "--append (add) or --if-empty (do nothing) is given. Administrators only."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--accounts", type=_positive, default=1000, help="Accounts (default 1000)."
        )
        parser.add_argument(
            "--orders",
            type=_positive,
            default=None,
            help="Orders incl. credit notes (default 20 per account).",
        )
        parser.add_argument("--seed", type=int, default=1, help="Random seed (default 1).")
        parser.add_argument(
            "--managers",
            type=_positive,
            default=None,
            help="Account managers am001…amK (default: one per 400 accounts, 1-50; existing ones are reused).",
        )
        parser.add_argument(
            "--contacts-per-account",
            type=_range,
            default=(1, 3),
            metavar="N|MIN-MAX",
            help="Contacts per account (default 1-3).",
        )
        parser.add_argument(
            "--interactions",
            type=_positive,
            default=None,
            help="Contact moments (default 2 per account).",
        )
        parser.add_argument(
            "--tasks", type=_positive, default=None, help="Tasks (default 1 per 2 accounts)."
        )
        parser.add_argument(
            "--costs", type=_positive, default=None, help="Cost entries (default 2 per account)."
        )
        parser.add_argument(
            "--lines", action="store_true", help="Also make order lines (1–6 per order; slower)."
        )
        parser.add_argument(
            "--today",
            type=date.fromisoformat,
            default=None,
            metavar="YYYY-MM-DD",
            help="The day the three years of history end (default: today); fix it to reproduce a data set.",
        )
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument(
            "--if-empty", action="store_true", help="Do nothing if there are accounts already."
        )
        mode.add_argument(
            "--append", action="store_true", help="Add to the accounts already there."
        )

    def handle(self, *args, **o):
        if not is_admin(self.actor):
            raise CommandError("Only an administrator can generate data.")
        if not database_is_empty():
            if o["if_empty"]:
                self.stdout.write("There are accounts already; nothing generated (--if-empty).")
                return
            if not o["append"]:
                raise CommandError(
                    "There are accounts already. Use --append to add to them, or --if-empty to skip."
                )
        accounts = o["accounts"]
        options = GenerateOptions(
            accounts=accounts,
            orders=o["orders"] if o["orders"] is not None else 20 * accounts,
            seed=o["seed"],
            managers=o["managers"],
            contacts_per_account=o["contacts_per_account"],
            interactions=o["interactions"],
            tasks=o["tasks"],
            costs=o["costs"],
            lines=o["lines"],
            today=o["today"],
        )
        resolved = options.resolved()
        self.stdout.write(
            f"Generating {accounts:,} accounts, {options.orders:,} orders (seed {options.seed}, "
            f"history to {resolved.today}, {resolved.managers or default_managers(accounts)} managers)…"
        )
        verbosity = int(o.get("verbosity", 1))
        try:
            result = generate(
                options,
                actor=self.actor,
                log=self.stdout.write if verbosity >= 2 else None,
            )
        except GenerateError as exc:
            raise CommandError(str(exc)) from exc
        for line in result.summary_lines():
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS(f"Done in {result.total_seconds:.1f} s."))
