"""GDPR: every relation to a contact has a policy; the export covers them; an erasure
leaves the person's data nowhere (every text column, task arguments, the outbox and
sessions scanned) while orders and amounts stay."""

import json
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.sessions.models import Session
from django.db import models
from django_tasks import task

from relatiebeheer.audit.models import AuditEntry
from relatiebeheer.privacy.policies import policy_for
from relatiebeheer.privacy.selectors import contact_export, contact_relations
from relatiebeheer.privacy.services import contact_erase
from relatiebeheer.relations.models import ConsentRecord, Contact
from relatiebeheer.sales.models import Order

from ..factories import ContactFactory, InteractionFactory, OrderFactory, TaskFactory

pytestmark = pytest.mark.django_db


def test_every_relation_to_a_contact_has_a_privacy_policy():
    missing = [
        f"{r.related_model._meta.label}.{r.field.name}"
        for r in contact_relations()
        if policy_for(r.related_model._meta.label, r.field.name) is None
    ]
    assert not missing, f"add a RelationPolicy in privacy/policies.py for {missing}"
    assert len(contact_relations()) >= 2


@pytest.fixture
def person(account):
    contact = ContactFactory(
        account=account,
        first_name="Marieke",
        last_name="van Leeuwen",
        email="marieke.vl@debijenkorf.example",
        phone="+31612345678",
    )
    ConsentRecord.objects.create(
        contact=contact, purpose="surveys", granted=True, source="web_form"
    )
    interaction = InteractionFactory(
        account=account,
        subject="Gesprek met Marieke van Leeuwen",
        notes="Mail marieke.vl@debijenkorf.example terug",
    )
    interaction.contacts.add(contact)
    TaskFactory(account=account, title="Marieke van Leeuwen terugbellen op +31612345678")
    OrderFactory(account=account, revenue=Decimal("9500.00"))
    return contact


def test_export_holds_the_contact_and_everything_linked(owner, person):
    data = contact_export(actor=owner, contact=person)
    assert data["contact"]["email"] == "marieke.vl@debijenkorf.example"
    assert len(data["related"]["relations.ConsentRecord.contact"]) == 1
    assert len(data["related"]["relations.Interaction.contacts"]) == 1
    json.dumps(data)  # machine-readable
    assert AuditEntry.objects.filter(action="privacy.export", object_id=str(person.pk)).exists()


def _text_columns():
    for model in apps.get_models(include_auto_created=True):
        if model._meta.proxy or not model._meta.managed:
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, (models.CharField, models.TextField, models.JSONField)):
                yield model, field


@task()
def remind(email: str) -> None:  # pragma: no cover - never run: its arguments are the point
    pass


def test_erasure_leaves_the_person_nowhere_but_keeps_the_orders(sales_manager, person, client):
    values = ["Marieke van Leeuwen", "marieke.vl@debijenkorf.example", "+31612345678", "Leeuwen"]
    # Personal data in places a scan must also reach: task arguments and a session.
    from django_tasks_db.models import DBTaskResult

    remind.enqueue(email="marieke.vl@debijenkorf.example")
    client.force_login(sales_manager)
    session = client.session
    session["last_search"] = "Marieke van Leeuwen"
    session.save()
    orders_before = list(Order.objects.values_list("pk", "revenue"))

    contact_erase(actor=sales_manager, contact=person)

    leftovers = []
    for model, field in _text_columns():
        for pk, value in model._base_manager.values_list("pk", field.name):
            text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
            if text and any(v.lower() in text.lower() for v in values):
                leftovers.append((model._meta.label, field.name, pk))
    for stored in Session.objects.all():
        decoded = json.dumps(stored.get_decoded(), default=str)
        assert not any(v in decoded for v in values)
    assert not leftovers, leftovers
    assert DBTaskResult.objects.exists()  # the task stays, without the address
    assert list(Order.objects.values_list("pk", "revenue")) == orders_before
    person.refresh_from_db()
    assert person.erased_at is not None and "7" in person.notes
    assert AuditEntry.objects.filter(action="privacy.erase", object_id=str(person.pk)).exists()


def test_account_managers_cannot_erase(owner, person):
    from relatiebeheer.common.errors import PermissionRefused

    with pytest.raises(PermissionRefused):
        contact_erase(actor=owner, contact=person)
    assert Contact.objects.get(pk=person.pk).email


def test_withdrawal_in_one_click_on_the_privacy_page(web_as, owner, person):
    client = web_as(owner)
    page = client.get(f"/privacy/contacts/{person.pk}/")
    assert page.status_code == 200
    response = client.post(
        f"/privacy/contacts/{person.pk}/consent/", {"purpose": "surveys", "granted": "0"}
    )
    assert response.status_code == 302
    latest = (
        ConsentRecord.objects.filter(contact=person, purpose="surveys")
        .order_by("-recorded_at", "-id")
        .first()
    )
    assert latest.granted is False and latest.source == "web_form"


def test_hidden_relations_count_too_a_loyalty_card_forgets_its_holder(sales_manager, person):
    """``related_name="+"`` relations are left out of ``_meta.related_objects``; the
    card's holder once stayed linked to an erased person."""
    from datetime import date

    from relatiebeheer.loyalty.models import Card, Programme
    from relatiebeheer.loyalty.programme.services import card_issue

    assert "loyalty.Card" in {r.related_model._meta.label for r in contact_relations()}
    programme = Programme.objects.create(code="kaart", name="Kaart", starts_on=date(2026, 1, 1))
    card = card_issue(
        actor=sales_manager, account=person.account, programme=programme, contact=person
    )
    exported = contact_export(actor=sales_manager, contact=person)
    assert [row["id"] for row in exported["related"]["loyalty.Card.contact"]] == [card.pk]

    contact_erase(actor=sales_manager, contact=person)

    card = Card.objects.get(pk=card.pk)
    assert card.contact_id is None and card.account_id == person.account_id


def test_an_erasure_is_a_writer_that_fires_the_hook_and_a_second_is_refused(sales_manager, person):
    from relatiebeheer.common import writers
    from relatiebeheer.common.errors import Conflict
    from relatiebeheer.value.models import PendingRefresh

    seen = []
    with writers.observe(lambda spec, frame: seen.append((spec.name, frame.hooked))):
        contact_erase(actor=sales_manager, contact=person)
    assert ("relatiebeheer.privacy.services.contact_erase", True) in seen
    assert PendingRefresh.objects.filter(account_id=person.account_id).exists()
    with pytest.raises(Conflict):
        contact_erase(actor=sales_manager, contact=person)  # the stale object says "not yet"
