"""The bonus: vectorised brackets equal the core in both modes (every edge), settlement."""

from datetime import date
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relatiebeheer.core import loyalty_rules as rules
from relatiebeheer.loyalty.models import BonusSettlement, Programme
from relatiebeheer.loyalty.programme.bonus import split_pro_rata
from relatiebeheer.loyalty.programme.bulk import evaluate_programme
from relatiebeheer.loyalty.programme.config import (
    Config,
    bonus_cents,
    bonus_numerators,
    effective_rates,
)
from relatiebeheer.sales.models import CostEntry

from .conftest import order

D = Decimal
LESSON = (
    (D("12000"), D("0.01")),
    (D("20000"), D("0.02")),
    (D("35000"), D("0.03")),
    (D("50000"), D("0.035")),
)


def config(brackets, mode, cap=None) -> Config:
    brackets = sorted(brackets)  # as the engine reads them: by lower bound
    programme = Programme(bonus_enabled=True, bonus_mode=mode, bonus_max_amount=cap)
    scheme = rules.BonusScheme(
        tuple(rules.BonusBracket(b, r) for b, r in brackets), mode=mode, max_amount=cap
    )
    return Config(
        programme=programme,
        tiers=[],
        thresholds=np.zeros(0, dtype=np.int64),
        core=None,
        bounds=np.array([int(b * 100) for b, _ in brackets], dtype=np.int64),
        rates=np.array([int(r * 1_000_000) for _, r in brackets], dtype=np.int64),
        scheme=scheme,
    )


def vectorised(cfg, amounts):
    cents = np.array([int(a * 100) for a in amounts], dtype=np.int64)
    numerators = bonus_numerators(cfg, cents)
    return [Decimal(int(c)).scaleb(-2) for c in bonus_cents(numerators)], effective_rates(
        numerators, cents
    )


EDGES = [b + delta for b, _ in LESSON for delta in (D("-0.01"), D("0"), D("0.01"))] + [
    D("0"),
    D("-5"),
]


@pytest.mark.parametrize("mode", ["whole", "marginal"])
def test_every_bracket_edge_in_both_modes(mode):
    cfg = config(LESSON, mode)
    amounts, rates = vectorised(cfg, EDGES)
    for spend, amount, rate in zip(EDGES, amounts, rates, strict=True):
        core = rules.compute_bonus(cfg.scheme, spend)
        assert (amount, rate) == (core.bonus, core.effective_rate), (mode, spend)


def test_the_lesson_rates_at_the_edges():
    whole = config(LESSON, "whole")
    amounts, _ = vectorised(whole, [D("11999.99"), D("12000.00"), D("20000.00"), D("50000.00")])
    assert amounts == [D("0.00"), D("120.00"), D("400.00"), D("1750.00")]
    marginal = config(LESSON, "marginal")
    amounts, _ = vectorised(marginal, [D("20000.00"), D("35000.00")])
    # (20000 − 12000) × 1 % = 80; + (35000 − 20000) × 2 % = 300 → 380
    assert amounts == [D("80.00"), D("380.00")]


brackets = st.lists(
    st.tuples(st.integers(0, 10**6), st.integers(0, 35000)),
    min_size=1,
    max_size=5,
    unique_by=lambda b: b[0],
).map(lambda bs: tuple((D(b) / 100, D(r) / 1_000_000) for b, r in bs))


@settings(max_examples=300, deadline=None)
@given(
    brackets=brackets,
    mode=st.sampled_from(["whole", "marginal"]),
    spends=st.lists(st.integers(-(10**6), 10**8), min_size=1, max_size=20),
    cap=st.one_of(st.none(), st.integers(0, 10**6)),
)
def test_vectorised_bonus_equals_the_core(brackets, mode, spends, cap):
    cfg = config(brackets, mode, None if cap is None else D(cap) / 100)
    amounts = [D(s) / 100 for s in spends]
    bonuses, rates = vectorised(cfg, amounts)
    for spend, bonus, rate in zip(amounts, bonuses, rates, strict=True):
        core = rules.compute_bonus(cfg.scheme, spend)
        assert (bonus, rate) == (core.bonus, core.effective_rate)


@given(
    total=st.integers(0, 10**7), weights=st.lists(st.integers(-1000, 10**6), min_size=1, max_size=6)
)
def test_a_group_bonus_is_split_exactly(total, weights):
    shares = split_pro_rata(total, dict(enumerate(weights, start=1)))
    assert sum(shares.values()) == total
    assert all(v >= 0 for v in shares.values())


@pytest.mark.django_db
def test_a_year_is_settled_once_as_incentive_cost_entries(gold_card, make_account, sales_manager):
    gold, small = make_account(), make_account()
    order(gold, date(2025, 3, 1), "25000.00")
    order(small, date(2025, 3, 1), "5000.00")
    evaluate_programme(gold_card, as_of=date(2025, 12, 31), actor=sales_manager)
    assert not BonusSettlement.objects.exists()  # the year has not ended yet
    for _ in range(2):
        evaluate_programme(gold_card, as_of=date(2026, 1, 1), actor=sales_manager)
    settlement = BonusSettlement.objects.get()
    assert (settlement.account, settlement.bonus, settlement.rate) == (gold, D("500.00"), D("0.02"))
    entry = CostEntry.objects.get(account=gold)
    assert (entry.category, entry.amount, entry.date) == (
        "incentive",
        D("500.00"),
        date(2025, 12, 31),
    )
    # The bonus lowers customer value, not qualifying spend: Gold still rests on € 25.000.
    from relatiebeheer.loyalty.models import TierStatus

    assert TierStatus.objects.get(account=gold).tier.name == "Gold"
