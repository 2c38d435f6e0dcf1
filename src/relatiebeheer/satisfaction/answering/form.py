"""The answer form: a survey's questions in order, and typed answers from a submission."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from relatiebeheer.common.errors import InvalidInput
from relatiebeheer.core import survey_scores as scores
from relatiebeheer.satisfaction.models import Question, Survey

_question_cache: dict[tuple[int, int], list[Question]] = {}


def form_questions(survey: Survey) -> list[Question]:
    """The survey's questions in order (not the archived ones).

    Cached per process by survey and version: every change of a survey's questions goes
    through ``survey_update``/``survey_create``, which raise the version.
    """
    key = (survey.pk, survey.version)
    questions = _question_cache.get(key)
    if questions is None:
        questions = list(survey.questions.filter(archived=False).order_by("position", "id"))
        if len(_question_cache) > 200:
            _question_cache.clear()
        _question_cache[key] = questions
    return list(questions)


def parse_answers(
    questions: list[Question], data: Mapping[str, Any], *, final: bool
) -> dict[int, Any]:
    """Typed answers from form fields ``q<id>`` (or JSON); field errors as InvalidInput.

    Each value is parsed by its question's kind and checked on its scale. A draft keeps
    what is valid so far; a final submission also needs every required one.
    """
    values: dict[int, Any] = {}
    errors: dict[str, list[str]] = {}
    for question in questions:
        name = f"q{question.pk}"
        raw = data.get(name)
        if isinstance(raw, list):
            raw = raw[-1] if raw else None
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if final and question.required:
                errors[name] = [_("Please answer this question.")]
            continue
        try:
            value = question.kind_spec.parse(raw)
            scores.validate_answer(question.scale, value)
        except (ValueError, TypeError, scores.AnswerError):
            errors[name] = [_("Choose one of the options.")]
            continue
        values[question.pk] = value
    if errors and final:
        raise InvalidInput(errors)
    return values
