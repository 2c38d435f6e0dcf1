"""What the README's "The command line" says, where no other test checked it:
``clv simple`` (the lesson's example, its notations and refusals), ``clv fit`` on a
transactions file, ``createuser`` and ``portfolio transfer``."""

import csv
import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from relatiebeheer.audit.models import AuditEntry
from relatiebeheer.relations.models import Account
from relatiebeheer.users.models import User

from .factories import AccountFactory

CDNOW = Path(__file__).resolve().parent / "data" / "cdnow" / "CDNOW_sample.txt"


def _clv(*args) -> str:
    out = io.StringIO()
    call_command("clv", "simple", *args, stdout=out)
    return out.getvalue()


@pytest.mark.parametrize(("order_value", "margin"), [("9500", "15%"), ("9.500,00", "0.15")])
def test_clv_simple_works_out_the_lesson_in_either_notation(order_value, margin):
    text = _clv(
        "--order-value",
        order_value,
        "--margin",
        margin,
        "--orders",
        "6",
        "--years",
        "2",
        "--discount-rate",
        "3%",
    )
    assert "€ 1.425,00" in text and "€ 8.550,00 per 2 jaar" in text
    assert "€ 8.180,08" in text


@pytest.mark.parametrize(
    ("order_value", "margin", "hint"),
    [("9.500", "15%", "ambiguous"), ("9500", "15", "did you mean 15%?")],
)
def test_clv_simple_refuses_an_ambiguous_amount_or_a_bare_percentage(order_value, margin, hint):
    with pytest.raises(CommandError) as refused:
        _clv("--order-value", order_value, "--margin", margin, "--orders", "6", "--years", "2")
    assert refused.value.returncode == 2
    assert hint in str(refused.value)


def test_clv_fit_predicts_each_customer_of_a_transactions_file(tmp_path):
    # given: the CDNOW sample as a transactions file
    lines = ["customer_id,date,amount"]
    for line in CDNOW.read_text().splitlines():
        _, customer, day, _, value = line.split()
        lines.append(f"{int(customer)},{day[:4]}-{day[4:6]}-{day[6:]},{value}")
    transactions = tmp_path / "transactions.csv"
    transactions.write_text("\n".join(lines) + "\n", encoding="utf-8")
    predictions = tmp_path / "predictions.csv"
    # when
    out = io.StringIO()
    call_command(
        "clv",
        "fit",
        str(transactions),
        "--observation-end",
        "1997-09-30",
        "--json",
        "--out",
        str(predictions),
        stdout=out,
    )
    # then: the fit's summary as JSON, and one row per customer in the file
    summary = json.loads(out.getvalue())
    assert summary
    with predictions.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    customers = {line.split(",")[0] for line in lines[1:]}
    assert len(rows) == len(customers) == 2357


@pytest.mark.django_db
def test_createuser_makes_a_user_with_a_role(admin_user, monkeypatch):
    monkeypatch.setenv("RELATIEBEHEER_PASSWORD", "een-lang-wachtwoord")
    call_command(
        "createuser",
        "anna",
        "--role",
        "account_manager",
        "--email",
        "anna@example.nl",
        "--as",
        admin_user.username,
        stdout=io.StringIO(),
    )
    anna = User.objects.get(username="anna")
    assert (anna.role, anna.email) == ("account_manager", "anna@example.nl")
    assert anna.check_password("een-lang-wachtwoord")
    # a password the rules refuse makes no user
    monkeypatch.setenv("RELATIEBEHEER_PASSWORD", "kort")
    with pytest.raises(CommandError):
        call_command("createuser", "bram", "--as", admin_user.username, stdout=io.StringIO())
    assert not User.objects.filter(username="bram").exists()


@pytest.mark.django_db
def test_portfolio_transfer_hands_every_account_over(sales_manager, owner, other_manager):
    for _ in range(3):
        AccountFactory(manager=owner)
    call_command(
        "portfolio", "transfer", "daan", "eva", "--as", sales_manager.username, stdout=io.StringIO()
    )
    assert Account.objects.filter(manager=other_manager).count() == 3
    entry = AuditEntry.objects.get(action="portfolio.transfer")
    assert entry.actor == sales_manager and entry.channel == "cli"


@pytest.mark.django_db
def test_check_figures_reports_as_json_and_exits_1_on_a_difference_without_repairing(owner):
    from datetime import date
    from decimal import Decimal

    from relatiebeheer.value.models import AccountMetrics
    from relatiebeheer.value.services import metrics_recompute

    from .factories import OrderFactory

    account = AccountFactory(manager=owner)
    OrderFactory(account=account, date=date(2026, 3, 1), revenue=Decimal("1000.00"))
    metrics_recompute(with_prediction=False)
    # given: every kept figure as a fresh computation gives it
    out = io.StringIO()
    call_command("check-figures", "--json", stdout=out)
    clean = json.loads(out.getvalue())
    assert clean and not any(r["differences"] for r in clean)
    # when: one stored figure is off
    AccountMetrics.objects.filter(account=account).update(orders=99)
    out = io.StringIO()
    with pytest.raises(SystemExit) as differed:
        call_command("check-figures", "--json", "--no-repair", stdout=out)
    # then: exit code 1, the difference in the JSON, and (with --no-repair) left as it was
    assert differed.value.code == 1
    assert sum(r["differences"] for r in json.loads(out.getvalue())) == 1
    assert AccountMetrics.objects.get(account=account).orders == 99
