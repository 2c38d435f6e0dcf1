"""List endpoints use the same number of queries for 1 row as for 50."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from .factories import (
    AccountFactory,
    ContactFactory,
    CostEntryFactory,
    InteractionFactory,
    OrderFactory,
    TaskFactory,
)

pytestmark = pytest.mark.django_db


def _make(kind, account, n):
    for _ in range(n):
        if kind == "accounts":
            AccountFactory(manager=account.manager)
        elif kind == "contacts":
            ContactFactory(account=account).interests.create(
                name=f"golf{ContactFactory._meta.model.objects.count()}"
            )
        elif kind == "interactions":
            InteractionFactory(account=account).contacts.add(ContactFactory(account=account))
        elif kind == "tasks":
            TaskFactory(account=account)
        elif kind == "orders":
            order = OrderFactory(account=account)
            order.lines.create(product="Jas", revenue="1000.00")
        elif kind == "costs":
            CostEntryFactory(account=account)


def _count(client, path):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path, limit=100)
    assert response.status_code == 200
    return len(ctx.captured_queries), response.json_body["count"]


@pytest.mark.parametrize(
    "kind", ["accounts", "contacts", "interactions", "tasks", "orders", "costs"]
)
def test_list_query_count_does_not_grow_with_rows(api_as, account, kind):
    client = api_as(account.manager)
    client.get(kind)  # the token's first use writes its last-used time once
    _make(kind, account, 1)
    one, _count_one = _count(client, kind)
    _make(kind, account, 49)
    fifty, count_fifty = _count(client, kind)
    assert count_fifty >= 50 or kind == "accounts"
    assert fifty == one, f"{kind}: {one} queries for 1 row, {fifty} for 50"
