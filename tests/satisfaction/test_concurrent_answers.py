"""Two (five) submissions of one invitation at the same moment: exactly one is stored."""

from datetime import timedelta

import pytest
from django.utils import timezone

from relatiebeheer.satisfaction.answering.form import form_questions
from relatiebeheer.satisfaction.answering.services import AlreadyAnswered, response_submit
from relatiebeheer.satisfaction.answering.tokens import hash_token, token_resolve
from relatiebeheer.satisfaction.defaults import default_survey
from relatiebeheer.satisfaction.models import Answer, AnswerToken, FollowUp, Response
from relatiebeheer.satisfaction.sending.services import invite

from ..concurrency import run_concurrently
from .conftest import consenting_contact


@pytest.mark.django_db(transaction=True)
def test_simultaneous_submissions_store_one_answer(owner):
    from ..factories import AccountFactory

    contact = consenting_contact(AccountFactory(manager=owner), email="a@x.example")
    survey = default_survey()
    invitation = invite(actor=owner, survey=survey, contacts=[contact], source="manual").invited[0]
    token = invitation.tokens.get()
    AnswerToken.objects.filter(pk=token.pk).update(
        token_hash=hash_token("raw"),
        issued_at=timezone.now(),
        expires_at=timezone.now() + timedelta(days=30),
    )
    questions = form_questions(survey)
    data = {f"q{q.pk}": ("1" if q.kind == "four_point" else "Slecht") for q in questions}

    def submit():
        return response_submit(token=token_resolve("raw"), data=data)

    results = run_concurrently(submit, num_threads=5)
    stored = [r for r in results if isinstance(r, Response)]
    refused = [r for r in results if isinstance(r, AlreadyAnswered)]
    assert len(stored) == 1, results
    assert len(refused) == 4, results
    assert Response.objects.count() == 1
    assert Answer.objects.count() == len(questions)
    assert FollowUp.objects.count() == 1  # and one follow-up, not five
