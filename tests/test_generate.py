"""The data generator: deterministic, valid per the models, visible through the selectors."""

import hashlib
from datetime import date
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.core.validators import EmailValidator
from django.db import connection, transaction
from django.db.models import Count, F, Min, Q
from stdnum.eu import vat as eu_vat

from relatiebeheer.audit.models import AuditEntry
from relatiebeheer.common.text import normalise_search
from relatiebeheer.demo.generate import GenerateOptions, generate
from relatiebeheer.relations.models import Account, BuyingGroup, Contact, Interaction, Task
from relatiebeheer.relations.selectors import AccountFilters, account_list
from relatiebeheer.relations.validators import validate_phone
from relatiebeheer.sales.models import CostEntry, Order, OrderLine
from relatiebeheer.users.access import system_user
from relatiebeheer.users.models import Role, User

TODAY = date(2026, 3, 15)
SMALL = {"accounts": 200, "orders": 2000, "today": TODAY}


def _run(**kwargs):
    return generate(GenerateOptions(**{**SMALL, **kwargs}), actor=system_user())


def _checksum() -> str:
    """A hash over every generated row, with ids made relative (sequences differ between runs
    on PostgreSQL) and users and buying groups named, not numbered."""
    named = {
        User: dict(User.objects.values_list("id", "username")),
        BuyingGroup: dict(BuyingGroup.objects.values_list("id", "name")),
    }
    digest = hashlib.sha256()
    models = [Account, Order, OrderLine, Contact, Interaction, Task, CostEntry]
    base = {m: (m.objects.aggregate(low=Min("pk"))["low"] or 1) - 1 for m in models}
    for model in models:
        fields = [f for f in model._meta.concrete_fields]
        for row in model.objects.order_by("pk").values_list(*[f.attname for f in fields]):
            out = []
            for f, value in zip(fields, row, strict=True):
                if f.primary_key:
                    value -= base[model]
                elif f.is_relation and value is not None:
                    target = f.related_model
                    value = named[target][value] if target in named else value - base[target]
                out.append(value)
            digest.update(repr(out).encode())
    return digest.hexdigest()


def _run_and_roll_back(**kwargs):
    with transaction.atomic():
        result = _run(**kwargs)
        checksum = _checksum()
        transaction.set_rollback(True)
    return result, checksum


@pytest.mark.django_db
def test_same_seed_gives_the_same_data_and_another_seed_other_data():
    first, a = _run_and_roll_back(seed=7)
    _second, b = _run_and_roll_back(seed=7)
    _third, c = _run_and_roll_back(seed=8)
    assert a == b
    assert a != c
    assert first.counts["accounts"] == 200


@pytest.mark.django_db(transaction=True)
def test_generated_data_is_valid_and_counted():
    # given a small data set, written the way a real load is (own transaction, deferred indexes)
    result = _run(seed=3, lines=True, defer_indexes=True, managers=4)

    # then the counts are as asked
    assert Account.objects.count() == 200
    assert Order.objects.count() == 2000
    assert Interaction.objects.count() == 400
    assert Task.objects.count() == 100
    assert CostEntry.objects.count() == 400
    assert 200 <= Contact.objects.count() <= 600
    assert result.counts["orders"] == 2000

    # every foreign key resolves and every check constraint holds
    connection.check_constraints()
    for model in (Account, Order, Interaction):
        for constraint in model._meta.constraints:
            if hasattr(constraint, "condition") and not getattr(constraint, "fields", None):
                assert not model.objects.exclude(constraint.condition).exists(), constraint.name

    # managers are account managers with unusable passwords
    managers = User.objects.filter(username__startswith="am").order_by("username")
    assert [m.username for m in managers] == ["am001", "am002", "am003", "am004"]
    assert all(m.role == Role.ACCOUNT_MANAGER and not m.has_usable_password() for m in managers)

    accounts = list(Account.objects.all())
    # search_text is what refresh_search_text() makes
    for account in accounts:
        expected = normalise_search(
            account.name, account.city, account.postal_code, account.kvk_number
        )
        assert account.search_text == expected
    # KvK numbers are 8 digits and unique, VAT numbers valid
    kvks = [a.kvk_number for a in accounts]
    assert all(len(k) == 8 and k.isdigit() for k in kvks) and len(set(kvks)) == len(kvks)
    assert all(eu_vat.is_valid(a.vat_number) for a in accounts if a.vat_number)

    # customer since the first order; customers (and key accounts) are those with orders
    first = dict(
        Order.objects.values("account_id")
        .annotate(first=Min("date"))
        .values_list("account_id", "first")
    )
    for account in accounts:
        assert account.customer_since == first.get(account.pk)
        assert (account.status != Account.Status.PROSPECT) == (account.pk in first)
    statuses = {s: sum(a.status == s for a in accounts) for s in Account.Status.values}
    assert statuses["customer"] > statuses["prospect"] > 0 and statuses["key_account"] > 0

    # orders lie in the three years up to today, with margins 10–50 %
    assert Order.objects.filter(Q(date__gt=TODAY) | Q(date__lt=date(2023, 3, 15))).count() == 0
    for order in Order.objects.filter(credit_of__isnull=True, revenue__gt=0):
        assert 0.095 <= 1 - order.cost_of_goods / order.revenue <= 0.505
    assert Order.objects.filter(status="paid").count() > 1500
    # a long tail: some accounts order a lot, some never
    per_account = sorted(
        Order.objects.values("account_id").annotate(n=Count("id")).values_list("n", flat=True)
    )
    assert per_account[-1] > 5 * (2000 / 200)

    # about 1 % credit notes, each against an earlier order of the same account, never more
    credits = list(Order.objects.filter(credit_of__isnull=False).select_related("credit_of"))
    assert 15 <= len(credits) <= 25
    for credit in credits:
        original = credit.credit_of
        assert original.account_id == credit.account_id
        assert original.pk < credit.pk and original.date <= credit.date
        assert original.credit_of_id is None and original.status != "cancelled"
        assert credit.revenue <= 0 and -credit.revenue <= original.revenue
        assert -credit.cost_of_goods <= original.cost_of_goods

    # order lines add up to their order
    sums = {}
    for line in OrderLine.objects.all():
        sums.setdefault(line.order_id, [0, 0])
        sums[line.order_id][0] += line.revenue
        sums[line.order_id][1] += line.cost
    for order in Order.objects.filter(credit_of__isnull=True):
        assert sums[order.pk] == [order.revenue, order.cost_of_goods]

    # contacts, contact moments, tasks and costs are valid values
    email = EmailValidator()
    for contact in Contact.objects.all()[:300]:
        if contact.email:
            email(contact.email)
        if contact.phone:
            validate_phone(contact.phone)
    readings = set(Interaction.objects.values_list("satisfaction", flat=True))
    assert None in readings and readings - {None} <= {1, 2, 3, 4} and len(readings) >= 4
    assert Task.objects.filter(done=False, due_date__lt=TODAY).exists()  # some overdue
    assert Task.objects.filter(done=True, done_at__isnull=False).exists()
    assert not Task.objects.filter(done=False, done_at__isnull=False).exists()
    assert set(CostEntry.objects.values_list("category", flat=True)) == set(
        CostEntry.Category.values
    )
    assert (
        Interaction.objects.exclude(user_id=F("account__manager_id"))
        .filter(account__manager__isnull=False)
        .count()
        == 0
    )

    # a sample of every model passes the model's own validation
    for model in (Account, Contact, Interaction, Task, Order, CostEntry):
        for obj in model.objects.order_by("?")[:15]:
            try:
                obj.full_clean(validate_unique=False)
            except ValidationError as exc:  # pragma: no cover - shows what is wrong
                pytest.fail(f"{model.__name__} {obj.pk}: {exc}")

    # and the run is in the audit log with its counts
    entry = AuditEntry.objects.get(action="data.generate")
    assert entry.extra["orders"] == 2000 and entry.extra["seed"] == 3


@pytest.mark.django_db
def test_generated_data_is_visible_through_the_selectors(api_as, sales_manager):
    _run(seed=5, managers=3)
    am001 = User.objects.get(username="am001")

    mine = account_list(actor=am001)
    assert mine.exists()
    assert not mine.exclude(manager=am001).exists()
    everything = account_list(actor=sales_manager)
    assert everything.count() == Account.objects.filter(archived=False).count()

    # a search on a common word finds the accounts in that city
    hits = account_list(actor=sales_manager, filters=AccountFilters(q="Amsterdam"))
    assert hits.count() == Account.objects.filter(archived=False, city="Amsterdam").count() > 0

    # the search tokens are exactly what the services would have written
    from relatiebeheer.relations.models import SearchToken
    from relatiebeheer.relations.search import account_tokens

    for account in Account.objects.order_by("?")[:25]:
        stored = set(SearchToken.objects.filter(account=account).values_list("token", flat=True))
        assert stored == account_tokens(account)

    # and the API shows the same
    response = api_as(am001).get("accounts", limit=5)
    assert response.status_code == 200
    assert response.json_body["count"] == mine.count()
    pk = response.json_body["items"][0]["id"]
    detail = api_as(am001).get(f"accounts/{pk}")
    assert detail.status_code == 200
    other = Account.objects.exclude(manager=am001).first()
    assert api_as(am001).get(f"accounts/{other.pk}").status_code == 404


@pytest.mark.django_db
def test_command_refuses_to_mix_unless_told_and_appends_when_told():
    out = StringIO()
    args = ["--accounts", "30", "--orders", "300", "--seed", "2", "--today", "2026-03-15"]
    call_command("generate", *args, stdout=out)
    assert "orders" in out.getvalue() and "Done in" in out.getvalue()
    assert Account.objects.count() == 30

    with pytest.raises(CommandError, match="--append"):
        call_command("generate", *args, stdout=StringIO())

    out = StringIO()
    call_command("generate", *args, "--if-empty", stdout=out)
    assert "nothing generated" in out.getvalue()
    assert Account.objects.count() == 30

    call_command("generate", *args, "--append", "--seed", "9", stdout=StringIO())
    assert Account.objects.count() == 60
    assert Order.objects.count() == 600
    assert AuditEntry.objects.filter(action="data.generate").count() == 2


@pytest.mark.django_db
def test_only_an_administrator_may_generate(owner):
    with pytest.raises(CommandError, match="administrator"):
        call_command("generate", "--accounts", "5", "--as", owner.username, stdout=StringIO())
    assert not Account.objects.exists()


@pytest.mark.django_db
def test_bad_options_change_nothing():
    with pytest.raises(CommandError, match="Orders need accounts"):
        call_command("generate", "--accounts", "0", "--orders", "10", stdout=StringIO())
    assert not Order.objects.exists()
