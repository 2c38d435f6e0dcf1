"""The points ledger: earning on orders, confirming, reversing, expiring, redeeming.

The ledger (:class:`~relatiebeheer.loyalty.models.LedgerEntry`) is append-only and is the
truth: the balance is the sum of its entries, and the lots (what is left of each earn)
follow from folding it with :func:`core.loyalty_rules.fold_ledger`. The
:class:`~relatiebeheer.loyalty.models.PointsAccount` row caches balance and pending
points; :func:`~relatiebeheer.loyalty.programme.bulk.points_rebuild` recomputes the cache from the ledger.

* Earning is idempotent on its source: an order earns under the key ``order:<id>``
  (unique per points account), so the same order never earns twice, whatever retries.
  Points are pending until the order is delivered or paid (the programme says which) and
  become spendable with a ``confirm:order:<id>`` entry.
* A credit note reverses its order's points pro rata (``credit:<id>``), never more than
  was earned; a cancelled or deleted order gives back all its points.
* Redemptions, reversals, confirmations and expiries lock the points account row
  (``SELECT … FOR UPDATE``; SQLite's IMMEDIATE transactions serialise writers), fold the
  ledger and append what the core plans: concurrent redemptions of the last points can
  never overdraw — one succeeds, the others are refused.
* Earning in bulk (the evaluation) inserts the earns of many orders at once under the
  programme's row lock and adds to the cached balance with ``balance = balance + n``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, connection, models, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from relatiebeheer.common import writers
from relatiebeheer.core import loyalty_rules as rules
from relatiebeheer.loyalty.campaigns.models import Campaign, CampaignMember
from relatiebeheer.sales.models import Order, OrderLine
from relatiebeheer.users.models import User

from .models import LedgerEntry, PointsAccount, Programme, Reward

# The keys of the ledger entries this module books (unique per points account). The core
# makes the keys of confirmations, expiries and redemptions from the earn they concern.
ORDER = "order:"  # an order's earn: order:<order id>
CREDIT = "credit:"  # a credit note's reversal: credit:<credit note id>
CANCEL = "cancel:"  # a cancelled order's reversal: cancel:order:<order id>
DELETED = "deleted:"  # a deleted order's reversal: deleted:order:<order id>


def order_key(order_id: int) -> str:
    return f"{ORDER}{order_id}"


EARN = LedgerEntry.Kind.EARN.value

CONFIRMED = {
    Programme.ConfirmOn.DELIVERED: {Order.Status.DELIVERED, Order.Status.PAID},
    Programme.ConfirmOn.PAID: {Order.Status.PAID},
}


def earn_rules(programme: Programme) -> rules.EarnRules:
    return rules.EarnRules(
        points_per_euro=programme.points_per_euro,
        points_per_order=programme.points_per_order,
        category_points_per_euro={
            r.category: r.points_per_euro for r in programme.category_rules.all()
        },
    )


def expiry_for(programme: Programme, earned_on: date) -> date | None:
    """The last day points earned on ``earned_on`` can be used (None: they never expire)."""
    if not programme.points_expiry_months:
        return None
    return rules.add_months(earned_on, programme.points_expiry_months) - timedelta(days=1)


def campaign_multipliers(programme: Programme) -> dict[int, list[tuple[date, date, Decimal]]]:
    """Per targeted account: the points multipliers of launched campaigns (from, to, ×)."""
    campaigns = Campaign.objects.filter(
        programme=programme,
        status=Campaign.Status.LAUNCHED,
        incentive=Campaign.Incentive.POINTS_MULTIPLIER,
    ).values_list("pk", "starts_on", "ends_on", "incentive_rate")
    result: dict[int, list[tuple[date, date, Decimal]]] = defaultdict(list)
    for pk, start, end, factor in campaigns:
        members = CampaignMember.objects.filter(
            campaign_id=pk, group=CampaignMember.Group.TARGET
        ).values_list("account_id", flat=True)
        for account_id in members:
            result[account_id].append((start, end, factor))
    return result


def multipliers_on(windows, day: date) -> list[rules.Multiplier]:
    return [
        rules.Multiplier(Decimal(factor), label="campaign")
        for start, end, factor in windows
        if start <= day <= end
    ]


# --------------------------------------------------------------------------- folding


def _core(row: LedgerEntry) -> rules.LedgerEntry:
    return rules.LedgerEntry(
        kind=row.kind,
        key=row.key,
        points=int(row.points),
        on=row.on,
        source=row.source,
        expires_on=row.expires_on,
        pending=row.pending,
        amount=row.amount,
    )


def ledger_state(points_account: PointsAccount) -> rules.LedgerState:
    """The folded ledger of one points account (in append order)."""
    rows = LedgerEntry.objects.filter(points_account=points_account).order_by("pk")
    return rules.fold_ledger(_core(row) for row in rows)


def locked_points_account(programme: Programme, account_id: int) -> PointsAccount:
    """The points account row, locked for this transaction (created when missing)."""
    rows = writers.lock(PointsAccount.objects.filter(programme=programme, account_id=account_id))
    if not rows:
        try:
            with transaction.atomic():
                PointsAccount.objects.create(programme=programme, account_id=account_id)
        except IntegrityError:
            pass  # made by another writer meanwhile
        rows = writers.lock(
            PointsAccount.objects.filter(programme=programme, account_id=account_id)
        )
    return rows[0]


def append(
    pa: PointsAccount,
    state: rules.LedgerState,
    planned: tuple[rules.LedgerEntry, ...],
    *,
    order_id: int | None = None,
    reward: Reward | None = None,
    actor=None,
    note: str = "",
) -> rules.LedgerState:
    """Append planned entries to a locked points account and set its cache from the fold."""
    if not planned:
        return state
    now = timezone.now()
    LedgerEntry.objects.bulk_create(
        [
            LedgerEntry(
                points_account=pa,
                kind=str(e.kind),
                key=e.key,
                points=e.points,
                on=e.on,
                source=e.source,
                expires_on=e.expires_on,
                pending=e.pending,
                amount=e.amount,
                order_id=order_id,
                reward=reward,
                note=note[:200],
                created_at=now,
                created_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
            for e in planned
        ]
    )
    new_state = rules.fold_ledger([*state.entries.values(), *planned])
    PointsAccount.objects.filter(pk=pa.pk).update(
        balance=new_state.balance, pending=new_state.pending
    )
    pa.balance, pa.pending = new_state.balance, new_state.pending
    return new_state


# --------------------------------------------------------------------------- earning


@dataclass
class EarnContext:
    """What earning needs besides the order, read once for many postings."""

    programme: Programme
    rules: rules.EarnRules
    multipliers: dict[int, list[tuple[date, date, Decimal]]]
    confirmed: set[str]
    accounts: dict[int, int] = field(default_factory=dict)  # account id → points account id

    @classmethod
    def build(cls, programme: Programme) -> EarnContext:
        return cls(
            programme=programme,
            rules=earn_rules(programme),
            multipliers=campaign_multipliers(programme),
            confirmed=set(CONFIRMED[programme.points_confirm_on]),
        )

    def points_account_id(self, account_id: int) -> int:
        """The points account's id, made when missing (one statement either way)."""
        if account_id not in self.accounts:
            table = quote(PointsAccount._meta.db_table)
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {table} ({quote('programme_id')}, {quote('account_id')}, "  # noqa: S608
                    f"{quote('balance')}, {quote('pending')}) VALUES (%s, %s, 0, 0) "
                    f"ON CONFLICT ({quote('programme_id')}, {quote('account_id')}) "
                    f"DO UPDATE SET {quote('balance')} = {table}.{quote('balance')} "
                    f"RETURNING {quote('id')}",
                    [self.programme.pk, account_id],
                )
                self.accounts[account_id] = cursor.fetchone()[0]
        return self.accounts[account_id]


def adapt(value):
    """Parameters for raw SQL, as the ORM would pass them."""
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, date):
        return connection.ops.adapt_datefield_value(value)
    return value


@dataclass(frozen=True)
class Posting:
    """An earn booked by :func:`points_earn`."""

    id: int
    key: str
    points: int
    pending: bool


_SQL: dict[tuple[str, str], str] = {}


def earn_sql(name: str) -> str:
    """The single-posting statements, quoted once per database vendor."""
    cached = _SQL.get((connection.vendor, name))
    if cached is not None:
        return cached
    q = connection.ops.quote_name
    ledger, accounts = q(LedgerEntry._meta.db_table), q(PointsAccount._meta.db_table)
    columns = [
        "points_account_id", "kind", "key", "points", "on", "source", "expires_on",
        "pending", "amount_cents", "order_id", "note", "created_at", "created_by_id",
    ]  # fmt: skip
    statements = {  # identifiers from the models' _meta, values always as parameters
        "insert": (
            f"INSERT INTO {ledger} ({', '.join(q(c) for c in columns)}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(columns))}) "
            f"ON CONFLICT ({q('points_account_id')}, {q('key')}) DO NOTHING RETURNING {q('id')}"
        ),
        "bulk_insert": (
            f"INSERT INTO {ledger} ({', '.join(q(c) for c in columns)}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(columns))})"
        ),
        "add": (
            f"UPDATE {accounts} SET {q('balance')} = {q('balance')} + %s, "  # noqa: S608
            f"{q('pending')} = {q('pending')} + %s WHERE {q('id')} = %s"
        ),
    }
    for key, sql in statements.items():
        _SQL[(connection.vendor, key)] = sql
    return _SQL[(connection.vendor, name)]


def quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _earn_in_bulk(programme, as_of, account_ids, counts) -> None:
    earned = LedgerEntry.objects.filter(
        points_account__programme=programme, kind=LedgerEntry.Kind.EARN, order_id=OuterRef("pk")
    )
    orders = (
        Order.objects.filter(
            credit_of__isnull=True,
            revenue__gt=0,
            date__gte=programme.starts_on,
            date__lte=as_of,
        )
        .exclude(status=Order.Status.CANCELLED)
        .filter(~Exists(earned))
    )
    if account_ids is not None:
        orders = orders.filter(account_id__in=account_ids)
    rules_ = earn_rules(programme)
    multipliers = campaign_multipliers(programme)
    confirmed = CONFIRMED[programme.points_confirm_on]
    with transaction.atomic():
        # One bulk earner at a time per programme (the anti-join above stays true).
        writers.lock(Programme.objects.filter(pk=programme.pk))
        rows = list(orders.values_list("pk", "account_id", "date", "status", "revenue"))
        if not rows:
            return
        lines: dict[int, list] = defaultdict(list)
        if rules_.category_points_per_euro:
            ids = [r[0] for r in rows]
            for start in range(0, len(ids), 500):
                for order_id, revenue, category in OrderLine.objects.filter(
                    order_id__in=ids[start : start + 500]
                ).values_list("order_id", "revenue", "category"):
                    lines[order_id].append(rules.OrderLine(revenue, category or None))
        accounts = sorted({r[1] for r in rows})
        existing = _points_accounts(programme, accounts)
        missing = [a for a in accounts if a not in existing]
        if missing:
            PointsAccount.objects.bulk_create(
                [PointsAccount(programme=programme, account_id=a) for a in missing],
                batch_size=2000,
                ignore_conflicts=True,
            )
            existing.update(_points_accounts(programme, missing))
        totals: dict[int, list[int]] = defaultdict(lambda: [0, 0])
        now = adapt(timezone.now())
        expiry: dict[date, object] = {}
        entries = []
        for order_id, account_id, day, status, revenue in rows:
            day = date.fromisoformat(day) if isinstance(day, str) else day
            order_lines = lines.get(order_id) or revenue
            points = rules.points_for_order(
                rules_,
                order_lines,
                multipliers=multipliers_on(multipliers.get(account_id, ()), day),
            )
            pending = status not in confirmed
            pa_id = existing[account_id]
            if day not in expiry:
                expiry[day] = (adapt(day), adapt(expiry_for(programme, day)))
            on, expires = expiry[day]
            entries.append(
                (
                    pa_id, EARN, order_key(order_id), points, on, "", expires, pending,
                    int(revenue * 100), order_id, "", now, None,
                )
            )  # fmt: skip
            totals[pa_id][0] += points
            totals[pa_id][1] += points if pending else 0
            counts["earned"] += points
        with connection.cursor() as cursor:
            for start in range(0, len(entries), 5000):
                cursor.executemany(earn_sql("bulk_insert"), entries[start : start + 5000])
        counts["earn_postings"] += len(entries)
        table = quote(PointsAccount._meta.db_table)
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {table} SET {quote('balance')} = {quote('balance')} + %s, "  # noqa: S608
                f"{quote('pending')} = {quote('pending')} + %s WHERE {quote('id')} = %s",
                [(b, p, pk) for pk, (b, p) in totals.items()],
            )


def _points_accounts(programme: Programme, account_ids: list[int]) -> dict[int, int]:
    """account id → points account id, for the given accounts."""
    qs = PointsAccount.objects.filter(programme=programme)
    if len(account_ids) > 5000:  # cheaper to read them all than to pass a huge list
        wanted = set(account_ids)
        return {a: pk for a, pk in qs.values_list("account_id", "pk") if a in wanted}
    found: dict[int, int] = {}
    for start in range(0, len(account_ids), 500):
        found.update(
            qs.filter(account_id__in=account_ids[start : start + 500]).values_list(
                "account_id", "pk"
            )
        )
    return found


def _grouped(entries) -> dict[int, list]:
    groups: dict[int, list] = defaultdict(list)
    for item in entries:
        groups[item[0]].append(item[1:])
    return groups


def _confirm(programme, account_ids, counts) -> None:
    confirmed = CONFIRMED[programme.points_confirm_on]
    done = LedgerEntry.objects.filter(
        points_account=OuterRef("points_account"),
        kind=LedgerEntry.Kind.CONFIRM,
        source=OuterRef("key"),
    )
    candidates = LedgerEntry.objects.filter(
        points_account__programme=programme,
        kind=LedgerEntry.Kind.EARN,
        pending=True,
        order_id__in=Order.objects.filter(status__in=confirmed).values("pk"),
    ).filter(~Exists(done))
    if account_ids is not None:
        candidates = candidates.filter(points_account__account_id__in=account_ids)
    groups = _grouped(candidates.values_list("points_account__account_id", "key", "order_id"))
    today = timezone.localdate()
    for account_id, items in groups.items():
        with transaction.atomic():
            pa = locked_points_account(programme, account_id)
            state = ledger_state(pa)
            for key, order_id in items:
                planned = rules.plan_confirm(state, earn_key=key, on=today)
                state = append(pa, state, planned, order_id=order_id)
                counts["confirmed"] += len(planned)


def _reverse(programme, as_of, account_ids, counts) -> None:
    """Credit notes (pro rata), cancelled and deleted orders (in full)."""
    earned = LedgerEntry.objects.filter(
        points_account__programme=programme, kind=LedgerEntry.Kind.EARN
    )
    if account_ids is not None:
        earned = earned.filter(points_account__account_id__in=account_ids)
    reversed_keys = LedgerEntry.objects.filter(
        points_account__programme=programme, kind=LedgerEntry.Kind.REVERSE
    )
    work: list[tuple[int, str, str, Decimal | None, date, int]] = []
    # Credit notes of orders that earned.
    notes = (
        Order.objects.filter(
            credit_of__isnull=False,
            credit_of_id__in=earned.values("order_id"),
            date__lte=as_of,
            revenue__lt=0,
        )
        .exclude(status=Order.Status.CANCELLED)
        .exclude(pk__in=reversed_keys.filter(key__startswith=CREDIT).values("order_id"))
        .values_list("account_id", "pk", "credit_of_id", "revenue", "date")
    )
    for account_id, pk, original, revenue, day in notes:
        work.append((account_id, f"{CREDIT}{pk}", order_key(original), -revenue, day, pk))
    # Cancelled orders that had earned.
    cancelled = (
        earned.filter(order_id__in=Order.objects.filter(status=Order.Status.CANCELLED).values("pk"))
        .exclude(order_id__in=reversed_keys.filter(key__startswith=CANCEL).values("order_id"))
        .values_list("points_account__account_id", "order_id")
    )
    for account_id, order_id in cancelled:
        work.append(
            (account_id, CANCEL + order_key(order_id), order_key(order_id), None, as_of, order_id)
        )
    # Orders deleted after they earned.
    gone = (
        earned.exclude(order_id__in=Order.objects.values("pk"))
        .exclude(order_id__in=reversed_keys.filter(key__startswith=DELETED).values("order_id"))
        .values_list("points_account__account_id", "order_id")
    )
    for account_id, order_id in gone:
        work.append(
            (account_id, DELETED + order_key(order_id), order_key(order_id), None, as_of, order_id)
        )
    by_account: dict[int, list] = defaultdict(list)
    for item in work:
        by_account[item[0]].append(item[1:])
    for account_id, items in by_account.items():
        with transaction.atomic():
            pa = locked_points_account(programme, account_id)
            state = ledger_state(pa)
            for key, earn_key, credited, day, order_id in sorted(items, key=lambda x: (x[3], x[0])):
                if key in state.entries:
                    continue
                lot = state.lot(earn_key)
                if lot is None or lot.amount is None or lot.amount <= 0:
                    continue
                if credited is None:  # cancelled or deleted: whatever is not credited yet
                    credited = lot.amount - lot.credited
                if credited <= 0:
                    continue
                reversal = rules.compute_reversal(
                    state, key=key, earn_key=earn_key, credited=credited, on=day
                )
                state = append(pa, state, reversal.entries, order_id=order_id)
                counts["reversed"] += -sum(e.points for e in reversal.entries)


def _expire(programme, as_of, since, counts) -> None:
    expired = LedgerEntry.objects.filter(
        points_account=OuterRef("points_account"),
        kind=LedgerEntry.Kind.EXPIRE,
        source=OuterRef("key"),
    )
    lots = LedgerEntry.objects.filter(
        points_account__programme=programme,
        kind=LedgerEntry.Kind.EARN,
        expires_on__lt=as_of,
    ).filter(~Exists(expired))
    if since is not None:
        lots = lots.filter(expires_on__gte=since - timedelta(days=1))
    accounts = sorted(set(lots.values_list("points_account__account_id", flat=True)))
    for account_id in accounts:
        with transaction.atomic():
            pa = locked_points_account(programme, account_id)
            state = ledger_state(pa)
            planned = rules.compute_expiries(state, as_of)
            append(pa, state, planned)
            counts["expired"] += -sum(e.points for e in planned)


# --------------------------------------------------------------------------- redeeming


# --------------------------------------------------------------------------- entry points


def earn_one(
    programme: Programme, order: Order, context: EarnContext | None, *, actor: User | None = None
) -> Posting | None:
    """Book one order's points; ``None`` when it does not earn or earned before.

    One transaction (or the caller's) with an ``INSERT … ON CONFLICT DO NOTHING`` on the
    unique key ``order:<id>`` and, when it inserted, ``balance = balance + points`` — no
    fold is needed to earn.
    """
    if (
        not programme.points_enabled
        or order.credit_of_id is not None
        or order.status == Order.Status.CANCELLED
        or order.revenue <= 0
        or order.date < programme.starts_on
    ):
        return None
    context = context or EarnContext.build(programme)
    lines = None
    if context.rules.category_points_per_euro:
        lines = [
            rules.OrderLine(revenue, category or None)
            for revenue, category in order.lines.values_list("revenue", "category")
        ]
    earned = rules.points_for_order(
        context.rules,
        lines or order.revenue,
        multipliers=multipliers_on(context.multipliers.get(order.account_id, ()), order.date),
    )
    pending = order.status not in context.confirmed
    expires = expiry_for(programme, order.date)
    key = order_key(order.pk)
    # Inside the caller's transaction no savepoint is needed: a failure fails it all.
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        # Serialised with the bulk earner (which relies on its anti-join staying true) by
        # the programme's row; the points account's row is locked as every posting to it
        # is. One prepared statement each: a compiled queryset per posting costs more than
        # the posting (SQLite's IMMEDIATE transaction serialises writers already).
        writers.lock_one(Programme, programme.pk)
        pa_id = context.points_account_id(order.account_id)
        writers.lock_one(PointsAccount, pa_id)
        cursor.execute(
            earn_sql("insert"),
            [
                pa_id, EARN, key, earned, adapt(order.date), "", adapt(expires), pending,
                int(order.revenue * 100), order.pk, "", adapt(timezone.now()),
                actor.pk if actor is not None else None,
            ],
        )  # fmt: skip
        row = cursor.fetchone()
        if row is None:
            return None  # booked before (a retry)
        cursor.execute(earn_sql("add"), [earned, earned if pending else 0, pa_id])
    return Posting(id=row[0], key=key, points=earned, pending=pending)


def sync(
    programme: Programme, *, as_of: date, account_ids: list[int] | None, since: date | None
) -> dict[str, int]:
    """Earn, confirm, reverse and expire (see :func:`.bulk.points_sync`)."""
    counts = {"earned": 0, "earn_postings": 0, "confirmed": 0, "reversed": 0, "expired": 0}
    if not programme.points_enabled:
        return counts
    _earn_in_bulk(programme, as_of, account_ids, counts)
    _confirm(programme, account_ids, counts)
    _reverse(programme, as_of, account_ids, counts)
    if account_ids is None:
        _expire(programme, as_of, since, counts)
    return counts


# --------------------------------------------------------------------------- the cache


@dataclass
class CacheDifference:
    points_account_id: int
    cached: tuple[int, int]  # balance, pending
    ledger: tuple[int, int]


def cache_differences(programme: Programme | None = None) -> tuple[int, list[CacheDifference]]:
    """The points accounts whose cached balance or pending points differ from the ledger.

    Set-based: the balance is the sum of the entries (one ``SUM … GROUP BY``); pending
    points can only sit in earns that are pending and not confirmed, so the ledger is
    folded only for the accounts that have such an earn, that cache pending points, or
    whose balance differs. Returns how many accounts were compared, and the differences.
    """
    accounts = PointsAccount.objects.all()
    entries = LedgerEntry.objects.all()
    if programme is not None:
        accounts = accounts.filter(programme=programme)
        entries = entries.filter(points_account__programme=programme)
    sums = dict(
        entries.values("points_account_id")
        .annotate(total=models.Sum("points"))
        .values_list("points_account_id", "total")
    )
    confirmed = LedgerEntry.objects.filter(
        points_account=OuterRef("points_account"),
        kind=LedgerEntry.Kind.CONFIRM,
        source=OuterRef("key"),
    )
    open_earns = set(
        entries.filter(kind=LedgerEntry.Kind.EARN, pending=True)
        .filter(~Exists(confirmed))
        .values_list("points_account_id", flat=True)
    )
    checked = 0
    to_fold: list[int] = []
    for pk, balance, pending in accounts.values_list("pk", "balance", "pending").iterator(
        chunk_size=5000
    ):
        checked += 1
        if balance != (sums.get(pk) or 0) or pending or pk in open_earns:
            to_fold.append(pk)
    found = []
    for chunk_start in range(0, len(to_fold), 1000):
        for pa in PointsAccount.objects.filter(pk__in=to_fold[chunk_start : chunk_start + 1000]):
            state = ledger_state(pa)
            if (pa.balance, pa.pending) != (state.balance, state.pending):
                found.append(
                    CacheDifference(pa.pk, (pa.balance, pa.pending), (state.balance, state.pending))
                )
    return checked, found


def repair_cache(points_account_id: int) -> bool:
    """Set one cached balance from its ledger, under the points account's lock; whether it
    differed (the ledger may have moved on since the difference was found)."""
    with transaction.atomic():
        rows = writers.lock(PointsAccount.objects.filter(pk=points_account_id))
        if not rows:
            return False
        pa = rows[0]
        state = ledger_state(pa)
        if (pa.balance, pa.pending) == (state.balance, state.pending):
            return False
        PointsAccount.objects.filter(pk=pa.pk).update(balance=state.balance, pending=state.pending)
    return True
