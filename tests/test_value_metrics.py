"""Customer value in the database: the snapshot, the hook, the value card."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from relatiebeheer.core.clv import simple_clv
from relatiebeheer.sales.services import order_update
from relatiebeheer.value.compute import compute, round_half_up_div
from relatiebeheer.value.models import AccountMetrics, MetricsRun
from relatiebeheer.value.selectors import account_value
from relatiebeheer.value.services import metrics_recompute, metrics_refresh_accounts

from .factories import AccountFactory, CostEntryFactory, InteractionFactory, OrderFactory

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 27)
BIJENKORF_ORDERS = ["9200", "9800", "9500", "9100", "9900", "9500"]


def value_card(account, *, today=TODAY):
    """The account's stored figures after a recompute of ``today`` (what every page reads)."""
    metrics_recompute(as_of=today, with_prediction=False)
    return account_value(actor=account.manager, account=account)


@pytest.fixture
def bijenkorf(owner):
    account = AccountFactory(name="de Bijenkorf", manager=owner, margin=Decimal("15.00"))
    first = TODAY - timedelta(days=700)
    for i, amount in enumerate(BIJENKORF_ORDERS):
        revenue = Decimal(amount)
        OrderFactory(
            account=account,
            date=first + timedelta(days=i * 130),
            revenue=revenue,
            cost_of_goods=revenue * Decimal("0.85"),
        )
    return account


def test_bijenkorf_clv_comes_out_as_in_the_lesson(bijenkorf):
    card = value_card(bijenkorf, today=TODAY)
    assert card.orders == 6
    assert card.average_order_value == Decimal("9500.00")
    assert card.margin == Decimal("0.15")
    assert card.profit_per_order == Decimal("1425.00")
    assert card.period_years == 2
    assert card.clv == Decimal("8550.00")
    assert card.present_value.present_value == Decimal("8180.08")


def test_adding_600_to_one_order_moves_the_clv_to_8640(bijenkorf, owner):
    order = bijenkorf.orders.order_by("date").first()
    order_update(
        actor=owner, order=order, version=order.version, data={"revenue": order.revenue + 600}
    )
    assert value_card(bijenkorf, today=TODAY).clv == Decimal("8640.00")


def test_snapshot_matches_the_core_formula(bijenkorf):
    metrics_recompute(as_of=TODAY)
    row = AccountMetrics.objects.get(account=bijenkorf)
    expected = simple_clv(
        average_order_value=Decimal("9500"), margin=Decimal("0.15"), orders=6, years=2
    )
    assert row.clv == expected.clv == Decimal("8550.00")
    assert row.profit_per_order == Decimal("1425.00")
    assert row.period_years == 2
    assert row.revenue_total == Decimal("57000.00")


def test_customer_value_subtracts_costs_and_contact_time(owner):
    from relatiebeheer.organisation.models import OrganisationSettings

    settings = OrganisationSettings.load()
    settings.hourly_cost = Decimal("60.00")
    settings.save()
    account = AccountFactory(manager=owner)
    OrderFactory(
        account=account,
        date=date(2026, 3, 1),
        revenue=Decimal("1000.00"),
        cost_of_goods=Decimal("600.00"),
    )
    OrderFactory(
        account=account,
        date=date(2025, 3, 1),
        revenue=Decimal("500.00"),
        cost_of_goods=Decimal("300.00"),
    )
    CostEntryFactory(account=account, date=date(2026, 4, 1), amount=Decimal("50.00"))
    from django.utils import timezone as tz

    InteractionFactory(
        account=account, duration_minutes=30, occurred_at=tz.make_aware(tz.datetime(2026, 5, 1, 10))
    )
    card = value_card(account, today=TODAY)
    assert card.value_this_year == Decimal("1000.00") - Decimal("600.00") - Decimal(
        "50.00"
    ) - Decimal("30.00")
    assert card.value_last_year == Decimal("200.00")


def test_credit_notes_lower_revenue_but_are_not_orders(owner):
    account = AccountFactory(manager=owner)
    order = OrderFactory(account=account, date=date(2026, 1, 10), revenue=Decimal("1000.00"))
    OrderFactory(
        account=account,
        date=date(2026, 1, 20),
        revenue=Decimal("-200.00"),
        cost_of_goods=Decimal("0"),
        credit_of=order,
    )
    c = compute(TODAY, [account.pk], score=False).columns
    assert int(c["orders"][0]) == 1
    assert int(c["revenue_total"][0]) == 80000


def test_account_without_orders_has_no_clv(owner):
    account = AccountFactory(manager=owner)
    card = value_card(account, today=TODAY)
    assert card.clv is None and card.orders == 0


def test_recompute_replaces_the_snapshot_and_scores_rfm(owner):
    accounts = [AccountFactory(manager=owner) for _ in range(10)]
    for i, account in enumerate(accounts):
        for k in range(i):
            OrderFactory(
                account=account,
                date=TODAY - timedelta(days=10 * (10 - i) + k),
                revenue=Decimal(100 * (i + 1)),
            )
    run = metrics_recompute(as_of=TODAY)
    assert run.accounts == 10
    rows = {m.account_id: m for m in AccountMetrics.objects.all()}
    assert rows[accounts[0].pk].segment == "no_orders"
    assert all(1 <= rows[a.pk].rfm_r <= 5 for a in accounts[1:])
    assert rows[accounts[9].pk].rfm_f == 5 and rows[accounts[1].pk].rfm_f == 1
    assert run.prediction["available"] is False  # a ten-account book is too small to fit
    # The second run updates the rows in place (PostgreSQL), adds a new account's row and
    # drops the rows of accounts that are gone.
    gone = accounts[0].pk
    accounts[0].delete()  # Django deletes its row; put a stray one back (no database FK)
    AccountMetrics.objects.create(account_id=gone, as_of=TODAY)
    newcomer = AccountFactory(manager=owner)
    OrderFactory(account=newcomer, date=TODAY - timedelta(days=3), revenue=Decimal("250.00"))
    AccountMetrics.objects.filter(pk=accounts[5].pk).update(orders=999, segment="lost")
    again = metrics_recompute(as_of=TODAY)
    assert AccountMetrics.objects.count() == 10
    assert set(AccountMetrics.objects.values_list("run_id", flat=True)) == {again.pk}
    rows = {m.account_id: m for m in AccountMetrics.objects.all()}
    assert gone not in rows
    assert rows[newcomer.pk].orders == 1 and rows[newcomer.pk].revenue_total == Decimal("250.00")
    assert rows[accounts[5].pk].orders == 5 and rows[accounts[5].pk].segment != "lost"


def test_refreshing_one_account_scores_it_against_the_last_run(owner):
    accounts = [AccountFactory(manager=owner) for _ in range(5)]
    for i, account in enumerate(accounts):
        OrderFactory(
            account=account, date=TODAY - timedelta(days=5), revenue=Decimal(100 * (i + 1))
        )
    metrics_recompute(as_of=TODAY)
    before = AccountMetrics.objects.get(account=accounts[0])
    OrderFactory(account=accounts[0], date=TODAY - timedelta(days=1), revenue=Decimal("10000.00"))
    metrics_refresh_accounts([accounts[0].pk], as_of=TODAY)
    after = AccountMetrics.objects.get(account=accounts[0])
    assert after.revenue_total == Decimal("10100.00")
    assert after.rfm_m == 5 and before.rfm_m == 1
    assert MetricsRun.objects.count() == 1


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [(5, 10, 1), (4, 10, 0), (-5, 10, -1), (15, 10, 2), (25, 10, 3)],
)
def test_integer_rounding_is_half_up(numerator, denominator, expected):
    import numpy as np

    assert int(round_half_up_div(np.array([numerator]), denominator)[0]) == expected


def test_order_aggregates_match_a_plain_python_count(owner):
    """Credit notes, cancelled and future-dated orders, on the edges too: exact figures."""
    import random

    from relatiebeheer.core.periods import last_12_months
    from relatiebeheer.value.compute import order_aggregates

    rng = random.Random(7)
    accounts = [AccountFactory(manager=owner) for _ in range(12)]
    created = []
    for account in accounts:
        for _ in range(rng.randint(0, 8)):
            day = TODAY - timedelta(days=rng.randint(-40, 1100))
            status = rng.choice(["paid", "paid", "delivered", "cancelled"])
            revenue = Decimal(rng.randint(1, 500000)) / 100
            order = OrderFactory(
                account=account,
                date=day,
                status=status,
                revenue=revenue,
                cost_of_goods=(revenue / 2).quantize(Decimal("0.01")),
            )
            created.append(order)
            if rng.random() < 0.4:
                credit = -(revenue / 4).quantize(Decimal("0.01"))
                later = day + timedelta(days=rng.randint(0, 60))
                created.append(
                    OrderFactory(
                        account=account,
                        date=later,
                        status="paid",
                        revenue=credit,
                        cost_of_goods=0,
                        credit_of=order,
                    )
                )
    result = order_aggregates(TODAY)
    start_12m, _ = last_12_months(TODAY)
    for account in accounts:
        rows = [
            o
            for o in created
            if o.account_id == account.pk and o.status != "cancelled" and o.date <= TODAY
        ]
        if account.pk not in result["account_id"]:
            assert not [o for o in created if o.account_id == account.pk]
            continue
        i = list(result["account_id"]).index(account.pk)
        orders = [o for o in rows if o.credit_of_id is None]

        def cents(values):
            return int(sum(values) * 100)

        assert result["revenue_total"][i] == cents(o.revenue for o in rows)
        assert result["cost_total"][i] == cents(o.cost_of_goods for o in rows)
        assert result["orders"][i] == len(orders)
        assert result["orders_12m"][i] == len([o for o in orders if o.date >= start_12m])
        assert result["revenue_12m"][i] == cents(o.revenue for o in rows if o.date >= start_12m)
        assert result["revenue_ty"][i] == cents(
            o.revenue for o in rows if o.date.year == TODAY.year
        )
        assert result["revenue_ly"][i] == cents(
            o.revenue for o in rows if o.date.year == TODAY.year - 1
        )
        assert result["cost_ly"][i] == cents(
            o.cost_of_goods for o in rows if o.date.year == TODAY.year - 1
        )
        if orders:
            assert str(result["first_order"][i]) == min(o.date for o in orders).isoformat()
            assert str(result["last_order"][i]) == max(o.date for o in orders).isoformat()
        else:
            import numpy as np

            assert np.isnat(result["last_order"][i])


def test_an_account_with_only_returns_has_negative_revenue_and_no_orders(owner):
    """Its only order was cancelled; the credit note on it still lowers revenue."""
    account = AccountFactory(manager=owner)
    cancelled = OrderFactory(
        account=account, date=date(2026, 3, 1), revenue=Decimal("500.00"), status="cancelled"
    )
    OrderFactory(
        account=account,
        date=date(2026, 3, 5),
        revenue=Decimal("-120.00"),
        cost_of_goods=Decimal("-20.00"),
        credit_of=cancelled,
    )
    c = compute(TODAY, score=False).columns
    i = list(c["account_id"]).index(account.pk)
    assert int(c["orders"][i]) == 0
    assert int(c["revenue_total"][i]) == -12000
    assert int(c["profit_total"][i]) == -10000
    assert int(c["revenue_this_year"][i]) == -12000
    assert str(c["first_order"][i]) == "NaT"
    assert c["clv"][i] == 0 and not c["has_orders"][i]


def test_orders_after_the_day_count_nowhere_not_even_as_last_order(owner):
    account = AccountFactory(manager=owner)
    OrderFactory(account=account, date=TODAY - timedelta(days=10), revenue=Decimal("100.00"))
    OrderFactory(account=account, date=TODAY + timedelta(days=5), revenue=Decimal("900.00"))
    only_later = AccountFactory(manager=owner)
    OrderFactory(account=only_later, date=TODAY + timedelta(days=1), revenue=Decimal("50.00"))
    c = compute(TODAY, score=False).columns
    ids = list(c["account_id"])
    i, j = ids.index(account.pk), ids.index(only_later.pk)
    assert int(c["orders"][i]) == 1 and int(c["revenue_total"][i]) == 10000
    assert str(c["last_order"][i]) == (TODAY - timedelta(days=10)).isoformat()
    assert int(c["orders"][j]) == 0 and int(c["revenue_12m"][j]) == 0
    assert str(c["first_order"][j]) == "NaT"


def test_the_order_pass_reads_the_covering_index_alone():
    """The plain-order condition must match the partial index literally, or the pass
    falls back to a table lookup per order (about twice as slow on 2M orders)."""
    from django.db import connection

    from relatiebeheer.value.compute import order_sums

    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL chooses by table size; the bench measures it")
    captured = []

    def capture(execute, sql, params, many, context):
        captured.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        order_sums(TODAY)
    sql, params = captured[0]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = " ".join(str(row[-1]) for row in cursor.fetchall())
        assert "USING INDEX order_plain_money_idx" in plan, plan
        cursor.execute("SELECT rootpage FROM sqlite_master WHERE name = 'order_plain_money_idx'")
        index_page = cursor.fetchone()[0]
        cursor.execute(f"EXPLAIN {sql}", params)
        program = cursor.fetchall()  # addr, opcode, p1, p2, ...
    index_cursor = next(
        p1 for _a, op, p1, p2, *_ in program if op == "OpenRead" and p2 == index_page
    )
    # Every value comes from the index; the table is opened but never read (deferred seek).
    assert {p1 for _a, op, p1, *_ in program if op == "Column"} == {index_cursor}
