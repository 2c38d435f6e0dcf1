"""Invitations (consent, throttling, bulk, automatic, reminders) and the public answer page
(single-use tokens stored only as hashes, expiry, drafts, answering once, rate limits)."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from relatiebeheer.outbox.models import OutboxMessage
from relatiebeheer.relations.models import Interaction, SavedSelection, Task
from relatiebeheer.satisfaction.answering.form import form_questions
from relatiebeheer.satisfaction.answering.services import response_submit
from relatiebeheer.satisfaction.answering.tokens import hash_token
from relatiebeheer.satisfaction.defaults import default_survey
from relatiebeheer.satisfaction.followups.services import followups_notify_overdue
from relatiebeheer.satisfaction.models import (
    AnswerToken,
    FollowUp,
    Invitation,
    RateCounter,
    Response,
    SatisfactionSettings,
)
from relatiebeheer.satisfaction.sending.services import (
    auto_invite,
    invite,
    invite_selection,
    send_reminders,
)

from ..factories import AccountFactory, InteractionFactory
from .conftest import answer_link, consenting_contact

pytestmark = pytest.mark.django_db

# A Monday, in UTC so that adding days is plain arithmetic across daylight saving time.
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _invite(actor, contacts, **extra):
    return invite(actor=actor, survey=default_survey(), contacts=contacts, source="manual", **extra)


def _path(link: str) -> str:
    return "/" + link.split("://", 1)[1].split("/", 1)[1]


def _answers(survey, value="4", comment="Prima"):
    data = {}
    for q in form_questions(survey):
        data[f"q{q.pk}"] = comment if q.kind == "open_text" else value
    return data


def test_only_contacts_with_email_and_consent_are_invited(owner, people):
    report = _invite(owner, [people["yes"], people["no"], people["none"]])
    assert [i.contact for i in report.invited] == [people["yes"]]
    assert report.no_consent == [people["no"].pk]
    assert report.no_email == [people["none"].pk]
    assert OutboxMessage.objects.filter(purpose="surveys").count() == 1


def test_throttling_per_contact_and_per_account(owner, people):
    config = SatisfactionSettings.load()
    config.throttle_contact_days, config.throttle_account_days = 90, 30
    config.save()
    colleague = consenting_contact(people["account"], email="marieke@bijenkorf.example")
    with time_machine.travel(START, tick=False):
        assert len(_invite(owner, [people["yes"]]).invited) == 1
        # Same account within Y days: refused; also the same contact.
        assert _invite(owner, [colleague]).throttled == [colleague.pk]
        assert _invite(owner, [people["yes"]]).throttled == [people["yes"].pk]
    with time_machine.travel(START + timedelta(days=31), tick=False):
        assert len(_invite(owner, [colleague]).invited) == 1  # account window passed
        assert _invite(owner, [people["yes"]]).throttled  # contact window not yet
    with time_machine.travel(START + timedelta(days=91), tick=False):
        config.throttle_account_days = 0
        config.save()
        assert len(_invite(owner, [people["yes"]]).invited) == 1


def test_a_bulk_send_invites_one_contact_per_account(owner, people):
    other = AccountFactory(manager=owner, name="HEMA")
    hema = consenting_contact(other, email="a@hema.example")
    selection = SavedSelection.objects.create(owner=owner, name="alles", filters={})
    report = invite_selection(actor=owner, survey=default_survey(), selection=selection)
    invited = {i.contact_id for i in report.invited}
    assert hema.pk in invited and people["yes"].pk in invited
    assert people["no"].pk in report.no_consent


def test_another_manager_cannot_invite_the_owners_contacts(other_manager, people):
    from relatiebeheer.common.errors import NotFound

    with pytest.raises(NotFound):
        _invite(other_manager, [people["yes"]])
    assert not Invitation.objects.exists()


def test_the_mail_is_in_the_contacts_language_with_html_and_text(owner, people, smtp, send_outbox):
    people["yes"].language = "en"
    people["yes"].save()
    _invite(owner, [people["yes"]])
    send_outbox()
    mail = smtp.to("priya@bijenkorf.example")[0]
    assert mail["Subject"] == "How was our contact?"
    text = mail.get_body(preferencelist=("plain",)).get_content()
    html = mail.get_body(preferencelist=("html",)).get_content()
    link = answer_link(mail)
    assert "Dear Priya" in text and link in html
    assert "Answer the questions" in html


def test_only_the_hash_of_a_token_is_stored(owner, people, smtp, send_outbox):
    _invite(owner, [people["yes"]])
    send_outbox()
    token = answer_link(smtp.to("priya@bijenkorf.example")[0]).rstrip("/").rsplit("/", 1)[1]
    assert len(token) >= 43  # 32 random bytes: 256 bits
    stored = AnswerToken.objects.get()
    assert stored.token_hash == hash_token(token)
    # The raw token is nowhere in the database: not in any table.
    with connection.cursor() as cursor:
        for model in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(model)}")
            for row in cursor.fetchall():
                assert token not in repr(row), model


def test_answering_through_the_link_is_final_once(owner, people, smtp, send_outbox, client):
    _invite(owner, [people["yes"]])
    send_outbox()
    path = _path(answer_link(smtp.to("priya@bijenkorf.example")[0]))
    page = client.get(path)
    assert page.status_code == 200 and "Hoe was ons contact?" in page.content.decode()
    survey = default_survey()
    response = client.post(path, _answers(survey))
    assert response.status_code == 302
    assert client.get(response["Location"]).content.decode().count('data-testid="thanks"') == 1
    assert Response.objects.count() == 1
    # The same link again: "already answered", nothing stored twice.
    again = client.post(path, _answers(survey, "1"))
    assert 'data-testid="already-answered"' in again.content.decode()
    assert Response.objects.count() == 1 and not FollowUp.objects.exists()


def test_a_missing_required_answer_is_shown_and_nothing_is_stored(
    owner, people, smtp, send_outbox, client
):
    _invite(owner, [people["yes"]])
    send_outbox()
    path = _path(answer_link(smtp.to("priya@bijenkorf.example")[0]))
    data = _answers(default_survey())
    data.pop(next(iter(data)))
    response = client.post(path, data)
    assert response.status_code == 422
    assert not Response.objects.exists()


def test_drafts_are_kept_until_the_final_answer(owner, people, smtp, send_outbox, client):
    _invite(owner, [people["yes"]])
    send_outbox()
    path = _path(answer_link(smtp.to("priya@bijenkorf.example")[0]))
    first = form_questions(default_survey())[0]
    saved = client.post(
        path, {"action": "draft", f"q{first.pk}": "3"}, HTTP_X_REQUESTED_WITH="fetch"
    )
    assert saved.json() == {"saved": True}
    assert Invitation.objects.get().draft == {str(first.pk): 3}
    page = client.get(path).content.decode()
    assert f'id="q{first.pk}-3" value="3" autocomplete="off" checked' in page
    assert not Response.objects.exists()


def test_the_reminder_carries_its_own_token_and_both_lead_to_the_same_form(
    owner, people, smtp, send_outbox, client
):
    config = SatisfactionSettings.load()
    with time_machine.travel(START, tick=False):
        _invite(owner, [people["yes"]])
        send_outbox()
    with time_machine.travel(START + timedelta(days=config.reminder_days - 1), tick=False):
        assert send_reminders() == 0
    with time_machine.travel(START + timedelta(days=config.reminder_days, hours=1), tick=False):
        assert send_reminders() == 1
        assert send_reminders() == 0  # one reminder only
        send_outbox()
        first, reminder = smtp.to("priya@bijenkorf.example")
        assert reminder["Subject"].startswith("Herinnering")
        links = [_path(answer_link(first)), _path(answer_link(reminder))]
        assert links[0] != links[1]
        assert client.post(links[1], _answers(default_survey())).status_code == 302
        # Answered through the reminder: the invitation's own link now says so too.
        assert 'data-testid="already-answered"' in client.get(links[0]).content.decode()
    with time_machine.travel(START + timedelta(days=40), tick=False):
        assert send_reminders() == 0


def test_no_reminder_once_answered(owner, people, smtp, send_outbox, client):
    with time_machine.travel(START, tick=False):
        _invite(owner, [people["yes"]])
        send_outbox()
        path = _path(answer_link(smtp.to("priya@bijenkorf.example")[0]))
        client.post(path, _answers(default_survey()))
    with time_machine.travel(START + timedelta(days=8), tick=False):
        assert send_reminders() == 0


def test_an_expired_token_shows_a_friendly_page_and_stores_nothing(
    owner, people, smtp, send_outbox, client
):
    with time_machine.travel(START, tick=False):
        _invite(owner, [people["yes"]])
        send_outbox()
        path = _path(answer_link(smtp.to("priya@bijenkorf.example")[0]))
    with time_machine.travel(START + timedelta(days=30, minutes=1), tick=False):
        response = client.post(path, _answers(default_survey()))
        assert response.status_code == 410
        assert 'data-testid="link-expired"' in response.content.decode()
    assert not Response.objects.exists()


def test_an_unknown_token_shows_a_friendly_page(client, db):
    response = client.get("/satisfaction/a/" + "x" * 43 + "/")
    assert response.status_code == 404
    assert 'data-testid="link-unknown"' in response.content.decode()
    assert response["Referrer-Policy"] == "no-referrer"


def test_guessing_is_limited_per_address_but_respondents_are_not(
    owner, people, smtp, send_outbox, client
):
    config = SatisfactionSettings.load()
    config.rate_limit_failures_per_address = 5
    config.save()
    # Many respondents behind one address (an office) are never slowed down.
    contacts = [
        consenting_contact(AccountFactory(manager=owner), email=f"r{n}@x.example") for n in range(8)
    ]
    _invite(owner, contacts)
    send_outbox()
    for contact in contacts:
        path = _path(answer_link(smtp.to(contact.email)[0]))
        assert client.get(path).status_code == 200
    # Guessing from one address is stopped after five unknown links …
    for _ in range(5):
        assert client.get("/satisfaction/a/" + "y" * 43 + "/").status_code == 404
    assert client.get("/satisfaction/a/" + "z" * 43 + "/").status_code == 429
    # … for that address only.
    other = client.get(path, REMOTE_ADDR="10.9.8.7")
    assert other.status_code == 200
    assert RateCounter.objects.filter(key__startswith="f:").exists()


def test_valid_links_from_an_address_that_hit_the_limit_are_still_answered(
    owner, people, smtp, send_outbox, client
):
    # Given an office behind one address where someone tried many unknown links
    config = SatisfactionSettings.load()
    config.rate_limit_failures_per_address = 20
    config.save()
    contacts = [
        consenting_contact(AccountFactory(manager=owner), email=f"o{n}@x.example") for n in range(3)
    ]
    _invite(owner, contacts)
    send_outbox()
    paths = [_path(answer_link(smtp.to(contact.email)[0])) for contact in contacts]
    statuses = [client.get("/satisfaction/a/" + f"{n:043d}" + "/").status_code for n in range(25)]
    # Then unknown links from that address are limited after 20 …
    assert statuses == [404] * 20 + [429] * 5
    # … but every valid link from the same address opens, saves a draft and submits.
    for path in paths:
        assert client.get(path).status_code == 200
    assert client.post(paths[0], {"action": "draft"}).status_code == 200
    submitted = client.post(paths[1], _answers(default_survey()))
    assert submitted.status_code == 302
    assert Response.objects.count() == 1


def test_expired_links_count_against_the_address_like_unknown_ones(
    owner, people, smtp, send_outbox, client
):
    config = SatisfactionSettings.load()
    config.rate_limit_failures_per_address = 3
    config.save()
    with time_machine.travel(START, tick=False):
        _invite(owner, [people["yes"]])
        send_outbox()
        path = _path(answer_link(smtp.to("priya@bijenkorf.example")[0]))
    with time_machine.travel(START + timedelta(days=30, minutes=1), tick=False):
        assert [client.get(path).status_code for _ in range(4)] == [410, 410, 410, 429]
        # Another address is not affected.
        assert client.get(path, REMOTE_ADDR="10.1.2.3").status_code == 410


def test_one_link_is_limited_per_minute(owner, people, smtp, send_outbox, client):
    config = SatisfactionSettings.load()
    config.rate_limit_per_token = 3
    config.save()
    _invite(owner, [people["yes"]])
    send_outbox()
    path = _path(answer_link(smtp.to("priya@bijenkorf.example")[0]))
    assert [client.get(path).status_code for _ in range(4)] == [200, 200, 200, 429]


def test_an_unhappy_answer_opens_a_follow_up_for_the_account_manager(
    owner, people, smtp, send_outbox, client
):
    friday = datetime(2026, 3, 6, 14, 0, tzinfo=UTC)
    with time_machine.travel(friday, tick=False):
        _invite(owner, [people["yes"]])
        send_outbox()
        path = _path(answer_link(smtp.to("priya@bijenkorf.example")[0]))
        survey = default_survey()
        data = _answers(survey, "3")
        satisfaction_q = next(q for q in form_questions(survey) if "satisfaction" in q.tags)
        data[f"q{satisfaction_q.pk}"] = "2"  # matig
        client.post(path, data)
        send_outbox()
    followup = FollowUp.objects.get()
    assert followup.assignee == owner and followup.account == people["account"]
    assert followup.due_date.isoformat() == "2026-03-10"  # Friday + 2 working days = Tuesday
    task = Task.objects.get(pk=followup.task_id)
    assert task.assignee == owner and task.due_date == followup.due_date and not task.done
    notice = smtp.to("daan@example.nl")
    assert len(notice) == 1 and "de Bijenkorf" in notice[0]["Subject"]
    # It shows on the dashboard until its outcome is recorded.
    client.force_login(owner)
    assert 'data-testid="followups-card"' in client.get("/").content.decode()
    assert f"/satisfaction/followups/{followup.pk}/" in client.get("/").content.decode()
    # Overdue: one more mail, once.
    with time_machine.travel(friday + timedelta(days=5), tick=False):
        assert followups_notify_overdue() == 1
        assert followups_notify_overdue() == 0
        send_outbox()
    assert len(smtp.to("daan@example.nl")) == 2
    # Closing it with a check-back survey.
    response = client.post(
        f"/satisfaction/followups/{followup.pk}/",
        {"outcome": "resolved", "notes": "Gebeld", "send_check_back": "on"},
    )
    assert response.status_code == 302
    followup.refresh_from_db()
    task.refresh_from_db()
    assert followup.closed_at and followup.outcome == "resolved" and task.done
    check_back = Invitation.objects.get(source="check_back")
    assert check_back.survey.key == "check-back" and check_back.followup == followup
    assert f"/satisfaction/followups/{followup.pk}/" not in client.get("/").content.decode()


def test_thresholds_come_from_the_settings(owner, people):
    config = SatisfactionSettings.load()
    config.four_point_unhappy_at_most = 3
    config.save()
    report = _invite(owner, [people["yes"]])
    token = report.invited[0].tokens.get()
    AnswerToken.objects.filter(pk=token.pk).update(
        token_hash="h", issued_at=timezone.now(), expires_at=timezone.now() + timedelta(days=1)
    )
    token.refresh_from_db()
    response_submit(token=token, data=_answers(default_survey(), "3"))
    assert FollowUp.objects.count() == 1


def test_automatic_invitation_n_days_after_a_service_contact(owner, people, smtp, send_outbox):
    config = SatisfactionSettings.load()
    config.auto_send_kinds = ["service"]
    config.auto_send_days = 3
    config.save()
    with time_machine.travel(START, tick=False):
        service = InteractionFactory(account=people["account"], kind="service", occurred_at=START)
        service.contacts.add(people["yes"], people["no"])
        sales = InteractionFactory(account=people["account"], kind="sales", occurred_at=START)
        sales.contacts.add(people["yes"])
        assert auto_invite() == 0
    with time_machine.travel(START + timedelta(days=2, hours=23), tick=False):
        assert auto_invite() == 0
    with time_machine.travel(START + timedelta(days=3, minutes=5), tick=False):
        from relatiebeheer.ops import scheduler

        # The worker's scheduler enqueues the job once per slot, however often it ticks.
        assert "satisfaction.auto_invite" in scheduler.tick()
        assert "satisfaction.auto_invite" not in scheduler.tick()
        assert auto_invite() == 1
        assert auto_invite() == 0  # handled once
        send_outbox()
    invitation = Invitation.objects.get()
    assert invitation.source == "auto" and invitation.interaction == service
    assert invitation.contact == people["yes"]
    assert len(smtp.to("priya@bijenkorf.example")) == 1
    assert not Interaction.objects.filter(pk=sales.pk, survey_invitations__isnull=False).exists()


def test_automatic_sends_respect_the_switch(owner, people):
    config = SatisfactionSettings.load()
    config.auto_send = False
    config.save()
    with time_machine.travel(START, tick=False):
        InteractionFactory(account=people["account"], kind="service").contacts.add(people["yes"])
    with time_machine.travel(START + timedelta(days=4), tick=False):
        assert auto_invite() == 0
