"""Evaluating a loyalty programme for the whole book, set-based.

One SQL aggregate over the orders of the qualification window gives every account's net
spend (orders minus credit notes, cancelled orders excluded, by order date); NumPy sums it
per member (account, head office or buying group), finds the tier each member holds,
what it takes to reach the next tier or keep this one, and the bonus so far, all on
integer cents. Only the status rows that changed are written.

The rules are :mod:`relatiebeheer.core.loyalty_rules`'s. The set-based part computes
exactly what the core computes where the aggregates determine it:

* calendar-year programmes: the tier held on D is the best of the tier this year's spend
  (1 January … D) reaches and the tier last year's full spend reaches; it is valid until
  31 December of the year after the one whose spend carries it;
* rolling-12-month programmes: a member whose spend over the 12 months plus the grace
  period (positive amounts only) supports no more than today's rolling spend holds that
  tier.

Where the aggregates do not determine the answer — *since* for a member whose tier
changed, or a rolling member inside or near a grace period — the member's dated spend
is read (one query for all of them) and passed to :func:`core.loyalty_rules.evaluate_tier`.
Members whose orders changed are marked by the "accounts changed" hook
(:class:`~relatiebeheer.loyalty.models.PendingEvaluation`) and go the same way, so
their *since* is exact. Nobody holds a tier before the programme's ``starts_on``: *since*
is never earlier than that day (on the programme's first day every tier holder is a
member "since" that day, which needs no history).

Running the evaluation twice for the same day changes nothing: statuses are compared
before they are written, bonus periods are settled once (``BonusRun``), and the points
postings are idempotent on their keys.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import NamedTuple

import numpy as np
from django.db import connection, transaction
from django.utils import timezone

from relatiebeheer.core import loyalty_rules as rules
from relatiebeheer.core.money import from_cents
from relatiebeheer.relations.models import Account
from relatiebeheer.sales.models import Order

from .models import (
    BonusRun,
    BonusSettlement,
    PendingEvaluation,
    Programme,
    Tier,
    TierChange,
    TierStatus,
)

PPM = 1_000_000  # bonus rates are stored with six decimals: parts per million
SAFE_CENTS = 9 * 10**12  # spend × rate in ppm must fit in 64 bits
CHUNK = 500


# --------------------------------------------------------------------------- sql helpers


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _col(model, name: str) -> str:
    return _q(model._meta.get_field(name).column)


def _table(model) -> str:
    return _q(model._meta.db_table)


def _as_date(value) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _chunks(values: list, size: int = CHUNK) -> Iterable[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _round_div(numerator: np.ndarray, denominator: int) -> np.ndarray:
    """Non-negative integers divided and rounded half up."""
    return (2 * numerator + denominator) // (2 * denominator)


# --------------------------------------------------------------------------- configuration


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
    return _round_div(np.asarray(numerators), PPM)


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


# --------------------------------------------------------------------------- spend


def _segments(config: Config, as_of: date) -> list[tuple[str, date, date, str]]:
    """Disjoint date ranges to sum (name, first day, last day, which amounts).

    Summing disjoint ranges with plain ``SUM … GROUP BY`` reads each order once and is
    cheaper than one pass with a ``CASE`` per period; the periods the rules need are
    sums of these. ``which``: "all", "positive" (orders only) or "credits" (credit notes,
    found through their own index).
    """
    year_start = date(as_of.year, 1, 1)
    quarterly = config.programme.bonus_period == Programme.BonusPeriod.QUARTER and config.scheme
    quarter_start = date(as_of.year, (as_of.month - 1) // 3 * 3 + 1, 1)
    this_year = []
    if quarterly and quarter_start > year_start:
        this_year.append(("year_early", year_start, quarter_start - timedelta(days=1), "all"))
    this_year.append(
        (
            "year_late" if quarterly else "year_all",
            max(year_start, quarter_start if quarterly else year_start),
            as_of,
            "all",
        )
    )
    if not config.rolling:
        prev = ("prev", date(as_of.year - 1, 1, 1), year_start - timedelta(days=1), "all")
        return [prev, *this_year]
    roll_start = rules.rolling_window_start(as_of)
    ext_start = rules.rolling_window_start(as_of - timedelta(days=config.programme.grace_days))
    segments = []
    if ext_start < roll_start:
        segments.append(("ext_early", ext_start, roll_start - timedelta(days=1), "positive"))
    if roll_start < year_start:
        segments.append(("roll_early", roll_start, year_start - timedelta(days=1), "all"))
    segments += this_year
    segments.append(("roll_credits", roll_start, as_of, "credits"))
    return segments


def spend_pass(
    config: Config, as_of: date, account_ids: list[int] | None = None
) -> dict[str, np.ndarray]:
    """Net spend per account in the periods the rules need (integer cents).

    Columns: ``year`` (1 January … as_of); calendar programmes ``prev_year`` (last
    year); rolling programmes ``roll`` (the 12 months to as_of) and ``ext_pos`` (the
    positive amounts over those 12 months plus the grace period, an upper bound of the
    rolling spend on any day of the grace period); ``quarter`` when the bonus is settled
    per quarter. One aggregate per disjoint date range (see :func:`_segments`).
    """
    o = _table(Order)
    acc, rev, day, status, credit = (
        _col(Order, "account"),
        _col(Order, "revenue"),
        _col(Order, "date"),
        _col(Order, "status"),
        _col(Order, "credit_of"),
    )
    segments = _segments(config, as_of)
    extra = {"all": "", "positive": f" AND {rev} > 0", "credits": f" AND {credit} IS NOT NULL"}
    found: list[tuple[int, np.ndarray, np.ndarray]] = []
    with connection.cursor() as cursor:
        for index, (_name, first, last, which) in enumerate(segments):
            base = (
                f"SELECT {acc}, SUM({rev}) FROM {o} WHERE {status} <> %s "  # noqa: S608
                f"AND {day} >= %s AND {day} <= %s{extra[which]}"
            )
            params = [Order.Status.CANCELLED, first, last]
            rows: list[tuple] = []
            if account_ids is None:
                cursor.execute(f"{base} GROUP BY {acc}", params)
                rows = cursor.fetchall()
            else:
                for chunk in _chunks(sorted(account_ids)):
                    marks = ", ".join(["%s"] * len(chunk))
                    cursor.execute(
                        f"{base} AND {acc} IN ({marks}) GROUP BY {acc}", [*params, *chunk]
                    )
                    rows += cursor.fetchall()
            if rows:
                array = np.array(rows, dtype=np.int64)  # SUM over a group is never NULL
                found.append((index, array[:, 0], array[:, 1]))
    all_ids = np.unique(np.concatenate([f[1] for f in found])) if found else np.zeros(0, np.int64)
    table = np.zeros((len(segments), all_ids.size), dtype=np.int64)
    for index, ids, cents in found:
        table[index, np.searchsorted(all_ids, ids)] = cents
    column = {name: table[i] for i, (name, *_rest) in enumerate(segments)}
    zero = np.zeros(all_ids.size, dtype=np.int64)
    year = (
        column.get("year_early", zero)
        + column.get("year_late", zero)
        + column.get("year_all", zero)
    )
    out = {"account_id": all_ids, "year": year}
    if "year_late" in column:
        out["quarter"] = column["year_late"]
    if config.rolling:
        roll = column.get("roll_early", zero) + year
        out["roll"] = roll
        out["ext_pos"] = column.get("ext_early", zero) + roll - column["roll_credits"]
    else:
        out["prev_year"] = column["prev"]
    return out


def ordered_since(as_of: date, through: date | None, account_ids: list[int] | None) -> set[int]:
    """Accounts with orders dated after ``through`` (the last full evaluation) up to as_of."""
    if through is None or through >= as_of:
        return set()
    qs = Order.objects.filter(date__gt=through, date__lte=as_of)
    if account_ids is not None:
        qs = qs.filter(account_id__in=account_ids)
    return set(qs.values_list("account_id", flat=True).distinct())


def daily_spend(
    account_ids: list[int], start: date, end: date
) -> dict[int, list[tuple[date, Decimal]]]:
    """Net spend per account per day (only for the few members whose history is needed)."""
    o = _table(Order)
    acc, rev, day, status = (
        _col(Order, "account"),
        _col(Order, "revenue"),
        _col(Order, "date"),
        _col(Order, "status"),
    )
    result: dict[int, list[tuple[date, Decimal]]] = defaultdict(list)
    with connection.cursor() as cursor:
        for chunk in _chunks(sorted(account_ids)):
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                f"SELECT {acc}, {day}, SUM({rev}) FROM {o} WHERE {status} <> %s "  # noqa: S608
                f"AND {day} >= %s AND {day} <= %s AND {acc} IN ({marks}) GROUP BY {acc}, {day}",
                [Order.Status.CANCELLED, start, end, *chunk],
            )
            for account_id, day_value, cents in cursor.fetchall():
                result[account_id].append((_as_date(day_value), from_cents(int(cents or 0))))
    return result


def history_start(config: Config) -> date:
    """The first order date the core needs to evaluate any day from ``starts_on``."""
    start = config.programme.starts_on
    if config.rolling:
        return rules.rolling_window_start(start - timedelta(days=config.programme.grace_days))
    return date(start.year - 1, 1, 1)


# --------------------------------------------------------------------------- evaluation


class MemberResult(NamedTuple):
    tier: int  # index into config.tiers, −1 for none
    since: date | None
    valid_until: date | None
    qualifying: int  # cents
    needed_to_keep: int | None
    needed_for_next: int | None
    in_grace: bool
    bonus_num: int  # cents × ppm
    bonus_spend: int  # cents


@dataclass
class ProgrammeReport:
    programme: str
    as_of: str
    members: int = 0
    tier_holders: int = 0
    per_tier: dict[str, int] = field(default_factory=dict)
    statuses_written: int = 0
    statuses_removed: int = 0
    tier_changes: int = 0
    history_members: int = 0
    bonus_periods_settled: list[str] = field(default_factory=list)
    bonus_settlements: int = 0
    bonus_total: str = "0.00"
    points: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


STATUS_COLUMNS = (
    "member",
    "tier",
    "since",
    "valid_until",
    "qualifying_spend",
    "needed_to_keep",
    "needed_for_next",
    "in_grace",
    "bonus_so_far",
    "bonus_rate",
    "config_version",
)


def _ppm(value) -> int:
    return int((Decimal(str(value)) * PPM).to_integral_value())


def _stored_rows(programme: Programme, account_ids: list[int] | None) -> dict[int, tuple]:
    """account id → (row id, *the status in plain values: cents, ppm, dates)."""
    columns = ", ".join(_col(TierStatus, name) for name in ("account", "id", *STATUS_COLUMNS))
    sql = f"SELECT {columns} FROM {_table(TierStatus)} WHERE {_col(TierStatus, 'programme')} = %s"  # noqa: S608
    rows: list[tuple] = []
    with connection.cursor() as cursor:
        if account_ids is None:
            cursor.execute(sql, [programme.pk])
            rows = cursor.fetchall()
        else:
            for chunk in _chunks(sorted(account_ids)):
                marks = ", ".join(["%s"] * len(chunk))
                cursor.execute(
                    f"{sql} AND {_col(TierStatus, 'account')} IN ({marks})", [programme.pk, *chunk]
                )
                rows += cursor.fetchall()
    out = {}
    for account, pk, member, tier, since, until, spend, keep, nxt, grace, bonus, rate, ver in rows:
        out[account] = (
            pk,
            member,
            tier,
            None if since is None else _as_date(since),
            None if until is None else _as_date(until),
            spend,
            keep,
            nxt,
            bool(grace),
            bonus,
            _ppm(rate),
            ver,
        )
    return out


def read_dirty(account_ids: list[int] | None = None) -> tuple[set[int], object]:
    """Accounts marked by the "accounts changed" hook, and when they were read."""
    read_at = timezone.now()
    qs = PendingEvaluation.objects.all()
    if account_ids is not None:
        qs = qs.filter(account_id__in=account_ids)
    return set(qs.values_list("account_id", flat=True)), read_at


def clear_dirty(ids: set[int], read_at) -> None:
    """Forget the marks that were read (a mark renewed since then stays)."""
    for chunk in _chunks(sorted(ids)):
        PendingEvaluation.objects.filter(account_id__in=chunk, since__lte=read_at).delete()


def mark_dirty(account_ids: Iterable[int]) -> None:
    """The "accounts changed" listener's mark: these accounts' orders changed."""
    now = timezone.now()
    rows = [PendingEvaluation(account_id=int(pk), since=now) for pk in account_ids]
    if rows:
        PendingEvaluation.objects.bulk_create(
            rows, update_conflicts=True, update_fields=["since"], unique_fields=["account_id"]
        )


def evaluate_programme(
    programme: Programme,
    *,
    as_of: date,
    account_ids: list[int] | None = None,
    actor=None,
    settle: bool = True,
    sync_points: bool = True,
    dirty: set[int] | None = None,
) -> ProgrammeReport:
    """Evaluate one programme on ``as_of`` for every account (or only ``account_ids``).

    See the module docstring. ``settle``: settle bonus periods that ended before
    ``as_of`` (full runs only); ``sync_points``: book earned, confirmed, reversed and
    expired points. ``dirty``: accounts whose orders changed (read from the hook's marks,
    and cleared afterwards, when not given).
    """
    own_marks = dirty is None
    if own_marks:
        dirty, read_at = read_dirty(account_ids)
    report = ProgrammeReport(programme=programme.code, as_of=as_of.isoformat())
    timings = report.seconds
    started = time.perf_counter()
    config = load_config(programme)
    if config.tiers or config.scheme:
        _evaluate_tiers(config, as_of, account_ids, dirty, report)
    timings["tiers"] = round(time.perf_counter() - started, 3)
    if settle and account_ids is None and config.scheme is not None:
        mark = time.perf_counter()
        _settle_bonus(config, as_of, actor, report)
        timings["bonus_settlement"] = round(time.perf_counter() - mark, 3)
    if sync_points and programme.points_enabled:
        from .points import points_sync

        mark = time.perf_counter()
        report.points = points_sync(
            programme,
            as_of=as_of,
            account_ids=account_ids,
            since=None if account_ids is not None else programme.evaluated_through,
        )
        timings["points"] = round(time.perf_counter() - mark, 3)
    if account_ids is None and programme.evaluated_through != as_of:
        Programme.objects.filter(pk=programme.pk).update(evaluated_through=as_of)
        programme.evaluated_through = as_of
    if own_marks:
        clear_dirty(dirty, read_at)
    timings["total"] = round(time.perf_counter() - started, 3)
    return report


def _evaluate_tiers(
    config: Config,
    as_of: date,
    account_ids: list[int] | None,
    dirty: set[int],
    report: ProgrammeReport,
) -> None:
    programme = config.programme
    members = Members.load(programme)
    scope = None
    dirty_members = {members.code(a) for a in dirty}
    if account_ids is not None:
        codes = {members.code(a) for a in account_ids}
        scope = sorted({a for code in codes for a in members.accounts(code)})
        dirty_members |= codes

    mark = time.perf_counter()
    spend = spend_pass(config, as_of, scope)
    report.seconds["spend_pass"] = round(time.perf_counter() - mark, 3)
    stored = _stored_rows(programme, scope)

    # Spend per member (members with a stored status take part even without spend).
    codes = members.codes(spend["account_id"])
    stored_codes = np.array([members.code(a) for a in stored], dtype=np.int64)
    member_codes = np.union1d(codes, stored_codes)  # sorted, unique
    inverse = np.searchsorted(member_codes, codes)
    n = member_codes.size
    report.members = int(n)

    distinct = codes.size == np.unique(codes).size if programme.level != "account" else True

    def per_member(column: str) -> np.ndarray:
        out = np.zeros(n, dtype=np.int64)
        if column in spend and codes.size:
            if distinct:  # one account per member: no sums needed
                out[inverse] = spend[column]
            else:
                np.add.at(out, inverse, spend[column])
        return out

    # Members with orders dated after the last full evaluation: their *since* may have
    # moved without the hook knowing (an order entered ahead of its date), so re-read it.
    through = programme.evaluated_through
    if through is None:
        recent = np.ones(n, dtype=bool)
    else:
        recent_codes = {members.code(a) for a in ordered_since(as_of, through, scope)}
        recent = np.isin(
            member_codes, np.fromiter(recent_codes, dtype=np.int64, count=len(recent_codes))
        )

    started = programme.starts_on <= as_of
    tiers = config.tiers
    none = np.full(n, -1, dtype=np.int64)
    if config.rolling:
        qualifying = per_member("roll")
        supported = config.tier_index(qualifying) if tiers else none
        upper = config.tier_index(per_member("ext_pos")) if tiers else none
        held = supported.copy()
        exact = upper == supported
        this_year = none
    else:
        qualifying = per_member("year")
        if tiers:
            this_year = config.tier_index(qualifying)
            held = np.maximum(this_year, config.tier_index(per_member("prev_year")))
        else:
            this_year = held = none
        exact = np.ones(n, dtype=bool)
        supported = held
    if not started:
        held = none
        exact = np.ones(n, dtype=bool)
    if programme.bonus_period == Programme.BonusPeriod.QUARTER and config.scheme:
        bonus_spend = per_member("quarter")
    elif config.rolling:
        bonus_spend = per_member("year")
    else:
        bonus_spend = qualifying
    numerators = bonus_numerators(config, bonus_spend)

    tier_ids = [t.pk for t in tiers]
    thresholds = config.thresholds.tolist()
    zero_index = int(config.tier_index(np.array([0]))[0]) if tiers else -1
    stored_by_member: dict[int, tuple] = {}
    for account_id, row in stored.items():
        stored_by_member.setdefault(members.code(account_id), row)

    has_stored = np.isin(member_codes, stored_codes)
    candidates = np.flatnonzero((held >= 0) | has_stored | ~exact)
    results: dict[int, MemberResult] = {}
    need_history: list[int] = []
    version = config.version
    for i in candidates.tolist():
        code = int(member_codes[i])
        h = int(held[i])
        row = stored_by_member.get(code)
        stored_tier = tier_ids.index(row[2]) if row is not None and row[2] in tier_ids else -1
        fresh = (
            row is not None
            and row[-1] == version
            and code not in dirty_members
            and not recent[i]
            and stored_tier >= 0
            and started
        )
        if config.rolling:
            if fresh and int(supported[i]) <= stored_tier and (row[4] is None or as_of <= row[4]):
                h, since, valid_until = stored_tier, row[3], row[4]
                in_grace = h > int(supported[i])
            elif h >= 0 or not exact[i]:
                need_history.append(i)
                continue
            else:
                since = valid_until = None
                in_grace = False
        else:
            in_grace = False
            valid_until = None
            if zero_index < h:
                valid_until = date(as_of.year + (1 if this_year[i] >= h else 0), 12, 31)
            if h < 0:
                since = None
            elif fresh and stored_tier == h:
                since = row[3]
            elif as_of == programme.starts_on:
                since = as_of
            else:
                need_history.append(i)
                continue
        results[i] = _result(
            h, since, valid_until, int(qualifying[i]), thresholds, in_grace,
            numerators[i], bonus_spend[i],
        )  # fmt: skip

    report.history_members = len(need_history)
    if need_history:
        mark = time.perf_counter()
        names = [t.name for t in tiers]
        codes_needed = [int(member_codes[i]) for i in need_history]
        accounts_needed = sorted({a for code in codes_needed for a in members.accounts(code)})
        days = daily_spend(accounts_needed, history_start(config), as_of)
        for i, code in zip(need_history, codes_needed, strict=True):
            entries = [e for a in members.accounts(code) for e in days.get(a, ())]
            result = rules.evaluate_tier(config.core, entries, as_of=as_of)
            h = -1 if result.tier is None else names.index(result.tier.name)
            since = result.since
            if h >= 0 and (since is None or since < programme.starts_on):
                since = programme.starts_on
            results[i] = _result(
                h, since, result.valid_until, int(qualifying[i]), thresholds,
                result.in_grace, numerators[i], bonus_spend[i],
            )  # fmt: skip
        report.seconds["history"] = round(time.perf_counter() - mark, 3)

    mark = time.perf_counter()
    _write_statuses(config, members, member_codes, results, stored, as_of, report)
    report.seconds["write"] = round(time.perf_counter() - mark, 3)


def _result(h, since, valid_until, qualifying, thresholds, in_grace, numerator, bonus_spend):
    keep = max(thresholds[h] - qualifying, 0) if h >= 0 else None
    following = h + 1 if h + 1 < len(thresholds) else None
    needed = max(thresholds[following] - qualifying, 0) if following is not None else None
    return MemberResult(
        tier=h,
        since=since if h >= 0 else None,
        valid_until=valid_until if h >= 0 else None,
        qualifying=qualifying,
        needed_to_keep=keep,
        needed_for_next=needed,
        in_grace=bool(in_grace) and h >= 0,
        bonus_num=int(numerator),
        bonus_spend=int(bonus_spend),
    )


def _write_statuses(config, members, member_codes, results, stored, as_of, report) -> None:
    """Compare the wanted rows with the stored ones; write only the differences."""
    tiers = config.tiers
    names = {t.pk: t.name for t in tiers}
    wanted: dict[int, tuple] = {}
    holders = 0
    per_tier: dict[str, int] = defaultdict(int)
    for i, result in results.items():
        if result.tier < 0:
            continue
        code = int(member_codes[i])
        num, spent = result.bonus_num, result.bonus_spend
        row = (
            members.key(code),
            tiers[result.tier].pk,
            result.since,
            result.valid_until,
            result.qualifying,
            result.needed_to_keep,
            result.needed_for_next,
            result.in_grace,
            (2 * num + PPM) // (2 * PPM),  # bonus so far in cents, half up (bonus_cents)
            (2 * num + spent) // (2 * spent) if spent > 0 else 0,  # effective rate, ppm
            config.version,
        )
        holders += 1
        for account_id in members.accounts(code):
            wanted[account_id] = row
            per_tier[names[row[1]]] += 1
    report.tier_holders = holders
    report.per_tier = dict(per_tier)

    inserts, updates, deletes, changes = [], [], [], []
    for account_id, row in wanted.items():
        old = stored.get(account_id)
        if old is None:
            inserts.append((account_id, row))
            changes.append((account_id, None, row[1], row[2] or as_of))
        elif tuple(old[1:]) != row:
            updates.append((old[0], row))
            if old[2] != row[1]:
                changes.append((account_id, old[2], row[1], row[2] or as_of))
    for account_id, old in stored.items():
        if account_id not in wanted:
            deletes.append(old[0])
            lapsed = old[4] + timedelta(days=1) if old[4] is not None else as_of
            changes.append((account_id, old[2], None, min(lapsed, as_of)))
    if not (inserts or updates or deletes):
        return
    ops = connection.ops
    day = ops.adapt_datefield_value

    def values(row) -> list:
        return [
            row[0], row[1], day(row[2]), day(row[3]), row[4], row[5], row[6], row[7], row[8],
            Decimal(row[9]).scaleb(-6), row[10],
        ]  # fmt: skip

    status_columns = [_col(TierStatus, n) for n in STATUS_COLUMNS]
    table = _table(TierStatus)
    with transaction.atomic(), connection.cursor() as cursor:
        if inserts:
            columns = [_col(TierStatus, "programme"), _col(TierStatus, "account"), *status_columns]
            cursor.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608
                f"VALUES ({', '.join(['%s'] * len(columns))})",
                [[config.programme.pk, account_id, *values(row)] for account_id, row in inserts],
            )
        if updates:
            sets = ", ".join(f"{c} = %s" for c in status_columns)
            cursor.executemany(
                f"UPDATE {table} SET {sets} WHERE {_q('id')} = %s",  # noqa: S608
                [[*values(row), pk] for pk, row in updates],
            )
        for chunk in _chunks(deletes):
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(f"DELETE FROM {table} WHERE {_q('id')} IN ({marks})", chunk)  # noqa: S608
        columns = [
            _col(TierChange, name)
            for name in ("programme", "account", "from_tier", "to_tier", "on", "recorded_at")
        ]
        now = ops.adapt_datetimefield_value(timezone.now())
        cursor.executemany(
            f"INSERT INTO {_table(TierChange)} ({', '.join(columns)}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(columns))})",
            [[config.programme.pk, a, old, new, day(on), now] for a, old, new, on in changes],
        )
    report.statuses_written = len(inserts) + len(updates)
    report.statuses_removed = len(deletes)
    report.tier_changes = len(changes)


# --------------------------------------------------------------------------- bonus settlement


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


def period_spend(start: date, end: date) -> tuple[np.ndarray, np.ndarray]:
    """Net spend per account dated ``start`` … ``end`` (cents)."""
    o = _table(Order)
    acc, rev, day, status = (
        _col(Order, "account"),
        _col(Order, "revenue"),
        _col(Order, "date"),
        _col(Order, "status"),
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {acc}, SUM({rev}) FROM {o} WHERE {status} <> %s "  # noqa: S608
            f"AND {day} >= %s AND {day} <= %s GROUP BY {acc}",
            [Order.Status.CANCELLED, start, end],
        )
        rows = cursor.fetchall()
    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    ids, cents = zip(*rows, strict=True)
    return np.array(ids, dtype=np.int64), np.array([c or 0 for c in cents], dtype=np.int64)


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


def _settle_bonus(config: Config, as_of: date, actor, report: ProgrammeReport) -> None:
    """Settle every ended bonus period once: a cost entry "incentive or bonus" per account."""
    from relatiebeheer.core.money import format_money, format_number
    from relatiebeheer.sales.models import CostEntry
    from relatiebeheer.sales.services import cost_entry_create
    from relatiebeheer.users.access import system_user

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
    for chunk in _chunks(sorted(settled_accounts)):
        PendingEvaluation.objects.filter(account_id__in=chunk, since__gte=started).delete()


# --------------------------------------------------------------------------- entry points


def evaluate(
    *,
    as_of: date | None = None,
    account_ids: list[int] | None = None,
    programmes: Iterable[Programme] | None = None,
    actor=None,
    drivers: bool = True,
) -> list[ProgrammeReport]:
    """Evaluate every active programme (tiers, bonus, points) and store the drivers.

    ``account_ids``: only the members of these accounts (the "accounts changed" hook);
    without it the whole book, which also settles ended bonus periods.
    """
    as_of = as_of or timezone.localdate()
    if programmes is None:
        programmes = Programme.objects.filter(active=True).order_by("pk")
    dirty, read_at = read_dirty(account_ids)
    reports = [
        evaluate_programme(p, as_of=as_of, account_ids=account_ids, actor=actor, dirty=dirty)
        for p in programmes
    ]
    clear_dirty(dirty, read_at)
    if drivers:
        from .drivers import store_scorecards

        store_scorecards(as_of=as_of, account_ids=account_ids)
    return reports


def member_accounts(programme: Programme, account: Account) -> list[int]:
    """The accounts whose spend counts together with ``account``'s in ``programme``."""
    if programme.level == Programme.MemberLevel.ACCOUNT:
        return [account.pk]
    members = Members.load(programme)
    return members.accounts(members.code(account.pk))


def live_status(programme: Programme, account: Account, *, as_of: date | None = None):
    """The exact tier result for one account now (the core on its member's dated spend)."""
    as_of = as_of or timezone.localdate()
    config = load_config(programme)
    accounts = member_accounts(programme, account)
    start = history_start(config)
    days = daily_spend(accounts, min(start, date(as_of.year - 1, 1, 1)), as_of)
    entries = [e for a in accounts for e in days.get(a, ())]
    result = None
    if config.core is not None and programme.starts_on <= as_of:
        result = rules.evaluate_tier(config.core, entries, as_of=as_of)
        if result.tier is not None and (result.since is None or result.since < programme.starts_on):
            from dataclasses import replace

            result = replace(result, since=programme.starts_on)
    year_spend = sum(
        (amount for day, amount in entries if day >= date(as_of.year, 1, 1)), Decimal(0)
    )
    bonus = None
    if config.scheme is not None:
        bonus = rules.compute_bonus(config.scheme, year_spend)
    return config, result, bonus
