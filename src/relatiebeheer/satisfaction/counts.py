"""The monthly answer counts (``AnswerCount``): kept with every write, checked daily.

Users who see every account read a survey's distributions and trends from these counts
instead of a pass over all answers. A count must equal the number of answers it
stands for, so every writer that adds or removes answers keeps it in its own
transaction:

* a submission adds its answers (:func:`add_answers`, one multi-row upsert);
* deleting an account removes its answers with it (cascade): :func:`remove_accounts`
  listens to ``hooks.on_accounts_removed``, called inside the deleting transaction
  (``account_delete``, and the merge that removes the other account after moving its
  answers to the one kept), and subtracts the answers still on those accounts;
* nothing else deletes answers (a survey or question with answers is protected; the
  privacy erasure unlinks responses from the contact and keeps the answers).

The figure check ``satisfaction.answer_counts`` (:func:`check_answer_counts`,
registered in ``SatisfactionConfig.ready()``) recounts them from the answers, reports
every difference and repairs it; ``relatiebeheer check-figures`` runs it and the worker
runs it daily, so drift from outside the application (a bulk load, a hand edit in the
database) cannot outlive a day.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Any

from django.db import connection
from django.db.models import Count, F, QuerySet
from django.db.models.functions import Greatest

from relatiebeheer.ops.figure_checks import CheckResult

from . import kinds
from .models import Answer, AnswerCount

Key = tuple[int, int, date, str]  # survey, question, month, value key


def add_answers(cursor: Any, survey_id: int, month: Any, answers: list[tuple[Any, Any]]) -> None:
    """Add ``(question, value)`` answers of one month (``month`` adapted for the
    database) to the counts: one multi-row upsert on ``cursor``, in the caller's
    transaction."""
    if not answers:
        return
    q = connection.ops.quote_name
    table = q(AnswerCount._meta.db_table)
    names = ["survey_id", "question_id", "month", "value_key", "count"]
    params: list[Any] = []
    for question, value in answers:
        params += [survey_id, question.pk, month, kinds.get(question.kind).count_key(value), 1]
    group = "(%s, %s, %s, %s, %s)"
    cursor.execute(
        f"INSERT INTO {table} ({', '.join(q(n) for n in names)}) "  # noqa: S608
        f"VALUES {', '.join([group] * len(answers))} "
        f"ON CONFLICT ({q('question_id')}, {q('month')}, {q('value_key')}) "
        f"DO UPDATE SET {q('count')} = {table}.{q('count')} + excluded.{q('count')}",
        params,
    )


def count_answers(answers: QuerySet[Answer]) -> dict[Key, int]:
    """The counts ``answers`` make, keyed like ``AnswerCount`` (one grouped query)."""
    grouped = (
        answers.order_by()
        .values(
            "survey_id", "question_id", "kind", "month", "value_int", "value_bool", "value_choice"
        )
        .annotate(n=Count("id"))
    )
    counts: dict[Key, int] = defaultdict(int)
    for row in grouped:
        kind = kinds.get(row["kind"])
        value = None if kind.free_text else kind.stored_value(row)
        key = (row["survey_id"], row["question_id"], row["month"], kind.count_key(value))
        counts[key] += row["n"]
    return dict(counts)


def remove_accounts(account_ids: list[int]) -> None:
    """The ``on_accounts_removed`` listener: the answers still on these accounts are about
    to be deleted with them, so their counts go down now, in the same transaction."""
    gone = count_answers(Answer.objects.filter(account_id__in=account_ids))
    touched = []
    for (_survey, question_id, month, key), n in gone.items():
        rows = AnswerCount.objects.filter(question_id=question_id, month=month, value_key=key)
        rows.update(count=Greatest(F("count") - n, 0))
        touched.append(question_id)
    if touched:
        AnswerCount.objects.filter(question_id__in=set(touched), count=0).delete()


def _lock_counts() -> None:
    """PostgreSQL: submissions wait (their upsert needs the table) while the counts are
    compared, so none lands between reading the answers and reading the counts. SQLite:
    the check's transaction holds the database's write lock already."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            table = connection.ops.quote_name(AnswerCount._meta.db_table)
            cursor.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")


def check_answer_counts(*, repair: bool, survey_ids: Iterable[int] | None = None) -> CheckResult:
    """Recount ``AnswerCount`` from the answers; report each difference and, with
    ``repair``, write the fresh count (insert, correct or delete the row).

    Runs inside the caller's transaction (``ops.figure_checks.check_figures`` opens one
    per check)."""
    _lock_counts()
    answers = Answer.objects.all()
    kept_rows = AnswerCount.objects.all()
    if survey_ids is not None:
        ids = list(survey_ids)
        answers, kept_rows = answers.filter(survey_id__in=ids), kept_rows.filter(survey_id__in=ids)
    fresh = count_answers(answers)
    kept: dict[Key, tuple[int, int]] = {
        (survey, question, month, key): (pk, n)
        for pk, survey, question, month, key, n in kept_rows.values_list(
            "pk", "survey_id", "question_id", "month", "value_key", "count"
        )
    }
    result = CheckResult(name="satisfaction.answer_counts")
    stale: list[int] = []
    changed: list[AnswerCount] = []
    missing: list[AnswerCount] = []
    for key in sorted(set(fresh) | set(kept), key=lambda k: (k[0], k[1], k[2], k[3])):
        result.checked += 1
        want = fresh.get(key, 0)
        pk, have = kept.get(key, (None, 0))
        if want == have:
            continue
        survey, question, month, value_key = key
        result.differ(
            f"survey {survey}, question {question}, {month:%Y-%m}, value {value_key!r}: "
            f"kept {have}, answers {want}"
        )
        if pk is None:
            missing.append(
                AnswerCount(
                    survey_id=survey,
                    question_id=question,
                    month=month,
                    value_key=value_key,
                    count=want,
                )
            )
        elif want == 0:
            stale.append(pk)
        else:
            changed.append(AnswerCount(pk=pk, count=want))
    if repair and result.differences:
        AnswerCount.objects.filter(pk__in=stale).delete()
        AnswerCount.objects.bulk_update(changed, ["count"], batch_size=1000)
        AnswerCount.objects.bulk_create(missing, batch_size=1000)
        result.repaired = len(stale) + len(changed) + len(missing)
    return result
