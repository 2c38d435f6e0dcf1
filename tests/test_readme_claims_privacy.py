"""What the README's "Privacy (AVG / GDPR)" paragraph says, where no other test checked
it: everything held about a contact leaves as JSON, a readable page, a PDF, through the
API and the command line; the command erases only when told twice; an erasure reaches
the outbox and survey responses, while the response itself stays with the account."""

import io
import json

import pypdf
import pytest
from django.core.management import CommandError, call_command

from relatiebeheer.outbox.models import OutboxMessage
from relatiebeheer.outbox.services import mail_enqueue
from relatiebeheer.relations.models import ConsentRecord, Contact
from relatiebeheer.satisfaction.defaults import default_survey
from relatiebeheer.satisfaction.models import Response

from .factories import ContactFactory, InteractionFactory

pytestmark = pytest.mark.django_db
EMAIL = "marieke.vl@debijenkorf.example"


@pytest.fixture
def person(account):
    contact = ContactFactory(
        account=account, first_name="Marieke", last_name="van Leeuwen", email=EMAIL
    )
    ConsentRecord.objects.create(contact=contact, purpose="surveys", granted=True, source="email")
    InteractionFactory(account=account, subject="Kennismaking").contacts.add(contact)
    return contact


def test_a_contacts_data_leaves_as_json_page_pdf_api_and_command(
    web_as, api_as, sales_manager, person, tmp_path
):
    client = web_as(sales_manager)
    base = f"/privacy/contacts/{person.pk}"
    # the machine-readable file
    data = json.loads(client.get(f"{base}/export.json").content)
    assert data["contact"]["email"] == EMAIL
    assert len(data["related"]["relations.ConsentRecord.contact"]) == 1
    # the readable page and its PDF
    assert EMAIL in client.get(f"{base}/export.html").content.decode()
    pdf = client.get(f"{base}/export.pdf")
    assert pdf["Content-Type"] == "application/pdf"
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf.content)).pages)
    assert "van Leeuwen" in text
    # the API
    body = api_as(sales_manager).get(f"contacts/{person.pk}/personal-data").json_body
    assert body["contact"]["email"] == EMAIL
    # the command line
    target = tmp_path / "contact.json"
    call_command(
        "privacy", "export", str(person.pk), str(target), as_user="sanne", stdout=io.StringIO()
    )
    assert json.loads(target.read_text(encoding="utf-8"))["contact"]["email"] == EMAIL


def test_the_command_erases_only_with_yes(sales_manager, person):
    # without --yes: exit code 2, nothing changed
    with pytest.raises(CommandError) as refused:
        call_command("privacy", "erase", str(person.pk), as_user="sanne", stdout=io.StringIO())
    assert refused.value.returncode == 2
    assert Contact.objects.get(pk=person.pk).email == EMAIL
    # with it: erased
    call_command("privacy", "erase", str(person.pk), "--yes", as_user="sanne", stdout=io.StringIO())
    person.refresh_from_db()
    assert person.erased_at is not None and person.email == ""


def test_an_erasure_reaches_the_outbox_and_survey_responses(sales_manager, person):
    from relatiebeheer.privacy.services import contact_erase

    # given: a mail to the contact in the outbox, and a survey response of theirs
    mail = mail_enqueue(
        key="survey:1",
        to=EMAIL,
        subject="Beste Marieke van Leeuwen",
        text="Hallo Marieke van Leeuwen, hoe was het?",
        purpose="surveys",
        contact=person,
    )
    response = Response.objects.create(
        survey=default_survey(), account=person.account, contact=person
    )
    # when
    contact_erase(actor=sales_manager, contact=person)
    # then: the mail no longer names or addresses the person
    message = OutboxMessage.objects.get(pk=mail.pk)
    assert message.contact is None
    for text in (message.to, message.subject, message.text):
        assert EMAIL not in text and "van Leeuwen" not in text
    # and: the response stays with the account, without the contact's identity
    response.refresh_from_db()
    assert response.contact is None and response.account == person.account
