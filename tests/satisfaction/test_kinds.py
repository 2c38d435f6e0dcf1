"""Question kinds are one registry (``satisfaction.kinds``): the builder, the API schema,
the answer page, scoring, the monthly counts and the export all follow it — and a new
kind needs one entry plus its template."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.template.loader import get_template
from django.utils import timezone

from relatiebeheer.core import survey_scores as scores
from relatiebeheer.satisfaction import kinds
from relatiebeheer.satisfaction.answering.form import form_questions
from relatiebeheer.satisfaction.answering.services import response_submit
from relatiebeheer.satisfaction.answering.tokens import hash_token
from relatiebeheer.satisfaction.counts import check_answer_counts
from relatiebeheer.satisfaction.forms import QuestionForm
from relatiebeheer.satisfaction.models import Answer, AnswerToken, Invitation, Question
from relatiebeheer.satisfaction.selectors import survey_results
from relatiebeheer.satisfaction.surveys.services import survey_create
from relatiebeheer.satisfaction.views import response_columns

from ..factories import AccountFactory
from .conftest import consenting_contact

pytestmark = pytest.mark.django_db

CHOICES = [{"label_nl": "Telefoon", "score": 100}, {"label_nl": "Mail", "unhappy": True}]


def _spec(kind: kinds.Kind) -> dict:
    spec = {"kind": kind.key, "text_nl": f"Vraag {kind.key}", "required": False}
    if kind.has_options:
        spec["choices"] = CHOICES
    return spec


def _survey_of_every_kind(sales_manager):
    return survey_create(
        actor=sales_manager,
        data={"key": "alles", "name": "Alles", "title_nl": "Alles"},
        questions=[_spec(kind) for kind in kinds.all_kinds()],
    )


def _token(survey, contact, raw):
    invitation = Invitation.objects.create(
        survey=survey, account_id=contact.account_id, contact=contact, source="manual"
    )
    now = timezone.now()
    return AnswerToken.objects.create(
        invitation=invitation,
        kind="invitation",
        token_hash=hash_token(raw),
        issued_at=now,
        expires_at=now + timedelta(days=30),
    )


def _form_value(value) -> str:
    """How the answer page posts an option's value."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _first_option(question: Question) -> str:
    options = question.option_labels("nl")
    return _form_value(options[0][0]) if options else "Een opmerking"


def test_builder_model_and_api_offer_exactly_the_registered_kinds(api_as, sales_manager):
    registered = list(kinds.keys())
    assert [key for key, _label in QuestionForm().fields["kind"].choices if key] == registered
    assert [key for key, _label in Question._meta.get_field("kind").choices] == registered
    assert [key for key, _label in Answer._meta.get_field("kind").choices] == registered
    schema = api_as(sales_manager).get("/api/v1/openapi.json").json_body
    assert schema["components"]["schemas"]["QuestionIn"]["properties"]["kind"]["enum"] == (
        registered
    )


def test_every_kind_has_a_template_a_scale_and_counts_that_read_back(sales_manager):
    survey = _survey_of_every_kind(sales_manager)
    assert set(kinds.keys()) == {kind.value for kind in scores.ScaleKind}  # scoring covers all
    for question in form_questions(survey):
        kind = kinds.get(question.kind)
        get_template(kind.template)  # the answer page's template exists
        scale = kind.scale_for(question)
        assert scale.kind == question.kind  # scored on its own scale in core.survey_scores
        options = question.option_labels("en")
        assert bool(options) != kind.free_text
        for value, _label in options:
            assert kind.parse(_form_value(value)) == value
            score = scores.score_value(scale, value)
            assert score is None or Decimal(0) <= score <= Decimal(100)
            assert kind.from_count_key(kind.count_key(value)) == value


def test_every_kind_is_answered_scored_counted_and_exported(client, sales_manager, owner):
    survey = _survey_of_every_kind(sales_manager)
    contact = consenting_contact(AccountFactory(manager=owner), email="k@x.example")
    token = _token(survey, contact, "alle-soorten")
    page = client.get("/satisfaction/a/alle-soorten/").content.decode()
    questions = form_questions(survey)
    for question in questions:
        assert f'name="q{question.pk}"' in page, question.kind
    data = {f"q{q.pk}": _first_option(q) for q in questions}
    response_submit(token=token, data=data)
    answers = {a.kind: a for a in Answer.objects.filter(survey=survey)}
    assert set(answers) == set(kinds.keys())
    for key, answer in answers.items():
        kind = kinds.get(key)
        assert (answer.score is None) == kind.free_text, key
    assert check_answer_counts(repair=False).differences == 0
    results = {
        r.question.kind: r for r in survey_results(actor=sales_manager, survey=survey).questions
    }
    for key, result in results.items():
        assert result.summary.count == 1, key
    columns = response_columns(survey, "nl")[6:]  # after the response's own columns
    expected = []
    for question in questions:
        kind = question.kind_spec
        expected.append(kind.export_type)
        if not kind.free_text:
            expected.append("decimal")
    assert [c.kind for c in columns] == expected


def test_a_new_kind_is_one_entry_and_its_template(
    client, sales_manager, owner, settings, tmp_path, monkeypatch
):
    """Five stars, scored like CSAT: registered and given a template, and nothing else."""
    template = tmp_path / "satisfaction" / "kinds" / "stars.html"
    template.parent.mkdir(parents=True)
    template.write_text('{% include "satisfaction/kinds/_options.html" %}<span>★</span>')
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0].get("DIRS", []), tmp_path]}
    ]
    monkeypatch.setattr(kinds, "_kinds", dict(kinds._kinds))
    kinds.register_kind(
        kinds.Kind(
            "stars",
            "Stars",
            kinds.INT,
            scores.CSAT,
            lambda question, language: [(v, "★" * v) for v in range(1, 6)],
        )
    )
    assert ("stars", "Stars") in QuestionForm().fields["kind"].choices
    survey = survey_create(
        actor=sales_manager,
        data={"key": "sterren", "name": "Sterren", "title_nl": "Sterren"},
        questions=[{"kind": "stars", "text_nl": "Hoeveel sterren?", "tags": ["satisfaction"]}],
    )
    contact = consenting_contact(AccountFactory(manager=owner), email="s@x.example")
    token = _token(survey, contact, "sterren")
    page = client.get("/satisfaction/a/sterren/").content.decode()
    (question,) = form_questions(survey)
    assert "★★★★★" in page and f'id="q{question.pk}-4"' in page
    response_submit(token=token, data={f"q{question.pk}": "4"})
    answer = Answer.objects.get(survey=survey)
    assert (answer.value_int, answer.score) == (4, Decimal("75.0"))
    (result,) = survey_results(actor=sales_manager, survey=survey).questions
    assert result.summary.headline == Decimal("100.0")  # CSAT %: the share of 4 and 5
    assert [c.kind for c in response_columns(survey, "nl")[6:]] == ["int", "decimal"]
    assert check_answer_counts(repair=False).differences == 0
