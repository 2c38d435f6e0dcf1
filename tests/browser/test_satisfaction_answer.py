"""A contact answers the survey from the invitation mail on a phone: the mail arrives over
real SMTP (aiosmtpd), the test takes the link from it and answers in headless Chromium."""

import pytest
from django.utils import timezone

from relatiebeheer.outbox.sending import send_due
from relatiebeheer.satisfaction.answering.form import form_questions
from relatiebeheer.satisfaction.defaults import default_survey
from relatiebeheer.satisfaction.models import FollowUp, Response
from relatiebeheer.satisfaction.sending.services import invite

from ..factories import AccountFactory, UserFactory
from ..satisfaction.conftest import answer_link, consenting_contact, smtp  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_contact_answers_the_mail_on_a_phone(browser, live_server, smtp, settings, screenshot):  # noqa: F811
    settings.PUBLIC_URL = live_server.url
    for name, value in smtp.settings.items():
        setattr(settings, name, value)
    manager = UserFactory(username="daan", email="daan@example.nl")
    account = AccountFactory(name="de Bijenkorf", manager=manager)
    contact = consenting_contact(account, first_name="Priya", email="priya@bijenkorf.example")
    invite(actor=manager, survey=default_survey(), contacts=[contact], source="manual")
    assert send_due().sent
    mail = smtp.to("priya@bijenkorf.example")[0]
    link = answer_link(mail)
    assert link.startswith(live_server.url)

    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="nl-NL", is_mobile=True, has_touch=True
    )
    page = context.new_page()
    try:
        page.goto(link)
        assert page.locator("h1").inner_text() == "Hoe was ons contact?"
        questions = form_questions(default_survey())
        # A draft is kept while filling in: leave after the first answer, come back.
        page.locator(f"label[for='q{questions[0].pk}-4']").click()
        page.wait_for_timeout(900)
        page.goto(link)
        assert page.locator(f"#q{questions[0].pk}-4").is_checked()
        page.locator(f"label[for='q{questions[1].pk}-3']").click()
        page.locator(f"label[for='q{questions[2].pk}-2']").click()  # matig: unhappy
        page.fill(f"#q{questions[3].pk}", "De levering was te laat.")
        screenshot(page, "survey-answer-phone")
        page.get_by_role("button", name="Verstuur mijn antwoorden").click()
        page.wait_for_selector("[data-testid=thanks]")
        screenshot(page, "survey-thanks-phone")
        page.goto(link)
        assert page.locator("[data-testid=already-answered]").is_visible()
    finally:
        context.close()

    response = Response.objects.get()
    assert response.contact == contact and response.unhappy
    assert response.submitted_at <= timezone.now()
    followup = FollowUp.objects.get()
    assert followup.assignee == manager
