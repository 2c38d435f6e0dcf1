"""Answering a survey on the public answer page: drafts, and the final submission (once).

Both are reached through a single-use answer link (``answering.tokens``), without a
login: the audit rows name no user, the invitation identifies the respondent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from relatiebeheer.audit.services import audit_log
from relatiebeheer.common import writers
from relatiebeheer.common.errors import DomainError
from relatiebeheer.common.sqlite_lock import serialized_writes
from relatiebeheer.common.writers import writer
from relatiebeheer.core import survey_scores as scores
from relatiebeheer.hooks import accounts_changed
from relatiebeheer.satisfaction import counts, kinds
from relatiebeheer.satisfaction.followups.services import followup_open
from relatiebeheer.satisfaction.models import (
    Answer,
    AnswerToken,
    Invitation,
    Question,
    Response,
    SatisfactionSettings,
)

from .form import form_questions, parse_answers


class AlreadyAnswered(DomainError):
    status = 409
    code = "already_answered"


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"


@writer(accounts=False, acts="public")
def draft_save(*, token: AnswerToken, data: Mapping[str, Any]) -> None:
    """Keep what the contact filled in so far (nothing once the invitation is answered).

    A draft is no answer yet: no account's figures change (``accounts=False``)."""
    invitation = token.invitation
    questions = form_questions(invitation.survey)
    values = parse_answers(questions, data, final=False)
    with serialized_writes(), transaction.atomic():
        saved = Invitation.objects.filter(pk=invitation.pk, completed_at__isnull=True).update(
            draft={str(k): v for k, v in values.items()}, draft_saved_at=timezone.now()
        )
        if not saved:
            writers.nothing_to_write()
            return
        audit_log(actor=None, action="response.draft", obj=invitation)


@writer(locks=("satisfaction.invitation",), acts="public")
def response_submit(
    *,
    token: AnswerToken,
    data: Mapping[str, Any],
    now: datetime | None = None,
    rate_limit: tuple[str, int, int] | None = None,
) -> Response:
    """Make the answers final, once.

    The invitation row is locked before it is checked and ``Response.invitation`` is
    unique, so of simultaneous submissions exactly one is stored; the others (and every
    later one, through any token of the invitation) get :class:`AlreadyAnswered`. The
    answers, their monthly counts and — for an unhappy answer — the follow-up are written
    in the same transaction, with the "accounts changed" hook's marks (the account's
    satisfaction changed). Over ``rate_limit`` (key, window, limit) only
    the request count is kept and :class:`RateLimited` is raised.
    """
    invitation: Any = token.invitation
    survey = invitation.survey
    questions = form_questions(survey)
    values = parse_answers(questions, data, final=True)
    config = SatisfactionSettings.cached()
    thresholds = config.thresholds
    now = now or timezone.now()
    month = timezone.localtime(now).date().replace(day=1)
    # Scored before the write transaction: the less work while holding SQLite's write
    # lock, the more submissions per second.
    rows = []
    unhappy = []
    for question in questions:
        if question.pk not in values:
            continue
        value = values[question.pk]
        scale = question.scale
        limits = thresholds
        if question.yes_no_unhappy is not None:
            limits = replace(thresholds, yes_no_unhappy=question.yes_no_unhappy)
        is_unhappy = scores.is_unhappy(scale, value, limits)
        rows.append((question, value, scores.score_value(scale, value), is_unhappy))
        if is_unhappy:
            unhappy.append((question, value))
    limited = False
    try:
        with serialized_writes(), transaction.atomic():
            if rate_limit is not None:
                from relatiebeheer.satisfaction.ratelimit import hit

                key, window, limit = rate_limit
                # Over the limit: the count is kept (committed), nothing else is written.
                limited = hit(key, window) > limit
            if limited:
                writers.nothing_to_write()
            else:
                # The conditional UPDATE locks the invitation and checks it is unanswered
                # in one statement. PostgreSQL: simultaneous submissions queue on the row
                # lock and then find it answered; SQLite: the IMMEDIATE transaction already
                # runs them one by one.
                _complete_invitation(invitation.pk, now)
                writers.locked_by_update(Invitation)
                response_id = _insert_response(invitation, now, month, rows, bool(unhappy))
                response = Response(
                    pk=response_id,
                    invitation=invitation,
                    survey=survey,
                    account_id=invitation.account_id,
                    contact_id=invitation.contact_id,
                    submitted_at=now,
                    language=invitation.language,
                    unhappy=bool(unhappy),
                )
                if unhappy:
                    followup_open(response=response, invitation=invitation, unhappy=unhappy)
                audit_log(
                    actor=None,
                    action="response.submit",
                    obj=response,
                    extra={"invitation_id": invitation.pk, "unhappy": bool(unhappy)},
                )
                # In the transaction: the hook's marks are two small upserts that commit
                # with the answers (told after the commit, each would be a commit of its
                # own, which on SQLite costs more than the rest of the submission).
                accounts_changed([invitation.account_id])
    except IntegrityError as exc:
        raise AlreadyAnswered() from exc
    if limited:
        raise RateLimited()
    return response


def _complete_invitation(pk: int, now: datetime) -> None:
    """``UPDATE … SET completed_at = now, draft = {} WHERE id = pk`` (written out: the
    answer page's hot path)."""
    ops, q = connection.ops, connection.ops.quote_name
    draft = Invitation._meta.get_field("draft").get_db_prep_value({}, connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {q(Invitation._meta.db_table)} SET {q('completed_at')} = %s, "  # noqa: S608
            f"{q('draft')} = %s, {q('draft_saved_at')} = NULL "
            f"WHERE {q('id')} = %s AND {q('completed_at')} IS NULL",
            [ops.adapt_datetimefield_value(now), draft, pk],
        )
        if cursor.rowcount != 1:
            raise AlreadyAnswered()


_EMPTY = {kinds.INT: None, kinds.BOOL: None, kinds.CHOICE: "", kinds.TEXT: ""}


def _insert_response(
    invitation: Any,
    now: datetime,
    month: date,
    rows: list[tuple[Question, Any, Any, bool]],
    unhappy: bool,
) -> int:
    """Write the response, its answers and their counts with three plain statements.

    The answer page's hot path: the statements are written out rather than compiled by
    the ORM on every submission (that compilation cost more than the writes). Values go
    through the backend's own adapters, exactly as the ORM would pass them; each value
    goes to its kind's column (``satisfaction.kinds``).
    """
    ops, q = connection.ops, connection.ops.quote_name
    survey_id = invitation.survey_id
    stamp = ops.adapt_datetimefield_value(now)
    columns = ["invitation_id", "survey_id", "account_id", "contact_id", "submitted_at"]
    columns += ["language", "unhappy"]
    params = [invitation.pk, survey_id, invitation.account_id, invitation.contact_id, stamp]
    params += [invitation.language, unhappy]
    sql = (
        f"INSERT INTO {q(Response._meta.db_table)} ({', '.join(q(c) for c in columns)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    with connection.cursor() as cursor:
        if connection.features.can_return_columns_from_insert:
            cursor.execute(f"{sql} RETURNING {q('id')}", params)
            response_id = cursor.fetchone()[0]
        else:  # pragma: no cover - both supported databases return columns
            cursor.execute(sql, params)
            response_id = cursor.lastrowid
        if rows:
            names = ["response_id", "question_id", "survey_id", "account_id", "kind"]
            names += ["tags_text", "submitted_at", "month", "score", "unhappy", *kinds.COLUMNS]
            values: list[Any] = []
            day = ops.adapt_datefield_value(month)
            for question, value, score, is_unhappy in rows:
                column = question.kind_spec.column
                values += [
                    response_id,
                    question.pk,
                    survey_id,
                    invitation.account_id,
                    question.kind,
                    question.tags_text,
                    stamp,
                    day,
                    None if score is None else ops.adapt_decimalfield_value(score, 4, 1),
                    is_unhappy,
                    *(value if name == column else _EMPTY[name] for name in kinds.COLUMNS),
                ]
            group = f"({', '.join(['%s'] * len(names))})"
            cursor.execute(
                f"INSERT INTO {q(Answer._meta.db_table)} ({', '.join(q(n) for n in names)}) "  # noqa: S608
                f"VALUES {', '.join([group] * len(rows))}",
                values,
            )
            counts.add_answers(cursor, survey_id, day, [(q_, v) for q_, v, _s, _u in rows])
    return response_id
