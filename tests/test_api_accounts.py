"""The accounts API: create, read, update with versions, delete; bad input."""

import pytest

from relatiebeheer.audit.models import AuditEntry
from relatiebeheer.relations.models import Account

from .factories import AccountFactory, OrderFactory

pytestmark = pytest.mark.django_db


def test_anonymous_gets_401_in_problem_shape(api_as):
    response = api_as(None).get("accounts")
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json_body["status"] == 401


def test_account_manager_creates_an_account_in_their_own_portfolio(api_as, owner):
    response = api_as(owner).post(
        "accounts", {"name": "  de   Bijenkorf ", "kvk_number": "3301 2345", "city": "Amsterdam"}
    )
    assert response.status_code == 201, response.json_body
    body = response.json_body
    assert body["name"] == "de Bijenkorf"
    assert body["kvk_number"] == "33012345"
    assert body["manager_id"] == owner.pk
    assert body["version"] == 1
    assert AuditEntry.objects.filter(
        action="account.create", object_id=str(body["id"]), actor=owner
    ).exists()


def test_account_manager_cannot_assign_an_account_to_a_colleague(api_as, owner, other_manager):
    response = api_as(owner).post("accounts", {"name": "HEMA", "manager_id": other_manager.pk})
    assert response.status_code == 422
    assert response.json_body["errors"][0]["field"] == "manager"
    assert not Account.objects.filter(name="HEMA").exists()


def test_sales_manager_assigns_accounts(api_as, sales_manager, other_manager):
    response = api_as(sales_manager).post(
        "accounts", {"name": "HEMA", "manager_id": other_manager.pk}
    )
    assert response.status_code == 201
    assert response.json_body["manager_id"] == other_manager.pk


def test_detail_shows_revenue_of_the_last_12_months(api_as, account):
    from datetime import timedelta
    from decimal import Decimal

    from django.utils import timezone

    today = timezone.localdate()
    OrderFactory(account=account, date=today - timedelta(days=10), revenue=Decimal("9500.00"))
    OrderFactory(account=account, date=today - timedelta(days=400), revenue=Decimal("9000.00"))
    OrderFactory(
        account=account,
        date=today - timedelta(days=5),
        revenue=Decimal("100.00"),
        status="cancelled",
    )
    response = api_as(account.manager).get(f"accounts/{account.pk}")
    assert response.status_code == 200
    assert response.json_body["revenue_last_12_months"] == "9500.00"


def test_update_with_current_version_succeeds_and_bumps_it(api_as, account):
    response = api_as(account.manager).patch(
        f"accounts/{account.pk}", {"version": 1, "city": "Den Haag"}
    )
    assert response.status_code == 200, response.json_body
    assert response.json_body["city"] == "Den Haag"
    assert response.json_body["version"] == 2
    entry = AuditEntry.objects.get(action="account.update")
    assert entry.fields == ["city"]
    assert entry.channel == "api"


def test_stale_version_gets_409_with_the_current_record(api_as, account):
    client = api_as(account.manager)
    assert (
        client.patch(f"accounts/{account.pk}", {"version": 1, "city": "Utrecht"}).status_code == 200
    )
    response = client.patch(f"accounts/{account.pk}", {"version": 1, "city": "Den Haag"})
    assert response.status_code == 409
    assert response.json_body["current"]["city"] == "Utrecht"
    assert response.json_body["current"]["version"] == 2
    account.refresh_from_db()
    assert account.city == "Utrecht"


def test_unknown_fields_are_refused_not_assigned(api_as, account):
    response = api_as(account.manager).patch(
        f"accounts/{account.pk}", {"version": 1, "search_text": "x"}
    )
    assert response.status_code == 422
    assert response.json_body["errors"][0]["field"] == "search_text"


@pytest.mark.parametrize(
    ("field", "value", "language", "message"),
    [
        ("kvk_number", "1234567", "en", "A KvK number has exactly 8 digits"),
        ("kvk_number", "ABCDEFGH", "nl", "Een KvK-nummer heeft precies 8 cijfers"),
        ("vat_number", "NL123456789B02", "en", "not a valid EU VAT number"),
        ("website", "not a url", "en", "Enter a valid URL"),
    ],
)
def test_invalid_identifiers_get_a_field_error_in_the_users_language(
    api_as, owner, field, value, language, message
):
    response = api_as(owner, language=language).post("accounts", {"name": "Test", field: value})
    assert response.status_code == 422
    errors = {e["field"]: e["message"] for e in response.json_body["errors"]}
    assert message in errors[field]
    assert not Account.objects.exists()


def test_valid_eu_vat_numbers_are_accepted(api_as, owner):
    response = api_as(owner).post("accounts", {"name": "Test", "vat_number": "nl 0000.99998.B57"})
    assert response.status_code == 201, response.json_body
    assert response.json_body["vat_number"] == "NL000099998B57"


@pytest.mark.parametrize(
    "payload",
    [
        {"name": "bad\x00name"},
        {"name": "\ud800"},
        {"name": ""},
        {"name": "x" * 201},
        {"name": "ok", "manager_id": 2**70},
        {"name": "ok", "margin": "101"},
        {"name": "ok", "country": "Netherlands"},
        {"name": "ok", "status": "vip"},
    ],
)
def test_malformed_input_is_a_422_never_a_500(api_as, owner, payload):
    response = api_as(owner).post("accounts", payload)
    assert response.status_code == 422


def test_huge_ids_in_paths_are_422(api_as, owner):
    assert api_as(owner).get(f"accounts/{2**70}").status_code == 422


def test_list_search_filters_and_paginates(api_as, owner):
    AccountFactory(
        name="de Bijenkorf", city="Amsterdam", manager=owner, search_text="de bijenkorf amsterdam"
    )
    AccountFactory(name="Café Noir", city="Utrecht", manager=owner, search_text="cafe noir utrecht")
    AccountFactory(name="Andere", manager=AccountFactory().manager)
    client = api_as(owner)
    assert client.get("accounts").json_body["count"] == 2
    assert [a["name"] for a in client.get("accounts", q="CAFÉ").json_body["items"]] == ["Café Noir"]
    assert client.get("accounts", q="bijen amster").json_body["count"] == 1
    page = client.get("accounts", limit=1, offset=1).json_body
    assert page["count"] == 2 and len(page["items"]) == 1


def test_delete_refuses_accounts_with_orders(api_as, account):
    OrderFactory(account=account)
    response = api_as(account.manager).delete(f"accounts/{account.pk}")
    assert response.status_code == 409
    assert Account.objects.filter(pk=account.pk).exists()


def test_delete_an_account_without_history(api_as, account):
    assert api_as(account.manager).delete(f"accounts/{account.pk}").status_code == 204
    assert not Account.objects.filter(pk=account.pk).exists()
    assert AuditEntry.objects.filter(action="account.delete", object_id=str(account.pk)).exists()


def test_parent_cycle_is_refused(api_as, owner):
    head = AccountFactory(manager=owner)
    branch = AccountFactory(manager=owner, parent=head)
    response = api_as(owner).patch(f"accounts/{head.pk}", {"version": 1, "parent_id": branch.pk})
    assert response.status_code == 422
