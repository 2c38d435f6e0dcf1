"""The app's own orders as BTYD transactions (for `clv fit --from-db`)."""

from __future__ import annotations

from datetime import date

import numpy as np
from django.db import connection

from relatiebeheer.sales.models import Order


def order_transactions(observation_end: date):
    """(account ids, order dates, revenue in euros) of the orders up to ``observation_end``.

    Credit notes and cancelled orders are left out (the model counts purchases);
    amounts are floats because the model is statistics, not bookkeeping.
    """
    qs = (
        Order.objects.filter(credit_of__isnull=True, date__lte=observation_end, revenue__gte=0)
        .exclude(status=Order.Status.CANCELLED)
        .values_list("account_id", "date", "revenue")
    )
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not rows:
        return (
            np.array([], dtype=np.int64),
            np.array([], dtype="datetime64[D]"),
            np.array([], dtype=float),
        )
    ids, days, cents = zip(*rows, strict=True)
    return (
        np.array(ids, dtype=np.int64),
        np.array(days, dtype="datetime64[D]"),
        np.array(cents, dtype=np.float64) / 100.0,
    )
