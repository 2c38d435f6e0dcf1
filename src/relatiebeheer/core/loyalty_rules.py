"""The loyalty programme's rules as pure functions: tiers, bonus, points ledger, card numbers.

Nothing here touches a database or a clock: every function takes its inputs (including the
as-of date) and returns a value, so running it twice gives the same result. Amounts are
``Decimal`` euros excluding VAT; money is rounded only by
:func:`~relatiebeheer.core.money.quantize_money`, once, at the end. Points are whole
numbers, rounded down (see :func:`points_for_order`).

Dates are **local dates in Europe/Amsterdam**. The caller converts timestamps (an order
booked at 2024-12-31 23:30 UTC is 2025-01-01 in Amsterdam and counts for 2025) before
calling; a ``datetime`` is refused so the conversion cannot be skipped by accident.

Tiers (:func:`evaluate_tier`)
-----------------------------
A tier is qualified on **net spend**: orders minus credit notes, excluding VAT, each
dated. Thresholds are inclusive (€ 12.000,00 reaches a € 12.000 tier, € 11.999,99 does
not).

*Calendar-year programmes* (the default). The spend of a calendar year, counted up to the
as-of date, decides the tier. A tier reached in year N holds until 31 December of year
N+1. An upgrade happens on the day the year's net spend crosses the threshold; a
downgrade happens only at a year end (on 1 January, when the tier of year N−1 lapses). A
credit note dated in the same year lowers that year's spend: a tier that rested only on
the credited order is withdrawn (the credit note corrects the order; this is not a
downgrade), while a tier carried over from the previous year stays.

*Rolling-12-month programmes*. The rolling spend on day d is the net spend dated in the
12 calendar months up to and including d (from ``add_months(d, -12) + 1 day``). A tier is
held while the rolling spend supports it, and for ``grace_days`` (default 90) after the
last day it did: a dip shorter than the grace period changes nothing, and when the grace
period runs out the customer drops to the tier the spend supported in the grace period.

*The previous status* (``previous``) is a status carried in from outside the given
history — imported from an earlier system or granted by hand. Its tier holds from its
``since`` (or forever back) up to and including its ``valid_until`` (``None``: no end).
Everything else is derived from the entries, so feeding a result back in as
``previous`` gives the same result again.

*Valid until* is the last day the current tier (or a higher one) is held if the customer
spends nothing more (``None``: no end, e.g. a tier with threshold 0). *Since* is the
first day of the uninterrupted run of exactly this tier that includes the as-of date
(``None``: since before the history starts). *Needed for next* is the spend (to the cent)
that reaches the next tier now; *needed to keep* is the spend that keeps the current tier
beyond ``valid_until`` — for a calendar year: the part of the threshold not yet spent this
year (0 when this year's spend already qualifies); rolling: the shortfall of today's
rolling spend.

Bonus scheme (:func:`compute_bonus`)
------------------------------------
Rates by spend bracket, lower bounds inclusive, every rate capped (default 3,5 %). Mode
``whole``: the rate of the bracket reached applies to the whole spend. Mode
``marginal``: each bracket's rate applies only to the spend within that bracket (like
tax brackets). The bonus is rounded once to cents.

Points ledger (:func:`fold_ledger` and the ``plan_*``/``compute_*`` functions)
-----------------------------------------------------------------------------
The database keeps an append-only ledger per customer; this module is its logic. Each
entry has a unique idempotency ``key`` and signed ``points`` (earn ≥ 0; redeem, expire and
reverse ≤ 0; confirm 0), so **the balance is the sum of the entries**. An earn opens a
*lot*; a pending lot (order not yet delivered or paid) is not spendable until a
``confirm`` entry for it. Redemptions spend lots first-to-expire first (FIFO by expiry
date, then earned date, then key) and never take the available balance below zero.
Points expire after their lot's ``expires_on`` (the last day they can be used). A
credit note reverses its order's points pro rata (cumulatively: the credit notes of an
order together reverse ``floor(earned × credited / order amount)``), never more than was
earned: first from what is left of that order's lot, then — for points of that order
that were already redeemed — from the customer's other available points; points that
expired are not taken again, and what cannot be covered without going below zero is
reported as ``unrecovered``. The ``plan_*`` functions return the entries to append
(none when the key was already applied, which makes retries safe).

Customer cards
--------------
Card numbers are a configurable prefix, a sequence number and a check digit: EAN-13
(default, prefix ``29``: GS1 prefixes 20–29 are for use inside one company) or Luhn.
"""

from __future__ import annotations

import bisect
import calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from enum import StrEnum
from fractions import Fraction
from itertools import pairwise

from relatiebeheer.core.money import ZERO, quantize_money

__all__ = [
    "BonusBracket",
    "BonusMode",
    "BonusResult",
    "BonusScheme",
    "CardNumbering",
    "CardScheme",
    "EarnRules",
    "EntryKind",
    "LedgerEntry",
    "LedgerError",
    "LedgerState",
    "Lot",
    "LoyaltyError",
    "Multiplier",
    "OrderLine",
    "QualificationPeriod",
    "Reversal",
    "SpendEntry",
    "Tier",
    "TierProgramme",
    "TierResult",
    "TierStatus",
    "add_months",
    "compute_bonus",
    "compute_expiries",
    "compute_reversal",
    "ean13_check_digit",
    "ean13_is_valid",
    "evaluate_tier",
    "fold_ledger",
    "luhn_check_digit",
    "luhn_is_valid",
    "plan_confirm",
    "plan_earn",
    "plan_redemption",
    "points_for_order",
    "rolling_window_start",
    "validate_redemption",
]


class LoyaltyError(ValueError):
    """Bad input or configuration; ``code`` is a stable machine name."""

    def __init__(self, code: str, message: str, **details: object) -> None:
        super().__init__(message)
        self.code = code
        self.details = details


class LedgerError(LoyaltyError):
    """An operation the points ledger refuses (it changes nothing)."""


def _check_date(value: object, what: str) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise LoyaltyError(
            "not_a_local_date",
            f"{what} must be a date (the Europe/Amsterdam local date), not {value!r}",
        )
    return value


def _check_amount(value: object, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise LoyaltyError("not_an_amount", f"{what} must be a Decimal amount, not {value!r}")
    amount = Decimal(value)
    if not amount.is_finite():
        raise LoyaltyError("not_an_amount", f"{what} must be finite: {value!r}")
    return amount


# --------------------------------------------------------------------------- dates


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole months, clamped to the month's end (31 Jan + 1 → 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def rolling_window_start(day: date) -> date:
    """First day of the rolling 12 months ending with ``day`` (inclusive)."""
    return add_months(day, -12) + timedelta(days=1)


def _leaves_window(day: date) -> date:
    """The first as-of date whose rolling window no longer includes ``day``."""
    candidate = add_months(day, 12) - timedelta(days=1)
    while rolling_window_start(candidate) <= day:
        candidate += timedelta(days=1)
    return candidate


# --------------------------------------------------------------------------- tiers


class QualificationPeriod(StrEnum):
    CALENDAR_YEAR = "calendar_year"
    ROLLING_12_MONTHS = "rolling_12_months"


@dataclass(frozen=True)
class Tier:
    """A tier: reached when net spend ≥ ``threshold`` (inclusive); higher ``rank`` is better."""

    name: str
    threshold: Decimal
    rank: int


@dataclass(frozen=True)
class TierProgramme:
    """The tiers of a programme (any order; sorted by rank) and how they qualify."""

    tiers: tuple[Tier, ...]
    period: QualificationPeriod = QualificationPeriod.CALENDAR_YEAR
    grace_days: int = 90

    def __post_init__(self) -> None:
        tiers = tuple(sorted(self.tiers, key=lambda tier: tier.rank))
        object.__setattr__(self, "tiers", tiers)
        object.__setattr__(self, "period", QualificationPeriod(self.period))
        if not tiers:
            raise LoyaltyError("no_tiers", "a programme needs at least one tier")
        if len({t.name for t in tiers}) != len(tiers) or len({t.rank for t in tiers}) != len(tiers):
            raise LoyaltyError("duplicate_tier", "tier names and ranks must be unique")
        for tier in tiers:
            if _check_amount(tier.threshold, f"threshold of {tier.name}") < 0:
                raise LoyaltyError("negative_threshold", f"threshold of {tier.name} is negative")
        for lower, higher in pairwise(tiers):
            if higher.threshold <= lower.threshold:
                raise LoyaltyError(
                    "thresholds_not_rising",
                    f"{higher.name} ranks above {lower.name} but its threshold is not higher",
                )
        if self.grace_days < 0:
            raise LoyaltyError("negative_grace", "grace_days must be ≥ 0")

    def tier(self, name: str) -> Tier:
        for tier in self.tiers:
            if tier.name == name:
                return tier
        raise LoyaltyError("unknown_tier", f"no tier named {name!r}")

    def _index_for(self, spend: Decimal) -> int:
        """Index of the highest tier ``spend`` reaches, −1 for none."""
        index = -1
        for i, tier in enumerate(self.tiers):
            if spend >= tier.threshold:
                index = i
        return index


@dataclass(frozen=True)
class SpendEntry:
    """Net spend on a local date: an order (positive) or a credit note (negative), excl. VAT."""

    on: date
    amount: Decimal


@dataclass(frozen=True)
class TierStatus:
    """A stored status: tier name (``None``: no tier), since and valid until (inclusive)."""

    tier: str | None
    since: date | None = None
    valid_until: date | None = None


@dataclass(frozen=True)
class TierResult:
    """The tier on the as-of date and what it takes to move up or to keep it."""

    tier: Tier | None
    since: date | None
    valid_until: date | None
    qualifying_spend: Decimal
    period_start: date
    period_end: date
    next_tier: Tier | None
    needed_for_next: Decimal | None
    needed_to_keep: Decimal | None
    in_grace: bool = False

    @property
    def status(self) -> TierStatus:
        """The status to store (and to pass back in as ``previous``)."""
        return TierStatus(
            tier=self.tier.name if self.tier else None,
            since=self.since,
            valid_until=self.valid_until,
        )


class _Spend:
    """Net spend per local date with prefix sums, for exact sums over date ranges."""

    def __init__(self, entries: Iterable[SpendEntry | tuple[date, Decimal]], as_of: date) -> None:
        per_day: dict[date, Decimal] = {}
        for entry in entries:
            on, amount = (entry.on, entry.amount) if isinstance(entry, SpendEntry) else entry
            on = _check_date(on, "a spend date")
            amount = _check_amount(amount, "a spend amount")
            if on <= as_of:  # later entries do not exist yet on the as-of date
                per_day[on] = per_day.get(on, ZERO) + amount
        self.days = sorted(per_day)
        self.prefix = [ZERO]
        for day in self.days:
            self.prefix.append(self.prefix[-1] + per_day[day])

    def total(self, first: date, last: date) -> Decimal:
        """Net spend dated ``first`` … ``last`` inclusive."""
        if last < first:
            return ZERO
        hi = bisect.bisect_right(self.days, last)
        lo = bisect.bisect_left(self.days, first)
        return self.prefix[hi] - self.prefix[lo]


class _TierTimeline:
    """The tier index held on any day, with the entries up to the as-of date only."""

    def __init__(
        self, programme: TierProgramme, spend: _Spend, previous: TierStatus | None, as_of: date
    ) -> None:
        self.programme = programme
        self.spend = spend
        self.rolling = programme.period is QualificationPeriod.ROLLING_12_MONTHS
        self.grace = programme.grace_days if self.rolling else 0
        self.floor_index = -1
        self.floor_from = date.min
        self.floor_until = date.max
        if previous is not None and previous.tier is not None:
            self.floor_index = programme.tiers.index(programme.tier(previous.tier))
            if previous.since is not None:
                self.floor_from = _check_date(previous.since, "previous.since")
            if previous.valid_until is not None:
                self.floor_until = _check_date(previous.valid_until, "previous.valid_until")

        # Days on which the spend-supported tier can change.
        changes: set[date] = set(spend.days)
        if self.rolling:
            changes.update(_leaves_window(day) for day in spend.days)
        else:
            first_year = spend.days[0].year if spend.days else as_of.year
            changes.update(date(year, 1, 1) for year in range(first_year, as_of.year + 3))
        # The spend-supported tier is constant between these days: evaluate it once per
        # change, and look it up for any other day.
        self.supported_changes = sorted(changes)
        self.initial = programme._index_for(ZERO)  # before any spend
        self.supported_values = [self._supported_direct(day) for day in self.supported_changes]
        # Days on which the held tier can change: a supported change, that change once the
        # grace period has passed, and the start and end of the previous status.
        points = set(changes)
        if self.grace:
            points.update(day + timedelta(days=self.grace) for day in changes)
        if self.floor_from != date.min:
            points.add(self.floor_from)
        if self.floor_until != date.max:
            points.add(self.floor_until + timedelta(days=1))
        self.points = sorted(points)

    def qualifying_spend(self, day: date) -> Decimal:
        if self.rolling:
            return self.spend.total(rolling_window_start(day), day)
        return self.spend.total(date(day.year, 1, 1), day)

    def _supported_direct(self, day: date) -> int:
        index = self.programme._index_for(self.qualifying_spend(day))
        if not self.rolling:
            last_year = self.spend.total(date(day.year - 1, 1, 1), date(day.year - 1, 12, 31))
            index = max(index, self.programme._index_for(last_year))
        return index

    def _segment(self, day: date) -> int:
        """Position of the last supported change on or before ``day`` (−1: none)."""
        return bisect.bisect_right(self.supported_changes, day) - 1

    def supported(self, day: date) -> int:
        """Tier index the spend supports on ``day`` (without grace or previous status)."""
        position = self._segment(day)
        return self.initial if position < 0 else self.supported_values[position]

    def held(self, day: date) -> int:
        """Tier index held on ``day``: by spend (with grace) or by the previous status."""
        index = self.held_by_spend(day)
        if self.floor_from <= day <= self.floor_until:
            index = max(index, self.floor_index)
        return index

    def held_by_spend(self, day: date) -> int:
        """The best tier the spend supported on any day of [day − grace, day]."""
        if not self.grace:
            return self.supported(day)
        first = self._segment(day - timedelta(days=self.grace))
        last = self._segment(day)
        values = self.supported_values[max(first, 0) : last + 1]
        if first < 0:
            values.append(self.initial)
        return max(values)


def evaluate_tier(
    programme: TierProgramme,
    entries: Iterable[SpendEntry | tuple[date, Decimal]],
    *,
    as_of: date,
    previous: TierStatus | None = None,
) -> TierResult:
    """The tier held on ``as_of``, since when, until when, and the spend to move up or keep it.

    ``entries`` are dated net amounts (orders positive, credit notes negative, excl. VAT)
    on Europe/Amsterdam local dates; entries after ``as_of`` are ignored. See the module
    docstring for the rules.
    """
    as_of = _check_date(as_of, "as_of")
    spend = _Spend(entries, as_of)
    timeline = _TierTimeline(programme, spend, previous, as_of)
    tiers = programme.tiers
    index = timeline.held(as_of)
    qualifying = timeline.qualifying_spend(as_of)

    since: date | None = None
    valid_until: date | None = None
    if index >= 0:
        # Walk back over the change points while exactly this tier was held.
        since = as_of
        past = timeline.points[: bisect.bisect_right(timeline.points, as_of)]
        for point in reversed(past):
            if timeline.held(point) != index:
                break
            since = point
        else:
            if timeline.held(since - timedelta(days=1)) == index:
                since = None
        # Walk forward (no new spend) until the held tier drops below this one.
        future = timeline.points[bisect.bisect_right(timeline.points, as_of) :]
        for point in future:
            if timeline.held(point) < index:
                valid_until = point - timedelta(days=1)
                break

    next_tier = tiers[index + 1] if index + 1 < len(tiers) else None
    needed_for_next = None
    if next_tier is not None:
        needed_for_next = quantize_money(max(next_tier.threshold - qualifying, ZERO))
    needed_to_keep = None
    if index >= 0:
        needed_to_keep = quantize_money(max(tiers[index].threshold - qualifying, ZERO))

    if timeline.rolling:
        period_start, period_end = rolling_window_start(as_of), as_of
    else:
        period_start, period_end = date(as_of.year, 1, 1), date(as_of.year, 12, 31)
    return TierResult(
        tier=tiers[index] if index >= 0 else None,
        since=since,
        valid_until=valid_until,
        qualifying_spend=quantize_money(qualifying),
        period_start=period_start,
        period_end=period_end,
        next_tier=next_tier,
        needed_for_next=needed_for_next,
        needed_to_keep=needed_to_keep,
        in_grace=(
            timeline.rolling
            and index > timeline.supported(as_of)
            and timeline.held_by_spend(as_of) == index
        ),
    )


# --------------------------------------------------------------------------- bonus


class BonusMode(StrEnum):
    WHOLE = "whole"
    MARGINAL = "marginal"


@dataclass(frozen=True)
class BonusBracket:
    """From ``lower_bound`` (inclusive) upward the bonus ``rate`` applies (0.035 = 3,5 %)."""

    lower_bound: Decimal
    rate: Decimal


@dataclass(frozen=True)
class BonusScheme:
    """Bonus brackets (any order; sorted by lower bound), the mode and the caps.

    ``max_rate`` caps every bracket's rate (a scheme with a higher rate is refused as a
    configuration error); ``max_amount`` optionally caps the bonus itself.
    """

    brackets: tuple[BonusBracket, ...]
    mode: BonusMode = BonusMode.WHOLE
    max_rate: Decimal = Decimal("0.035")
    max_amount: Decimal | None = None

    def __post_init__(self) -> None:
        brackets = tuple(sorted(self.brackets, key=lambda b: b.lower_bound))
        object.__setattr__(self, "brackets", brackets)
        object.__setattr__(self, "mode", BonusMode(self.mode))
        if not brackets:
            raise LoyaltyError("no_brackets", "a bonus scheme needs at least one bracket")
        bounds = [_check_amount(b.lower_bound, "a lower bound") for b in brackets]
        if len(set(bounds)) != len(bounds) or bounds[0] < 0:
            raise LoyaltyError("bad_bounds", "lower bounds must be unique and ≥ 0")
        for bracket in brackets:
            rate = _check_amount(bracket.rate, "a bonus rate")
            if not 0 <= rate <= self.max_rate:
                raise LoyaltyError(
                    "rate_above_cap",
                    f"rate {rate} from {bracket.lower_bound} is outside 0 … {self.max_rate}",
                )
        if self.max_amount is not None and _check_amount(self.max_amount, "max_amount") < 0:
            raise LoyaltyError("negative_cap", "max_amount must be ≥ 0")


@dataclass(frozen=True)
class BonusResult:
    """The bonus on a spend: amount (cents), effective rate and the bracket reached.

    ``effective_rate`` = unrounded bonus / spend as a fraction, to six decimals
    (0.028571 = 2,8571 %); 0 for a spend ≤ 0. ``capped``: ``max_amount`` applied.
    """

    spend: Decimal
    bonus: Decimal
    effective_rate: Decimal
    bracket: BonusBracket | None
    mode: BonusMode
    capped: bool = False


_RATE_PLACES = Decimal("0.000001")


def compute_bonus(scheme: BonusScheme, spend: Decimal | int) -> BonusResult:
    """The bonus on a year's net spend (excl. VAT) under ``scheme``; see the module docstring."""
    spend = _check_amount(spend, "spend")
    brackets = scheme.brackets
    reached = None
    for bracket in brackets:
        if spend >= bracket.lower_bound:
            reached = bracket
    if reached is None or spend <= 0:
        exact = ZERO
    elif scheme.mode is BonusMode.WHOLE:
        exact = spend * reached.rate
    else:
        exact = ZERO
        upper_bounds = [b.lower_bound for b in brackets[1:]] + [None]
        for bracket, upper in zip(brackets, upper_bounds, strict=True):
            top = spend if upper is None else min(spend, upper)
            if top > bracket.lower_bound:
                exact += (top - bracket.lower_bound) * bracket.rate
    capped = False
    if scheme.max_amount is not None and exact > scheme.max_amount:
        exact, capped = Decimal(scheme.max_amount), True
    rate = ZERO if spend <= 0 else exact / spend
    return BonusResult(
        spend=spend,
        bonus=quantize_money(exact),
        effective_rate=rate.quantize(_RATE_PLACES, rounding=ROUND_HALF_UP),
        bracket=reached,
        mode=scheme.mode,
        capped=capped,
    )


# --------------------------------------------------------------------------- earn rules


@dataclass(frozen=True)
class OrderLine:
    """A line of an order: net amount excl. VAT (negative for a discount) and a category."""

    net_amount: Decimal
    category: str | None = None


@dataclass(frozen=True)
class Multiplier:
    """A campaign multiplier (e.g. double points); ``categories=None``: the whole order."""

    factor: Decimal
    categories: frozenset[str] | None = None
    label: str = ""

    def applies_to(self, category: str | None) -> bool:
        return self.categories is None or category in self.categories


@dataclass(frozen=True)
class EarnRules:
    """How many points an order earns.

    ``points_per_euro`` on each line's net amount (``category_points_per_euro`` overrides
    it per product category), plus ``points_per_order`` for an order with a positive net
    amount. Campaign multipliers multiply the points of the lines they apply to; only
    whole-order multipliers multiply ``points_per_order``.
    """

    points_per_euro: Decimal = Decimal(1)
    points_per_order: int = 0
    category_points_per_euro: Mapping[str, Decimal] = field(default_factory=dict)


def points_for_order(
    rules: EarnRules,
    lines: Iterable[OrderLine] | Decimal | int,
    *,
    multipliers: Iterable[Multiplier] = (),
) -> int:
    """Points an order earns: exact sum, **rounded down once to whole points**, never < 0.

    ``lines`` may be a plain net amount (one line without a category).
    """
    if isinstance(lines, Decimal | int):
        lines = [OrderLine(_check_amount(lines, "order amount"))]
    lines = list(lines)
    multipliers = list(multipliers)
    net = sum((_check_amount(line.net_amount, "a line amount") for line in lines), ZERO)
    if net <= 0:
        return 0
    total = Decimal(0)
    for line in lines:
        rate = Decimal(rules.points_per_euro)
        if line.category is not None and line.category in rules.category_points_per_euro:
            rate = Decimal(rules.category_points_per_euro[line.category])
        points = rate * line.net_amount
        for multiplier in multipliers:
            if multiplier.applies_to(line.category):
                points *= Decimal(multiplier.factor)
        total += points
    per_order = Decimal(rules.points_per_order)
    for multiplier in multipliers:
        if multiplier.categories is None:
            per_order *= Decimal(multiplier.factor)
    total += per_order
    return max(0, int(total.to_integral_value(rounding=ROUND_FLOOR)))


# --------------------------------------------------------------------------- points ledger


class EntryKind(StrEnum):
    EARN = "earn"
    CONFIRM = "confirm"
    REDEEM = "redeem"
    EXPIRE = "expire"
    REVERSE = "reverse"


@dataclass(frozen=True)
class LedgerEntry:
    """One row of the append-only points ledger.

    ``key`` is the idempotency key, unique per customer ledger (an earn's key is its
    source, e.g. ``"order:123"``). ``points`` is signed. ``source`` names the earn (lot)
    a confirm, expire or reverse concerns. ``amount``: for an earn the net order amount
    the points were earned on; for a reverse the amount credited.
    """

    kind: EntryKind
    key: str
    points: int
    on: date
    source: str = ""
    expires_on: date | None = None
    pending: bool = False
    amount: Decimal | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", EntryKind(self.kind))
        _check_date(self.on, "an entry date")
        if not self.key:
            raise LedgerError("no_key", "every ledger entry needs an idempotency key")
        if isinstance(self.points, bool) or not isinstance(self.points, int):
            raise LedgerError("not_whole_points", f"points are whole numbers: {self.points!r}")
        sign_ok = {
            EntryKind.EARN: self.points >= 0,
            EntryKind.CONFIRM: self.points == 0,
            EntryKind.REDEEM: self.points < 0,
            EntryKind.EXPIRE: self.points < 0,
            EntryKind.REVERSE: self.points <= 0,
        }[self.kind]
        if not sign_ok:
            raise LedgerError("bad_sign", f"{self.kind} entry with {self.points} points")
        if self.kind in (EntryKind.CONFIRM, EntryKind.EXPIRE, EntryKind.REVERSE):
            if not self.source:
                raise LedgerError("no_source", f"a {self.kind} entry names the earn it concerns")
        if self.expires_on is not None:
            _check_date(self.expires_on, "expires_on")
        if self.amount is not None:
            _check_amount(self.amount, "an entry amount")


@dataclass(frozen=True)
class Lot:
    """What became of one earn. ``remaining`` points are still on the balance.

    ``redeemed``, ``expired``, ``reversed`` (taken back by its credit notes), ``charged``
    (taken to settle another order's reversal) and ``remaining`` add up to ``earned``.
    ``recovered``: points of this order that had been redeemed, taken back from other lots
    by its credit notes. ``credited``: the amount of its credit notes so far.
    """

    key: str
    earned_on: date
    expires_on: date | None
    earned: int
    amount: Decimal | None
    pending: bool
    remaining: int
    redeemed: int = 0
    expired: int = 0
    reversed: int = 0
    charged: int = 0
    recovered: int = 0
    credited: Decimal = ZERO

    def usable_on(self, day: date) -> bool:
        return not self.pending and (self.expires_on is None or self.expires_on >= day)

    @property
    def fifo_key(self) -> tuple[date, date, str]:
        return (self.expires_on or date.max, self.earned_on, self.key)


@dataclass(frozen=True)
class LedgerState:
    """The folded ledger: ``balance`` = sum of all entries = sum of the lots' remaining."""

    balance: int
    pending: int
    lots: tuple[Lot, ...]
    entries: Mapping[str, LedgerEntry]

    @property
    def available(self) -> int:
        """Points not pending (expiry dates not considered; see :meth:`available_on`)."""
        return self.balance - self.pending

    def available_on(self, day: date) -> int:
        """Points that can be redeemed on ``day``: confirmed and not past their expiry."""
        return sum(lot.remaining for lot in self.lots if lot.usable_on(day))

    def lot(self, key: str) -> Lot | None:
        for lot in self.lots:
            if lot.key == key:
                return lot
        return None


def _pro_rata(earned: int, credited: Decimal, amount: Decimal) -> int:
    """``floor(earned × credited / amount)``, exactly."""
    return int(Fraction(earned) * Fraction(credited) / Fraction(amount))


def _take_fifo(lots: dict[str, Lot], points: int, day: date, field_name: str) -> int:
    """Take up to ``points`` from usable lots, first to expire first; return what was taken."""
    left = points
    for lot in sorted(
        (lot for lot in lots.values() if lot.usable_on(day)), key=lambda x: x.fifo_key
    ):
        if left == 0:
            break
        take = min(left, lot.remaining)
        if take:
            lots[lot.key] = replace(
                lot, remaining=lot.remaining - take, **{field_name: getattr(lot, field_name) + take}
            )
            left -= take
    return points - left


def fold_ledger(entries: Iterable[LedgerEntry]) -> LedgerState:
    """Fold the ledger, in its append order, into the balance and the lots.

    Refuses (``LedgerError``) a ledger that breaks the rules — a repeated key, a
    redemption beyond the available points, a reversal beyond the pro-rata share — since
    that means it was written without going through this module.
    """
    lots: dict[str, Lot] = {}
    seen: dict[str, LedgerEntry] = {}
    balance = 0
    for entry in entries:
        if entry.key in seen:
            raise LedgerError("duplicate_key", f"key {entry.key!r} appears twice", key=entry.key)
        seen[entry.key] = entry
        balance += entry.points
        if entry.kind is EntryKind.EARN:
            if entry.key in lots:
                raise LedgerError("duplicate_key", f"earn {entry.key!r} appears twice")
            lots[entry.key] = Lot(
                key=entry.key,
                earned_on=entry.on,
                expires_on=entry.expires_on,
                earned=entry.points,
                amount=entry.amount,
                pending=entry.pending,
                remaining=entry.points,
            )
            continue
        if entry.kind is EntryKind.REDEEM:
            wanted = -entry.points
            if _take_fifo(lots, wanted, entry.on, "redeemed") != wanted:
                raise LedgerError("overdrawn", f"redemption {entry.key!r} exceeds the balance")
            continue
        lot = lots.get(entry.source)
        if lot is None:
            raise LedgerError("unknown_earn", f"{entry.key!r} names unknown earn {entry.source!r}")
        if entry.kind is EntryKind.CONFIRM:
            if not lot.pending:
                raise LedgerError("not_pending", f"earn {lot.key!r} is not pending")
            lots[lot.key] = replace(lot, pending=False)
        elif entry.kind is EntryKind.EXPIRE:
            points = -entry.points
            if lot.expires_on is None or entry.on <= lot.expires_on or points > lot.remaining:
                raise LedgerError("bad_expiry", f"expiry {entry.key!r} does not fit its lot")
            lots[lot.key] = replace(
                lot, remaining=lot.remaining - points, expired=lot.expired + points
            )
        else:  # REVERSE
            points = -entry.points
            credited = lot.credited + (entry.amount or ZERO)
            amount = lot.amount
            if amount is None or amount <= 0 or credited > amount:
                raise LedgerError("bad_reversal", f"reversal {entry.key!r} credits too much")
            own = min(points, lot.remaining)
            rest = points - own
            lot = replace(
                lot, remaining=lot.remaining - own, reversed=lot.reversed + own, credited=credited
            )
            if lot.reversed + lot.recovered + rest > _pro_rata(lot.earned, credited, amount):
                raise LedgerError("over_reversal", f"reversal {entry.key!r} exceeds the pro rata")
            if rest > lot.redeemed - lot.recovered:
                raise LedgerError("over_reversal", f"reversal {entry.key!r} takes too much")
            lots[lot.key] = replace(lot, recovered=lot.recovered + rest)
            if _take_fifo(lots, rest, entry.on, "charged") != rest:
                raise LedgerError("overdrawn", f"reversal {entry.key!r} exceeds the balance")
    pending = sum(lot.remaining for lot in lots.values() if lot.pending)
    return LedgerState(balance=balance, pending=pending, lots=tuple(lots.values()), entries=seen)


def _already(state: LedgerState, entry: LedgerEntry) -> tuple[LedgerEntry, ...]:
    """``()`` when ``entry`` was already applied (a retry); refuses a reused key."""
    existing = state.entries[entry.key]
    if existing != entry:
        raise LedgerError(
            "key_reused", f"key {entry.key!r} was used for a different entry", key=entry.key
        )
    return ()


def plan_earn(
    state: LedgerState,
    *,
    key: str,
    points: int,
    earned_on: date,
    expires_on: date | None = None,
    pending: bool = False,
    amount: Decimal | None = None,
) -> tuple[LedgerEntry, ...]:
    """The entry that books an earn (``key``: its source, e.g. ``"order:123"``).

    An earn of 0 points is still booked, so that the order's credit notes find it.
    """
    entry = LedgerEntry(
        EntryKind.EARN,
        key,
        points,
        earned_on,
        expires_on=expires_on,
        pending=pending,
        amount=None if amount is None else Decimal(amount),
    )
    if key in state.entries:
        return _already(state, entry)
    if expires_on is not None and expires_on < earned_on:
        raise LedgerError("expired_at_birth", "expires_on lies before the earned date")
    return (entry,)


def plan_confirm(state: LedgerState, *, earn_key: str, on: date) -> tuple[LedgerEntry, ...]:
    """The entry that makes a pending earn spendable (order delivered or paid).

    Idempotent by the key ``confirm:<earn key>``; nothing to do for a confirmed earn.
    """
    key = f"confirm:{earn_key}"
    if key in state.entries:
        return ()
    lot = state.lot(earn_key)
    if lot is None:
        raise LedgerError("unknown_earn", f"no earn {earn_key!r} to confirm", key=earn_key)
    if not lot.pending:
        return ()
    return (LedgerEntry(EntryKind.CONFIRM, key, 0, on, source=earn_key),)


def validate_redemption(state: LedgerState, points: int, on: date) -> None:
    """Refuse a redemption that is not a positive whole number or exceeds the available points."""
    if isinstance(points, bool) or not isinstance(points, int) or points <= 0:
        raise LedgerError("bad_points", f"redeem a positive whole number of points: {points!r}")
    available = state.available_on(on)
    if points > available:
        raise LedgerError(
            "insufficient_points",
            f"{points} points asked, {available} available",
            available=available,
        )


def plan_redemption(
    state: LedgerState, *, key: str, points: int, on: date
) -> tuple[LedgerEntry, ...]:
    """The entry that redeems ``points`` (first-to-expire first); never below zero."""
    if key in state.entries:
        entry = LedgerEntry(EntryKind.REDEEM, key, -points, on)
        return _already(state, entry)
    validate_redemption(state, points, on)
    return (LedgerEntry(EntryKind.REDEEM, key, -points, on),)


def compute_expiries(state: LedgerState, as_of: date) -> tuple[LedgerEntry, ...]:
    """Expire entries for every lot whose ``expires_on`` lies before ``as_of``.

    Pending lots expire too. Keys are ``expire:<earn key>``, so running it again books
    nothing new.
    """
    _check_date(as_of, "as_of")
    return tuple(
        LedgerEntry(EntryKind.EXPIRE, f"expire:{lot.key}", -lot.remaining, as_of, source=lot.key)
        for lot in sorted(state.lots, key=lambda x: x.fifo_key)
        if lot.expires_on is not None
        and lot.expires_on < as_of
        and lot.remaining > 0
        and f"expire:{lot.key}" not in state.entries
    )


@dataclass(frozen=True)
class Reversal:
    """A credit note's effect on the points.

    ``due``: the pro-rata points the credit note reverses; ``points``: what the entries
    take back; ``unrecovered``: ``due − points`` (expired, or not available without
    going below zero). ``entries`` is empty for a retry of an applied key.
    """

    entries: tuple[LedgerEntry, ...]
    due: int
    points: int

    @property
    def unrecovered(self) -> int:
        return self.due - self.points


def compute_reversal(
    state: LedgerState, *, key: str, earn_key: str, credited: Decimal | int, on: date
) -> Reversal:
    """The reversal for a credit note of ``credited`` euros against the order ``earn_key``.

    Pro rata of the order's earned points, cumulative over its credit notes (credit
    beyond the order amount is ignored), never more than was earned: taken from the
    order's remaining points, then for already-redeemed points from the other available
    points; see the module docstring.
    """
    credited = _check_amount(credited, "credited")
    if credited <= 0:
        raise LedgerError("bad_amount", "a credit note credits a positive amount")
    if key in state.entries:
        existing = state.entries[key]
        if existing.kind is not EntryKind.REVERSE or existing.source != earn_key:
            raise LedgerError("key_reused", f"key {key!r} was used for a different entry")
        return Reversal(entries=(), due=0, points=0)
    lot = state.lot(earn_key)
    if lot is None:
        raise LedgerError("unknown_earn", f"no earn {earn_key!r} to reverse", key=earn_key)
    if lot.amount is None or lot.amount <= 0:
        raise LedgerError("no_amount", f"earn {earn_key!r} has no order amount to pro-rate")
    new_credited = min(lot.credited + credited, lot.amount)
    applied_credit = new_credited - lot.credited
    due = _pro_rata(lot.earned, new_credited, lot.amount) - _pro_rata(
        lot.earned, lot.credited, lot.amount
    )
    own = min(due, lot.remaining)
    recoverable = min(due - own, lot.redeemed - lot.recovered)
    others = sum(
        other.remaining for other in state.lots if other.key != lot.key and other.usable_on(on)
    )
    points = own + min(recoverable, others)
    entry = LedgerEntry(EntryKind.REVERSE, key, -points, on, source=earn_key, amount=applied_credit)
    return Reversal(entries=(entry,), due=due, points=points)


# --------------------------------------------------------------------------- cards


def _digits(number: str) -> str:
    text = str(number).replace(" ", "").replace("-", "")
    if not text.isascii() or not text.isdigit():
        raise LoyaltyError("not_digits", f"a card number has digits only: {number!r}")
    return text


def luhn_check_digit(payload: str) -> str:
    """The Luhn (mod 10) check digit to append to ``payload``."""
    total = 0
    for position, char in enumerate(reversed(_digits(payload))):
        value = int(char)
        if position % 2 == 0:  # doubled: these become the odd positions once the digit is added
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return str((10 - total % 10) % 10)


def luhn_is_valid(number: str) -> bool:
    """Whether ``number`` (spaces and hyphens allowed) ends in its Luhn check digit."""
    try:
        digits = _digits(number)
    except LoyaltyError:
        return False
    return len(digits) >= 2 and luhn_check_digit(digits[:-1]) == digits[-1]


def ean13_check_digit(payload: str) -> str:
    """The EAN-13 check digit for 12 digits (weights 1, 3, 1, 3, … from the left)."""
    digits = _digits(payload)
    if len(digits) != 12:
        raise LoyaltyError("bad_length", f"EAN-13 check digit needs 12 digits: {payload!r}")
    total = sum(int(char) * (3 if i % 2 else 1) for i, char in enumerate(digits))
    return str((10 - total % 10) % 10)


def ean13_is_valid(number: str) -> bool:
    """Whether ``number`` is 13 digits ending in its EAN-13 check digit."""
    try:
        digits = _digits(number)
    except LoyaltyError:
        return False
    return len(digits) == 13 and ean13_check_digit(digits[:12]) == digits[12]


class CardScheme(StrEnum):
    EAN13 = "ean13"
    LUHN = "luhn"


@dataclass(frozen=True)
class CardNumbering:
    """Customer card numbers: ``prefix`` + zero-padded sequence number + check digit.

    EAN-13 numbers are 13 digits; Luhn numbers are ``length`` digits (default 16 when
    the scheme is Luhn and no length is given).
    """

    prefix: str = "29"
    scheme: CardScheme = CardScheme.EAN13
    length: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "scheme", CardScheme(self.scheme))
        default = 13 if self.scheme is CardScheme.EAN13 else 16
        length = default if self.length is None else self.length
        object.__setattr__(self, "length", length)
        if self.scheme is CardScheme.EAN13 and length != 13:
            raise LoyaltyError("bad_length", "EAN-13 card numbers have 13 digits")
        if self.prefix and (not self.prefix.isascii() or not self.prefix.isdigit()):
            raise LoyaltyError("bad_prefix", f"the prefix has digits only: {self.prefix!r}")
        if not 2 <= length <= 32 or len(self.prefix) > length - 2:
            raise LoyaltyError("bad_length", "no room for a sequence number and a check digit")

    @property
    def capacity(self) -> int:
        """How many sequence numbers fit (0 … capacity − 1)."""
        return 10 ** (int(self.length or 0) - len(self.prefix) - 1)

    def check_digit(self, payload: str) -> str:
        if self.scheme is CardScheme.EAN13:
            return ean13_check_digit(payload)
        return luhn_check_digit(payload)

    def generate(self, sequence: int) -> str:
        """The card number for ``sequence`` (0 ≤ sequence < capacity)."""
        if isinstance(sequence, bool) or not isinstance(sequence, int):
            raise LoyaltyError("bad_sequence", f"sequence numbers are integers: {sequence!r}")
        if not 0 <= sequence < self.capacity:
            raise LoyaltyError(
                "sequence_out_of_range", f"sequence {sequence} does not fit {self.capacity}"
            )
        width = int(self.length or 0) - len(self.prefix) - 1
        payload = f"{self.prefix}{sequence:0{width}d}"
        return payload + self.check_digit(payload)

    def is_valid(self, number: str) -> bool:
        """Right length, prefix and check digit (spaces and hyphens are ignored)."""
        try:
            digits = _digits(number)
        except LoyaltyError:
            return False
        return (
            len(digits) == self.length
            and digits.startswith(self.prefix)
            and self.check_digit(digits[:-1]) == digits[-1]
        )

    def sequence_of(self, number: str) -> int:
        """The sequence number inside a valid card number."""
        if not self.is_valid(number):
            raise LoyaltyError("invalid_card_number", f"not a valid card number: {number!r}")
        return int(_digits(number)[len(self.prefix) : -1])
