"""Helpers for the loyalty tests: the lesson's Gold Card and orders on given days."""

from datetime import date
from decimal import Decimal

import pytest

from tests.factories import AccountFactory, OrderFactory

D = Decimal


@pytest.fixture
def gold_card(db):
    """The lesson's wholesaler: Gold from € 12.000 a year, bonus up to 3,5 %."""
    from relatiebeheer.loyalty.models import Benefit, BonusBracket, Programme, Tier

    programme = Programme.objects.create(
        code="gold",
        name="Gold Card",
        starts_on=date(2020, 1, 1),
        bonus_enabled=True,
        bonus_max_rate=D("0.035"),
    )
    gold = Tier.objects.create(programme=programme, name="Gold", rank=1, threshold=D("12000"))
    for kind in ("parking", "account_manager", "service_desk", "on_account", "bonus"):
        Benefit.objects.create(tier=gold, kind=kind)
    for bound, rate in (
        ("12000", "0.01"),
        ("20000", "0.02"),
        ("35000", "0.03"),
        ("50000", "0.035"),
    ):
        BonusBracket.objects.create(programme=programme, lower_bound=D(bound), rate=D(rate))
    return programme


def order(account, day: date, amount, *, status="paid", credit_of=None):
    return OrderFactory(
        account=account,
        date=day,
        revenue=D(amount),
        cost_of_goods=D("0.00") if D(amount) < 0 else (D(amount) * D("0.7")).quantize(D("0.01")),
        status=status,
        credit_of=credit_of,
    )


@pytest.fixture
def make_account(owner):
    def make(**kwargs):
        kwargs.setdefault("manager", owner)
        return AccountFactory(**kwargs)

    return make
