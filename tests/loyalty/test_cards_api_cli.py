"""Customer cards and their barcode, the API flows and `relatiebeheer loyalty evaluate`."""

import json
from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from relatiebeheer.core.loyalty_rules import ean13_is_valid, luhn_is_valid
from relatiebeheer.loyalty.models import Card, LedgerEntry, Programme, TierStatus
from relatiebeheer.loyalty.programme import services
from relatiebeheer.loyalty.programme.barcode import (
    G_CODES,
    L_CODES,
    R_CODES,
    barcode_svg,
    ean13_decode,
    ean13_modules,
    itf_modules,
)
from relatiebeheer.sales.models import CostEntry

from .conftest import order

pytestmark = pytest.mark.django_db
D = Decimal


def test_code_tables_are_the_standard_ones():
    assert L_CODES[0] == "0001101" and G_CODES[0] == "0100111" and R_CODES[0] == "1110010"
    assert all(code.count("1") % 2 == 1 for code in L_CODES)  # odd parity
    assert all(code.count("1") % 2 == 0 for code in G_CODES)  # even parity


@pytest.mark.parametrize("number", ["4006381333931", "2900000000018", "8712345678906"])
def test_ean13_bars_read_back_to_the_number(number):
    modules = ean13_modules(number)
    assert len(modules) == 95 and modules.startswith("101") and modules.endswith("101")
    assert ean13_decode(modules) == number
    svg = str(barcode_svg(number))
    assert svg.startswith("<svg") and f'data-modules="{modules}"' in svg and "<script" not in svg


def test_itf_for_luhn_numbers_has_start_and_stop():
    modules = itf_modules("79927398713")  # odd length: a leading zero is added
    assert modules.startswith("1010") and modules.endswith("11101")


def test_cards_get_check_digits_and_can_be_blocked_and_replaced(owner, account, gold_card):
    first = services.card_issue(actor=owner, account=account, programme=gold_card)
    second = services.card_issue(actor=owner, account=account, programme=gold_card)
    assert ean13_is_valid(first.number) and first.number.startswith("29")
    assert second.sequence == first.sequence + 1
    services.card_block(actor=owner, card=first, reason="kwijt")
    new = services.card_replace(actor=owner, card=first)
    first.refresh_from_db()
    assert first.status == "replaced" and new.replaces == first and ean13_is_valid(new.number)
    from relatiebeheer.common.errors import Conflict

    with pytest.raises(Conflict):
        services.card_replace(actor=owner, card=first)
    Programme.objects.filter(pk=gold_card.pk).update(card_scheme="luhn", card_prefix="6012")
    gold_card.refresh_from_db()
    luhn = services.card_issue(actor=owner, account=account, programme=gold_card)
    assert len(luhn.number) == 16 and luhn_is_valid(luhn.number)


def test_the_api_issues_shows_and_blocks_a_card(api_as, owner, account, gold_card):
    client = api_as(owner)
    created = client.post("loyalty/cards", {"account_id": account.pk, "programme_id": gold_card.pk})
    assert created.status_code == 201
    card = client.get(f"loyalty/cards/{created.json_body['id']}").json_body
    assert card["barcode_svg"].startswith("<svg")
    blocked = client.post(f"loyalty/cards/{card['id']}/block", {"reason": "gestolen"})
    assert blocked.json_body["status"] == "blocked"
    again = client.post(f"loyalty/cards/{card['id']}/block", {"reason": "nog eens"})
    assert again.status_code == 409 and again["Content-Type"] == "application/problem+json"


def test_the_api_shows_what_it_takes_to_reach_gold(api_as, owner, account, gold_card):
    from django.utils import timezone

    order(account, timezone.localdate().replace(month=1, day=1), "11999.99")
    body = api_as(owner).get(f"loyalty/accounts/{account.pk}").json_body
    gold = body["programmes"][0]
    assert (
        gold["tier"] is None and gold["next_tier"] == "Gold" and gold["needed_for_next"] == "0.01"
    )


def test_the_api_defines_a_programme_for_sales_managers_only(api_as, owner, sales_manager):
    definition = {
        "code": "gold",
        "name": "Gold Card",
        "starts_on": "2026-01-01",
        "bonus_enabled": True,
        "tiers": [
            {"name": "Gold", "rank": 1, "threshold": "12000.00", "benefits": [{"kind": "parking"}]}
        ],
        "brackets": [{"lower_bound": "12000.00", "rate": "0.01"}],
        "rewards": [{"name": "Tas", "points": 100}],
    }
    assert api_as(owner).post("loyalty/programmes", definition).status_code == 403
    response = api_as(sales_manager).post("loyalty/programmes", definition)
    assert response.status_code == 200, response.json_body
    assert response.json_body["tiers"][0]["benefits"][0]["kind"] == "parking"
    definition["tiers"][0]["threshold"] = "-1"
    bad = api_as(sales_manager).post("loyalty/programmes", definition)
    assert bad.status_code == 422
    definition["tiers"] = [
        {"name": "Gold", "rank": 2, "threshold": "1000"},
        {"name": "Zilver", "rank": 1, "threshold": "5000"},
    ]
    refused = api_as(sales_manager).post("loyalty/programmes", definition)
    assert refused.status_code == 422
    assert Programme.objects.get(code="gold").tiers.get().threshold == D("12000.00")  # unchanged


def test_redeeming_too_many_points_through_the_api_is_a_409(api_as, owner, account, gold_card):
    Programme.objects.filter(pk=gold_card.pk).update(points_enabled=True)
    body = {"programme_id": gold_card.pk, "points": 5}
    response = api_as(owner).post(f"loyalty/accounts/{account.pk}/redemptions", body)
    assert response.status_code == 409 and response.json_body["code"] == "insufficient_points"


def test_logging_binding_through_the_api(api_as, owner, account):
    response = api_as(owner).post(
        "loyalty/binding-activities",
        {
            "account_id": account.pk,
            "kind": "stock",
            "title": "Voorraad gereserveerd",
            "status": "done",
        },
    )
    assert response.status_code == 201 and response.json_body["level"] == "structural"
    bad = api_as(owner).post(
        "loyalty/binding-activities",
        {"account_id": account.pk, "kind": "stock", "title": "x", "unknown": 1},
    )
    assert bad.status_code == 422


# --------------------------------------------------------------------------- command line


def run(*args):
    out = StringIO()
    call_command("loyalty", *args, stdout=out)
    return out.getvalue()


def test_evaluate_twice_changes_nothing(account, gold_card):
    order(account, date(2025, 3, 1), "25000.00")
    first = json.loads(run("evaluate", "--as-of", "2026-01-02", "--json"))
    assert first[0]["tier_holders"] == 1 and first[0]["bonus_settlements"] == 1
    counts = (TierStatus.objects.count(), CostEntry.objects.count(), LedgerEntry.objects.count())
    second = json.loads(run("evaluate", "--as-of", "2026-01-02", "--json"))
    assert second[0]["statuses_written"] == second[0]["tier_changes"] == 0
    assert second[0]["bonus_settlements"] == 0
    assert (
        TierStatus.objects.count(),
        CostEntry.objects.count(),
        LedgerEntry.objects.count(),
    ) == counts
    assert "gold as of 2026-01-02" in run("evaluate", "--as-of", "2026-01-02")


def test_a_bad_date_exits_with_code_2(gold_card):
    with pytest.raises(CommandError) as refused:
        run("evaluate", "--as-of", "31-12-2025")
    assert refused.value.returncode == 2


def test_the_daily_run_is_scheduled_and_the_hook_is_registered():
    from relatiebeheer import hooks
    from relatiebeheer.loyalty import tasks
    from relatiebeheer.ops import scheduler

    assert "loyalty.evaluate" in scheduler._jobs
    assert "loyalty.evaluate_pending" in scheduler._polls
    assert tasks.mark_pending in hooks._marking
    assert tasks.after_large_change in hooks._listeners


def test_the_hook_marks_the_accounts_and_the_poll_queues_their_evaluation(account, gold_card):
    from django.db import transaction
    from django_tasks_db.models import DBTaskResult

    from relatiebeheer.hooks import accounts_changed
    from relatiebeheer.loyalty.models import PendingEvaluation
    from relatiebeheer.ops import scheduler

    with transaction.atomic():
        accounts_changed([account.pk])
        # The mark is written with the change, in its transaction.
        assert PendingEvaluation.objects.filter(account_id=account.pk).exists()
    assert not DBTaskResult.objects.filter(task_path__endswith="evaluate_pending").exists()
    assert "loyalty.evaluate_pending" in scheduler.poll()
    assert DBTaskResult.objects.filter(task_path__endswith="evaluate_pending").count() == 1
    scheduler.poll()  # one waiting task is enough
    assert DBTaskResult.objects.filter(task_path__endswith="evaluate_pending").count() == 1


def test_a_rolled_back_change_leaves_no_mark(account, gold_card):
    from django.db import transaction

    from relatiebeheer.hooks import accounts_changed
    from relatiebeheer.loyalty.models import PendingEvaluation

    def failing_change():
        with transaction.atomic():
            accounts_changed([account.pk])
            raise RuntimeError("the change fails")

    with pytest.raises(RuntimeError):
        failing_change()
    assert not PendingEvaluation.objects.filter(account_id=account.pk).exists()


def test_cards_are_listed_by_number(api_as, owner, account, gold_card):
    card = services.card_issue(actor=owner, account=account, programme=gold_card)
    found = api_as(owner).get("loyalty/cards", number=card.number).json_body
    assert found["count"] == 1 and found["items"][0]["id"] == card.pk
    assert Card.objects.count() == 1
