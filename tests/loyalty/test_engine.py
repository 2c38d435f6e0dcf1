"""The set-based evaluation agrees with the core's rules (the lesson's Gold Card)."""

from datetime import date
from decimal import Decimal

import pytest

from relatiebeheer.loyalty.bulk import evaluate
from relatiebeheer.loyalty.models import TierChange, TierStatus
from relatiebeheer.loyalty.programme.bulk import evaluate_programme

from .conftest import order

pytestmark = pytest.mark.django_db
D = Decimal


def status(programme, account):
    return TierStatus.objects.filter(programme=programme, account=account).first()


def test_12000_in_the_year_is_gold_with_its_benefits(gold_card, make_account):
    account = make_account()
    order(account, date(2025, 3, 1), "12000.00")
    evaluate_programme(gold_card, as_of=date(2025, 6, 1))
    row = status(gold_card, account)
    assert row.tier.name == "Gold"
    assert row.since == date(2025, 3, 1)
    assert row.valid_until == date(2026, 12, 31)
    assert row.needed_to_keep == D("0.00")
    assert {b.kind for b in row.tier.benefits.all()} >= {"parking", "on_account", "bonus"}


# --------------------------------------------------------------------------- vs the core

from datetime import timedelta  # noqa: E402

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from relatiebeheer.core import loyalty_rules as rules  # noqa: E402
from relatiebeheer.loyalty.models import Programme, Tier  # noqa: E402
from tests.factories import AccountFactory  # noqa: E402

BASE = date(2023, 1, 1)
_counter = iter(range(10**6))


def core_expectation(programme, entries, as_of):
    tiers = list(programme.tiers.order_by("rank"))
    core = rules.TierProgramme(
        tuple(rules.Tier(t.name, t.threshold, t.rank) for t in tiers),
        period=programme.period,
        grace_days=programme.grace_days,
    )
    if as_of < programme.starts_on:
        return None
    result = rules.evaluate_tier(core, entries, as_of=as_of)
    if result.tier is None:
        return None
    since = (
        result.since if result.since and result.since > programme.starts_on else programme.starts_on
    )
    return (
        result.tier.name,
        since,
        result.valid_until,
        result.qualifying_spend,
        result.needed_for_next,
        result.needed_to_keep,
        result.in_grace,
    )


def stored(programme, account):
    row = (
        TierStatus.objects.filter(programme=programme, account=account)
        .select_related("tier")
        .first()
    )
    if row is None:
        return None
    return (
        row.tier.name,
        row.since,
        row.valid_until,
        row.qualifying_spend,
        row.needed_for_next,
        row.needed_to_keep,
        row.in_grace,
    )


history = st.lists(
    st.tuples(
        st.integers(0, 1100),
        st.integers(100, 900).map(lambda x: D(x) * 10),
        st.booleans(),  # cancelled?
        st.integers(0, 3),  # 0: a credit note of part of it follows
    ),
    min_size=2,
    max_size=14,
)


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    history=history,
    days=st.lists(st.integers(0, 1200), min_size=1, max_size=4),
    rolling=st.booleans(),
    grace=st.sampled_from([0, 30, 90]),
    start=st.integers(0, 800),
)
def test_evaluation_matches_the_core_day_after_day(owner, history, days, rolling, grace, start):
    programme = Programme.objects.create(
        code=f"p{next(_counter)}",
        name="P",
        starts_on=BASE + timedelta(days=start),
        period="rolling_12_months" if rolling else "calendar_year",
        grace_days=grace,
    )
    Tier.objects.create(programme=programme, name="Silver", rank=1, threshold=D("5000"))
    Tier.objects.create(programme=programme, name="Gold", rank=2, threshold=D("12000"))
    account = AccountFactory(manager=owner)
    entries = []
    for offset, amount, cancelled, credit in history:
        day = BASE + timedelta(days=offset)
        placed = order(account, day, amount, status="cancelled" if cancelled else "paid")
        if not cancelled:
            entries.append((day, amount))
        if credit == 0 and not cancelled:
            back = (amount / 3).quantize(D("0.01"))
            order(account, day + timedelta(days=20), -back, credit_of=placed)
            entries.append((day + timedelta(days=20), -back))
    for offset in sorted(set(days)):
        as_of = BASE + timedelta(days=offset)
        evaluate_programme(programme, as_of=as_of, settle=False, sync_points=False)
        expected = core_expectation(programme, entries, as_of)
        from hypothesis import event

        event(f"tier={expected[0] if expected else None} rolling={rolling}")
        assert stored(programme, account) == expected, as_of
        # Running it again the same day changes nothing.
        changes = TierChange.objects.count()
        report = evaluate_programme(programme, as_of=as_of, settle=False, sync_points=False)
        assert report.statuses_written == report.statuses_removed == 0
        assert TierChange.objects.count() == changes


# --------------------------------------------------------------------------- the lesson's cases


def test_11999_99_is_not_gold_and_one_cent_more_is_shown(gold_card, make_account):
    from relatiebeheer.loyalty.programme.engine import live_status

    account = make_account()
    order(account, date(2025, 3, 1), "11999.99")
    evaluate_programme(gold_card, as_of=date(2025, 6, 1))
    assert status(gold_card, account) is None
    _config, result, _bonus = live_status(gold_card, account, as_of=date(2025, 6, 1))
    assert result.tier is None
    assert result.needed_for_next == D("0.01")


def test_12500_with_a_credit_note_of_500_01_is_not_gold(gold_card, make_account):
    account = make_account()
    placed = order(account, date(2025, 3, 1), "12500.00")
    order(account, date(2025, 4, 1), "-500.01", credit_of=placed)
    evaluate_programme(gold_card, as_of=date(2025, 6, 1))
    assert status(gold_card, account) is None


def test_an_order_on_31_december_at_23_30_in_amsterdam_counts_in_that_year(
    api_as, owner, account, gold_card
):
    client = api_as(owner)
    for stamp in ("2025-12-31T23:30:00+01:00", "2025-12-31T22:30:00Z"):
        response = client.post(
            "orders", {"account_id": account.pk, "date": stamp, "revenue": "6000.00"}
        )
        assert response.status_code == 201, response.json_body
        assert response.json_body["date"] == "2025-12-31"
    evaluate_programme(gold_card, as_of=date(2026, 1, 2))
    row = status(gold_card, account)
    assert row.tier.name == "Gold"
    assert row.valid_until == date(2026, 12, 31)  # reached in 2025, held through 2026


def test_gold_is_downgraded_only_at_the_period_end(gold_card, make_account):
    account = make_account()
    order(account, date(2025, 3, 1), "15000.00")
    for day in (date(2025, 12, 31), date(2026, 6, 1), date(2026, 12, 31)):
        evaluate_programme(gold_card, as_of=day)
        assert status(gold_card, account).tier.name == "Gold", day
    evaluate_programme(gold_card, as_of=date(2027, 1, 1))
    assert status(gold_card, account) is None
    lapse = TierChange.objects.get(account=account, to_tier=None)
    assert lapse.on == date(2027, 1, 1)


def test_head_office_and_buying_group_members_qualify_together(gold_card, make_account):
    from relatiebeheer.loyalty.models import Programme
    from relatiebeheer.relations.models import BuyingGroup

    head = make_account(name="Hoofdkantoor")
    branch = make_account(name="Vestiging", parent=head)
    order(head, date(2025, 3, 1), "7000.00")
    order(branch, date(2025, 4, 1), "5000.00")
    Programme.objects.filter(pk=gold_card.pk).update(level="head_office")
    gold_card.refresh_from_db()
    evaluate_programme(gold_card, as_of=date(2025, 6, 1))
    assert status(gold_card, head).tier.name == status(gold_card, branch).tier.name == "Gold"
    assert status(gold_card, branch).member == f"head_office:{head.pk}"

    group = BuyingGroup.objects.create(name="Inkoopcombinatie")
    members = [make_account(buying_group=group) for _ in range(3)]
    for m in members:
        order(m, date(2025, 5, 1), "4000.00")
    Programme.objects.filter(pk=gold_card.pk).update(level="buying_group", version=9)
    gold_card.refresh_from_db()
    evaluate_programme(gold_card, as_of=date(2025, 6, 1))
    assert {status(gold_card, m).member for m in members} == {f"group:{group.pk}"}
    assert status(gold_card, head) is None  # 7000 alone: the head office is its own member now


def test_a_changed_order_marks_the_account_and_its_since_is_read_again(
    owner, gold_card, make_account
):
    from relatiebeheer.loyalty.models import PendingEvaluation
    from relatiebeheer.sales.services import order_create

    account = make_account()
    order(account, date(2025, 2, 1), "12000.00")
    evaluate_programme(gold_card, as_of=date(2025, 6, 1))
    assert status(gold_card, account).since == date(2025, 2, 1)
    # An order dated earlier in the year, entered now: Gold started earlier.
    placed = order_create(
        actor=owner, account=account, data={"date": date(2025, 1, 5), "revenue": D("13000.00")}
    )
    # The order's writer marked the account, in its own transaction.
    assert PendingEvaluation.objects.filter(account_id=account.pk).exists()
    report = evaluate_programme(gold_card, as_of=date(2025, 6, 1))
    assert report.history_members == 1
    assert status(gold_card, account).since == placed.date
    # One programme alone keeps the mark: the scorecards have not been refreshed yet.
    assert PendingEvaluation.objects.filter(account_id=account.pk).exists()
    evaluate(as_of=date(2025, 6, 1))
    assert not PendingEvaluation.objects.exists()


def test_on_the_programmes_first_day_everyone_qualifies_since_that_day(gold_card, make_account):
    from relatiebeheer.loyalty.models import Programme

    account = make_account()
    order(account, date(2025, 2, 1), "30000.00")
    Programme.objects.filter(pk=gold_card.pk).update(starts_on=date(2025, 6, 1))
    gold_card.refresh_from_db()
    report = evaluate_programme(gold_card, as_of=date(2025, 5, 31))
    assert report.tier_holders == 0  # nobody holds a tier before the programme starts
    report = evaluate_programme(gold_card, as_of=date(2025, 6, 1))
    assert report.history_members == 0
    assert status(gold_card, account).since == date(2025, 6, 1)


@pytest.mark.django_db(transaction=True)
def test_five_evaluations_at_once_write_each_status_and_tier_change_once():
    from relatiebeheer.loyalty.models import Programme, Tier
    from tests.concurrency import run_concurrently
    from tests.factories import AccountFactory

    programme = Programme.objects.create(code="race", name="Race", starts_on=date(2020, 1, 1))
    Tier.objects.create(programme=programme, name="Gold", rank=1, threshold=D("12000"))
    accounts = [AccountFactory() for _ in range(4)]
    for account in accounts:
        order(account, date(2025, 3, 1), "15000.00")

    def evaluate_once():
        return evaluate_programme(programme, as_of=date(2025, 6, 1), sync_points=False)

    results = run_concurrently(evaluate_once, num_threads=5)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert TierStatus.objects.filter(programme=programme).count() == 4
    assert TierChange.objects.filter(programme=programme).count() == 4
    assert sum(r.statuses_written for r in results) == 4
