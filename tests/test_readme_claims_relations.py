"""What the README says of accounts, contacts, consent, contact moments and tasks.

Each test backs a sentence of the README's "Accounts and contacts" and "Contact moments
and tasks" paragraphs that no other test checked: EU VAT numbers beyond the Dutch ones,
a contact's checked email and phone, the append-only consent register, the kinds and
channels a contact moment is logged with, and "my tasks" with the overdue ones first.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from relatiebeheer.relations.models import Account, ConsentRecord, Contact, Interaction
from relatiebeheer.relations.selectors import contacts_with_consent

from .factories import ContactFactory, TaskFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("BE 0403.170.701", "BE0403170701"),
        ("DE 136 695 976", "DE136695976"),
        ("FR 40 303 265 045", "FR40303265045"),
    ],
)
def test_vat_numbers_of_other_eu_countries_are_checked_too(api_as, owner, typed, stored):
    # given: an account manager typing a Belgian, German or French VAT number
    client = api_as(owner)
    # when: it is valid, it is stored in its compact form
    made = client.post("accounts", {"name": f"Klant {stored}", "vat_number": typed})
    assert made.status_code == 201, made.json_body
    assert made.json_body["vat_number"] == stored
    # then: one wrong check digit is refused and nothing is stored
    wrong = stored[:-1] + str((int(stored[-1]) + 1) % 10)
    refused = client.post("accounts", {"name": "Fout", "vat_number": wrong})
    assert refused.status_code == 422
    assert refused.json_body["errors"][0]["field"] == "vat_number"
    assert not Account.objects.filter(name="Fout").exists()


def test_a_contacts_email_and_phone_are_checked_and_dutch_numbers_need_no_31(api_as, account):
    client = api_as(account.manager)
    # given: a mistyped email and a phone number that is no number
    refused = client.post(
        "contacts",
        {"account_id": account.pk, "last_name": "Jansen", "email": "anna@", "phone": "12"},
    )
    # then: both are refused by field, and no contact is made
    assert refused.status_code == 422
    assert {e["field"] for e in refused.json_body["errors"]} == {"email", "phone"}
    assert not Contact.objects.exists()
    # when: a Dutch number is written as people write it, with a preferred language
    made = client.post(
        "contacts",
        {
            "account_id": account.pk,
            "last_name": "Jansen",
            "role": "inkoper",
            "email": "anna@debijenkorf.example",
            "phone": "020 123 4567",
            "language": "en",
            "interests": ["Golf", "wijn"],
        },
    )
    # then: it is kept in international form (the Netherlands is the default country)
    assert made.status_code == 201, made.json_body
    contact = Contact.objects.get()
    assert (contact.phone, contact.language, contact.role) == ("+31201234567", "en", "inkoper")
    assert sorted(contact.interests.values_list("name", flat=True)) == ["golf", "wijn"]


def test_the_consent_register_only_grows_and_the_latest_statement_counts(api_as, account):
    contact = ContactFactory(account=account)
    client = api_as(account.manager)
    # given: consent for surveys, then its withdrawal, then consent for events
    for purpose, granted in (("surveys", True), ("surveys", False), ("events", True)):
        response = client.post(
            f"contacts/{contact.pk}/consents", {"purpose": purpose, "granted": granted}
        )
        assert response.status_code == 201, response.json_body
    # then: every statement is kept as it was made, newest first in the history
    history = client.get(f"contacts/{contact.pk}/consents").json_body
    assert [(h["purpose"], h["granted"]) for h in history] == [
        ("events", True),
        ("surveys", False),
        ("surveys", True),
    ]
    assert ConsentRecord.objects.filter(contact=contact).count() == 3
    # and: per purpose, the latest statement decides
    contacts = Contact.objects.filter(pk=contact.pk)
    assert not contacts_with_consent(contacts, "surveys").exists()
    assert contacts_with_consent(contacts, "events").exists()
    assert not contacts_with_consent(contacts, "campaigns").exists()
    # and: the register offers no way to change or remove a statement
    first = history[-1]["id"]
    assert client.patch(f"contacts/{contact.pk}/consents/{first}", {}).status_code in {404, 405}


def test_a_contact_moment_is_logged_with_the_lessons_kinds_channels_and_reading(web_as, account):
    # given: the account page's form for a contact moment
    page = web_as(account.manager).get(f"/accounts/{account.pk}/").content.decode()
    # then: it offers every kind, every channel and the four-point reading
    kinds = {
        "question",
        "looked_into",
        "proactive",
        "service",
        "complaint",
        "sales",
        "event",
    }
    channels = {"phone", "visit", "email", "video", "chat", "event"}
    assert {v for v, _label in Interaction.Kind.choices} == kinds
    assert {v for v, _label in Interaction.Channel.choices} == channels
    for kind in kinds:
        assert f'value="{kind}"' in page, kind
    for channel in channels:
        assert f'value="{channel}"' in page, channel
    for label in ("zeer goed", "goed", "matig", "slecht"):
        assert label in page, label


def test_my_tasks_shows_the_overdue_ones_first(web_as, account, owner):
    today = timezone.localdate()
    # given: tasks due later, without a date, long overdue and just overdue
    for title, due in (
        ("Later", today + timedelta(days=10)),
        ("Zonder datum", None),
        ("Lang te laat", today - timedelta(days=30)),
        ("Vandaag", today),
        ("Net te laat", today - timedelta(days=1)),
    ):
        TaskFactory(account=account, assignee=owner, title=title, due_date=due)
    TaskFactory(account=account, assignee=owner, title="Al gedaan", done=True)
    # when
    page = web_as(owner).get("/tasks/").content.decode()
    # then: overdue first (oldest first), then by due date, then those without one
    open_part, done_part = page.split("Onlangs gedaan")
    order = sorted(
        ("Later", "Zonder datum", "Lang te laat", "Vandaag", "Net te laat"),
        key=open_part.index,
    )
    assert order == ["Lang te laat", "Net te laat", "Vandaag", "Later", "Zonder datum"]
    assert open_part.count("task-overdue") == 2
    assert "Al gedaan" in done_part and "Al gedaan" not in open_part
