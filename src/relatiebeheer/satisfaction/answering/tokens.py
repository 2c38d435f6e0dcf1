"""Answer links: a fresh token per mail, made when the mail is sent; only its hash is kept.

:func:`render_answer_link` is the outbox renderer that makes the token inside the
transaction that claims the mail, so the raw token exists only in the mail itself.
:func:`token_resolve` finds the invitation behind a link on the public answer page.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.urls import reverse
from django.utils import timezone

from relatiebeheer.common.errors import DomainError
from relatiebeheer.outbox.rendering import public_url
from relatiebeheer.relations.models import Contact
from relatiebeheer.satisfaction.models import AnswerToken, Invitation, SatisfactionSettings, Survey

ANSWER_RENDERER = "satisfaction.answer_link"


class TokenUnknown(DomainError):
    status = 404
    code = "unknown_link"


class TokenExpired(DomainError):
    status = 410
    code = "expired_link"


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def render_answer_link(message: Any) -> dict[str, str]:
    """The outbox renderer: a fresh token for this mail; only its hash is stored.

    Runs when the mail is sent (inside the claiming transaction), so the raw token
    exists nowhere but in the mail itself. A deliberate resend issues a new token and
    the earlier one stops working.
    """
    token = AnswerToken.objects.get(pk=message.renderer_args["token_id"])
    config = SatisfactionSettings.cached()
    raw = secrets.token_urlsafe(32)  # 256 bits
    now = timezone.now()
    AnswerToken.objects.filter(pk=token.pk).update(
        token_hash=hash_token(raw),
        issued_at=now,
        expires_at=now + timedelta(days=config.token_expiry_days),
    )
    return {"answer_url": public_url(reverse("satisfaction:answer", args=[raw]))}


_survey_cache: dict[tuple[int, int], Survey] = {}


def _survey(pk: int, version: int) -> Survey:
    """A survey by id and version, cached per process (a save raises the version)."""
    survey = _survey_cache.get((pk, version))
    if survey is None:
        survey = Survey.objects.get(pk=pk)
        if len(_survey_cache) > 200:
            _survey_cache.clear()
        _survey_cache[(pk, version)] = survey
    return survey


_sql_cache: dict[str, str] = {}


def _token_sql() -> str:
    key = f"token:{connection.vendor}"
    if key not in _sql_cache:
        _sql_cache[key] = _build_token_sql()
    return _sql_cache[key]


def _build_token_sql() -> str:
    q = connection.ops.quote_name
    t, i, s, c = (
        q(AnswerToken._meta.db_table),
        q(Invitation._meta.db_table),
        q(Survey._meta.db_table),
        q(Contact._meta.db_table),
    )
    return (
        f"SELECT {t}.{q('id')}, {t}.{q('invitation_id')}, {t}.{q('kind')}, "  # noqa: S608
        f"{t}.{q('token_hash')}, {t}.{q('issued_at')}, {t}.{q('expires_at')}, "
        f"{t}.{q('message_id')}, {i}.{q('survey_id')} AS inv_survey_id, "
        f"{i}.{q('account_id')} AS inv_account_id, {i}.{q('contact_id')} AS inv_contact_id, "
        f"{i}.{q('language')} AS inv_language, "
        f"CASE WHEN {i}.{q('completed_at')} IS NULL THEN 0 ELSE 1 END AS inv_completed, "
        f"{i}.{q('draft')} AS inv_draft, {s}.{q('version')} AS survey_version, "
        f"{c}.{q('first_name')} AS contact_first_name "
        f"FROM {t} INNER JOIN {i} ON {t}.{q('invitation_id')} = {i}.{q('id')} "
        f"INNER JOIN {s} ON {i}.{q('survey_id')} = {s}.{q('id')} "
        f"LEFT OUTER JOIN {c} ON {i}.{q('contact_id')} = {c}.{q('id')} "
        f"WHERE {t}.{q('token_hash')} = %s"
    )


def token_resolve(raw: str, *, now: datetime | None = None) -> AnswerToken:
    """The token behind a link, or :class:`TokenUnknown` / :class:`TokenExpired`.

    The public page's hot path: one indexed query (written out, so that no ORM query
    is compiled per request) and the survey from a per-process cache. The token's
    ``invitation`` is attached with what the page and the submission need
    (``is_completed`` and ``contact_first_name`` besides its own fields).
    """
    if not raw or len(raw) > 100:
        raise TokenUnknown()
    rows = list(AnswerToken.objects.raw(_token_sql(), [hash_token(raw)]))
    if not rows:
        raise TokenUnknown()
    token = rows[0]
    if token.expires_at is None or token.expires_at <= (now or timezone.now()):
        raise TokenExpired()
    joined: Any = token  # carries the joined columns of the query above
    draft = joined.inv_draft
    if isinstance(draft, str):
        draft = json.loads(draft or "{}")
    invitation: Any = Invitation(
        pk=token.invitation_id,
        survey_id=joined.inv_survey_id,
        account_id=joined.inv_account_id,
        contact_id=joined.inv_contact_id,
        language=joined.inv_language,
        draft=draft or {},
    )
    invitation.survey = _survey(joined.inv_survey_id, joined.survey_version)
    invitation.is_completed = bool(joined.inv_completed)
    invitation.contact_first_name = joined.contact_first_name or ""
    token.invitation = invitation
    return token
