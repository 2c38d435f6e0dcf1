"""What the README's "Import" bullets say, where no other test checked it: the shipped
presets read the column names of their bookkeeping packages, and rows are matched to
existing records the way the README lists (KvK number, name and city, e-mail, the same
contact moment, no order without a key); costs round-trip through an export."""

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import translation

from relatiebeheer.imports import services
from relatiebeheer.imports.models import ImportJob
from relatiebeheer.relations.models import Account, Contact, Interaction
from relatiebeheer.sales.models import CostEntry, Order

from ..factories import AccountFactory, ContactFactory, OrderFactory

pytestmark = pytest.mark.django_db

ROW = "K1;Bakkerij Jansen;12345678;NL000099998B57;Dorpsstraat 1;1234 AB;Gouda;NL"


def _import(actor, kind, content, **create):
    with translation.override("en"):
        job = services.import_job_create(
            actor=actor, kind=kind, source=content.encode(), filename="f.csv", **create
        )
        return services.import_job_start(actor=actor, job=job, commit=True, background=False)


@pytest.mark.parametrize(
    ("preset", "header"),
    [
        (
            "exact_online_accounts",
            "Relatiecode;Naam;KvK-nummer;Btw-nummer;BezoekAdres1;BezoekPostcode;BezoekPlaats;BezoekLand",
        ),
        ("afas_accounts", "BcCo;Nm;CcNr;FiNr;Ad;ZpCd;Rs;CoId"),
        ("snelstart_accounts", "relatiecode;naam;kvkNummer;btwNummer;straat;postcode;plaats;land"),
        ("twinfield_accounts", "code;name;field5;field4;field2;postcode;city;country"),
    ],
)
def test_each_shipped_preset_reads_its_packages_relations(sales_manager, preset, header):
    job = _import(sales_manager, "accounts", f"{header}\n{ROW}\n", preset=preset)
    assert job.status == ImportJob.Status.DONE, (job.message, list(job.issues.values()))
    account = Account.objects.get()
    assert (
        account.external_id,
        account.name,
        account.kvk_number,
        account.vat_number,
        account.postal_code,
        account.city,
    ) == ("K1", "Bakkerij Jansen", "12345678", "NL000099998B57", "1234 AB", "Gouda")


def test_the_exact_online_invoice_preset_reads_sales_invoices(sales_manager):
    AccountFactory(external_id="K1")
    content = (
        "Factuurnummer;Debiteurcode;Factuurdatum;Bedrag excl. btw\nF9;K1;27-11-2026;1.234,56\n"
    )
    job = _import(sales_manager, "orders", content, preset="exact_online_invoices")
    assert job.status == ImportJob.Status.DONE, (job.message, list(job.issues.values()))
    order = Order.objects.get(external_id="F9")
    assert str(order.revenue) == "1234.56" and order.account.external_id == "K1"


def test_accounts_are_matched_by_kvk_number_then_by_name_and_city(sales_manager):
    # given: an account known by its KvK number, one by name and city, and a KvK number
    # that two accounts share
    by_kvk = AccountFactory(name="Oude naam", kvk_number="11111111")
    by_name = AccountFactory(name="Bakker Bart", city="Sneek")
    AccountFactory(kvk_number="22222222")
    AccountFactory(kvk_number="22222222")
    # when: rows without our number or an external id come in
    job = _import(
        sales_manager,
        "accounts",
        "Naam;KvK-nummer;Plaats\nNieuwe naam;11111111;Delft\nBakker Bart;;Sneek\n",
    )
    # then: the KvK number finds the first, name and city the second: nothing is added
    assert job.status == ImportJob.Status.DONE, list(job.issues.values())
    assert (job.created, job.updated, job.unchanged) == (0, 1, 1)
    by_kvk.refresh_from_db()
    assert (by_kvk.name, by_kvk.city) == ("Nieuwe naam", "Delft")
    assert Account.objects.filter(name="Bakker Bart").get() == by_name
    # and: a KvK number that two accounts have matches neither: the row is refused
    job = _import(sales_manager, "accounts", "Naam;KvK-nummer\nWie?;22222222\n")
    assert job.issues.get().code == "ambiguous_kvk"
    assert not Account.objects.filter(name="Wie?").exists()


def test_contacts_by_email_and_moments_by_account_time_and_subject(sales_manager):
    account = AccountFactory(external_id="K1")
    anna = ContactFactory(account=account, first_name="A.", last_name="Jansen", email="a@x.nl")
    # a contact row without an external id finds the contact by e-mail within the account
    job = _import(
        sales_manager, "contacts", "Klantnummer;Voornaam;Achternaam;E-mail\nK1;Anna;Jansen;A@x.nl\n"
    )
    assert (job.created, job.updated) == (0, 1), list(job.issues.values())
    anna.refresh_from_db()
    assert anna.first_name == "Anna" and Contact.objects.count() == 1
    # a contact moment with the same account, time and subject is the same moment
    moment = "Klantnummer;Datum;Onderwerp\nK1;27-11-2026 14:30;Levering besproken\n"
    assert _import(sales_manager, "interactions", moment).created == 1
    again = _import(sales_manager, "interactions", moment)
    assert (again.created, again.unchanged) == (0, 1)
    assert Interaction.objects.count() == 1


def test_an_order_without_external_id_or_number_is_refused(sales_manager):
    AccountFactory(external_id="K1")
    job = _import(sales_manager, "orders", "Klantnummer;Datum;Omzet\nK1;27-11-2026;10,00\n")
    assert job.issues.get().code == "order_key_required"
    assert not Order.objects.exists()


def test_exported_costs_import_back_without_changing_anything(sales_manager):
    AccountFactory(external_id="K1")
    job = _import(
        sales_manager,
        "costs",
        "Klantnummer;Datum;Categorie;Bedrag;Omschrijving\n"
        "K1;27-11-2026;Service;12,50;=SOM(A1)\nK1;28-11-2026;campaign;100;Mailing\n",
    )
    assert job.created == 2, list(job.issues.values())
    before = sorted(CostEntry.objects.values_list("id", "external_id", "amount", "version"))
    for lang in ("nl", "en"):
        out = io.StringIO()
        call_command("export", "costs", "-", lang=lang, as_user=sales_manager.username, stdout=out)
        again = _import(sales_manager, "costs", out.getvalue())
        assert again.status == ImportJob.Status.DONE, (lang, list(again.issues.values()))
        assert (again.created, again.updated, again.unchanged) == (0, 0, 2), lang
    assert sorted(CostEntry.objects.values_list("id", "external_id", "amount", "version")) == before


def test_a_job_is_seen_by_its_starter_and_managers_and_run_only_by_its_starter(
    owner, other_manager, sales_manager
):
    from relatiebeheer.common.errors import NotFound, PermissionRefused

    AccountFactory(external_id="K1", manager=owner)
    job = services.import_job_create(
        actor=owner, kind="orders", source=b"Order id;Klantnummer;Datum;Omzet\n", filename="o.csv"
    )
    visible = ImportJob.objects.visible_to
    assert visible(owner).filter(pk=job.pk).exists()
    assert visible(sales_manager).filter(pk=job.pk).exists()
    assert not visible(other_manager).filter(pk=job.pk).exists()
    with pytest.raises(PermissionRefused):
        services.import_job_start(actor=sales_manager, job=job, commit=True, background=False)
    with pytest.raises(NotFound):
        services.import_job_start(actor=other_manager, job=job, commit=True, background=False)


def test_a_preset_is_its_makers_unless_shared(owner, other_manager):
    from relatiebeheer.imports.models import ImportPreset

    job = services.import_job_create(
        actor=owner, kind="accounts", source=b"Naam;Plaats\nX;Y\n", filename="a.csv"
    )
    services.preset_save(actor=owner, job=job, name="Mijn eigen")
    services.preset_save(actor=owner, job=job, name="Voor iedereen", shared=True)
    names = ImportPreset.objects.visible_to
    assert set(names(owner).values_list("name", flat=True)) == {"Mijn eigen", "Voor iedereen"}
    assert list(names(other_manager).values_list("name", flat=True)) == ["Voor iedereen"]


def test_uploads_and_failures_are_audited(owner):
    from relatiebeheer.audit.models import AuditEntry
    from relatiebeheer.sales.services import order_create

    account = AccountFactory(external_id="K1", manager=owner)
    order = OrderFactory(account=account, external_id="O1", revenue=Decimal("1000.00"))
    with translation.override("en"):
        order_create(
            actor=owner,
            account=account,
            data={"date": order.date, "revenue": Decimal("-600.00"), "credit_of": order},
        )
    # an import that would credit the order beyond its revenue fails as a whole
    job = _import(
        owner,
        "orders",
        "Order id;Klantnummer;Datum;Omzet;Credit van\nC2;K1;2026-03-02;-600,00;O1\n",
    )
    assert job.status == ImportJob.Status.FAILED
    actions = set(AuditEntry.objects.filter(object_id=str(job.pk)).values_list("action", flat=True))
    assert {"import.upload", "import.failed"} <= actions
