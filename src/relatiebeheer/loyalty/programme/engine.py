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
(:mod:`relatiebeheer.loyalty.pending`) and go the same way, so
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
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import NamedTuple

import numpy as np
from django.db import connection, transaction
from django.utils import timezone

from relatiebeheer.common import writers
from relatiebeheer.core import loyalty_rules as rules
from relatiebeheer.relations.models import Account

from .config import PPM, Config, Members, bonus_numerators, load_config
from .models import Programme, TierChange, TierStatus
from .spend import (
    as_date,
    chunks,
    column_of,
    daily_spend,
    history_start,
    ordered_since,
    quote,
    spend_pass,
    table_of,
)

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
    columns = ", ".join(column_of(TierStatus, name) for name in ("account", "id", *STATUS_COLUMNS))
    sql = f"SELECT {columns} FROM {table_of(TierStatus)} WHERE {column_of(TierStatus, 'programme')} = %s"  # noqa: S608
    rows: list[tuple] = []
    with connection.cursor() as cursor:
        if account_ids is None:
            cursor.execute(sql, [programme.pk])
            rows = cursor.fetchall()
        else:
            for chunk in chunks(sorted(account_ids)):
                marks = ", ".join(["%s"] * len(chunk))
                cursor.execute(
                    f"{sql} AND {column_of(TierStatus, 'account')} IN ({marks})",
                    [programme.pk, *chunk],
                )
                rows += cursor.fetchall()
    out = {}
    for account, pk, member, tier, since, until, spend, keep, nxt, grace, bonus, rate, ver in rows:
        out[account] = (
            pk,
            member,
            tier,
            None if since is None else as_date(since),
            None if until is None else as_date(until),
            spend,
            keep,
            nxt,
            bool(grace),
            bonus,
            _ppm(rate),
            ver,
        )
    return out


def evaluate_tiers(
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
    wanted = _wanted_rows(config, members, member_codes, results, report)
    _write_statuses(config, wanted, stored, scope, as_of, report)
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


def _wanted_rows(config, members, member_codes, results, report) -> dict[int, tuple]:
    """account id → the status row the results call for (accounts without a tier: none)."""
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
    return wanted


@dataclass
class _Diff:
    inserts: list = field(default_factory=list)
    updates: list = field(default_factory=list)
    deletes: list = field(default_factory=list)
    changes: list = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.inserts or self.updates or self.deletes)


def _diff(wanted: dict[int, tuple], stored: dict[int, tuple], as_of: date) -> _Diff:
    diff = _Diff()
    for account_id, row in wanted.items():
        old = stored.get(account_id)
        if old is None:
            diff.inserts.append((account_id, row))
            diff.changes.append((account_id, None, row[1], row[2] or as_of))
        elif tuple(old[1:]) != row:
            diff.updates.append((old[0], row))
            if old[2] != row[1]:
                diff.changes.append((account_id, old[2], row[1], row[2] or as_of))
    for account_id, old in stored.items():
        if account_id not in wanted:
            diff.deletes.append(old[0])
            lapsed = old[4] + timedelta(days=1) if old[4] is not None else as_of
            diff.changes.append((account_id, old[2], None, min(lapsed, as_of)))
    return diff


def _write_statuses(config, wanted, stored, scope, as_of, report) -> None:
    """Write only the rows that differ from the stored ones (and the tier changes).

    The first comparison is against the rows read before the evaluation; when it finds
    a difference, the programme's row is locked and the stored rows are read again, so
    two evaluations at once (the daily run and a hook's) never insert one status twice
    or record one tier change twice: the second compares with what the first wrote.
    """
    if not _diff(wanted, stored, as_of):
        return
    ops = connection.ops
    day = ops.adapt_datefield_value

    def values(row) -> list:
        return [
            row[0], row[1], day(row[2]), day(row[3]), row[4], row[5], row[6], row[7], row[8],
            Decimal(row[9]).scaleb(-6), row[10],
        ]  # fmt: skip

    status_columns = [column_of(TierStatus, n) for n in STATUS_COLUMNS]
    statuses = table_of(TierStatus)
    programme_id = config.programme.pk
    with transaction.atomic():
        writers.lock(Programme.objects.filter(pk=programme_id))
        diff = _diff(wanted, _stored_rows(config.programme, scope), as_of)
        with connection.cursor() as cursor:
            if diff.inserts:
                names = [column_of(TierStatus, "programme"), column_of(TierStatus, "account")]
                names += status_columns
                cursor.executemany(
                    f"INSERT INTO {statuses} ({', '.join(names)}) "  # noqa: S608
                    f"VALUES ({', '.join(['%s'] * len(names))})",
                    [[programme_id, account_id, *values(row)] for account_id, row in diff.inserts],
                )
            if diff.updates:
                sets = ", ".join(f"{c} = %s" for c in status_columns)
                cursor.executemany(
                    f"UPDATE {statuses} SET {sets} WHERE {quote('id')} = %s",  # noqa: S608
                    [[*values(row), pk] for pk, row in diff.updates],
                )
            for chunk in chunks(diff.deletes):
                marks = ", ".join(["%s"] * len(chunk))
                cursor.execute(
                    f"DELETE FROM {statuses} WHERE {quote('id')} IN ({marks})",  # noqa: S608
                    chunk,
                )
            names = [
                column_of(TierChange, name)
                for name in ("programme", "account", "from_tier", "to_tier", "on", "recorded_at")
            ]
            now = ops.adapt_datetimefield_value(timezone.now())
            cursor.executemany(
                f"INSERT INTO {table_of(TierChange)} ({', '.join(names)}) "  # noqa: S608
                f"VALUES ({', '.join(['%s'] * len(names))})",
                [[programme_id, a, old, new, day(on), now] for a, old, new, on in diff.changes],
            )
    report.statuses_written = len(diff.inserts) + len(diff.updates)
    report.statuses_removed = len(diff.deletes)
    report.tier_changes = len(diff.changes)


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
