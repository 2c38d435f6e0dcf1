"""The shared outbox: idempotent enqueue in the caller's transaction, sending through a real
SMTP server at most once, consent checked at send time, one-click unsubscribe, and mails
whose delivery is unknown flagged for a person instead of being resent."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from relatiebeheer.audit.models import AuditEntry
from relatiebeheer.common.errors import PermissionRefused
from relatiebeheer.outbox import selectors, services
from relatiebeheer.outbox.models import OutboxMessage, Status
from relatiebeheer.outbox.sending import recover_stuck, send_due
from relatiebeheer.relations.models import ConsentRecord
from relatiebeheer.relations.selectors import consent_state
from relatiebeheer.users.access import system_user

from .conftest import Mailbox, unsubscribe_link

pytestmark = pytest.mark.django_db


def _enqueue(contact, key="k1", purpose="campaigns", **extra):
    return services.mail_enqueue(
        key=key,
        to=contact.email,
        subject="Voorjaarsactie",
        text="Beste klant,\n\nOnze actie.",
        html="<html><body><p>Onze actie.</p></body></html>",
        purpose=purpose,
        contact=contact,
        **extra,
    )


def _grant(contact, purpose):
    ConsentRecord.objects.create(contact=contact, purpose=purpose, granted=True, source="email")


def test_the_same_key_twice_makes_one_message(people, django_capture_on_commit_callbacks):
    _grant(people["yes"], "campaigns")
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        first = _enqueue(people["yes"])
        second = _enqueue(people["yes"])
    assert first.pk == second.pk
    assert OutboxMessage.objects.count() == 1
    assert len(callbacks) == 1  # one send task per transaction


def test_a_rolled_back_transaction_leaves_no_mail(people):
    def fail():
        with transaction.atomic():
            _enqueue(people["yes"])
            raise RuntimeError

    with pytest.raises(RuntimeError):
        fail()
    assert not OutboxMessage.objects.exists()


def test_mail_goes_out_once_over_smtp_with_an_unsubscribe_link(people, smtp, send_outbox):
    _grant(people["yes"], "campaigns")
    message = _enqueue(people["yes"])
    report = send_outbox()
    assert report.sent == [message.pk]
    assert send_outbox().sent == []  # nothing is sent twice
    received = smtp.to("priya@bijenkorf.example")
    assert len(received) == 1
    mail = received[0]
    assert mail["Subject"] == "Voorjaarsactie"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = unsubscribe_link(mail)
    assert link in Mailbox.html(mail)
    message.refresh_from_db()
    assert message.status == Status.SENT and message.sent_at is not None


def _unsubscribe_path(smtp, contact) -> str:
    link = unsubscribe_link(smtp.to(contact.email)[0])
    return "/" + link.split("://", 1)[1].split("/", 1)[1]


def test_the_unsubscribe_headers_point_at_the_link_for_a_one_click_post(people, smtp, send_outbox):
    _grant(people["yes"], "campaigns")
    _enqueue(people["yes"])
    send_outbox()
    mail = smtp.to(people["yes"].email)[0]
    assert mail["List-Unsubscribe"].strip() == f"<{unsubscribe_link(mail)}>"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_get_of_the_unsubscribe_link_changes_nothing(people, smtp, send_outbox, client):
    # Given a mail with an unsubscribe link, and a queued mail of the same purpose
    contact = people["yes"]
    _grant(contact, "campaigns")
    _enqueue(contact)
    send_outbox()
    queued = _enqueue(contact, key="k2")
    path = _unsubscribe_path(smtp, contact)
    before = (ConsentRecord.objects.count(), AuditEntry.objects.count())
    # When a link scanner follows the link (twice)
    for _ in range(2):
        response = client.get(path)
        # Then it sees the page with a button, in the contact's language (nl) …
        assert response.status_code == 200
        page = response.content.decode()
        assert 'data-testid="unsubscribe-button"' in page and 'method="post"' in page
        assert "Klik op de knop" in page and response["Content-Language"] == "nl"
        assert response["Cache-Control"] == "no-store"
    # … and nothing changed: consent, audit and the queued mail are as they were.
    assert (ConsentRecord.objects.count(), AuditEntry.objects.count()) == before
    assert consent_state([contact.pk])[contact.pk]["campaigns"] is True
    queued.refresh_from_db()
    assert queued.status == Status.QUEUED


def test_the_page_speaks_the_contacts_language_not_the_browsers(people, smtp, send_outbox, client):
    contact = people["yes"]
    contact.language = "en"
    contact.save(update_fields=["language"])
    _grant(contact, "campaigns")
    _enqueue(contact)
    send_outbox()
    path = _unsubscribe_path(smtp, contact)
    response = client.get(path, HTTP_ACCEPT_LANGUAGE="nl")
    assert response["Content-Language"] == "en"
    assert "Unsubscribe?" in response.content.decode()
    done = client.post(path, HTTP_ACCEPT_LANGUAGE="nl")
    assert "You are unsubscribed" in done.content.decode()


def test_the_button_withdraws_consent_as_the_system_user(people, smtp, send_outbox, client):
    contact = people["yes"]
    _grant(contact, "campaigns")
    _enqueue(contact)
    send_outbox()
    path = _unsubscribe_path(smtp, contact)
    response = client.post(path, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert 'data-testid="unsubscribed"' in response.content.decode()
    assert consent_state([contact.pk])[contact.pk] == {"surveys": True, "campaigns": False}
    record = ConsentRecord.objects.filter(contact=contact, purpose="campaigns").first()
    assert record.source == "unsubscribe_link" and record.recorded_by == system_user()
    # A second click records nothing new; a later GET says it is done.
    assert client.post(path).status_code == 200
    assert ConsentRecord.objects.filter(contact=contact, purpose="campaigns").count() == 2
    assert 'data-testid="unsubscribed"' in client.get(path).content.decode()
    # Surveys consent is untouched: the link withdraws only the mail's purpose.
    assert consent_state([contact.pk])[contact.pk]["surveys"] is True


def test_a_mail_clients_one_click_post_needs_no_csrf_token(people, smtp, send_outbox):
    # RFC 8058: the mail client POSTs "List-Unsubscribe=One-Click", without a session or
    # CSRF token; the signed link is the credential.
    from django.test import Client

    contact = people["yes"]
    _grant(contact, "campaigns")
    _enqueue(contact)
    send_outbox()
    queued = _enqueue(contact, key="k2")
    path = _unsubscribe_path(smtp, contact)
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert consent_state([contact.pk])[contact.pk]["campaigns"] is False
    queued.refresh_from_db()
    assert queued.status == Status.CANCELLED


def test_a_forged_unsubscribe_link_changes_nothing(people, client):
    before = ConsentRecord.objects.count()
    assert client.get("/outbox/u/eyJjIjoxfQ:forged/").status_code == 404
    response = client.post("/outbox/u/eyJjIjoxfQ:forged/", {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 404
    assert 'data-testid="unsubscribe-invalid"' in response.content.decode()
    assert ConsentRecord.objects.count() == before


def test_consent_withdrawn_before_sending_cancels_the_mail(people, smtp, send_outbox):
    contact = people["yes"]
    _grant(contact, "campaigns")
    message = _enqueue(contact)
    ConsentRecord.objects.create(
        contact=contact, purpose="campaigns", granted=False, source="phone"
    )
    assert send_outbox().cancelled == [message.pk]
    assert smtp.messages == []
    message.refresh_from_db()
    assert message.status == Status.CANCELLED


def test_mails_to_contacts_need_the_contact(people):
    from relatiebeheer.common.errors import InvalidInput

    with pytest.raises(InvalidInput):
        services.mail_enqueue(key="x", to="a@b.nl", subject="s", text="t", purpose="surveys")
    with pytest.raises(InvalidInput):
        services.mail_enqueue(key="y", to="a@b.nl", subject="s", text="t", purpose="spam")


def test_internal_mail_needs_no_consent_and_has_no_unsubscribe_link(owner, smtp, send_outbox):
    owner.email = "daan@example.nl"
    owner.save()
    services.mail_enqueue(
        key="notice", to=owner.email, subject="Let op", text="Tekst", purpose="internal"
    )
    send_outbox()
    mail = smtp.to("daan@example.nl")[0]
    assert mail["List-Unsubscribe"] is None
    assert "/outbox/u/" not in Mailbox.text(mail)


def test_a_refused_recipient_is_failed_not_unknown(people, smtp, send_outbox):
    _grant(people["yes"], "campaigns")
    smtp.reject["priya@bijenkorf.example"] = "550 No such user"
    message = _enqueue(people["yes"])
    assert send_outbox().failed == [message.pk]
    message.refresh_from_db()
    assert message.status == Status.FAILED


def test_a_temporary_refusal_is_tried_again_later(people, smtp, send_outbox):
    _grant(people["yes"], "campaigns")
    smtp.reject["priya@bijenkorf.example"] = "451 Try again later"
    message = _enqueue(people["yes"])
    assert send_outbox().retry == [message.pk]
    message.refresh_from_db()
    assert message.status == Status.QUEUED and message.next_attempt_at > timezone.now()


def test_no_mail_server_means_nothing_claimed(people, settings):
    _grant(people["yes"], "campaigns")
    message = _enqueue(people["yes"])
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    assert send_due().retry == [message.pk]
    message.refresh_from_db()
    assert message.status == Status.QUEUED and message.attempts == 0


def test_a_stuck_claim_becomes_delivery_unknown_and_is_not_resent(people, smtp, send_outbox):
    _grant(people["yes"], "campaigns")
    message = _enqueue(people["yes"])
    # A worker claimed it and died before recording the outcome.
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=Status.SENDING, claimed_at=timezone.now() - timedelta(hours=1), claimed_by=""
    )
    assert recover_stuck() == [message.pk]
    assert send_outbox().sent == []
    assert smtp.messages == []
    flagged = list(selectors.delivery_unknown(actor=people["account"].manager))
    assert [m.pk for m in flagged] == [message.pk]


def test_a_claim_by_a_running_task_is_left_alone(people):
    from django_tasks_db.models import DBTaskResult

    from relatiebeheer.outbox.tasks import send_outbox as task

    _grant(people["yes"], "campaigns")
    message = _enqueue(people["yes"])
    result = task.enqueue(message_ids=[message.pk])
    DBTaskResult.objects.filter(pk=result.id).update(status="RUNNING")
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=Status.SENDING, claimed_at=timezone.now(), claimed_by=f"db:{result.id}"
    )
    assert recover_stuck() == []
    DBTaskResult.objects.filter(pk=result.id).update(status="FAILED")
    assert recover_stuck() == [message.pk]


def test_only_managers_resend_or_mark_sent(people, sales_manager, smtp, send_outbox):
    _grant(people["yes"], "campaigns")
    message = _enqueue(people["yes"])
    OutboxMessage.objects.filter(pk=message.pk).update(status=Status.DELIVERY_UNKNOWN)
    message.refresh_from_db()
    with pytest.raises(PermissionRefused):
        services.message_resend(actor=people["account"].manager, message=message)
    services.message_resend(actor=sales_manager, message=message)
    assert send_outbox().sent == [message.pk]
    assert len(smtp.to("priya@bijenkorf.example")) == 1
    OutboxMessage.objects.filter(pk=message.pk).update(status=Status.DELIVERY_UNKNOWN)
    message.refresh_from_db()
    services.message_mark_sent(actor=sales_manager, message=message)
    message.refresh_from_db()
    assert message.status == Status.SENT and message.resolved_by == sales_manager


def test_the_outbox_page_shows_flagged_mails_to_managers(people, sales_manager, web_as):
    _grant(people["yes"], "campaigns")
    message = _enqueue(people["yes"])
    OutboxMessage.objects.filter(pk=message.pk).update(status=Status.DELIVERY_UNKNOWN)
    client = web_as(sales_manager)
    page = client.get("/outbox/").content.decode()
    assert 'data-testid="delivery-unknown"' in page and f"/outbox/{message.pk}/resend/" in page
    response = client.post(f"/outbox/{message.pk}/mark-sent/")
    assert response.status_code == 302
    message.refresh_from_db()
    assert message.status == Status.SENT
