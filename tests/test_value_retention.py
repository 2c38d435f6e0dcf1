"""Retention on the value page: counted per year over the visible orders, or — for users
who see the whole book — read from the dashboard figures, with the same answer."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from relatiebeheer.core.value import retention_rate
from relatiebeheer.reports.stats import refresh_dashboard_figures
from relatiebeheer.value.selectors import retention

from .factories import AccountFactory, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 27)


@pytest.fixture
def book(owner):
    other = UserFactory()
    # Ordering years per account: 2023–2026, 2023–2024, 2024 only, 2025–2026 (other manager).
    for manager, years in (
        (owner, (2023, 2024, 2025, 2026)),
        (owner, (2023, 2024)),
        (owner, (2024,)),
        (other, (2025, 2026)),
    ):
        account = AccountFactory(manager=manager)
        for year in years:
            OrderFactory(account=account, date=date(year, 6, 1))
            OrderFactory(account=account, date=date(year, 9, 1))  # twice: counted once
    return other


def test_the_whole_book_from_the_stored_figures_equals_the_count(sales_manager, book):
    counted = retention(sales_manager, today=TODAY)
    refresh_dashboard_figures(today=TODAY)
    with CaptureQueriesContext(connection) as queries:
        stored = retention(sales_manager, today=TODAY)
    assert stored == counted
    assert not any("sales_order" in q["sql"] for q in queries.captured_queries)
    by_year = {year: (share, n) for year, share, n in stored}
    assert by_year[2024] == (Decimal(1), 3)  # both 2023 accounts ordered again in 2024
    assert by_year[2025] == (retention_rate(1, 3), 2)
    assert by_year[2026] == (Decimal(1), 2)


def test_an_account_manager_gets_retention_over_their_own_accounts(owner, book):
    refresh_dashboard_figures(today=TODAY)
    mine = {year: (share, n) for year, share, n in retention(owner, today=TODAY)}
    assert mine[2025] == (retention_rate(1, 3), 1)
    assert mine[2026] == (Decimal(1), 1)
