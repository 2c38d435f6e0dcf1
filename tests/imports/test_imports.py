"""Imports: every kind, notations and encodings, all-or-nothing, partial, idempotency,
round trips, access rules, the hook and the audit row."""

import io
from datetime import date
from decimal import Decimal

import openpyxl
import pytest

from relatiebeheer.audit.models import AuditEntry
from relatiebeheer.common.errors import PermissionRefused
from relatiebeheer.imports import services
from relatiebeheer.imports.jobs import rejected_path
from relatiebeheer.imports.messages import describe
from relatiebeheer.imports.models import ImportJob
from relatiebeheer.relations.models import Account, Contact, Interaction
from relatiebeheer.sales.models import CostEntry, Order, OrderLine

from ..factories import AccountFactory, OrderFactory

pytestmark = pytest.mark.django_db

ACCOUNTS = (
    "Relatienummer;Naam;KvK-nummer;Plaats;Postcode;Marge\n"
    "K001;De Bijenkorf;12345678;Amsterdam;1012 ab;15,5\n"
    "K002;HEMA;34215639;Amsterdam;1000AA;\n"
    "K003;Café Noir;;Utrecht;;\n"
)
ORDERS = (
    "Factuurnummer;Debiteurnummer;Factuurdatum;Bedrag excl. btw;Kostprijs\n"
    "F1;K001;27-11-2026;€ 1.234,56;500\n"
    "F2;K002;2026-11-28;9500,00;\n"
    "F3;K001;01/12/2026;1.000.000,00;750.000,00\n"
)


def snapshot():
    return {
        "accounts": sorted(
            Account.objects.values_list(
                "id", "name", "external_id", "kvk_number", "version", "margin"
            )
        ),
        "orders": sorted(
            Order.objects.values_list(
                "id", "external_id", "account_id", "date", "revenue", "cost_of_goods", "version"
            )
        ),
        "contacts": sorted(Contact.objects.values_list("id", "last_name", "email", "version")),
        "costs": sorted(CostEntry.objects.values_list("id", "external_id", "amount", "version")),
    }


def test_accounts_then_orders_in_dutch_notation(sales_manager, run_import):
    job = run_import(sales_manager, "accounts", ACCOUNTS)
    assert job.status == ImportJob.Status.DONE and job.created == 3
    bijenkorf = Account.objects.get(external_id="K001")
    assert bijenkorf.margin == Decimal("15.50") and bijenkorf.postal_code == "1012 AB"
    assert bijenkorf.search_text == "de bijenkorf amsterdam 1012 ab 12345678"
    from relatiebeheer.relations.selectors import AccountFilters, account_list

    found = account_list(actor=sales_manager, filters=AccountFilters(q="bijenk 1012"))
    assert list(found) == [bijenkorf]  # imported accounts are searchable at once
    job = run_import(sales_manager, "orders", ORDERS)
    assert job.status == ImportJob.Status.DONE, job.message
    assert (job.created, job.updated, job.rows_invalid) == (3, 0, 0)
    f1 = Order.objects.get(external_id="F1")
    assert f1.revenue == Decimal("1234.56") and f1.cost_of_goods == Decimal("500.00")
    assert f1.date == date(2026, 11, 27) and f1.account == bijenkorf
    assert Order.objects.get(external_id="F3").revenue == Decimal("1000000.00")
    bijenkorf.refresh_from_db()
    assert bijenkorf.status == "customer" and bijenkorf.customer_since == date(2026, 11, 27)


def test_the_same_file_twice_gives_the_same_database(sales_manager, run_import):
    run_import(sales_manager, "accounts", ACCOUNTS)
    run_import(sales_manager, "orders", ORDERS)
    before = snapshot()
    again = run_import(sales_manager, "accounts", ACCOUNTS)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    again = run_import(sales_manager, "orders", ORDERS)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert snapshot() == before


def test_a_changed_row_updates_and_bumps_the_version(sales_manager, run_import):
    run_import(sales_manager, "accounts", ACCOUNTS)
    job = run_import(
        sales_manager, "accounts", ACCOUNTS.replace("Café Noir;;Utrecht", "Café Noir;;Zeist")
    )
    assert (job.created, job.updated, job.unchanged) == (0, 1, 2)
    noir = Account.objects.get(external_id="K003")
    assert noir.city == "Zeist" and noir.version == 2


@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_a_bad_row_anywhere_writes_nothing(sales_manager, run_import, where):
    run_import(sales_manager, "accounts", ACCOUNTS)
    rows = [f"F{i};K001;27-11-2026;{i},00;" for i in range(1, 100)]
    bad = "FX;K001;31-02-2026;12,00;"
    index = {"first": 0, "middle": 50, "last": len(rows)}[where]
    rows.insert(index, bad)
    content = "Factuurnummer;Debiteurnummer;Factuurdatum;Bedrag excl. btw;Kostprijs\n" + "\n".join(
        rows
    )
    before = snapshot()
    job = run_import(sales_manager, "orders", content)
    assert job.status == ImportJob.Status.INVALID
    assert job.rows_invalid == 1 and job.rows_valid == 99
    issue = job.issues.get()
    assert (issue.row, issue.column, issue.value, issue.code) == (
        index + 2,
        "Factuurdatum",
        "31-02-2026",
        "invalid_date",
    )
    assert snapshot() == before


def test_partial_imports_the_valid_rows_and_returns_the_rejected_ones(sales_manager, run_import):
    run_import(sales_manager, "accounts", ACCOUNTS)
    content = ORDERS + "F4;K009;27-11-2026;abc;\n"
    job = run_import(sales_manager, "orders", content, partial=True)
    assert job.status == ImportJob.Status.DONE
    assert (job.created, job.rows_invalid) == (3, 1)
    rejected = rejected_path(job).read_text(encoding="utf-8-sig").splitlines()
    assert rejected[0].startswith("Factuurnummer;") and rejected[0].endswith(
        ";Reden"
    )  # in the importer's language
    assert rejected[1].startswith("F4;K009;27-11-2026;abc;")
    assert "Bedrag excl. btw" in rejected[1] and "Debiteurnummer" in rejected[1]
    # The user fixes the row in the rejected file and imports it again.
    fixed = "\n".join(rejected).replace("K009", "K002").replace("abc", "12,50")
    job = run_import(sales_manager, "orders", fixed)
    assert job.status == ImportJob.Status.DONE and job.created == 1
    assert Order.objects.get(external_id="F4").revenue == Decimal("12.50")


def test_windows_1252_comma_separated_and_bom_files(sales_manager, run_import):
    content = "Name,City,KvK number\nCafé Noir,Zürich,12345678\n"
    job = run_import(sales_manager, "accounts", content, encoding="cp1252")
    assert job.status == ImportJob.Status.DONE and job.file_info["encoding"] == "cp1252"
    assert Account.objects.get(kvk_number="12345678").city == "Zürich"
    job = run_import(sales_manager, "accounts", "\ufeffNaam;Plaats\nBakker Bart;Sneek\n")
    assert job.status == ImportJob.Status.DONE and job.file_info["delimiter"] == ";"
    assert Account.objects.filter(name="Bakker Bart").exists()


def test_xlsx_with_numbers_dates_and_formula_like_text(sales_manager, run_import):
    account = AccountFactory(name="De Bijenkorf", external_id="K001")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Order id", "Klantnummer", "Datum", "Omzet", "Opmerkingen"])
    sheet.append(["X1", "K001", date(2026, 11, 27), 9500.5, '\'=HYPERLINK("x")'])
    sheet.append(["X2", "K001", "27-11-2026", "1.234,56", "gewoon"])
    buffer = io.BytesIO()
    book.save(buffer)
    job = run_import(sales_manager, "orders", buffer.getvalue(), filename="orders.xlsx")
    assert job.status == ImportJob.Status.DONE, (job.message, list(job.issues.values()))
    x1 = Order.objects.get(external_id="X1")
    assert (x1.account, x1.revenue, x1.date) == (account, Decimal("9500.50"), date(2026, 11, 27))
    assert x1.notes == '=HYPERLINK("x")'
    assert Order.objects.get(external_id="X2").revenue == Decimal("1234.56")


def test_an_ambiguous_amount_asks_for_the_notation(sales_manager, run_import):
    AccountFactory(external_id="K001")
    content = "Order id;Klantnummer;Datum;Omzet\nA1;K001;2026-11-27;9.500\n"
    job = run_import(sales_manager, "orders", content, commit=False)
    assert job.issues.get().code == "ambiguous_amount"
    preview = services.selectors.job_preview(job) if hasattr(services, "selectors") else None
    from relatiebeheer.imports.selectors import job_preview

    preview = job_preview(job)
    assert "notation" in preview["needs"]
    job = run_import(sales_manager, "orders", content, notation="nl")
    assert Order.objects.get(external_id="A1").revenue == Decimal("9500.00")


def test_order_lines_are_grouped_into_orders(sales_manager, run_import):
    AccountFactory(external_id="K001")
    content = (
        "Ordernummer;Klantnummer;Datum;Artikel;Aantal;Regelbedrag;Regelkostprijs\n"
        "O1;K001;27-11-2026;Jas;2;200,00;120,00\n"
        "O1;K001;27-11-2026;Sjaal;1;25,50;10,00\n"
        "O2;K001;28-11-2026;Jas;1;100,00;60,00\n"
    )
    job = run_import(sales_manager, "orders", content)
    assert job.status == ImportJob.Status.DONE, (job.message, list(job.issues.values()))
    o1 = Order.objects.get(number="O1")
    assert o1.revenue == Decimal("225.50") and o1.cost_of_goods == Decimal("130.00")
    assert sorted(o1.lines.values_list("product", "quantity")) == [
        ("Jas", Decimal("2")),
        ("Sjaal", Decimal("1")),
    ]
    lines = sorted(OrderLine.objects.values_list("id", flat=True))
    again = run_import(sales_manager, "orders", content)
    assert (again.created, again.updated) == (0, 0)
    assert sorted(OrderLine.objects.values_list("id", flat=True)) == lines


def test_credit_notes_point_at_their_order(sales_manager, run_import):
    AccountFactory(external_id="K001")
    content = (
        "Order id;Klantnummer;Datum;Omzet;Credit van\n"
        "C1;K001;2026-11-01;100,00;\n"
        "C2;K001;2026-11-02;-40,00;C1\n"
    )
    job = run_import(sales_manager, "orders", content)
    assert job.status == ImportJob.Status.DONE, (job.message, list(job.issues.values()))
    assert Order.objects.get(external_id="C2").credit_of == Order.objects.get(external_id="C1")
    job = run_import(
        sales_manager, "orders", "Order id;Klantnummer;Datum;Omzet\nC3;K001;2026-11-03;-5,00\n"
    )
    assert job.issues.get().code == "negative_without_credit"


def test_contacts_costs_and_contact_moments(sales_manager, run_import, owner):
    account = AccountFactory(external_id="K001", manager=owner)
    job = run_import(
        sales_manager,
        "contacts",
        "Klantnummer;Voornaam;Achternaam;E-mail;Telefoon;Interesses\n"
        "K001;Anna;Jansen;anna@example.nl;020 123 4567;Golf, wijn\n",
    )
    assert job.status == ImportJob.Status.DONE, list(job.issues.values())
    anna = Contact.objects.get(email="anna@example.nl")
    assert anna.phone == "+31201234567" and sorted(
        anna.interests.values_list("name", flat=True)
    ) == ["golf", "wijn"]
    job = run_import(
        sales_manager,
        "costs",
        "Klantnummer;Datum;Categorie;Bedrag\nK001;27-11-2026;Service;12,50\nK001;28-11-2026;campaign;100\n",
    )
    assert job.status == ImportJob.Status.DONE, list(job.issues.values())
    assert CostEntry.objects.filter(account=account).count() == 2
    again = run_import(
        sales_manager,
        "costs",
        "Klantnummer;Datum;Categorie;Bedrag\nK001;27-11-2026;Service;12,50\nK001;28-11-2026;campaign;100\n",
    )
    assert (again.created, again.unchanged) == (0, 2)
    job = run_import(
        sales_manager,
        "interactions",
        "Klantnummer;Datum;Onderwerp;Kanaal;Tevredenheid\nK001;27-11-2026 14:30;Levering besproken;Telefoon;goed\n",
    )
    assert job.status == ImportJob.Status.DONE, list(job.issues.values())
    moment = Interaction.objects.get(subject="Levering besproken")
    assert moment.satisfaction == 3 and moment.channel == "phone"
    assert moment.occurred_at.isoformat() == "2026-11-27T13:30:00+00:00"


def test_round_trip_export_then_import_changes_nothing(sales_manager, owner, run_import):
    from django.core.management import call_command

    run_import(sales_manager, "accounts", ACCOUNTS)
    run_import(sales_manager, "orders", ORDERS)
    Account.objects.filter(external_id="K001").update(industry='=HYPERLINK("x")', manager=owner)
    run_import(
        sales_manager,
        "contacts",
        "Klantnummer;Voornaam;Achternaam;E-mail;Interesses\nK001;Anna;Jansen;anna@example.nl;golf\n",
    )
    before = snapshot()
    for lang in ("nl", "en"):
        for kind in ("accounts", "contacts", "orders", "costs"):
            out = io.StringIO()
            call_command("export", kind, "-", lang=lang, as_user=sales_manager.username, stdout=out)
            job = run_import(sales_manager, kind, out.getvalue())
            assert job.status == ImportJob.Status.DONE, (kind, lang, list(job.issues.values()))
            assert (job.created, job.updated) == (0, 0), (kind, lang)
    assert snapshot() == before
    assert Account.objects.get(external_id="K001").industry == '=HYPERLINK("x")'


def test_account_managers_import_only_into_their_own_accounts(owner, other_manager, run_import):
    mine = AccountFactory(external_id="MINE", manager=owner)
    AccountFactory(external_id="THEIRS", manager=other_manager)
    OrderFactory(account=Account.objects.get(external_id="THEIRS"), external_id="T1")
    content = "Order id;Klantnummer;Datum;Omzet\nM1;MINE;2026-11-27;10,00\nT2;THEIRS;2026-11-27;10,00\nT1;MINE;2026-11-27;10,00\n"
    job = run_import(owner, "orders", content)
    codes = sorted(job.issues.values_list("code", flat=True))
    # T1 is another portfolio's order: its external id is taken, nothing more is said.
    assert codes == ["external_id_taken", "unknown_account"]
    assert not Order.objects.filter(account=mine).exists()
    # New accounts land in the importer's portfolio; handing them to others is refused.
    job = run_import(owner, "accounts", "Naam;Plaats\nNieuw;Gouda\n")
    assert Account.objects.get(name="Nieuw").manager == owner
    job = run_import(owner, "accounts", f"Naam;Accountmanager\nAnder;{other_manager.username}\n")
    assert job.issues.get().code == "manager_not_allowed"


@pytest.mark.parametrize("kind", ["orders", "costs", "contacts", "interactions"])
def test_another_portfolios_record_is_as_unknown_as_a_missing_one(
    owner, other_manager, run_import, kind
):
    # Given an order (or cost) of another manager's account, and one of the owner's
    from ..factories import ContactFactory, CostEntryFactory, InteractionFactory

    mine = AccountFactory(external_id="MINE", manager=owner)
    theirs = AccountFactory(external_id="THEIRS", manager=other_manager)
    if kind == "orders":
        hidden = OrderFactory(account=theirs, external_id="T1", revenue=Decimal("50.00"))
        header, value = "Nummer;Klantnummer;Datum;Omzet", "10,00"
        mapping = {"id": "Nummer", "account_external_id": "Klantnummer", "date": "Datum"}
        mapping["revenue"] = "Omzet"
    elif kind == "costs":
        hidden = CostEntryFactory(account=theirs)
        header, value = "Nummer;Klantnummer;Datum;Bedrag;Soort", "10,00;service"
        mapping = {"id": "Nummer", "account_external_id": "Klantnummer", "date": "Datum"}
        mapping.update({"amount": "Bedrag", "category": "Soort"})
    elif kind == "contacts":
        hidden = ContactFactory(account=theirs)
        header, value = "Nummer;Klantnummer;Datum;Achternaam", "Jansen"
        mapping = {"id": "Nummer", "account_external_id": "Klantnummer", "last_name": "Achternaam"}
    else:
        hidden = InteractionFactory(account=theirs)
        header, value = "Nummer;Klantnummer;Datum;Onderwerp", "Bezoek"
        mapping = {"id": "Nummer", "account_external_id": "Klantnummer", "occurred_at": "Datum"}
        mapping["subject"] = "Onderwerp"
    missing = 10**9
    content = f"{header}\n{hidden.pk};MINE;27-11-2026;{value}\n{missing};MINE;28-11-2026;{value}\n"
    # When the owner names both by Relatiebeheer number
    job = run_import(owner, kind, content, mapping=mapping)
    # Then both rows get the same answer: unknown record, with the same reason
    issues = list(job.issues.order_by("row").values_list("field", "code"))
    assert issues == [("id", "unknown_record"), ("id", "unknown_record")]
    reports = {describe(i.code, i.params) for i in job.issues.all()}
    assert len(reports) == 1
    # … and nothing of theirs changed, nothing was added to mine.
    hidden.refresh_from_db()
    assert hidden.account == theirs and getattr(hidden, "version", 1) == 1
    assert not Order.objects.filter(account=mine).exists()
    assert not Contact.objects.filter(account=mine).exists()
    assert not Interaction.objects.filter(account=mine).exists()


def test_read_only_users_cannot_import(reader):
    with pytest.raises(PermissionRefused):
        services.import_job_create(
            actor=reader, kind="accounts", source=b"Naam\nX\n", filename="a.csv"
        )


def test_one_audit_row_per_import_and_one_hook_call(
    sales_manager, run_import, monkeypatch, django_capture_on_commit_callbacks
):
    from relatiebeheer import hooks

    calls = []
    monkeypatch.setattr(hooks, "_listeners", [calls.append])
    with django_capture_on_commit_callbacks(execute=True):
        run_import(sales_manager, "accounts", ACCOUNTS)
    calls.clear()
    with django_capture_on_commit_callbacks(execute=True):
        job = run_import(sales_manager, "orders", ORDERS)
    entry = AuditEntry.objects.get(action="import.orders", object_id=str(job.pk))
    assert entry.extra["created"] == 3 and entry.extra["rows"] == 3
    ids = sorted(
        Account.objects.filter(external_id__in=["K001", "K002"]).values_list("id", flat=True)
    )
    assert calls == [ids]


def test_a_missing_required_column_is_refused_before_anything_runs(sales_manager):
    from relatiebeheer.common.errors import InvalidInput

    job = services.import_job_create(
        actor=sales_manager, kind="orders", source=b"Iets\n1\n", filename="o.csv"
    )
    with pytest.raises(InvalidInput):
        services.import_job_start(actor=sales_manager, job=job, commit=True, background=False)
