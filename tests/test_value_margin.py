"""The CLV's margin in the database: the vectorised rule equals the core's, the snapshot
keeps which margin was used, and every place that shows W says which one."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relatiebeheer.core.clv import BookedOrder, account_clv
from relatiebeheer.organisation.models import OrganisationSettings
from relatiebeheer.value.models import AccountMetrics
from relatiebeheer.value.services import metrics_recompute

from .factories import AccountFactory, OrderFactory

pytestmark = pytest.mark.django_db
D = Decimal
TODAY = date(2026, 11, 27)


@pytest.fixture
def bijenkorf_without_agreed_margin(owner):
    """The issue's account: orders at a real 15 % margin, no margin agreed (default 30 %)."""
    account = AccountFactory(name="de Bijenkorf", manager=owner, margin=None)
    for i, amount in enumerate(("9200", "9800", "9500", "9100", "9900", "9500")):
        OrderFactory(
            account=account,
            date=TODAY - timedelta(days=700 - i * 130),
            revenue=D(amount),
            cost_of_goods=D(amount) * D("0.85"),
        )
    return account


def test_observed_margin_gives_w_1425_not_2850(bijenkorf_without_agreed_margin):
    metrics_recompute(as_of=TODAY, with_prediction=False)
    row = AccountMetrics.objects.get(account=bijenkorf_without_agreed_margin)
    assert row.margin_source == "observed" and row.margin == D("15.00")
    assert row.profit_per_order == D("1425.00")
    assert row.clv == D("8550.00") and row.period_years == 2


def test_w_and_its_margin_source_on_the_card_the_plan_and_the_api(
    web_as, api_as, owner, bijenkorf_without_agreed_margin
):
    account = bijenkorf_without_agreed_margin
    metrics_recompute(as_of=TODAY, with_prediction=False)
    page = web_as(owner).get(f"/accounts/{account.pk}/").content.decode()
    assert "€ 1.425,00" in page and "(waargenomen brutomarge)" in page
    plan = web_as(owner).get(f"/reports/accounts/{account.pk}/plan/").content.decode()
    assert "€ 1.425,00" in plan and "(waargenomen brutomarge)" in plan
    english = api_as(owner, language="en").get(f"accounts/{account.pk}/value").json_body
    assert english["profit_per_order"] == "1425.00"
    assert english["margin"] == "0.15" and english["margin_source"] == "observed"
    assert english["snapshot"]["margin_source"] == "observed"
    ranked = api_as(owner).get("value/accounts").json_body["items"]
    assert ranked[0]["margin_source"] == "observed" and ranked[0]["profit_per_order"] == "1425.00"
    client = web_as(owner)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = client.get(f"/accounts/{account.pk}/").content.decode()
    assert "(observed gross margin)" in page


def test_agreed_and_default_margins_say_so(web_as, owner):
    agreed = AccountFactory(manager=owner, margin=D("20.00"))
    OrderFactory(account=agreed, date=TODAY - timedelta(days=5), cost_of_goods=D("900.00"))
    plain = AccountFactory(manager=owner, margin=None)
    OrderFactory(account=plain, date=TODAY - timedelta(days=5), cost_of_goods=D("0"))
    settings_ = OrganisationSettings.load()
    settings_.default_margin = D("25.00")
    settings_.save()
    metrics_recompute(as_of=TODAY, with_prediction=False)
    rows = {m.account_id: m for m in AccountMetrics.objects.all()}
    assert (rows[agreed.pk].margin_source, rows[agreed.pk].margin) == ("agreed", D("20.00"))
    assert (rows[plain.pk].margin_source, rows[plain.pk].margin) == ("default", D("25.00"))
    assert rows[plain.pk].profit_per_order == D("250.00")
    page = web_as(owner).get(f"/accounts/{plain.pk}/").content.decode()
    assert "(standaardmarge)" in page
    page = web_as(owner).get(f"/accounts/{agreed.pk}/").content.decode()
    assert "(afgesproken marge)" in page


# --- the vectorised rule equals the core's --------------------------------------------

amount = st.integers(min_value=1, max_value=500_000)  # cents
ORDER = st.tuples(
    st.integers(-30, 900),  # days before TODAY (negative: after it)
    amount,
    st.sampled_from([0, 0, 15, 40, 70, 85, 100, 140]),  # cost as % of revenue (0: none)
    st.booleans(),  # cancelled
    st.sampled_from([None, None, "return", "discount"]),  # a credit note follows
)
ACCOUNT = st.tuples(
    st.lists(ORDER, max_size=6),
    st.sampled_from([None, None, "12.50", "45.00"]),  # agreed margin
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(accounts=st.lists(ACCOUNT, min_size=1, max_size=4), default=st.sampled_from(["30", "18"]))
def test_the_snapshot_margin_w_and_clv_equal_the_core_rule(owner, accounts, default):
    organisation = OrganisationSettings.load()
    organisation.default_margin = D(default)
    organisation.save()
    expected = {}
    for orders, agreed in accounts:
        account = AccountFactory(manager=owner, margin=D(agreed) if agreed else None)
        booked = []
        for days, cents, cost_percent, cancelled, credit in orders:
            day = TODAY - timedelta(days=days)
            revenue = D(cents) / 100
            cost = (revenue * cost_percent / 100).quantize(D("0.01"))
            order = OrderFactory(
                account=account,
                date=day,
                revenue=revenue,
                cost_of_goods=cost,
                status="cancelled" if cancelled else "paid",
            )
            notes = []
            if credit and not cancelled:
                back = (revenue / 3).quantize(D("0.01"))
                back_cost = (cost / 3).quantize(D("0.01")) if credit == "return" else D("0")
                credit_day = day + timedelta(days=10)
                OrderFactory(
                    account=account,
                    date=credit_day,
                    revenue=-back,
                    cost_of_goods=-back_cost,
                    credit_of=order,
                )
                if credit_day <= TODAY:
                    notes.append((-back, -back_cost))
            if not cancelled and day <= TODAY:  # a credit note follows only such orders
                booked.append(BookedOrder(revenue, cost, tuple(notes)))
        choice, result = account_clv(
            booked,
            years=1,  # W and the CLV do not depend on the period
            agreed_margin=D(agreed) / 100 if agreed else None,
            default_margin=D(default) / 100,
        )
        expected[account.pk] = (choice, result)
    metrics_recompute(as_of=TODAY, with_prediction=False)
    rows = {m.account_id: m for m in AccountMetrics.objects.filter(account_id__in=expected)}
    for account_id, (choice, result) in expected.items():
        row = rows[account_id]
        assert row.margin_source == choice.source.value, account_id
        assert row.margin == choice.margin * 100, account_id
        if result is None:
            assert row.orders == 0 and row.clv is None
            continue
        assert row.orders == int(result.orders)
        assert row.profit_per_order == result.profit_per_order
        assert row.clv == result.clv
    AccountMetrics.objects.all().delete()
