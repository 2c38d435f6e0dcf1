"""What the README's paragraph "The web app" says, where no other test checked it: the
dashboard's figures, the account list's search, filters, sorting, paging and Excel
export, the parts of the account 360° page, and the language switch on every page."""

import io
from datetime import timedelta
from decimal import Decimal

import openpyxl
import pytest
from django.utils import timezone

from .factories import (
    AccountFactory,
    ContactFactory,
    InteractionFactory,
    OrderFactory,
    TaskFactory,
)

pytestmark = pytest.mark.django_db


def test_the_dashboard_shows_my_accounts_tasks_revenue_and_recent_moments(
    web_as, owner, other_manager
):
    today = timezone.localdate()
    # given: two accounts of mine (one a key account), one of a colleague
    mine = AccountFactory(manager=owner, name="Mijn klant")
    AccountFactory(manager=owner, status="key_account")
    theirs = AccountFactory(manager=other_manager, name="Andermans klant")
    TaskFactory(account=mine, assignee=owner, due_date=today - timedelta(days=2))
    TaskFactory(account=mine, assignee=owner, due_date=today + timedelta(days=2))
    TaskFactory(account=mine, assignee=owner, done=True)
    OrderFactory(account=mine, date=today, revenue=Decimal("1200.00"))
    OrderFactory(account=theirs, date=today, revenue=Decimal("5000.00"))
    InteractionFactory(account=mine, user=owner, subject="Belletje over levering")
    InteractionFactory(account=theirs, subject="Niet van mij")
    # when
    response = web_as(owner).get("/")
    # then: my accounts, my open and overdue tasks, my revenue per month, my moments
    context = response.context
    assert context["account_counts"] == {"total": 2, "key": 1}
    assert context["task_counts"] == {"open": 2, "overdue": 1}
    assert len(context["months"]) == 12 and context["months"][-1][1] == Decimal("1200.00")
    assert [i.subject for i in context["recent"]] == ["Belletje over levering"]
    page = response.content.decode()
    assert "Belletje over levering" in page and "Niet van mij" not in page


def test_the_account_list_searches_filters_sorts_pages_and_exports(web_as, owner):
    # given: 30 accounts, one with a postal code and a KvK number to find it by
    AccountFactory(
        manager=owner, name="Zeeman", city="Alphen", postal_code="2404 HX", kvk_number="28074325"
    )
    AccountFactory(manager=owner, name="Blokker", status="prospect")
    for n in range(28):
        AccountFactory(manager=owner, name=f"Winkel {n:02d}")
    client = web_as(owner)

    def names(query):
        page = client.get(f"/accounts/?{query}").context["page"]
        return [a.name for a in page.object_list], page

    # then: search by name, city, postal code and KvK number
    assert names("q=zeem")[0] == ["Zeeman"]
    assert names("q=alphen")[0] == ["Zeeman"]
    assert names("q=2404")[0] == ["Zeeman"]
    assert names("q=28074325")[0] == ["Zeeman"]
    # and: filters and sorting
    assert names("status=prospect")[0] == ["Blokker"]
    assert names("ordering=-name")[0][0] == "Zeeman"
    # and: pages of 25
    first, page = names("")
    assert len(first) == 25 and page.paginator.count == 30
    second, _page = names("page=2")
    assert len(second) == 5 and not set(first) & set(second)
    # and: the same selection to Excel
    response = client.get("/accounts/export.xlsx?status=prospect")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    sheet = openpyxl.load_workbook(io.BytesIO(body)).active
    values = [cell for row in sheet.iter_rows(values_only=True) for cell in row]
    assert "Blokker" in values and "Zeeman" not in values


def test_the_360_page_has_its_parts(web_as, owner):
    today = timezone.localdate()
    # given: an account with a contact and interest, an open task, a contact moment,
    # an order and a credit note on it
    account = AccountFactory(manager=owner, name="de Bijenkorf")
    contact = ContactFactory(account=account, first_name="Priya", last_name="Pinas")
    contact.interests.create(name="tennis")
    TaskFactory(account=account, assignee=owner, title="Offerte sturen")
    TaskFactory(account=account, assignee=owner, title="Klaar", done=True)
    InteractionFactory(account=account, user=owner, subject="Kwartaalgesprek")
    order = OrderFactory(account=account, date=today, number="F-77", revenue=Decimal("9500.00"))
    OrderFactory(
        account=account,
        date=today,
        number="C-78",
        revenue=Decimal("-500.00"),
        cost_of_goods=Decimal("0"),
        credit_of=order,
    )
    # when
    page = web_as(owner).get(f"/accounts/{account.pk}/").content.decode()
    # then: header, value card, revenue chart, contacts with interests, open tasks, and
    # one timeline of contact moments, orders and credit notes
    assert "<h1" in page and "de Bijenkorf" in page
    assert 'data-testid="value-card"' in page
    assert 'data-chart="revenue"' in page
    assert "Priya Pinas" in page and "tennis" in page
    assert "Offerte sturen" in page and "Klaar" not in page
    timeline = page[page.index('data-testid="timeline"') :]
    for item in ("Kwartaalgesprek", "F-77", "C-78", "€ 9.500,00", "€ -500,00"):
        assert item in timeline, item


@pytest.mark.parametrize("path", ["/", "/tasks/", "/accounts/", "/value/", "/reports/"])
def test_every_page_switches_between_dutch_and_english(web_as, sales_manager, path):
    account = AccountFactory(manager=sales_manager, name="de Bijenkorf")
    OrderFactory(account=account, date=timezone.localdate(), revenue=Decimal("9500.00"))
    client = web_as(sales_manager)
    # given: a page in Dutch, with the switch on it
    dutch = client.get(path).content.decode()
    assert 'lang="nl"' in dutch and 'id="language-form"' in dutch
    # when: the user switches
    client.post("/i18n/setlang/", {"language": "en", "next": path})
    english = client.get(path).content.decode()
    # then: the same page is in English
    assert 'lang="en"' in english and 'id="language-form"' in english
    page = client.get(f"/accounts/{account.pk}/").content.decode()
    assert "€9,500.00" in page and "€ 9.500,00" not in page
