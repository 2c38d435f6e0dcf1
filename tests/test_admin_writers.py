"""The admin is not a door around the services.

Every registered ModelAdmin is discovered. One that may add, change or delete must have
a scenario here, and each of its saves and deletes — posted as a browser would, from
the rendered form — must run a declared writer that audited (channel "admin"), fired
the "accounts changed" hook where it touches an account, and refused a save after
someone else's change (the version the admin saw travels in the form).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.contrib import admin
from django.urls import reverse

from relatiebeheer.audit.models import AuditEntry
from relatiebeheer.common import writers

from .htmlforms import flat, form_data


@dataclass
class Scenario:
    make: Any  # (world) -> instance
    change: dict[str, str] | None  # field → new value as typed in the form; None: no change
    add: Any = None  # (world) -> POST data for the add form, or None: no add
    delete: bool = True
    hook: bool = True  # the model's writers concern an account
    versioned: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


def _account(w):
    from .factories import AccountFactory

    return AccountFactory(name="Zilt", manager=w["owner"])


def _contact(w):
    from .factories import ContactFactory

    return ContactFactory(account=w["account"], role="Inkoper")


def _interaction(w):
    from relatiebeheer.relations.services import interaction_log

    return interaction_log(
        actor=w["owner"],
        account=w["account"],
        data={
            "occurred_at": w["now"],
            "subject": "Belletje",
            "duration_minutes": 10,
            "channel": "phone",
            "kind": "service",
        },
    )


def _task(w):
    from relatiebeheer.relations.services import task_create

    return task_create(actor=w["owner"], account=w["account"], data={"title": "Bellen"})


def _order(w):
    from relatiebeheer.sales.services import order_create

    return order_create(
        actor=w["owner"],
        account=w["account"],
        data={"date": date(2026, 3, 1), "number": "F1", "revenue": Decimal("1000.00")},
    )


def _cost(w):
    from relatiebeheer.sales.services import cost_entry_create

    return cost_entry_create(
        actor=w["owner"],
        account=w["account"],
        data={"date": date(2026, 3, 1), "category": "service", "amount": Decimal("50.00")},
    )


def _share(w):
    from relatiebeheer.relations.services import account_share

    return account_share(actor=w["admin"], account=w["account"], user=w["other"])


def _group(w):
    from relatiebeheer.relations.models import BuyingGroup

    return BuyingGroup.objects.create(name="Inkoopgroep Noord")


def _settings(w):
    from relatiebeheer.organisation.models import OrganisationSettings

    return OrganisationSettings.load()


def _satisfaction_settings(w):
    from relatiebeheer.satisfaction.models import SatisfactionSettings

    return SatisfactionSettings.load()


def _user(w):
    return w["other"]


def _attempt(w):
    from axes.models import AccessAttempt

    return AccessAttempt.objects.create(
        username="eva", ip_address="192.0.2.1", failures_since_start=5, get_data="", post_data=""
    )


SCENARIOS: dict[str, Scenario] = {
    "relations.account": Scenario(
        _account,
        {"notes": "Via de admin"},
        add=lambda w: {"name": "Nieuw B.V.", "status": "prospect", "manager": w["owner"].pk},
    ),
    "relations.contact": Scenario(
        _contact,
        {"role": "Directeur"},
        add=lambda w: {"account": w["account"].pk, "last_name": "Jansen", "language": "nl"},
    ),
    "relations.interaction": Scenario(
        _interaction,
        {"subject": "Teruggebeld"},
        add=lambda w: {
            "account": w["account"].pk,
            "occurred_at_0": "2026-03-02",
            "occurred_at_1": "10:00",
            "subject": "Bezoek",
            "channel": "visit",
            "kind": "service",
            "direction": "outbound",
            "duration_minutes": "30",
        },
    ),
    "relations.task": Scenario(
        _task,
        {"title": "Terugbellen"},
        add=lambda w: {"account": w["account"].pk, "title": "Offerte", "assignee": w["owner"].pk},
    ),
    "sales.order": Scenario(
        _order,
        {"notes": "Gecorrigeerd"},
        add=lambda w: {
            "account": w["account"].pk,
            "date": "2026-04-01",
            "number": "F2",
            "status": "open",
            "revenue": "250.00",
            "cost_of_goods": "100.00",
            "vat_rate": "21.00",
        },
    ),
    "sales.costentry": Scenario(
        _cost,
        {"description": "Lunch"},
        add=lambda w: {
            "account": w["account"].pk,
            "date": "2026-04-01",
            "category": "service",
            "amount": "75.00",
        },
    ),
    "relations.accountshare": Scenario(
        _share,
        None,
        add=lambda w: {"account": w["account"].pk, "user": w["sales"].pk},
        versioned=False,
    ),
    "relations.buyinggroup": Scenario(
        _group,
        {"name": "Inkoopgroep Zuid"},
        add=lambda w: {"name": "Inkoopgroep Oost"},
        versioned=False,
    ),
    "organisation.organisationsettings": Scenario(
        _settings, {"hourly_cost": "75.00"}, delete=False
    ),
    "satisfaction.satisfactionsettings": Scenario(
        _satisfaction_settings, {"reminder_days": "9"}, delete=False, hook=False
    ),
    "users.user": Scenario(_user, {"first_name": "Eva"}, delete=False, hook=False, versioned=False),
    "axes.accessattempt": Scenario(_attempt, None, hook=False, versioned=False),
}


def _writable(model_admin, request) -> bool:
    return any(
        [
            model_admin.has_add_permission(request),
            model_admin.has_change_permission(request, None),
            model_admin.has_delete_permission(request, None),
        ]
    )


@pytest.fixture
def world(owner, other_manager, sales_manager, admin_user, account):
    from django.utils import timezone

    return {
        "owner": owner,
        "other": other_manager,
        "sales": sales_manager,
        "admin": admin_user,
        "account": account,
        "now": timezone.now(),
    }


@pytest.fixture
def admin_client(client, admin_user):
    client.cookies["relatiebeheer_language"] = "en"
    client.force_login(admin_user)
    return client


def test_every_writable_model_admin_has_a_scenario(rf, admin_user):
    request = rf.get("/admin/")
    request.user = admin_user
    writable = {
        model._meta.label_lower
        for model, model_admin in admin.site._registry.items()
        if _writable(model_admin, request)
    }
    missing = writable - set(SCENARIOS)
    assert not missing, f"writable ModelAdmins without a scenario here: {sorted(missing)}"


class _Seen:
    def __init__(self):
        self.frames = []

    def __call__(self, spec, frame):
        self.frames.append((spec, frame))

    def outermost(self):
        assert self.frames, "no writer ran"
        return self.frames[-1]


def _url(instance, view):
    meta = instance._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}", args=[instance.pk])


def _post_change(client, instance, changes):
    page = client.get(_url(instance, "change"))
    assert page.status_code == 200
    data = form_data(page.content, f"{instance._meta.model_name}_form")
    for name, value in changes.items():
        data[name] = [value]
    return data


@pytest.mark.parametrize("label", sorted(k for k, s in SCENARIOS.items() if s.change))
def test_an_admin_change_goes_through_a_writer(label, world, admin_client):
    scenario = SCENARIOS[label]
    instance = scenario.make(world)
    data = _post_change(admin_client, instance, scenario.change)
    before = AuditEntry.objects.count()
    with writers.observe(seen := _Seen()):
        response = admin_client.post(_url(instance, "change"), flat(data))
    assert response.status_code == 302, response.content[:2000]
    spec, frame = seen.outermost()
    assert frame.audited
    assert frame.hooked or not (scenario.hook and spec.accounts)
    entry = AuditEntry.objects.order_by("-id").first()
    assert AuditEntry.objects.count() > before
    assert entry.channel == "admin"
    instance.refresh_from_db()
    for name, value in scenario.change.items():
        assert str(getattr(instance, name)) == value
    if scenario.versioned:
        assert frame.version_checked


@pytest.mark.parametrize(
    "label", sorted(k for k, s in SCENARIOS.items() if s.versioned and s.change)
)
def test_an_admin_save_after_someone_elses_change_is_refused(label, world, admin_client):
    scenario = SCENARIOS[label]
    instance = scenario.make(world)
    stale = _post_change(admin_client, instance, scenario.change)
    model = type(instance)
    model._base_manager.filter(pk=instance.pk).update(version=instance.version + 1)
    response = admin_client.post(_url(instance, "change"), flat(stale), follow=True)
    assert response.status_code == 200
    assert "Someone else changed this record" in response.content.decode()
    fresh = model._base_manager.get(pk=instance.pk)
    for name, value in scenario.change.items():
        assert str(getattr(fresh, name)) != value


@pytest.mark.parametrize("label", sorted(k for k, s in SCENARIOS.items() if s.add))
def test_an_admin_add_goes_through_a_writer(label, world, admin_client):
    scenario = SCENARIOS[label]
    app_label, model_name = label.split(".")
    add_url = reverse(f"admin:{app_label}_{model_name}_add")
    page = admin_client.get(add_url)
    assert page.status_code == 200
    data = form_data(page.content, f"{model_name}_form")
    for name, value in scenario.add(world).items():
        data[name] = [str(value)]
    with writers.observe(seen := _Seen()):
        response = admin_client.post(add_url, flat(data))
    assert response.status_code == 302, response.content.decode()[:3000]
    spec, frame = seen.outermost()
    assert frame.audited
    assert frame.hooked or not spec.accounts


@pytest.mark.parametrize("label", sorted(k for k, s in SCENARIOS.items() if s.delete))
def test_an_admin_delete_goes_through_a_writer(label, world, admin_client):
    scenario = SCENARIOS[label]
    instance = scenario.make(world)
    model = type(instance)
    with writers.observe(seen := _Seen()):
        response = admin_client.post(_url(instance, "delete"), {"post": "yes"})
    assert response.status_code == 302
    _spec, frame = seen.outermost()
    assert frame.audited
    assert not model._base_manager.filter(pk=instance.pk).exists()


def test_a_refused_admin_delete_says_why_and_keeps_the_record(world, admin_client):
    """An order with a credit note cannot go (the credit note protects it): the admin
    says so, and nothing is deleted."""
    from relatiebeheer.sales.services import order_create

    order = _order(world)
    order_create(
        actor=world["owner"],
        account=world["account"],
        data={"date": date(2026, 3, 2), "revenue": Decimal("-100.00"), "credit_of": order},
    )
    response = admin_client.post(_url(order, "delete"), {"post": "yes"}, follow=True)
    assert response.status_code == 200
    assert "Cannot delete order" in response.content.decode()
    assert type(order).objects.filter(pk=order.pk).exists()


def test_admin_credit_note_beyond_the_order_is_refused_with_a_message(world, admin_client):
    order = _order(world)
    add_url = reverse("admin:sales_order_add")
    data = form_data(admin_client.get(add_url).content, "order_form")
    data.update(
        {
            "account": [str(world["account"].pk)],
            "date": ["2026-03-05"],
            "status": ["open"],
            "revenue": ["-1500.00"],
            "cost_of_goods": ["0.00"],
            "vat_rate": ["21.00"],
            "credit_of": [str(order.pk)],
        }
    )
    response = admin_client.post(add_url, flat(data), follow=True)
    assert response.status_code == 200
    assert "cannot credit more" in response.content.decode()
    assert not type(order).objects.filter(credit_of=order).exists()
