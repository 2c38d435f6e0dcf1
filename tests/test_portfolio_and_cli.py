"""Portfolio hand-over, and the CLI, API and admin writing the same records and audit rows."""

import io

import pytest
from django.core.management import CommandError, call_command

from relatiebeheer.audit.models import AuditEntry
from relatiebeheer.relations.models import Account

from .factories import AccountFactory

pytestmark = pytest.mark.django_db


def test_sales_manager_hands_a_portfolio_over_in_one_action(
    api_as, sales_manager, owner, other_manager
):
    for _ in range(3):
        AccountFactory(manager=owner)
    response = api_as(sales_manager).post(
        "portfolios/transfer", {"from_user_id": owner.pk, "to_user_id": other_manager.pk}
    )
    assert response.status_code == 200
    assert response.json_body == {"accounts_moved": 3}
    assert Account.objects.filter(manager=other_manager).count() == 3
    entry = AuditEntry.objects.get(action="portfolio.transfer")
    assert entry.actor == sales_manager and entry.extra["accounts"] == 3


def test_account_manager_cannot_hand_over_portfolios(api_as, owner, other_manager):
    AccountFactory(manager=owner)
    response = api_as(owner).post(
        "portfolios/transfer", {"from_user_id": owner.pk, "to_user_id": other_manager.pk}
    )
    assert response.status_code == 403
    assert not Account.objects.filter(manager=other_manager).exists()


def test_cli_acts_as_the_named_user_and_the_audit_log_says_so(owner):
    out = io.StringIO()
    call_command(
        "account",
        "add",
        "HEMA",
        "--kvk",
        "34215639",
        "--city",
        "Amsterdam",
        "--as",
        "daan",
        stdout=out,
    )
    account = Account.objects.get(name="HEMA")
    assert account.manager == owner  # an account manager's new account lands in their portfolio
    entry = AuditEntry.objects.get(action="account.create", object_id=str(account.pk))
    assert entry.actor == owner
    assert entry.channel == "cli"


def test_cli_without_as_acts_as_the_system_user(db):
    call_command("account", "add", "V&D", stdout=io.StringIO())
    entry = AuditEntry.objects.get(action="account.create")
    assert entry.actor.username == "cli"


def test_cli_bad_input_exits_2_and_writes_nothing(owner):
    with pytest.raises(CommandError) as info:
        call_command("account", "add", "X", "--kvk", "123", "--as", "daan", stdout=io.StringIO())
    assert info.value.returncode == 2
    assert "kvk_number" in str(info.value)
    assert not Account.objects.exists()


def test_cli_respects_visibility(owner, other_manager):
    account = AccountFactory(manager=owner)
    with pytest.raises(CommandError):
        call_command("account", "show", str(account.pk), "--as", "eva", stdout=io.StringIO())


def test_api_cli_and_admin_create_the_same_record(api_as, admin_user, client):
    api_as(admin_user).post(
        "accounts", {"name": "Via API", "kvk_number": "12345678", "city": "Delft"}
    )
    call_command(
        "account",
        "add",
        "Via CLI",
        "--kvk",
        "12345678",
        "--city",
        "Delft",
        "--as",
        admin_user.username,
        stdout=io.StringIO(),
    )
    client.force_login(admin_user)
    response = client.post(
        "/admin/relations/account/add/",
        {
            "name": "Via admin",
            "kvk_number": "12345678",
            "city": "Delft",
            "status": "prospect",
            "country": "NL",
            "version": 1,
        },
    )
    assert response.status_code == 302, response.content[:2000]
    accounts = {a.name: a for a in Account.objects.all()}
    assert set(accounts) == {"Via API", "Via CLI", "Via admin"}
    for account in accounts.values():
        assert account.search_text == "via " + account.name.split()[1].lower() + " delft 12345678"
    channels = dict(
        AuditEntry.objects.filter(action="account.create").values_list("object_id", "channel")
    )
    assert sorted(channels.values()) == ["admin", "api", "cli"]


def test_export_command_escapes_and_localises(tmp_path, owner):
    AccountFactory(manager=owner, name="=cmd|' /C calc'!A0", city="Utrecht")
    target = tmp_path / "accounts.csv"
    call_command("export", "accounts", str(target), "--as", "daan", stdout=io.StringIO())
    text = target.read_text(encoding="utf-8-sig")
    assert text.splitlines()[0].startswith("Nummer;Naam;")
    assert "'=cmd" in text


def test_token_command_prints_a_token_that_works(api_as, owner):
    out = io.StringIO()
    call_command("token", "create", "daan", "script", "--as", "daan", stdout=out)
    raw = out.getvalue().strip()
    from django.test import Client

    response = Client().get("/api/v1/accounts", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200
