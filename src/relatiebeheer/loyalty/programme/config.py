"""A programme's rules in the shapes the set-based evaluation needs: thresholds and
bonus brackets as NumPy arrays of integer cents (rates in parts per million), the core's
:class:`~relatiebeheer.core.loyalty_rules.TierProgramme` and ``BonusScheme``, and who is a
member (an account, a head office with its branches, or a buying group).

:func:`bonus_numerators` is :func:`core.loyalty_rules.compute_bonus` on integers, for
every member at once (``tests/loyalty/test_bonus.py`` holds them equal).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

from relatiebeheer.core import loyalty_rules as rules
from relatiebeheer.relations.models import Account

from .models import Programme, Tier

PPM = 1_000_000  # bonus rates are stored with six decimals: parts per million
SAFE_CENTS = 9 * 10**12  # spend × rate in ppm must fit in 64 bits


def round_div(numerator: np.ndarray, denominator: int) -> np.ndarray:
    """Non-negative integers divided and rounded half up."""
    return (2 * numerator + denominator) // (2 * denominator)


@dataclass
class Config:
    """A programme's rules in the shapes the engine and the core need."""

    programme: Programme
    tiers: list[Tier]
    thresholds: np.ndarray  # cents, rising with rank
    core: rules.TierProgramme | None
    bounds: np.ndarray  # bonus bracket lower bounds, cents
    rates: np.ndarray  # bonus rates, ppm
    scheme: rules.BonusScheme | None

    @property
    def rolling(self) -> bool:
        return self.programme.period == Programme.Period.ROLLING_12_MONTHS

    @property
    def version(self) -> int:
        return self.programme.version

    def tier_index(self, cents: np.ndarray) -> np.ndarray:
        """Index of the highest tier a spend reaches (thresholds inclusive), −1 for none."""
        return np.searchsorted(self.thresholds, cents, side="right") - 1


def load_config(programme: Programme) -> Config:
    tiers = list(programme.tiers.order_by("rank"))
    core = None
    if tiers:
        core = rules.TierProgramme(
            tuple(rules.Tier(t.name, t.threshold, t.rank) for t in tiers),
            period=programme.period,
            grace_days=programme.grace_days,
        )
    brackets = list(programme.brackets.order_by("lower_bound"))
    scheme = None
    if programme.bonus_enabled and brackets:
        scheme = rules.BonusScheme(
            tuple(rules.BonusBracket(b.lower_bound, b.rate) for b in brackets),
            mode=programme.bonus_mode,
            max_rate=programme.bonus_max_rate,
            max_amount=programme.bonus_max_amount,
        )
    return Config(
        programme=programme,
        tiers=tiers,
        thresholds=np.array([int(t.threshold * 100) for t in tiers], dtype=np.int64),
        core=core,
        bounds=np.array([int(b.lower_bound * 100) for b in brackets], dtype=np.int64),
        rates=np.array([int(b.rate * PPM) for b in brackets], dtype=np.int64),
        scheme=scheme,
    )


# --------------------------------------------------------------------------- bonus, vectorised


def bonus_numerators(config: Config, spend: np.ndarray) -> np.ndarray:
    """Exact bonus per member in cents × ppm (integers), capped; 0 for spend ≤ 0.

    The same arithmetic as :func:`core.loyalty_rules.compute_bonus`, on integers: the
    rate of the bracket reached times the whole spend (``whole``), or each bracket's rate
    times the part of the spend inside it (``marginal``).
    """
    spend = np.asarray(spend, dtype=np.int64)
    if config.scheme is None or not config.bounds.size:
        return np.zeros(spend.size, dtype=np.int64)
    dtype = object if spend.size and int(np.abs(spend).max()) > SAFE_CENTS else np.int64
    positive = np.maximum(spend, 0).astype(dtype)
    if config.programme.bonus_mode == Programme.BonusMode.WHOLE:
        reached = np.searchsorted(config.bounds, spend, side="right") - 1
        rate = np.where(reached >= 0, config.rates[np.maximum(reached, 0)], 0).astype(dtype)
        exact = positive * rate
    else:
        exact = np.zeros(spend.size, dtype=dtype)
        uppers = [*config.bounds[1:].tolist(), None]
        for lower, upper, rate in zip(config.bounds, uppers, config.rates, strict=True):
            top = positive if upper is None else np.minimum(positive, int(upper))
            exact = exact + np.maximum(top - int(lower), 0) * int(rate)
    exact = np.where(spend > 0, exact, 0)
    if config.programme.bonus_max_amount is not None:
        cap = int(config.programme.bonus_max_amount * 100) * PPM
        exact = np.minimum(exact, cap)
    return exact


def bonus_cents(numerators: np.ndarray) -> np.ndarray:
    return round_div(np.asarray(numerators), PPM)


def effective_rates(numerators: np.ndarray, spend: np.ndarray) -> list[Decimal]:
    """Bonus / spend as a fraction with six decimals, half up (0 for spend ≤ 0)."""
    out = []
    for num, cents in zip(np.asarray(numerators).tolist(), np.asarray(spend).tolist(), strict=True):
        if cents <= 0:
            out.append(Decimal("0.000000"))
        else:
            out.append(Decimal((2 * int(num) + int(cents)) // (2 * int(cents))).scaleb(-6))
    return out


# --------------------------------------------------------------------------- members


@dataclass
class Members:
    """Which member each account's spend counts for.

    Member codes are integers: an account id (the account itself, or the head office at
    the top of its branches), or minus a buying group id.
    """

    level: str
    parent_of: dict[int, int] = field(default_factory=dict)
    group_of: dict[int, int] = field(default_factory=dict)
    accounts_of_member: dict[int, list[int]] = field(default_factory=dict)

    @classmethod
    def load(cls, programme: Programme) -> Members:
        members = cls(level=programme.level)
        if programme.level == Programme.MemberLevel.HEAD_OFFICE:
            rows = Account.objects.filter(parent__isnull=False).values_list("pk", "parent_id")
            members.parent_of = dict(rows)
            for account_id in members.parent_of:
                members.accounts_of_member.setdefault(members.top(account_id), []).append(
                    account_id
                )
        elif programme.level == Programme.MemberLevel.BUYING_GROUP:
            rows = Account.objects.filter(buying_group__isnull=False).values_list(
                "pk", "buying_group_id"
            )
            members.group_of = dict(rows)
            for account_id, group_id in members.group_of.items():
                members.accounts_of_member.setdefault(-group_id, []).append(account_id)
        return members

    def top(self, account_id: int) -> int:
        seen = set()
        while account_id in self.parent_of and account_id not in seen:
            seen.add(account_id)
            account_id = self.parent_of[account_id]
        return account_id

    def code(self, account_id: int) -> int:
        if self.level == Programme.MemberLevel.HEAD_OFFICE:
            return self.top(account_id)
        if self.level == Programme.MemberLevel.BUYING_GROUP:
            group = self.group_of.get(account_id)
            return -group if group is not None else account_id
        return account_id

    def codes(self, account_ids: np.ndarray) -> np.ndarray:
        if self.level == Programme.MemberLevel.ACCOUNT or (
            not self.parent_of and not self.group_of
        ):
            return account_ids.astype(np.int64)
        return np.array([self.code(int(a)) for a in account_ids.tolist()], dtype=np.int64)

    def accounts(self, code: int) -> list[int]:
        """Every account whose spend counts for the member (also those without orders)."""
        if code < 0:
            return sorted(self.accounts_of_member.get(code, []))
        return sorted({code, *self.accounts_of_member.get(code, [])})

    def key(self, code: int) -> str:
        if code < 0:
            return f"group:{-code}"
        if self.level == Programme.MemberLevel.HEAD_OFFICE and code in self.accounts_of_member:
            return f"head_office:{code}"
        return f"account:{code}"
