"""`relatiebeheer demo`: the lesson's story, loaded through the services, once, all or nothing.

The demo is loaded once for the module (inside a transaction rolled back at the end), so
the whole file stays fast; the tests that need to load again use ``--force`` and compare
counts, so they hold whether or not the module's demo is there.
"""

from datetime import date, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Sum
from django.urls import reverse

from relatiebeheer.audit.models import AuditEntry
from relatiebeheer.core.clv import simple_clv_from_orders
from relatiebeheer.demo import story
from relatiebeheer.organisation.models import OrganisationSettings
from relatiebeheer.relations.models import Account, BuyingGroup, Contact, Interaction, Task
from relatiebeheer.relations.selectors import contacts_with_consent
from relatiebeheer.sales.models import CostEntry, Order
from relatiebeheer.users.models import Role, User

from .factories import AccountFactory

pytestmark = pytest.mark.django_db

TODAY = date(2026, 3, 16)


def demo(*args: str) -> str:
    out = StringIO()
    call_command("demo", *args, stdout=out)
    return out.getvalue()


def snapshot() -> dict[str, int]:
    from relatiebeheer.users.access import system_user

    system_user()  # the command's actor ("cli") exists before a command runs: not demo data
    return {
        "users": User.objects.count(),
        "accounts": Account.objects.count(),
        "contacts": Contact.objects.count(),
        "orders": Order.objects.count(),
        "costs": CostEntry.objects.count(),
        "interactions": Interaction.objects.count(),
        "tasks": Task.objects.count(),
        "audit": AuditEntry.objects.count(),
    }


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker):
    """`demo --if-empty` run twice on an empty database; both outputs."""
    with django_db_blocker.unblock(), transaction.atomic():
        assert not Account.objects.exists()
        first = demo("--if-empty", "--today", TODAY.isoformat())
        second = demo("--if-empty", "--today", TODAY.isoformat())
        yield first, second
        transaction.set_rollback(True)


@pytest.fixture
def bijenkorf(loaded):
    return Account.objects.get(name="de Bijenkorf")


def user(username: str) -> User:
    return User.objects.get(username=username)


# --- loading ---------------------------------------------------------------------------


def test_if_empty_loads_the_demo_once(loaded):
    first, second = loaded
    assert "Loaded the demo as of 2026-03-16" in first
    assert "not loaded" in second
    assert Account.objects.filter(name="de Bijenkorf").count() == 1
    assert User.objects.filter(username="daan").count() == 1


def test_about_fifty_accounts_with_every_status(loaded):
    counts = {s: Account.objects.filter(status=s).count() for s in Account.Status.values}
    assert 45 <= sum(counts.values()) <= 55
    assert counts[Account.Status.KEY_ACCOUNT] >= 3
    assert counts[Account.Status.CUSTOMER] >= 25
    assert counts[Account.Status.PROSPECT] >= 5
    prospects = Account.objects.filter(status=Account.Status.PROSPECT)
    assert not Order.objects.filter(account__in=prospects).exists()
    customers = Account.objects.exclude(status=Account.Status.PROSPECT)
    assert all(a.orders.exists() and a.customer_since for a in customers)
    assert {"warenhuis", "modeboetiek", "ketenwinkel", "webwinkel"} <= set(
        Account.objects.values_list("industry", flat=True)
    )


def test_refuses_with_exit_code_2_when_accounts_exist():
    AccountFactory(name="Een bestaande klant")
    before = snapshot()
    with pytest.raises(CommandError, match="has accounts already") as excinfo:
        demo("--today", TODAY.isoformat())
    assert excinfo.value.returncode == 2
    assert snapshot() == before


def test_loading_is_all_or_nothing(monkeypatch):
    """A failure half-way (after users, accounts, orders …) leaves nothing behind."""
    before = snapshot()
    settings_name = OrganisationSettings.load().name

    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(story, "task_create", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        demo("--force", "--today", TODAY.isoformat())
    assert snapshot() == before
    assert OrganisationSettings.load().name == settings_name


# --- de Bijenkorf: the lesson's worked example ----------------------------------------------


def test_bijenkorf_has_six_orders_averaging_9500_at_15_percent(bijenkorf):
    orders = list(bijenkorf.orders.order_by("date"))
    assert len(orders) == 6
    assert all(o.credit_of_id is None and o.status != Order.Status.CANCELLED for o in orders)
    revenue = sum(o.revenue for o in orders)
    cost = sum(o.cost_of_goods for o in orders)
    assert revenue / 6 == Decimal("9500.00")
    assert cost == revenue * Decimal("0.85")
    assert bijenkorf.margin == Decimal("15.00")
    for order in orders:  # the lines make up the order
        totals = order.lines.aggregate(revenue=Sum("revenue"), cost=Sum("cost"))
        assert (totals["revenue"], totals["cost"]) == (order.revenue, order.cost_of_goods)
    # The first order about 23 months ago, the last one recent, all within two years.
    assert TODAY - timedelta(days=730) < orders[0].date < TODAY - timedelta(days=670)
    assert orders[-1].date > TODAY - timedelta(days=60)
    assert bijenkorf.customer_since == orders[0].date

    result = simple_clv_from_orders([(o.revenue, o.cost_of_goods) for o in orders], years=2)
    assert result.profit_per_order == Decimal("1425.00")
    assert result.clv == Decimal("8550.00")


def test_bijenkorf_is_daans_key_account_and_eva_does_not_see_it(bijenkorf):
    assert bijenkorf.status == Account.Status.KEY_ACCOUNT
    assert bijenkorf.manager == user("daan")
    assert bijenkorf.city == "Amsterdam"
    assert Account.objects.visible_to(user("daan")).filter(pk=bijenkorf.pk).exists()
    assert not Account.objects.visible_to(user("eva")).filter(pk=bijenkorf.pk).exists()
    assert Account.objects.visible_to(user("eva")).exists()  # eva has a portfolio of her own
    assert Account.objects.visible_to(user("lezer")).filter(pk=bijenkorf.pk).exists()


def test_bijenkorf_contacts_moments_and_tasks(bijenkorf):
    buyer = bijenkorf.contacts.get(role="inkoper dameskleding")
    assert set(buyer.interests.values_list("name", flat=True)) == {"tennis", "kunst"}
    assert bijenkorf.contacts.filter(role="filiaalmanager").exists()
    assert bijenkorf.contacts.filter(role__startswith="financieel").exists()
    moments = bijenkorf.interactions.all()
    assert {m.kind for m in moments} >= {"question", "proactive", "service"}
    assert moments.filter(channel="visit").exists()
    assert all(m.satisfaction in {1, 2, 3, 4} for m in moments)
    assert bijenkorf.tasks.filter(done=False).exists()
    assert not bijenkorf.orders.filter(credit_of__isnull=False).exists()


def test_writes_went_through_the_services_as_the_right_users(bijenkorf):
    order_actors = set(
        AuditEntry.objects.filter(action="order.create", account_id=bijenkorf.pk).values_list(
            "actor__username", flat=True
        )
    )
    assert order_actors == {"daan"}
    entries = AuditEntry.objects.filter(action__in=["order.create", "interaction.create"])
    assert set(entries.values_list("channel", flat=True)) == {"cli"}
    assert {"daan", "eva", "sanne"} <= set(entries.values_list("actor__username", flat=True))
    assert not AuditEntry.objects.filter(actor__username="lezer").exists()


# --- the rest of the world ------------------------------------------------------------------


def test_branches_and_the_buying_group(loaded):
    head_offices = Account.objects.filter(branches__isnull=False).distinct()
    assert any(h.branches.count() >= 3 for h in head_offices)
    group = BuyingGroup.objects.get(name="Inkoopcombinatie Mode Noord")
    assert 5 <= group.accounts.count() <= 8


def test_every_account_and_contact_passes_full_clean(loaded):
    for account in Account.objects.all():
        account.full_clean()
    for contact in Contact.objects.select_related("account"):
        contact.full_clean()
        assert contact.email.endswith(".example")  # never a real mailbox
    assert Account.objects.exclude(vat_number="").count() >= 30


def test_orders_costs_moments_and_consent_tell_a_story(loaded):
    credit_notes = Order.objects.filter(credit_of__isnull=False)
    assert credit_notes.count() >= 3
    for note in credit_notes:
        credited = note.credit_of.credit_notes.aggregate(total=Sum("revenue"))["total"]
        assert note.revenue < 0 <= note.credit_of.revenue + credited
    assert Order.objects.filter(status=Order.Status.CANCELLED).exists()
    assert Order.objects.filter(date__lt=TODAY - timedelta(days=730)).exists()  # 2–3 years
    assert set(CostEntry.objects.values_list("category", flat=True)) >= {
        "service",
        "campaign",
        "incentive",
        "gift_event",
        "account_management",
    }
    assert set(Interaction.objects.values_list("kind", flat=True)) == set(Interaction.Kind.values)
    assert set(Interaction.objects.values_list("channel", flat=True)) == set(
        Interaction.Channel.values
    )
    tasks = Task.objects.all()
    assert tasks.filter(done=True).exists()
    assert tasks.filter(done=False, due_date__lt=TODAY).exists()  # overdue
    contacts = Contact.objects.all()
    surveys = contacts_with_consent(contacts, "surveys").count()
    assert surveys > contacts.count() / 2
    assert contacts_with_consent(contacts, "campaigns").count() < surveys
    assert AuditEntry.objects.filter(action="consent.withdraw").count() == 1
    assert contacts.filter(language="en").exists()
    assert OrganisationSettings.load().name == "Studio Noord Fashion B.V."


# --- logins ---------------------------------------------------------------------------------


def test_printed_logins_work(loaded, client):
    out = demo("--print-logins")
    rows = [line.split() for line in out.strip().splitlines()[1:]]
    logins = {row[0]: row[1] for row in rows}
    assert set(logins) == {"sanne", "daan", "eva", "lezer", "beheer"}
    for username, password in logins.items():
        response = client.post(reverse("web:login"), {"username": username, "password": password})
        assert response.status_code == 302, username
        assert client.session["_auth_user_id"] == str(user(username).pk)
        client.logout()
    assert user("daan").role == Role.ACCOUNT_MANAGER
    assert user("sanne").role == Role.SALES_MANAGER
    assert user("lezer").role == Role.READ_ONLY
    beheer = user("beheer")
    assert (beheer.role, beheer.is_staff, beheer.is_superuser) == (Role.ADMIN, True, True)


def test_a_demo_username_taken_by_another_role_stops_the_load(loaded):
    User.objects.filter(username="daan").update(role=Role.READ_ONLY)
    before = snapshot()
    with pytest.raises(CommandError, match="'daan' exists already"):
        demo("--force", "--today", TODAY.isoformat())
    assert snapshot() == before


def test_each_demo_user_has_a_salt_of_its_own(loaded):
    from django.contrib.auth.hashers import identify_hasher

    hashes = list(
        User.objects.filter(username__in=["sanne", "daan", "eva", "lezer", "beheer"]).values_list(
            "password", flat=True
        )
    )
    assert len(hashes) == 5
    salts = {identify_hasher(encoded).decode(encoded)["salt"] for encoded in hashes}
    assert len(set(hashes)) == 5 and len(salts) == 5
