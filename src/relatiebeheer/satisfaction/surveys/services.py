"""Building surveys, and the satisfaction settings: the domain's configuration writers.

Surveys and settings touch no account's figures (``accounts=False``): what a customer
answered is kept with the answer, whatever happens to the survey afterwards. Both are
versioned: a save applies only to the version the editor saw.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from relatiebeheer.audit.services import audit_log
from relatiebeheer.common import writers
from relatiebeheer.common.errors import InvalidInput, PermissionRefused
from relatiebeheer.common.services import apply_changes, full_clean_or_raise, versioned_update
from relatiebeheer.common.writers import writer
from relatiebeheer.satisfaction import defaults, kinds
from relatiebeheer.satisfaction.models import (
    Answer,
    Question,
    SatisfactionSettings,
    Survey,
    forget_cached_settings,
)
from relatiebeheer.users.access import can_manage_portfolios
from relatiebeheer.users.models import User

from .rules import QUESTION_FIELDS, SURVEY_FIELDS, require_survey_editor


@writer(accounts=False)
def survey_create(
    *, actor: User, data: Mapping[str, Any], questions: list[Mapping[str, Any]]
) -> Survey:
    """A new survey with its ordered questions (sales managers and administrators)."""
    require_survey_editor(actor)
    survey = Survey(created_by=actor)
    changed = apply_changes(survey, dict(data), SURVEY_FIELDS)
    survey.title_en = survey.title_en or survey.title_nl
    full_clean_or_raise(survey)
    with transaction.atomic():
        survey.save()
        _save_questions(survey, list(questions))
        audit_log(actor=actor, action="survey.create", obj=survey, fields=[*changed, "questions"])
    return survey


@writer(accounts=False, version="version")
def survey_update(
    *,
    actor: User,
    survey: Survey,
    version: int,
    data: Mapping[str, Any],
    questions: list[Mapping[str, Any]] | None = None,
) -> Survey:
    """Change a survey (and, when given, its whole ordered list of questions).

    Questions that have answers keep their type (and single-choice options their keys);
    left out of the list they are archived rather than deleted, so results stay whole.
    """
    require_survey_editor(actor)
    changed = apply_changes(survey, dict(data), SURVEY_FIELDS)
    if not survey.title_en:
        survey.title_en = survey.title_nl
        changed.append("title_en")
    full_clean_or_raise(survey)
    with transaction.atomic():
        # The version rises with every save, questions included (they are cached by it).
        versioned_update(survey, expected_version=version, fields=changed)
        if questions is not None:
            _save_questions(survey, list(questions))
            changed.append("questions")
        audit_log(actor=actor, action="survey.update", obj=survey, fields=changed)
    return survey


@writer(accounts=False)
def survey_defaults_install(*, actor: User | None = None) -> list[Survey]:
    """Create the built-in surveys that do not exist yet (``satisfaction.defaults``);
    returns the ones made. The data migration installs them; this puts back one that
    an installation lacks."""
    with transaction.atomic():
        before = set(Survey.objects.values_list("pk", flat=True))
        defaults.install(Survey, Question)
        made = list(Survey.objects.exclude(pk__in=before).order_by("pk"))
        if not made:
            writers.nothing_to_write()
        for survey in made:
            audit_log(actor=actor, action="survey.install_default", obj=survey)
    return made


SETTINGS_FIELDS = tuple(
    field.name
    for field in SatisfactionSettings._meta.concrete_fields
    if field.editable and not field.primary_key
)


@writer(accounts=False, version="version")
def settings_update(*, actor: User, version: int, data: Mapping[str, Any]) -> SatisfactionSettings:
    """Change the satisfaction settings (administrators; the admin's form saves here).

    Only the fields in ``data`` change, and only if the settings still have ``version``
    (else ``VersionConflict`` with the settings as they are now).
    """
    if not can_manage_portfolios(actor):
        raise PermissionRefused(_("Only a sales manager or an administrator changes settings."))
    config = SatisfactionSettings.load()
    changed = apply_changes(config, dict(data), SETTINGS_FIELDS)
    full_clean_or_raise(config)
    with transaction.atomic():
        versioned_update(config, expected_version=version, fields=changed)
        audit_log(actor=actor, action="satisfaction.settings", obj=config, fields=changed)
        transaction.on_commit(forget_cached_settings)
    return config


# --- questions --------------------------------------------------------------------------


def _clean_choices(raw: Any, index: int) -> list[dict]:
    errors = {f"questions.{index}.choices": [_("Give at least two options with a label.")]}
    if not isinstance(raw, list) or len(raw) < 2:
        raise InvalidInput(errors)
    clean = []
    for n, option in enumerate(raw, start=1):
        if not isinstance(option, Mapping):
            raise InvalidInput(errors)
        label_nl = str(option.get("label_nl") or "").strip()[:200]
        label_en = str(option.get("label_en") or "").strip()[:200] or label_nl
        key = str(option.get("key") or n).strip()[:60]
        if not label_nl:
            raise InvalidInput(errors)
        raw_score: Any = option.get("score")
        score: float | None = None
        if raw_score is not None and raw_score != "":
            try:
                score = float(raw_score)
            except (TypeError, ValueError):
                score = -1
            if not 0 <= score <= 100:
                raise InvalidInput(
                    {f"questions.{index}.choices": [_("A score runs from 0 to 100.")]}
                )
        clean.append(
            {
                "key": key,
                "label_nl": label_nl,
                "label_en": label_en,
                "score": score,
                "unhappy": bool(option.get("unhappy")),
            }
        )
    if len({c["key"] for c in clean}) != len(clean):
        raise InvalidInput({f"questions.{index}.choices": [_("Options need different keys.")]})
    return clean


def _apply_question(
    question: Question, spec: Mapping[str, Any], index: int, answered: bool
) -> None:
    unknown = set(spec) - {*QUESTION_FIELDS, "id"}
    if unknown:
        raise InvalidInput({f"questions.{index}.{name}": ["Unknown field."] for name in unknown})
    key = spec.get("kind", question.kind)
    if key not in kinds.keys():
        raise InvalidInput({f"questions.{index}.kind": [_("Unknown question type.")]})
    if answered and key != question.kind:
        raise InvalidInput(
            {f"questions.{index}.kind": [_("This question has answers: its type stays.")]}
        )
    kind = kinds.get(key)
    question.kind = key
    text_nl = str(spec.get("text_nl", question.text_nl) or "").strip()
    if not text_nl:
        raise InvalidInput({f"questions.{index}.text_nl": [_("Enter the question in Dutch.")]})
    question.text_nl = text_nl[:500]
    question.text_en = (str(spec.get("text_en", question.text_en) or "").strip() or text_nl)[:500]
    question.required = bool(spec.get("required", question.required if question.pk else True))
    if "tags" in spec:
        tags = spec["tags"] or []
        if isinstance(tags, str):
            tags = tags.split(",")
        question.tags = [str(t)[:40] for t in tags]
    if kind.has_options:
        choices = _clean_choices(spec.get("choices", question.choices), index)
        if answered:
            before = {str(c["key"]) for c in question.choices}
            if not before <= {c["key"] for c in choices}:
                raise InvalidInput(
                    {
                        f"questions.{index}.choices": [
                            _("This question has answers: its options can be added, not removed.")
                        ]
                    }
                )
        question.choices = choices
        question.scale  # noqa: B018 - validates through core.survey_scores
    else:
        question.choices = []
    question.yes_no_unhappy = spec.get("yes_no_unhappy") if kind.has_unhappy_answer else None


def _save_questions(survey: Survey, specs: list[Mapping[str, Any]]) -> None:
    existing = {q.pk: q for q in survey.questions.all()}
    answered = set(
        Answer.objects.filter(question__survey=survey)
        .values_list("question_id", flat=True)
        .distinct()
    )
    keep = set()
    for index, spec in enumerate(specs):
        if not isinstance(spec, Mapping):
            raise InvalidInput({f"questions.{index}": [_("A question is an object.")]})
        pk = spec.get("id")
        if pk is not None:
            found = existing.get(pk)
            if found is None:
                raise InvalidInput({f"questions.{index}.id": [_("Unknown question.")]})
            question = found
        else:
            question = Question(survey=survey)
        _apply_question(question, spec, index, question.pk in answered)
        question.position = index + 1
        question.archived = False
        question.save()
        keep.add(question.pk)
    for pk, question in existing.items():
        if pk in keep:
            continue
        if pk in answered:  # answered questions stay for the results, hidden from the form
            question.archived = True
            question.position = 1000 + question.position
            question.save(update_fields=["archived", "position"])
        else:
            question.delete()
    if not keep:
        raise InvalidInput({"questions": [_("A survey needs at least one question.")]})
