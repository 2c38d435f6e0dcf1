"""Loyalty's kept figures are checked and repaired (the cached points balances against
the ledger), and every loyalty writer is a declared writer."""

import importlib
import inspect
import pkgutil
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import F

import relatiebeheer.loyalty
from relatiebeheer.common.writers import writer_spec
from relatiebeheer.loyalty.models import PointsAccount, Programme
from relatiebeheer.loyalty.programme import bulk
from relatiebeheer.loyalty.programme.ledger import ledger_state
from relatiebeheer.ops.figure_checks import check_figures

from .conftest import order

D = Decimal
TODAY = date(2026, 3, 16)


@pytest.fixture
def savings(db):
    return Programme.objects.create(
        code="sparen", name="Spaaractie", starts_on=date(2025, 1, 1), points_enabled=True
    )


def _state(pa):
    pa.refresh_from_db()
    state = ledger_state(pa)
    return (pa.balance, pa.pending), (state.balance, state.pending)


@pytest.mark.django_db
def test_a_broken_points_balance_is_reported_and_repaired(make_account, savings):
    paid, open_ = make_account(), make_account()
    order(paid, date(2026, 2, 1), "1234.56")
    order(open_, date(2026, 2, 2), "500.00", status="open")  # pending points
    bulk.points_sync(savings, as_of=TODAY)
    broken = PointsAccount.objects.get(account=paid)
    pending = PointsAccount.objects.get(account=open_)
    PointsAccount.objects.filter(pk=broken.pk).update(balance=F("balance") + 7)
    PointsAccount.objects.filter(pk=pending.pk).update(pending=0)

    (looked,) = check_figures(only=["loyalty.points"], repair=False)
    assert (looked.checked, looked.differences, looked.repaired) == (2, 2, 0)
    assert any(f"points account {broken.pk}: cached 1241" in e for e in looked.examples)
    assert _state(broken) == ((1241, 0), (1234, 0))  # nothing written without repair

    (fixed,) = check_figures(only=["loyalty.points"], repair=True)
    assert (fixed.differences, fixed.repaired) == (2, 2)
    assert _state(broken) == ((1234, 0), (1234, 0))
    assert _state(pending) == ((500, 500), (500, 500))
    (again,) = check_figures(only=["loyalty.points"], repair=True)
    assert again.differences == 0


@pytest.mark.django_db
def test_the_check_runs_from_the_command_line(make_account, savings, capsys):
    account = make_account()
    order(account, date(2026, 2, 1), "100.00")
    bulk.points_sync(savings, as_of=TODAY)
    PointsAccount.objects.update(balance=1)
    with pytest.raises(SystemExit) as differed:
        call_command("check-figures", "--only", "loyalty.points")
    assert differed.value.code == 1
    assert "cached 1 (pending 0), ledger 100" in capsys.readouterr().out
    assert PointsAccount.objects.get().balance == 100
    call_command("check-figures", "--only", "loyalty.points")  # nothing differs now


def _loyalty_modules(name: str):
    package = relatiebeheer.loyalty
    for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
        if info.name.rsplit(".", 1)[-1] == name:
            yield importlib.import_module(info.name)


WRITER_MODULES = [*_loyalty_modules("services"), *_loyalty_modules("bulk")]


def test_the_discovery_finds_every_room():
    found = {m.__name__.removeprefix("relatiebeheer.loyalty.") for m in WRITER_MODULES}
    assert {
        "binding.services",
        "drivers.services",
        "drivers.bulk",
        "programme.services",
        "programme.bulk",
        "campaigns.services",
        "bulk",
    } <= found


@pytest.mark.parametrize("module", WRITER_MODULES, ids=lambda m: m.__name__)
def test_every_public_function_of_a_services_or_bulk_module_is_a_declared_writer(module):
    public = [
        (name, obj)
        for name, obj in vars(module).items()
        if inspect.isfunction(obj) and obj.__module__ == module.__name__ and not name[0] == "_"
    ]
    assert public
    undeclared = [name for name, obj in public if writer_spec(obj) is None]
    assert not undeclared, f"{module.__name__}: not declared writers: {undeclared}"
    for name, obj in public:
        actor = inspect.signature(obj).parameters.get("actor")
        assert actor is not None and actor.annotation != inspect.Parameter.empty, name
