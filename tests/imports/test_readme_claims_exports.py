"""What the README's "Export" paragraph says, where no other test checked it: the export
page offers the registry's lists, orders and costs take a date range, and XLSX stops at
Excel's row limit, saying so and offering CSV."""

from datetime import date

import pytest

from relatiebeheer import exports
from relatiebeheer.exports_registry import export_lists

from ..factories import AccountFactory, OrderFactory

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return body.decode("utf-8-sig")


def test_the_export_page_offers_every_registered_list(web_as, owner):
    keys = [item.key for item in export_lists()]
    assert keys == ["accounts", "contacts", "orders", "costs", "metrics"]
    page = web_as(owner).get("/imports/exports/").content.decode()
    for key in keys:
        assert f"?list={key}" in page, key


def test_orders_export_for_a_date_range(web_as, owner):
    account = AccountFactory(manager=owner)
    OrderFactory(account=account, number="JAN", date=date(2026, 1, 15))
    OrderFactory(account=account, number="MRT", date=date(2026, 3, 15))
    response = web_as(owner).get(
        "/imports/exports/download.csv",
        {"list": "orders", "date_from": "2026-02-01", "date_to": "2026-12-31"},
    )
    text = _text(response)
    assert "MRT" in text and "JAN" not in text


def test_xlsx_stops_at_excels_row_limit_and_offers_csv(web_as, owner, monkeypatch):
    # given: a limit of two data rows (Excel's is 1,048,575) and three accounts
    monkeypatch.setattr(exports, "XLSX_MAX_ROWS", 3)
    for _ in range(3):
        AccountFactory(manager=owner)
    client = web_as(owner)
    # when
    response = client.get("/imports/exports/download.xlsx", {"list": "accounts"}, follow=True)
    # then: no file, but a message that says why and what to do
    assert response["Content-Type"].startswith("text/html")
    assert "CSV" in response.content.decode()
    # and: the same list as CSV has every row
    csv = client.get("/imports/exports/download.csv", {"list": "accounts"})
    assert len(_text(csv).strip().splitlines()) == 4
