"""No door around the writers: a request or command that writes customer data outside a
writer is caught (``common/writers.py``, "No door around the writers").

The rest of the suite runs with ``STRICT_DOORS`` on, so every page, endpoint, admin
page and command that a test reaches is checked; this module shows that the guard
catches a write around the services at each door, lets the same write through inside a
writer, and lets declared bookkeeping tables and derived refreshes pass.
"""

from __future__ import annotations

import logging

import pytest
from django.http import HttpResponse
from django.urls import path

from relatiebeheer.common import writers
from relatiebeheer.common.writers import WriterContractBroken
from relatiebeheer.ops.commands import ActorCommand
from relatiebeheer.relations.models import Account
from relatiebeheer.relations.services import account_update

from .factories import AccountFactory

pytestmark = pytest.mark.django_db


def _rename_directly(request, pk: int):
    Account.objects.filter(pk=pk).update(name="Omweg B.V.")
    return HttpResponse("ok")


def _rename_through_the_service(request, pk: int):
    account = Account.objects.get(pk=pk)
    account_update(
        actor=request.user, account=account, version=account.version, data={"name": "Via B.V."}
    )
    return HttpResponse("ok")


urlpatterns = [
    path("rogue/<int:pk>/", _rename_directly),
    path("api/rogue/<int:pk>/", _rename_directly),
    path("proper/<int:pk>/", _rename_through_the_service),
]


# A transaction test: the refused statement marks the surrounding transaction for
# rollback, as it would a request's; the check afterwards needs a fresh one.
@pytest.mark.django_db(transaction=True)
@pytest.mark.urls(__name__)
@pytest.mark.parametrize("url", ["/rogue/{pk}/", "/api/rogue/{pk}/"])
def test_a_view_that_writes_around_the_services_fails(web_as, owner, url):
    account = AccountFactory(manager=owner, name="Recht B.V.")
    client = web_as(owner)
    with pytest.raises(WriterContractBroken, match="door wrote relations_account outside"):
        client.get(url.format(pk=account.pk))
    account.refresh_from_db()
    assert account.name == "Recht B.V."  # refused before the statement ran


@pytest.mark.urls(__name__)
def test_the_same_write_through_the_service_passes(web_as, owner):
    account = AccountFactory(manager=owner, name="Recht B.V.")
    response = web_as(owner).get(f"/proper/{account.pk}/")
    assert response.status_code == 200
    account.refresh_from_db()
    assert account.name == "Via B.V."


def test_a_command_that_writes_around_the_services_fails(owner):
    account = AccountFactory(manager=owner, name="Recht B.V.")

    class Rogue(ActorCommand):
        def handle(self, *args, **options):
            Account.objects.filter(pk=account.pk).update(name="Omweg B.V.")

    with pytest.raises(WriterContractBroken, match="the cli door wrote relations_account"):
        Rogue().run_from_argv(["relatiebeheer", "rogue"])


def test_outside_strict_mode_it_is_logged_and_the_write_stands(settings, caplog, owner):
    settings.STRICT_DOORS = False
    account = AccountFactory(manager=owner, name="Recht B.V.")
    with caplog.at_level(logging.ERROR), writers.door("web"):
        Account.objects.filter(pk=account.pk).update(name="Omweg B.V.")
    assert "the web door wrote relations_account outside a writer" in caplog.text
    account.refresh_from_db()
    assert account.name == "Omweg B.V."


def test_bookkeeping_tables_and_derived_refreshes_pass(owner):
    from relatiebeheer.satisfaction.models import RateCounter

    account = AccountFactory(manager=owner, name="Recht B.V.")
    with writers.door("web"):
        RateCounter.objects.create(key="ip:192.0.2.1", window=1, count=1)  # writes_freely
        with writers.derived_writes():
            Account.objects.filter(pk=account.pk).update(name="Afgeleid B.V.")
        with pytest.raises(WriterContractBroken):
            Account.objects.filter(pk=account.pk).update(name="Omweg B.V.")


def test_outside_any_door_nothing_is_checked(owner):
    """Tests, migrations and the shell write freely: only doors are guarded."""
    account = AccountFactory(manager=owner)
    Account.objects.filter(pk=account.pk).update(name="Shell B.V.")
