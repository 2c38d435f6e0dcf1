"""Two (five) submissions of one invitation at the same moment: exactly one is stored."""

from datetime import timedelta

import pytest
from django.utils import timezone

from relatiebeheer.satisfaction import services
from relatiebeheer.satisfaction.models import Answer, AnswerToken, FollowUp, Response

from ..concurrency import run_concurrently
from .conftest import consenting_contact


@pytest.mark.django_db(transaction=True)
def test_simultaneous_submissions_store_one_answer(owner):
    from ..factories import AccountFactory

    contact = consenting_contact(AccountFactory(manager=owner), email="a@x.example")
    survey = services.default_survey()
    invitation = services.invite(
        actor=owner, survey=survey, contacts=[contact], source="manual"
    ).invited[0]
    token = invitation.tokens.get()
    AnswerToken.objects.filter(pk=token.pk).update(
        token_hash=services.hash_token("raw"),
        issued_at=timezone.now(),
        expires_at=timezone.now() + timedelta(days=30),
    )
    questions = services.form_questions(survey)
    data = {f"q{q.pk}": ("1" if q.kind == "four_point" else "Slecht") for q in questions}

    def submit():
        return services.response_submit(token=services.token_resolve("raw"), data=data)

    results = run_concurrently(submit, num_threads=5)
    stored = [r for r in results if isinstance(r, Response)]
    refused = [r for r in results if isinstance(r, services.AlreadyAnswered)]
    assert len(stored) == 1, results
    assert len(refused) == 4, results
    assert Response.objects.count() == 1
    assert Answer.objects.count() == len(questions)
    assert FollowUp.objects.count() == 1  # and one follow-up, not five
