"""The writers of sales, relations and imports keep the writer contract.

* every public function of their ``services.py`` and ``bulk.py`` is a declared writer
  (helpers and permission checks live elsewhere, e.g. ``rules.py``);
* each bulk writer, run by an import of its kind, writes exactly one audit row for the
  job, fires the "accounts changed" hook once with every account it touched, and locks
  what its rules span (orders: the accounts);
* contact moments fire the hook when logged, edited and deleted (contact time is part
  of customer value).
"""

import inspect
from datetime import timedelta

import pytest
from django.utils import timezone

from relatiebeheer import hooks
from relatiebeheer.audit.models import AuditEntry
from relatiebeheer.common import writers
from relatiebeheer.imports import services as import_services
from relatiebeheer.imports.models import ImportJob
from relatiebeheer.relations import bulk as relations_bulk
from relatiebeheer.relations import services as relations_services
from relatiebeheer.relations.models import Account
from relatiebeheer.relations.services import (
    interaction_delete,
    interaction_log,
    interaction_update,
)
from relatiebeheer.sales import bulk as sales_bulk
from relatiebeheer.sales import services as sales_services

from .factories import AccountFactory, ContactFactory, OrderFactory

WRITER_MODULES = [
    sales_services,
    sales_bulk,
    relations_services,
    relations_bulk,
    import_services,
]


@pytest.mark.parametrize("module", WRITER_MODULES, ids=lambda m: m.__name__)
def test_every_public_function_of_a_services_or_bulk_module_is_a_writer(module):
    functions = {
        name: obj
        for name, obj in vars(module).items()
        if inspect.isfunction(obj)
        and not name.startswith("_")
        # what the module defines (a writer keeps its own module through functools.wraps)
        and obj.__module__ == module.__name__
    }
    assert functions
    undeclared = [name for name, obj in functions.items() if writers.writer_spec(obj) is None]
    assert not undeclared, f"{module.__name__}: not declared with @writer: {undeclared}"
    if module.__name__.endswith(".bulk"):
        assert all(writers.writer_spec(f).bulk for f in functions.values())


@pytest.fixture
def listened(monkeypatch, django_capture_on_commit_callbacks):
    """The "accounts changed" calls made by ``run()`` (listeners run after commit)."""
    calls: list[list[int]] = []
    monkeypatch.setattr(hooks, "_listeners", [calls.append])

    def run(action):
        calls.clear()
        with django_capture_on_commit_callbacks(execute=True):
            result = action()
        return result, list(calls)

    return run


@pytest.fixture
def bulk_frames():
    """The frames of the bulk writers that ran inside ``with bulk_frames() as seen``."""
    seen = []

    def watch(spec, frame):
        if spec.bulk:
            seen.append((spec, frame))

    return lambda: _Watching(watch, seen)


class _Watching(writers.observe):
    def __init__(self, observer, seen):
        super().__init__(observer)
        self.seen = seen

    def __enter__(self):
        super().__enter__()
        return self.seen


KIND_FILES = {
    "accounts": (
        "relations.bulk.accounts_merge",
        "Relatienummer;Naam;Plaats\nK3;Nieuw;Gouda\nK1;Oud;Zeist\n",
    ),
    "contacts": (
        "relations.bulk.contacts_merge",
        "Klantnummer;Voornaam;Achternaam;Interesses\nK1;Anna;Jansen;golf\nK2;Bas;Smit;\n",
    ),
    "orders": (
        "sales.bulk.orders_merge",
        "Order id;Klantnummer;Datum;Omzet;Credit van\nA1;K1;2026-03-27;100,00;\nA2;K2;2026-03-27;50,00;\nA3;K1;2026-03-28;-40,00;A1\n",
    ),
    "costs": (
        "sales.bulk.cost_entries_merge",
        "Klantnummer;Datum;Categorie;Bedrag\nK1;27-03-2026;Service;12,50\nK2;28-03-2026;campaign;100\n",
    ),
    "interactions": (
        "relations.bulk.interactions_merge",
        "Klantnummer;Datum;Onderwerp;Duur\nK1;27-03-2026 14:30;Levering;10\nK2;27-03-2026 15:00;Offerte;20\n",
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize("kind", list(KIND_FILES))
def test_each_bulk_writer_audits_once_hooks_once_and_locks_what_its_rules_span(
    sales_manager, listened, bulk_frames, kind
):
    first = AccountFactory(external_id="K1")
    second = AccountFactory(external_id="K2")
    writer_name, content = KIND_FILES[kind]

    def run():
        job = import_services.import_job_create(
            actor=sales_manager, kind=kind, source=content.encode(), filename="f.csv"
        )
        with bulk_frames() as seen:
            job = import_services.import_job_start(
                actor=sales_manager, job=job, commit=True, background=False
            )
        return job, seen

    (job, seen), calls = listened(run)
    assert job.status == ImportJob.Status.DONE, (job.message, list(job.issues.values()))
    [(spec, frame)] = seen
    assert spec.name == f"relatiebeheer.{writer_name}"
    assert frame.audited == 1  # one audit row for the whole job …
    entry = AuditEntry.objects.get(action=f"import.{kind}", object_id=str(job.pk))
    assert (entry.extra["created"], entry.extra["updated"]) == (job.created, job.updated)
    assert entry.extra["rows"] == job.rows_total
    if kind == "accounts":  # one updated, one new
        expected = {first.pk, Account.objects.get(external_id="K3").pk}
    else:
        expected = {first.pk, second.pk}
    assert calls == [sorted(expected)]  # … and one hook call with every account
    assert set(spec.locks) <= frame.locked
    if kind == "orders":
        assert "relations.account" in frame.locked


@pytest.mark.django_db
def test_an_import_that_changes_nothing_audits_its_check_and_changes_no_account(
    sales_manager, listened
):
    AccountFactory(external_id="K1")
    OrderFactory(account=Account.objects.get(external_id="K1"), external_id="A1")
    content = b"Order id;Klantnummer;Datum;Omzet\nA1;K1;2026-03-01;1000,00\n"

    def run():
        job = import_services.import_job_create(
            actor=sales_manager, kind="orders", source=content, filename="f.csv"
        )
        return import_services.import_job_start(
            actor=sales_manager, job=job, commit=True, background=False
        )

    job, calls = listened(run)
    assert (job.status, job.created, job.updated, job.unchanged) == ("done", 0, 0, 1)
    assert calls == []
    assert AuditEntry.objects.filter(action="import.orders", object_id=str(job.pk)).count() == 1


@pytest.mark.django_db
def test_contact_moments_fire_the_hook_when_logged_edited_and_deleted(owner, listened):
    """Contact time counts in customer value: every change to a contact moment tells
    the figures of its account."""
    account = AccountFactory(manager=owner)
    contact = ContactFactory(account=account)
    moment, calls = listened(
        lambda: interaction_log(
            actor=owner,
            account=account,
            data={
                "channel": "phone",
                "kind": "question",
                "subject": "Levering",
                "duration_minutes": 10,
                "occurred_at": timezone.now() - timedelta(hours=1),
            },
            contacts=[contact],
        )
    )
    assert calls == [[account.pk]]
    _updated, calls = listened(
        lambda: interaction_update(
            actor=owner, interaction=moment, version=1, data={"duration_minutes": 25}
        )
    )
    assert calls == [[account.pk]]
    _deleted, calls = listened(
        lambda: interaction_delete(actor=owner, interaction=moment, version=2)
    )
    assert calls == [[account.pk]]
