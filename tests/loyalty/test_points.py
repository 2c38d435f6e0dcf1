"""The points ledger in the database: idempotent earning, pending until delivered,
credit-note reversal, FIFO expiry, redemptions that never overdraw (also concurrently)."""

import random
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relatiebeheer.common.errors import Conflict
from relatiebeheer.loyalty.models import LedgerEntry, PointsAccount, Programme, Reward
from relatiebeheer.loyalty.programme import bulk, services
from relatiebeheer.loyalty.programme.ledger import ledger_state
from relatiebeheer.sales.models import Order
from tests.concurrency import run_concurrently
from tests.factories import AccountFactory, UserFactory

from .conftest import order

pytestmark = pytest.mark.django_db
D = Decimal
TODAY = date(2026, 3, 16)


@pytest.fixture
def savings(db):
    return Programme.objects.create(
        code="sparen",
        name="Spaaractie",
        starts_on=date(2025, 1, 1),
        points_enabled=True,
        points_per_euro=D("1"),
        points_expiry_months=12,
    )


def ledger(programme, account):
    pa = PointsAccount.objects.get(programme=programme, account=account)
    return pa, ledger_state(pa)


def consistent(programme, account):
    """The cache agrees with the ledger, and the balance is the sum of the entries."""
    pa, state = ledger(programme, account)
    total = sum(LedgerEntry.objects.filter(points_account=pa).values_list("points", flat=True))
    assert pa.balance == state.balance == total
    assert pa.pending == state.pending
    assert state.available_on(TODAY) >= 0
    return pa, state


def test_an_order_earns_once_whatever_the_retries(owner, account, savings):
    placed = order(account, date(2026, 2, 1), "1234.56")
    assert services.points_earn(savings, placed).points == 1234
    assert services.points_earn(savings, placed) is None
    bulk.points_sync(savings, as_of=TODAY)
    bulk.points_sync(savings, as_of=TODAY)
    pa, state = consistent(savings, account)
    assert state.balance == 1234
    assert LedgerEntry.objects.filter(points_account=pa, kind="earn").count() == 1


def test_points_are_pending_until_the_order_is_delivered(owner, account, savings):
    placed = order(account, date(2026, 2, 1), "500.00", status="open")
    bulk.points_sync(savings, as_of=TODAY)
    _pa, state = consistent(savings, account)
    assert (state.balance, state.pending, state.available_on(TODAY)) == (500, 500, 0)
    with pytest.raises(Conflict):
        services.points_redeem(actor=owner, account=account, programme=savings, points=1)
    Order.objects.filter(pk=placed.pk).update(status="delivered")
    bulk.points_sync(savings, as_of=TODAY)
    _pa, state = consistent(savings, account)
    assert (state.pending, state.available_on(TODAY)) == (0, 500)


def test_a_credit_note_reverses_pro_rata_and_never_more_than_earned(owner, account, savings):
    placed = order(account, date(2026, 1, 10), "1000.00")
    bulk.points_sync(savings, as_of=TODAY)
    order(account, date(2026, 2, 1), "-333.33", credit_of=placed)
    bulk.points_sync(savings, as_of=TODAY)
    _pa, state = consistent(savings, account)
    assert state.balance == 1000 - 333  # floor(1000 × 333,33 / 1000)
    order(account, date(2026, 2, 2), "-666.67", credit_of=placed)
    order(account, date(2026, 2, 3), "-50.00", credit_of=placed)  # beyond the order: ignored
    bulk.points_sync(savings, as_of=TODAY)
    bulk.points_sync(savings, as_of=TODAY)
    _pa, state = consistent(savings, account)
    assert state.balance == 0
    lot = state.lot(f"order:{placed.pk}")
    assert lot.reversed == lot.earned == 1000


def test_a_cancelled_order_gives_its_points_back(owner, account, savings):
    placed = order(account, date(2026, 2, 1), "300.00", status="open")
    bulk.points_sync(savings, as_of=TODAY)
    Order.objects.filter(pk=placed.pk).update(status="cancelled")
    bulk.points_sync(savings, as_of=TODAY)
    _pa, state = consistent(savings, account)
    assert (state.balance, state.pending) == (0, 0)


def test_redemption_spends_first_to_expire_first_and_expiry_is_booked_once(owner, account, savings):
    order(account, date(2025, 2, 1), "100.00")  # expires 2026-01-31
    order(account, date(2025, 6, 1), "200.00")  # expires 2026-05-31
    bulk.points_sync(savings, as_of=date(2025, 12, 1))
    services.points_redeem(
        actor=owner, account=account, programme=savings, points=150, on=date(2025, 12, 1)
    )
    _pa, state = consistent(savings, account)
    first, second = sorted(state.lots, key=lambda lot: lot.earned_on)
    assert (first.remaining, second.remaining) == (0, 150)
    bulk.points_sync(savings, as_of=date(2026, 7, 1))
    bulk.points_sync(savings, as_of=date(2026, 7, 1))
    _pa, state = consistent(savings, account)
    assert state.balance == 0
    assert LedgerEntry.objects.filter(kind="expire").count() == 1


def test_a_redemption_beyond_the_balance_is_refused_and_changes_nothing(owner, account, savings):
    order(account, date(2026, 2, 1), "99.00")
    bulk.points_sync(savings, as_of=TODAY)
    reward = Reward.objects.create(programme=savings, name="Tas", points=100)
    with pytest.raises(Conflict) as refused:
        services.points_redeem(actor=owner, account=account, programme=savings, reward=reward)
    assert refused.value.code == "insufficient_points"
    assert not LedgerEntry.objects.filter(kind="redeem").exists()


def test_a_retried_redemption_with_its_key_redeems_once(owner, account, savings):
    order(account, date(2026, 2, 1), "500.00")
    bulk.points_sync(savings, as_of=TODAY)
    for _ in range(3):
        services.points_redeem(
            actor=owner, account=account, programme=savings, points=200, key="x1"
        )
    _pa, state = consistent(savings, account)
    assert state.balance == 300


def test_campaign_multipliers_and_category_rules_apply(owner, account, savings):
    from relatiebeheer.loyalty.models import Campaign, CampaignMember, CategoryRule
    from tests.factories import OrderFactory

    CategoryRule.objects.create(programme=savings, category="jassen", points_per_euro=D("2"))
    campaign = Campaign.objects.create(
        name="Dubbel", goal="meer", starts_on=date(2026, 2, 1), ends_on=date(2026, 2, 28),
        selection="account", account=account, benefits="x", status="launched",
        incentive="points_multiplier", incentive_rate=D("2"), programme=savings,
    )  # fmt: skip
    CampaignMember.objects.create(campaign=campaign, account=account, group="target")
    placed = OrderFactory(account=account, date=date(2026, 2, 10), revenue=D("300.00"))
    placed.lines.create(product="Jas", category="jassen", revenue=D("100.00"))
    placed.lines.create(product="Sjaal", category="accessoires", revenue=D("200.00"))
    bulk.points_sync(savings, as_of=TODAY)
    _pa, state = consistent(savings, account)
    assert state.balance == (100 * 2 + 200) * 2


def test_the_cache_is_rebuilt_from_the_ledger(owner, account, savings):
    order(account, date(2026, 2, 1), "500.00")
    bulk.points_sync(savings, as_of=TODAY)
    PointsAccount.objects.update(balance=7, pending=3)
    assert bulk.points_rebuild(savings) == 1
    consistent(savings, account)


# --------------------------------------------------------------------------- properties

operations = st.lists(
    st.one_of(
        st.tuples(st.just("order"), st.integers(1, 2000), st.sampled_from(["open", "paid"])),
        st.tuples(st.just("deliver"), st.integers(0, 9)),
        st.tuples(st.just("credit"), st.integers(0, 9), st.integers(1, 100)),
        st.tuples(st.just("redeem"), st.integers(1, 1500)),
        st.tuples(
            st.just("sync"),
        ),
    ),
    min_size=1,
    max_size=12,
)
_counter = iter(range(10**6))


def _apply(ops, programme, account, owner, *, retries=None):
    """Run the operations; with ``retries`` (a Random) repeat some of them right away."""
    placed = []
    for index, op in enumerate(ops):
        repeat = 2 if retries is not None and retries.random() < 0.4 else 1
        for _ in range(repeat):
            if op[0] == "order":
                if _ == 0:
                    placed.append(
                        order(
                            account, date(2026, 1, 1) + timedelta(days=index), op[1], status=op[2]
                        )
                    )
                services.points_earn(programme, placed[-1])
            elif op[0] == "deliver" and placed:
                Order.objects.filter(pk=placed[op[1] % len(placed)].pk).update(status="delivered")
                bulk.points_sync(programme, as_of=TODAY, account_ids=[account.pk])
            elif op[0] == "credit" and placed:
                original = placed[op[1] % len(placed)]
                if _ == 0:
                    back = (original.revenue * op[2] / 100).quantize(D("0.01"))
                    order(
                        account, date(2026, 2, 1) + timedelta(days=index), -back, credit_of=original
                    )
                bulk.points_sync(programme, as_of=TODAY, account_ids=[account.pk])
            elif op[0] == "redeem":
                try:
                    services.points_redeem(
                        actor=owner, account=account, programme=programme, points=op[1],
                        key=f"r{index}", on=TODAY,
                    )  # fmt: skip
                except Conflict:
                    pass
            elif op[0] == "sync":
                bulk.points_sync(programme, as_of=TODAY, account_ids=[account.pk])
    bulk.points_sync(programme, as_of=TODAY, account_ids=[account.pk])
    pa = PointsAccount.objects.filter(programme=programme, account=account).first()
    if pa is None:
        return None
    state = ledger_state(pa)
    total = sum(LedgerEntry.objects.filter(points_account=pa).values_list("points", flat=True))
    assert pa.balance == state.balance == total  # balance = sum of the entries
    assert pa.pending == state.pending
    assert state.available_on(TODAY) >= 0  # never below zero
    for lot in state.lots:  # never more reversed than earned
        assert lot.reversed + lot.recovered <= lot.earned
        assert lot.redeemed + lot.expired + lot.reversed + lot.charged + lot.remaining == lot.earned
    return state


def _summary(state):
    if state is None:
        return None
    return (state.balance, state.pending, sorted((lot.earned, lot.remaining) for lot in state.lots))


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations, seed=st.integers(0, 10**6))
def test_ledger_properties_hold_and_retries_end_in_the_same_state(owner, ops, seed):
    programme = Programme.objects.create(
        code=f"p{next(_counter)}", name="P", starts_on=date(2025, 1, 1), points_enabled=True
    )
    plain = _apply(ops, programme, AccountFactory(manager=owner), owner)
    retried = _apply(
        ops, programme, AccountFactory(manager=owner), owner, retries=random.Random(seed)
    )
    assert _summary(plain) == _summary(retried)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(amounts=st.lists(st.integers(1, 5000), min_size=1, max_size=8), seed=st.integers(0, 10**6))
def test_earning_in_any_order_and_in_bulk_gives_the_same_ledger(owner, amounts, seed):
    programme = Programme.objects.create(
        code=f"p{next(_counter)}", name="P", starts_on=date(2025, 1, 1), points_enabled=True
    )
    one, other = AccountFactory(manager=owner), AccountFactory(manager=owner)
    placed_one = [
        order(one, date(2026, 1, 1) + timedelta(days=i), a) for i, a in enumerate(amounts)
    ]
    [order(other, date(2026, 1, 1) + timedelta(days=i), a) for i, a in enumerate(amounts)]
    random.Random(seed).shuffle(placed_one)
    for placed in placed_one:  # one at a time, shuffled
        services.points_earn(programme, placed)
    bulk.points_sync(programme, as_of=TODAY)  # the other in bulk
    states = [
        ledger_state(PointsAccount.objects.get(programme=programme, account=a))
        for a in (one, other)
    ]
    assert _summary(states[0]) == _summary(states[1])


# --------------------------------------------------------------------------- concurrency


@pytest.mark.django_db(transaction=True)
def test_five_concurrent_redemptions_of_the_last_points_have_one_winner():
    owner = UserFactory()
    account = AccountFactory(manager=owner)
    programme = Programme.objects.create(
        code="race", name="Race", starts_on=date(2025, 1, 1), points_enabled=True
    )
    order(account, date(2026, 1, 5), "100.00")
    bulk.points_sync(programme, as_of=TODAY)

    def redeem():
        return services.points_redeem(
            actor=owner, account=account, programme=programme, points=100, on=TODAY
        )

    results = run_concurrently(redeem, num_threads=5)
    winners = [r for r in results if isinstance(r, LedgerEntry)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(winners) == 1, results
    assert len(refused) == 4, results
    pa = PointsAccount.objects.get(programme=programme, account=account)
    state = ledger_state(pa)
    assert pa.balance == state.balance == 0
    assert LedgerEntry.objects.filter(points_account=pa, kind="redeem").count() == 1
