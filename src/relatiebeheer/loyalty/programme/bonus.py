"""Bonus settlement: each ended bonus period of a programme is settled once.

Per member, the bonus of the period's net spend (:func:`.config.bonus_numerators`,
rounded once to cents) becomes a cost entry "incentive or bonus" on the account through
the sales service — so it lowers customer value, not qualifying spend. A buying group's
bonus is split over its accounts by their spend (:func:`split_pro_rata`: exact, largest
remainder); a head office receives its members' bonus. A :class:`BonusRun` row per
programme and period makes the settlement happen once, checked under the programme's
row lock.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

import numpy as np
from django.db import transaction
from django.utils import timezone

from relatiebeheer.common import writers
from relatiebeheer.core import loyalty_rules as rules
from relatiebeheer.core.money import format_money, format_number, from_cents
from relatiebeheer.loyalty.pending import PendingEvaluation
from relatiebeheer.relations.models import Account
from relatiebeheer.sales.models import CostEntry
from relatiebeheer.sales.services import cost_entry_create
from relatiebeheer.users.access import system_user
from relatiebeheer.users.models import User

from .config import Config, Members, bonus_cents, bonus_numerators, effective_rates
from .engine import ProgrammeReport
from .models import BonusRun, BonusSettlement, Programme
from .spend import chunks, period_spend


def bonus_periods(programme: Programme, up_to: date) -> list[tuple[date, date]]:
    """Bonus periods that ended before ``up_to`` and on or after the programme's start."""
    periods = []
    if programme.bonus_period == Programme.BonusPeriod.QUARTER:
        year, quarter = programme.starts_on.year, (programme.starts_on.month - 1) // 3
        while True:
            start = date(year, quarter * 3 + 1, 1)
            end = rules.add_months(start, 3) - timedelta(days=1)
            if end >= up_to:
                break
            periods.append((start, end))
            quarter += 1
            if quarter == 4:
                year, quarter = year + 1, 0
    else:
        year = programme.starts_on.year
        while date(year, 12, 31) < up_to:
            periods.append((date(year, 1, 1), date(year, 12, 31)))
            year += 1
    return periods


def split_pro_rata(total: int, weights: dict[int, int]) -> dict[int, int]:
    """Split ``total`` cents over accounts by their (positive) spend, exactly: largest
    remainder, ties to the lower account id. No positive weight: all to the first."""
    positive = {k: max(v, 0) for k, v in weights.items()}
    whole = sum(positive.values())
    if whole <= 0:
        first = min(weights)
        return {k: (total if k == first else 0) for k in weights}
    shares = {k: total * w // whole for k, w in positive.items()}
    rest = total - sum(shares.values())
    order = sorted(positive, key=lambda k: (-(total * positive[k] % whole), k))
    for k in order[:rest]:
        shares[k] += 1
    return shares


def settle_bonus(config: Config, as_of: date, actor: User | None, report: ProgrammeReport) -> None:
    """Settle every ended bonus period once: a cost entry "incentive or bonus" per account.

    Each period in its own transaction, under the programme's row lock, in which the
    period is looked for again: two evaluations at once settle it once.
    """
    programme = config.programme
    done = set(BonusRun.objects.filter(programme=programme).values_list("period_start", flat=True))
    actor = actor or system_user()
    total_all = 0
    started = timezone.now()
    settled_accounts: set[int] = set()
    for start, end in bonus_periods(programme, as_of):
        if start in done:
            continue
        members = Members.load(programme)
        ids, cents = period_spend(start, end)
        codes = members.codes(ids)
        member_codes, inverse = np.unique(codes, return_inverse=True)
        spend = np.zeros(member_codes.size, dtype=np.int64)
        if codes.size:
            np.add.at(spend, inverse, cents)
        numerators = bonus_numerators(config, spend)
        amounts = bonus_cents(numerators)
        rates = effective_rates(numerators, spend)
        per_account: dict[int, list[int]] = defaultdict(list)
        for account_id in ids.tolist():
            per_account[members.code(account_id)].append(account_id)
        spend_of = dict(zip(ids.tolist(), cents.tolist(), strict=True))
        label = f"{start.year}" if end.month == 12 and start.month == 1 else f"{start}–{end}"
        settled = 0
        with transaction.atomic():
            writers.lock(Programme.objects.filter(pk=programme.pk))
            if BonusRun.objects.filter(programme=programme, period_start=start).exists():
                continue  # another evaluation settled it meanwhile
            run = BonusRun.objects.create(programme=programme, period_start=start, period_end=end)
            for i, code in enumerate(member_codes.tolist()):
                amount = int(amounts[i])
                if amount <= 0:
                    continue
                if code < 0:
                    shares = split_pro_rata(
                        amount, {a: spend_of.get(a, 0) for a in per_account[code]}
                    )
                else:
                    shares = {code: amount}
                for account_id, share in sorted(shares.items()):
                    if share <= 0:
                        continue
                    account = Account.objects.get(pk=account_id)
                    entry = cost_entry_create(
                        actor=actor,
                        account=account,
                        data={
                            "date": end,
                            "category": CostEntry.Category.INCENTIVE,
                            "amount": from_cents(share),
                            "description": (
                                f"Bonus {programme.name} {label}: "
                                f"{format_number(rates[i] * 100, places=2)} % × "
                                f"{format_money(from_cents(int(spend[i])))}"
                            )[:200],
                            "external_id": f"bonus:{programme.pk}:{start}:{account_id}"[:64],
                        },
                    )
                    BonusSettlement.objects.create(
                        programme=programme,
                        account_id=account_id,
                        period_start=start,
                        period_end=end,
                        spend=from_cents(int(spend_of.get(account_id, 0))),
                        bonus=from_cents(share),
                        rate=rates[i],
                        cost_entry=entry,
                    )
                    settled += 1
                    total_all += share
                    settled_accounts.add(account_id)
            run.members = settled
            run.total = from_cents(sum(int(a) for a in amounts.tolist() if a > 0))
            run.save(update_fields=["members", "total"])
        report.bonus_periods_settled.append(f"{start}/{end}")
        report.bonus_settlements += settled
    report.bonus_total = str(from_cents(total_all))
    # The cost entries went through the "accounts changed" hook, which marked these
    # accounts; a bonus changes no spend, so those marks need no history read.
    for chunk in chunks(sorted(settled_accounts)):
        PendingEvaluation.objects.filter(account_id__in=chunk, since__gte=started).delete()
