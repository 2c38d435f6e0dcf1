"""Credit notes never credit more than their order — also when they arrive at once.

Real threads through a barrier (``run_concurrently``) on a real transaction: the row
service locks the account and checks inside its transaction, the import's bulk writer
locks the same accounts inside its merge transaction before it checks, so writers
crediting one order are checked one after the other, whichever door they come through.
"""

import threading
import time
from datetime import date
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import translation

from relatiebeheer.common.errors import InvalidInput
from relatiebeheer.imports import engine
from relatiebeheer.imports import services as imports
from relatiebeheer.imports.models import ImportJob
from relatiebeheer.sales.models import Order
from relatiebeheer.sales.services import order_create, order_update

from .concurrency import run_concurrently
from .factories import AccountFactory, OrderFactory, UserFactory

TOO_MUCH = "Credit notes cannot credit more than the order's revenue."


def _world():
    owner = UserFactory(language="en")
    account = AccountFactory(manager=owner, external_id="K001")
    order = OrderFactory(account=account, external_id="O1", revenue=Decimal("1000.00"))
    return owner, account, order


def _credited(order) -> Decimal:
    return Order.objects.filter(credit_of=order).aggregate(total=Sum("revenue"))[
        "total"
    ] or Decimal("0.00")


def _credit_note(owner, account, order, amount: str):
    def write():
        with translation.override("en"):
            fresh = Order.objects.get(pk=order.pk)
            return order_create(
                actor=owner,
                account=account,
                data={"date": date(2026, 3, 2), "revenue": Decimal(amount), "credit_of": fresh},
            )

    return write


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("amount", "fitting"), [("-600.00", 1), ("-300.00", 3)])
def test_simultaneous_credit_notes_fit_the_order_and_no_more(amount, fitting):
    """Five users credit one € 1.000 order at the same moment: the ones that fit succeed,
    the rest are refused with a message that says why."""
    owner, account, order = _world()
    results = run_concurrently(_credit_note(owner, account, order, amount), num_threads=5)
    written = [r for r in results if isinstance(r, Order)]
    refused = [r for r in results if isinstance(r, InvalidInput)]
    assert len(written) == fitting, results
    assert len(refused) == 5 - fitting, results
    assert all(r.errors == {"revenue": [TOO_MUCH]} for r in refused)
    assert _credited(order) == Decimal(amount) * fitting
    assert order.revenue + _credited(order) >= 0


@pytest.mark.django_db(transaction=True)
def test_an_import_and_users_crediting_one_order_at_once_never_exceed_it(monkeypatch):
    """An import of a −€ 600 credit note and four users typing one, on a € 1.000 order.
    The users are let go the moment the import's merge transaction has begun (the
    import's slow part — reading and checking the file — is over by then), and the
    import holds its transaction open for a second after its own check, so the merge and
    the row services really overlap: exactly one of the five gets in, and a refused
    import says why and imports nothing. (Without the bulk writer's lock on the account,
    PostgreSQL lets a user's credit note in beside the import's: −€ 1.200.)"""
    owner, account, order = _world()
    merging = threading.Barrier(5, timeout=30)

    def pause(point):
        if point == "import.merge-start":
            merging.wait()
        elif point == "import.merge":  # merged and checked, not yet committed
            time.sleep(1)

    monkeypatch.setattr(engine, "pause_here", pause)
    doors = iter(range(5))
    typed = _credit_note(owner, account, order, "-600.00")

    def credit():
        if next(doors) > 0:
            merging.wait()
            return typed()
        content = "Order id;Klantnummer;Datum;Omzet;Credit van\nC1;K001;2026-03-02;-600,00;O1\n"
        with translation.override("en"):
            job = imports.import_job_create(
                actor=owner, kind="orders", source=content.encode(), filename="credit.csv"
            )
            return imports.import_job_start(actor=owner, job=job, commit=True, background=False)

    results = run_concurrently(credit, num_threads=5)
    [job] = [r for r in results if isinstance(r, ImportJob)]
    written = [r for r in results if isinstance(r, Order)]
    refused = [r for r in results if isinstance(r, InvalidInput)]
    assert (job.status == ImportJob.Status.DONE) + len(written) == 1, (job.message, results)
    if job.status != ImportJob.Status.DONE:
        assert job.status == ImportJob.Status.FAILED and TOO_MUCH in job.message
    assert len(refused) == 4 - len(written), results
    assert _credited(order) == Decimal("-600.00")


@pytest.mark.django_db
def test_an_import_may_not_lower_an_order_below_its_credit_notes(owner, run_import_as):
    account = AccountFactory(manager=owner, external_id="K001")
    order = OrderFactory(account=account, external_id="O1", revenue=Decimal("1000.00"))
    order_create(
        actor=owner,
        account=account,
        data={"date": date(2026, 3, 2), "revenue": Decimal("-600.00"), "credit_of": order},
    )
    job = run_import_as(owner, "Order id;Klantnummer;Datum;Omzet\nO1;K001;2026-03-01;500,00\n")
    assert job.status == ImportJob.Status.FAILED
    assert "The revenue cannot drop below what credit notes already credited." in job.message
    order.refresh_from_db()
    assert order.revenue == Decimal("1000.00") and order.version == 1
    # The row service refuses the same change with the same words.
    with translation.override("en"), pytest.raises(InvalidInput) as refused:
        order_update(actor=owner, order=order, version=1, data={"revenue": Decimal("500.00")})
    assert refused.value.errors == {
        "revenue": ["The revenue cannot drop below what credit notes already credited."]
    }


@pytest.fixture
def run_import_as():
    def run(actor, content):
        with translation.override("en"):
            job = imports.import_job_create(
                actor=actor, kind="orders", source=content.encode(), filename="o.csv"
            )
            return imports.import_job_start(actor=actor, job=job, commit=True, background=False)

    return run
