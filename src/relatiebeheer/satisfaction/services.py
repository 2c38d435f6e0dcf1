"""Writes of the satisfaction domain: surveys, invitations, answers and follow-ups.

Invitations and their mails are written in one transaction (the outbox), answers are
final once (one response per invitation, enforced by the database), and an unhappy
answer opens a follow-up task for the account manager in the same transaction.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from relatiebeheer.audit.services import audit_log
from relatiebeheer.common.errors import DomainError, InvalidInput, NotFound, PermissionRefused
from relatiebeheer.core import survey_scores as scores
from relatiebeheer.outbox.rendering import public_url
from relatiebeheer.outbox.services import internal_mail_enqueue, mail_enqueue_rendered
from relatiebeheer.relations.models import Account, Contact, Interaction
from relatiebeheer.relations.selectors import contacts_with_consent
from relatiebeheer.relations.services import require_account_writable, task_create, task_update
from relatiebeheer.users.access import can_manage_portfolios, system_user

from . import defaults
from .models import (
    Answer,
    AnswerCount,
    AnswerToken,
    AutoSendRecord,
    FollowUp,
    Invitation,
    Question,
    QuestionKind,
    Response,
    SatisfactionSettings,
    Survey,
)

ANSWER_RENDERER = "satisfaction.answer_link"
MAX_TEXT = 5000


class AlreadyAnswered(DomainError):
    status = 409
    code = "already_answered"


class TokenUnknown(DomainError):
    status = 404
    code = "unknown_link"


class TokenExpired(DomainError):
    status = 410
    code = "expired_link"


_sqlite_writer = threading.Lock()
_lock_files: dict[str, tuple[int, int]] = {}  # database path → (pid, file descriptor)


def _lock_file() -> int | None:
    """This process's descriptor of ``<database>.writelock`` (reopened after a fork)."""
    try:
        import fcntl  # noqa: F401 - POSIX only; elsewhere the thread lock alone is used
    except ImportError:  # pragma: no cover
        return None
    path = f"{connection.settings_dict['NAME']}.writelock"
    held = _lock_files.get(path)
    if held is None or held[0] != os.getpid():
        _lock_files[path] = (os.getpid(), os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    return _lock_files[path][1]


@contextlib.contextmanager
def serialized_writes():
    """On SQLite, one write transaction at a time, across threads and processes.

    SQLite allows one writer; a connection that finds the write lock taken polls in the
    busy handler with growing sleeps (up to 100 ms), so under load the server processes
    lose most of their time asleep. Queuing first on a thread lock and an exclusive
    ``flock`` of ``<database>.writelock`` makes waiting writers sleep in the kernel and
    wake the moment the lock is free. PostgreSQL needs none of this.
    """
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield
        return
    with _sqlite_writer:
        fd = _lock_file()
        if fd is None:  # pragma: no cover
            yield
            return
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)


# --- helpers ----------------------------------------------------------------------------


def add_working_days(start: date, days: int) -> date:
    """``days`` working days (Monday–Friday) after ``start``; 0 → the next working day
    on or after ``start``. Friday + 2 → Tuesday."""
    current = start
    while current.weekday() >= 5:
        current += timedelta(days=1)
    added = 0
    while added < days:
        current += timedelta(days=1)
        if current.weekday() < 5:
            added += 1
    return current


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def default_survey() -> Survey:
    survey = Survey.objects.filter(key=defaults.DEFAULT_SURVEY).first()
    if survey is None:
        defaults.install(Survey, Question)
        survey = Survey.objects.get(key=defaults.DEFAULT_SURVEY)
    return survey


def check_back_survey(config: SatisfactionSettings) -> Survey:
    if config.check_back_survey_id:
        return config.check_back_survey
    survey = Survey.objects.filter(key=defaults.CHECK_BACK_SURVEY).first()
    if survey is None:
        defaults.install(Survey, Question)
        survey = Survey.objects.get(key=defaults.CHECK_BACK_SURVEY)
    return survey


# --- surveys ----------------------------------------------------------------------------

SURVEY_FIELDS = ("key", "name", "title_nl", "title_en", "intro_nl", "intro_en", "active")
QUESTION_FIELDS = (
    "kind",
    "text_nl",
    "text_en",
    "required",
    "tags",
    "choices",
    "yes_no_unhappy",
)


def require_survey_editor(actor) -> None:
    if not can_manage_portfolios(actor):
        raise PermissionRefused(_("Only a sales manager or an administrator edits surveys."))


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
        score = option.get("score")
        if score in ("", None):
            score = None
        else:
            try:
                score = float(score)
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


def _apply_question(question: Question, spec: Mapping[str, Any], index: int, answered: bool):
    unknown = set(spec) - {*QUESTION_FIELDS, "id"}
    if unknown:
        raise InvalidInput({f"questions.{index}.{name}": ["Unknown field."] for name in unknown})
    kind = spec.get("kind", question.kind)
    if kind not in QuestionKind.values:
        raise InvalidInput({f"questions.{index}.kind": [_("Unknown question type.")]})
    if answered and kind != question.kind:
        raise InvalidInput(
            {f"questions.{index}.kind": [_("This question has answers: its type stays.")]}
        )
    question.kind = kind
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
    if kind == QuestionKind.SINGLE_CHOICE:
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
    question.yes_no_unhappy = spec.get("yes_no_unhappy") if kind == QuestionKind.YES_NO else None


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
            question = existing.get(pk)
            if question is None:
                raise InvalidInput({f"questions.{index}.id": [_("Unknown question.")]})
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


def survey_create(*, actor, data: Mapping[str, Any], questions: list[Mapping[str, Any]]) -> Survey:
    """A new survey with its ordered questions (sales managers and administrators)."""
    from relatiebeheer.common.services import apply_changes, full_clean_or_raise

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


def survey_update(
    *,
    actor,
    survey: Survey,
    version: int,
    data: Mapping[str, Any],
    questions: list[Mapping[str, Any]] | None = None,
) -> Survey:
    """Change a survey (and, when given, its whole ordered list of questions).

    Questions that have answers keep their type (and single-choice options their keys);
    left out of the list they are archived rather than deleted, so results stay whole.
    """
    from relatiebeheer.common.services import (
        apply_changes,
        full_clean_or_raise,
        versioned_update,
    )

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


# --- invitations ------------------------------------------------------------------------


@dataclass
class InviteReport:
    invited: list[Invitation] = field(default_factory=list)
    no_email: list[int] = field(default_factory=list)
    no_consent: list[int] = field(default_factory=list)
    throttled: list[int] = field(default_factory=list)

    @property
    def skipped(self) -> int:
        return len(self.no_email) + len(self.no_consent) + len(self.throttled)

    def as_dict(self) -> dict[str, Any]:
        return {
            "invited": len(self.invited),
            "invitation_ids": [i.pk for i in self.invited],
            "skipped_no_email": self.no_email,
            "skipped_no_consent": self.no_consent,
            "skipped_throttled": self.throttled,
        }


def _mail_parts(
    kind: str, invitation: Invitation, contact: Contact, config
) -> tuple[str, str, str]:
    language = invitation.language
    survey = invitation.survey
    with translation.override(language):
        context = {
            "kind": kind,
            "contact": contact,
            "survey_title": survey.title(language),
            "intro": survey.intro(language),
            "days": config.token_expiry_days,
            "link": "%%answer_url%%",
        }
        subject = (
            _("Reminder: %(title)s") % {"title": survey.title(language)}
            if kind == AnswerToken.Kind.REMINDER
            else survey.title(language)
        )
        text = render_to_string("satisfaction/mail/invitation.txt", context)
        html = render_to_string("satisfaction/mail/invitation.html", context)
    return subject, text, html


def _issue_mail(invitation: Invitation, contact: Contact, kind: str, config, actor) -> AnswerToken:
    token = AnswerToken.objects.create(invitation=invitation, kind=kind)
    subject, text, html = _mail_parts(kind, invitation, contact, config)
    message = mail_enqueue_rendered(
        key=f"satisfaction.{kind}.{invitation.pk}",
        to=contact.email,
        subject=subject,
        text=text,
        html=html,
        language=invitation.language,
        purpose="surveys",
        contact=contact,
        account_id=invitation.account_id,
        actor=actor,
        renderer=ANSWER_RENDERER,
        renderer_args={"token_id": token.pk},
    )
    AnswerToken.objects.filter(pk=token.pk).update(message=message)
    return token


def render_answer_link(message) -> dict[str, str]:
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


def _lock_accounts(account_ids: Iterable[int]) -> None:
    """Serialise concurrent invitations to the same accounts (throttling stays exact)."""
    ids = sorted(set(account_ids))
    if ids:
        list(Account.objects.select_for_update().filter(pk__in=ids).order_by("pk").values("pk"))


def invite(
    *,
    actor,
    survey: Survey,
    contacts: Iterable[Contact],
    source: str,
    interaction: Interaction | None = None,
    followup: FollowUp | None = None,
    throttle: bool = True,
    now=None,
) -> InviteReport:
    """Invite contacts to a survey: by hand, for a selection, or automatically.

    Only contacts with an email address whose latest consent statement for "surveys"
    is a grant are invited, at most one invitation per contact per X days and per
    account per Y days (the settings; a check-back after a follow-up is not
    throttled). Each invitation and its mail are written in one transaction; the
    worker sends the mail after the commit.
    """
    if not survey.active:
        raise InvalidInput({"survey": [_("This survey is not active.")]})
    contacts = list(contacts)
    for account in {c.account for c in contacts}:
        require_account_writable(actor, account)
    config = SatisfactionSettings.load()
    now = now or timezone.now()
    report = InviteReport()
    with transaction.atomic():
        _lock_accounts(c.account_id for c in contacts)
        ids = [c.pk for c in contacts]
        consenting = set(
            contacts_with_consent(Contact.objects.filter(pk__in=ids), "surveys").values_list(
                "pk", flat=True
            )
        )
        recent_contacts: set[int] = set()
        recent_accounts: set[int] = set()
        if throttle:
            recent_contacts = set(
                Invitation.objects.filter(
                    contact_id__in=ids,
                    created_at__gt=now - timedelta(days=config.throttle_contact_days),
                ).values_list("contact_id", flat=True)
            )
            recent_accounts = set(
                Invitation.objects.filter(
                    account_id__in={c.account_id for c in contacts},
                    created_at__gt=now - timedelta(days=config.throttle_account_days),
                ).values_list("account_id", flat=True)
            )
        for contact in contacts:
            if not contact.email:
                report.no_email.append(contact.pk)
                continue
            if contact.pk not in consenting:
                report.no_consent.append(contact.pk)
                continue
            if throttle and (
                contact.pk in recent_contacts
                or (config.throttle_account_days and contact.account_id in recent_accounts)
            ):
                report.throttled.append(contact.pk)
                continue
            invitation = Invitation.objects.create(
                survey=survey,
                account_id=contact.account_id,
                contact=contact,
                source=source,
                interaction=interaction,
                followup=followup,
                language=contact.language or "nl",
                created_at=now,
                created_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
            _issue_mail(invitation, contact, AnswerToken.Kind.INVITATION, config, actor)
            recent_contacts.add(contact.pk)
            recent_accounts.add(contact.account_id)
            report.invited.append(invitation)
        if report.invited:
            audit_log(
                actor=actor,
                action="survey.invite",
                obj=survey,
                extra={"source": source, "invited": len(report.invited), "skipped": report.skipped},
            )
    return report


def invite_selection(*, actor, survey: Survey, selection, source: str = "bulk") -> InviteReport:
    """Invite the contacts of every account in a saved selection (as its owner sees it)."""
    from relatiebeheer.relations.selectors import AccountFilters, account_list

    if selection.owner_id != actor.pk:
        raise NotFound()
    accounts = account_list(actor=actor, filters=AccountFilters.from_mapping(selection.filters))
    contacts = (
        Contact.objects.filter(account__in=accounts.values("pk"))
        .exclude(email="")
        .select_related("account")
        .order_by("account_id", "id")
    )
    return invite(actor=actor, survey=survey, contacts=contacts, source=source)


def auto_invite(*, now=None, limit: int = 500) -> int:
    """Invite the contacts of contact moments of the chosen kinds, N days after them.

    Each contact moment is handled once (``AutoSendRecord``), whatever happened to it,
    so running this again — or on two workers at once — sends nothing twice. Moments
    older than N + 7 days when first seen are left alone (no survey weeks late).
    """
    config = SatisfactionSettings.load()
    if not config.auto_send or not config.auto_send_kinds:
        return 0
    now = now or timezone.now()
    due = now - timedelta(days=config.auto_send_days)
    survey = config.auto_survey if config.auto_survey_id else default_survey()
    if not survey.active:
        return 0
    handled = AutoSendRecord.objects.values("interaction_id")
    interactions = list(
        Interaction.objects.filter(
            kind__in=config.auto_send_kinds,
            occurred_at__lte=due,
            occurred_at__gt=due - timedelta(days=7),
        )
        .exclude(pk__in=handled)
        .select_related("account")
        .prefetch_related("contacts__account")
        .order_by("occurred_at", "id")[:limit]
    )
    actor = system_user()
    invited = 0
    for interaction in interactions:
        try:
            with transaction.atomic():
                record = AutoSendRecord.objects.create(interaction=interaction)
                contacts = sorted(interaction.contacts.all(), key=lambda c: c.pk)
                report = invite(
                    actor=actor,
                    survey=survey,
                    contacts=contacts,
                    source=Invitation.Source.AUTO,
                    interaction=interaction,
                    now=now,
                )
                record.invited = len(report.invited)
                record.skipped = (
                    f"no_email={len(report.no_email)} no_consent={len(report.no_consent)} "
                    f"throttled={len(report.throttled)}"
                )
                record.save(update_fields=["invited", "skipped"])
                invited += record.invited
        except IntegrityError:
            continue  # another worker handled this contact moment
    return invited


def send_reminders(*, now=None, limit: int = 500) -> int:
    """One reminder, R days after the invitation mail went out, while unanswered."""
    config = SatisfactionSettings.load()
    if not config.reminder_days:
        return 0
    now = now or timezone.now()
    invitations = list(
        Invitation.objects.filter(
            completed_at__isnull=True,
            reminder_at__isnull=True,
            contact__isnull=False,
            tokens__kind=AnswerToken.Kind.INVITATION,
            tokens__issued_at__lte=now - timedelta(days=config.reminder_days),
            tokens__expires_at__gt=now,
            tokens__message__status="sent",
        )
        .select_related("contact", "survey")
        .order_by("id")[:limit]
    )
    actor = system_user()
    sent = 0
    for invitation in invitations:
        with transaction.atomic():
            claimed = Invitation.objects.filter(
                pk=invitation.pk, reminder_at__isnull=True, completed_at__isnull=True
            ).update(reminder_at=now)
            if not claimed:
                continue
            if not invitation.contact.email:
                continue
            _issue_mail(invitation, invitation.contact, AnswerToken.Kind.REMINDER, config, actor)
            sent += 1
    return sent


# --- answering --------------------------------------------------------------------------


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


def token_resolve(raw: str, *, now=None) -> AnswerToken:
    """The token behind a link, or :class:`TokenUnknown` / :class:`TokenExpired`.

    The public page's hot path: one indexed query (written out, so that no ORM query
    is compiled per request) and the survey from a per-process cache. The token's
    ``invitation`` is attached with what the page and the submission need.
    """
    import json

    if not raw or len(raw) > 100:
        raise TokenUnknown()
    rows = list(AnswerToken.objects.raw(_token_sql(), [hash_token(raw)]))
    if not rows:
        raise TokenUnknown()
    token = rows[0]
    if token.expires_at is None or token.expires_at <= (now or timezone.now()):
        raise TokenExpired()
    draft = token.inv_draft
    if isinstance(draft, str):
        draft = json.loads(draft or "{}")
    invitation = Invitation(
        pk=token.invitation_id,
        survey_id=token.inv_survey_id,
        account_id=token.inv_account_id,
        contact_id=token.inv_contact_id,
        language=token.inv_language,
        draft=draft or {},
    )
    invitation.survey = _survey(token.inv_survey_id, token.survey_version)
    invitation.is_completed = bool(token.inv_completed)
    invitation.contact_first_name = token.contact_first_name or ""
    token.invitation = invitation
    return token


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

    A draft keeps what is valid so far; a final submission also needs every required one.
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
            value = _typed(question, raw)
            scores.validate_answer(question.scale, value)
        except (ValueError, TypeError, scores.AnswerError):
            errors[name] = [_("Choose one of the options.")]
            continue
        values[question.pk] = value
    if errors and final:
        raise InvalidInput(errors)
    return values


def _typed(question: Question, raw: Any) -> Any:
    kind = question.kind
    if kind in {"four_point", "csat", "nps", "grade"}:
        if isinstance(raw, bool):
            raise ValueError(raw)
        return int(str(raw).strip())
    if kind == "yes_no":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in {"yes", "ja", "true", "1"}:
            return True
        if text in {"no", "nee", "false", "0"}:
            return False
        raise ValueError(raw)
    if kind == "single_choice":
        return str(raw).strip()
    return str(raw).replace("\x00", "").strip()[:MAX_TEXT]


def draft_save(*, token: AnswerToken, data: Mapping[str, Any]) -> None:
    """Keep what the contact filled in so far (nothing once the invitation is answered)."""
    questions = form_questions(token.invitation.survey)
    values = parse_answers(questions, data, final=False)
    Invitation.objects.filter(pk=token.invitation_id, completed_at__isnull=True).update(
        draft={str(k): v for k, v in values.items()}, draft_saved_at=timezone.now()
    )


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"


def response_submit(
    *,
    token: AnswerToken,
    data: Mapping[str, Any],
    now=None,
    rate_limit: tuple[str, int, int] | None = None,
) -> Response:
    """Make the answers final, once.

    The invitation row is locked and ``Response.invitation`` is unique, so of two
    submissions at the same moment exactly one is stored; the other (and every later
    one, through any token of the invitation) gets :class:`AlreadyAnswered`.
    """
    invitation = token.invitation
    survey = invitation.survey
    questions = form_questions(survey)
    values = parse_answers(questions, data, final=True)
    config = SatisfactionSettings.cached()
    thresholds = config.thresholds
    now = now or timezone.now()
    local = timezone.localtime(now)
    month = local.date().replace(day=1)
    limited = False
    try:
        with serialized_writes(), transaction.atomic():
            if rate_limit is not None:
                from .ratelimit import hit

                key, window, limit = rate_limit
                # Over the limit: the count is kept (committed), nothing else is written.
                limited = hit(key, window) > limit
            if not limited:
                # One conditional UPDATE claims the invitation: of simultaneous submissions
                # exactly one changes the row (PostgreSQL: the others wait on the row lock
                # and then find it answered; SQLite: IMMEDIATE transactions run one by one).
                claimed = _claim_invitation(invitation.pk, now)
                if not claimed:
                    raise AlreadyAnswered()
                rows = []
                unhappy = []
                for question in questions:
                    if question.pk not in values:
                        continue
                    value = values[question.pk]
                    scale = question.scale
                    limits = thresholds
                    if question.kind == QuestionKind.YES_NO:
                        limits = scores.UnhappyThresholds(
                            four_point_at_most=thresholds.four_point_at_most,
                            csat_at_most=thresholds.csat_at_most,
                            nps_at_most=thresholds.nps_at_most,
                            grade_below=thresholds.grade_below,
                            yes_no_unhappy=question.yes_no_unhappy,
                        )
                    is_unhappy = scores.is_unhappy(scale, value, limits)
                    rows.append((question, value, scores.score_value(scale, value), is_unhappy))
                    if is_unhappy:
                        unhappy.append((question, value))
                response_id = _insert_response(invitation, survey, now, month, rows, bool(unhappy))
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
                    _followup_open(response, invitation, unhappy, config)
    except IntegrityError as exc:
        raise AlreadyAnswered() from exc
    if limited:
        raise RateLimited()
    return response


def _claim_invitation(pk: int, now) -> bool:
    """``UPDATE … SET completed_at = now WHERE id = pk AND completed_at IS NULL``."""
    ops, q = connection.ops, connection.ops.quote_name
    draft = Invitation._meta.get_field("draft").get_db_prep_value({}, connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {q(Invitation._meta.db_table)} SET {q('completed_at')} = %s, "  # noqa: S608
            f"{q('draft')} = %s, {q('draft_saved_at')} = NULL "
            f"WHERE {q('id')} = %s AND {q('completed_at')} IS NULL",
            [ops.adapt_datetimefield_value(now), draft, pk],
        )
        return cursor.rowcount == 1


def _insert_response(invitation, survey, now, month, rows, unhappy: bool) -> int:
    """Write the response and its answers with two plain INSERTs.

    The answer page's hot path: the statements are written out rather than compiled by
    the ORM on every submission (that compilation cost more than the writes). Values go
    through the backend's own adapters, exactly as the ORM would pass them.
    """
    ops, q = connection.ops, connection.ops.quote_name
    stamp = ops.adapt_datetimefield_value(now)
    columns = ["invitation_id", "survey_id", "account_id", "contact_id", "submitted_at"]
    columns += ["language", "unhappy"]
    params = [invitation.pk, survey.pk, invitation.account_id, invitation.contact_id, stamp]
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
            names += ["tags_text", "submitted_at", "month", "value_int", "value_bool"]
            names += ["value_choice", "value_text", "score", "unhappy"]
            values: list[Any] = []
            day = ops.adapt_datefield_value(month)
            for question, value, score, is_unhappy in rows:
                numeric = question.kind in {"four_point", "csat", "nps", "grade"}
                values += [
                    response_id,
                    question.pk,
                    survey.pk,
                    invitation.account_id,
                    question.kind,
                    question.tags_text,
                    stamp,
                    day,
                    value if numeric else None,
                    value if question.kind == "yes_no" else None,
                    value if question.kind == "single_choice" else "",
                    value if question.kind == "open_text" else "",
                    None if score is None else ops.adapt_decimalfield_value(score, 4, 1),
                    is_unhappy,
                ]
            group = f"({', '.join(['%s'] * len(names))})"
            cursor.execute(
                f"INSERT INTO {q(Answer._meta.db_table)} ({', '.join(q(n) for n in names)}) "  # noqa: S608
                f"VALUES {', '.join([group] * len(rows))}",
                values,
            )
            _count_answers(
                cursor, survey.pk, day, [(question, value) for question, value, _s, _u in rows]
            )
    return response_id


def value_key(kind: str, value: Any) -> str:
    """How an answer's value is keyed in ``AnswerCount`` (open text: "")."""
    if kind == "yes_no":
        return "yes" if value else "no"
    if kind == "open_text":
        return ""
    return str(value)


def _count_answers(cursor, survey_id: int, day, answers) -> None:
    """Add the answers to the monthly counts (one multi-row upsert)."""
    q = connection.ops.quote_name
    table = q(AnswerCount._meta.db_table)
    names = ["survey_id", "question_id", "month", "value_key", "count"]
    params: list[Any] = []
    for question, value in answers:
        params += [survey_id, question.pk, day, value_key(question.kind, value), 1]
    group = "(%s, %s, %s, %s, %s)"
    cursor.execute(
        f"INSERT INTO {table} ({', '.join(q(n) for n in names)}) "  # noqa: S608
        f"VALUES {', '.join([group] * len(answers))} "
        f"ON CONFLICT ({q('question_id')}, {q('month')}, {q('value_key')}) "
        f"DO UPDATE SET {q('count')} = {table}.{q('count')} + excluded.{q('count')}",
        params,
    )


def answer_counts_rebuild(*, survey_id: int | None = None) -> int:
    """Recount ``AnswerCount`` from the answers (after bulk loads; daily, to repair any
    drift such as answers deleted with their account). Returns the rows written."""
    from django.db.models import Count

    answers = Answer.objects.all()
    counts = AnswerCount.objects.all()
    if survey_id is not None:
        answers, counts = answers.filter(survey_id=survey_id), counts.filter(survey_id=survey_id)
    with serialized_writes(), transaction.atomic():
        if connection.vendor == "postgresql":
            # Submissions wait while the counts are rebuilt (their upsert needs the table):
            # none is lost between reading the answers and replacing the counts.
            with connection.cursor() as cursor:
                table = connection.ops.quote_name(AnswerCount._meta.db_table)
                cursor.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
        grouped = (
            answers.order_by()
            .values("survey_id", "question_id", "kind", "month", "value_int", "value_bool")
            .annotate(n=Count("id"))
            .values_list(
                "survey_id", "question_id", "kind", "month", "value_int", "value_bool", "n"
            )
        )
        choices = (
            answers.filter(kind="single_choice")
            .order_by()
            .values("survey_id", "question_id", "month", "value_choice")
            .annotate(n=Count("id"))
            .values_list("survey_id", "question_id", "month", "value_choice", "n")
        )
        rows: dict[tuple, int] = {}
        for survey, question, kind, month, value_int, value_bool, n in grouped:
            if kind == "single_choice":
                continue
            if kind == "open_text":
                key = ""
            elif kind == "yes_no":
                key = value_key(kind, value_bool)
            else:
                key = str(value_int)
            rows[(survey, question, month, key)] = rows.get((survey, question, month, key), 0) + n
        for survey, question, month, choice, n in choices:
            rows[(survey, question, month, choice)] = n
        counts.delete()
        AnswerCount.objects.bulk_create(
            [
                AnswerCount(survey_id=sv, question_id=qu, month=mo, value_key=key, count=n)
                for (sv, qu, mo, key), n in rows.items()
            ],
            batch_size=1000,
        )
    return len(rows)


# --- closing the loop -------------------------------------------------------------------


def _followup_assignee(account: Account):
    if account.manager_id and account.manager.is_active:
        return account.manager
    from relatiebeheer.users.models import Role, User

    return (
        User.objects.filter(is_active=True, role=Role.SALES_MANAGER).order_by("id").first()
        or system_user()
    )


def _describe(question: Question, value: Any, language: str) -> str:
    labels = dict(question.option_labels(language))
    return f"{question.text(language)}: {labels.get(value, value)}"


def _followup_open(response: Response, invitation: Invitation, unhappy, config) -> FollowUp:
    account = Account.objects.select_related("manager").get(pk=response.account_id)
    assignee = _followup_assignee(account)
    language = getattr(assignee, "language", "nl") or "nl"
    contact = invitation.contact
    opened = timezone.localtime(response.submitted_at).date()
    due = add_working_days(opened, config.followup_due_working_days)
    with translation.override(language):
        who = contact.full_name if contact else _("a contact")
        title = _("Unhappy answer from %(who)s: get in touch") % {"who": who}
        lines = [_describe(q, v, language) for q, v in unhappy]
        reason = "; ".join(lines)
    system = system_user()
    task = task_create(
        actor=system,
        account=account,
        data={
            "title": title[:200],
            "description": reason,
            "due_date": due,
            "assignee": assignee,
        },
    )
    followup = FollowUp.objects.create(
        response=response,
        account=account,
        task=task,
        assignee=assignee,
        reason=reason[:500],
        due_date=due,
        created_at=response.submitted_at,
    )
    url = public_url(reverse("satisfaction:followup", args=[followup.pk]))
    with translation.override(language):
        context = {
            "followup": followup,
            "account": account,
            "contact": contact,
            "reason_lines": lines,
            "due": due,
            "url": url,
            "overdue": False,
        }
        internal_mail_enqueue(
            key=f"satisfaction.followup.{followup.pk}.opened",
            user=assignee,
            subject=_("Follow-up needed: %(account)s") % {"account": account.name},
            text=render_to_string("satisfaction/mail/followup.txt", context),
            account_id=account.pk,
        )
    audit_log(
        actor=system, action="followup.open", obj=followup, extra={"response_id": response.pk}
    )
    return followup


def followups_notify_overdue(*, today: date | None = None, limit: int = 500) -> int:
    """Mail the assignee once about each open follow-up past its due date."""
    today = today or timezone.localdate()
    overdue = list(
        FollowUp.objects.open()
        .filter(due_date__lt=today, overdue_notified_at__isnull=True)
        .select_related("account", "assignee", "response__contact")
        .order_by("due_date", "id")[:limit]
    )
    sent = 0
    for followup in overdue:
        with transaction.atomic():
            claimed = FollowUp.objects.filter(
                pk=followup.pk, overdue_notified_at__isnull=True, closed_at__isnull=True
            ).update(overdue_notified_at=timezone.now())
            if not claimed or followup.assignee is None:
                continue
            language = followup.assignee.language or "nl"
            url = public_url(reverse("satisfaction:followup", args=[followup.pk]))
            with translation.override(language):
                context = {
                    "followup": followup,
                    "account": followup.account,
                    "contact": followup.response.contact,
                    "reason_lines": [followup.reason],
                    "due": followup.due_date,
                    "url": url,
                    "overdue": True,
                }
                internal_mail_enqueue(
                    key=f"satisfaction.followup.{followup.pk}.overdue",
                    user=followup.assignee,
                    subject=_("Overdue follow-up: %(account)s")
                    % {"account": followup.account.name},
                    text=render_to_string("satisfaction/mail/followup.txt", context),
                    account_id=followup.account_id,
                )
            sent += 1
    return sent


def followup_close(
    *, actor, followup: FollowUp, outcome: str, notes: str = "", send_check_back: bool = False
) -> FollowUp:
    """Record the outcome; that closes the follow-up and its task. Optionally sends the
    contact a short check-back survey (not throttled: it answers their complaint)."""
    require_account_writable(actor, followup.account)
    if outcome not in FollowUp.Outcome.values:
        raise InvalidInput({"outcome": [_("Choose an outcome.")]})
    with transaction.atomic():
        closed = FollowUp.objects.filter(pk=followup.pk, closed_at__isnull=True).update(
            outcome=outcome,
            outcome_notes=notes[:5000],
            closed_at=timezone.now(),
            closed_by=actor,
        )
        if not closed:
            from relatiebeheer.common.errors import Conflict

            raise Conflict(_("This follow-up was closed already."))
        followup.refresh_from_db()
        task = followup.task
        if task is not None and not task.done:
            task_update(actor=actor, task=task, version=task.version, data={"done": True})
        audit_log(actor=actor, action="followup.close", obj=followup, fields=["outcome"])
        if send_check_back:
            contact = followup.response.contact
            if contact is None:
                raise InvalidInput({"send_check_back": [_("The contact no longer exists.")]})
            config = SatisfactionSettings.load()
            report = invite(
                actor=actor,
                survey=check_back_survey(config),
                contacts=[contact],
                source=Invitation.Source.CHECK_BACK,
                followup=followup,
                throttle=False,
            )
            if not report.invited:
                raise InvalidInput(
                    {
                        "send_check_back": [
                            _(
                                "No check-back survey: the contact has no email address or no consent."
                            )
                        ]
                    }
                )
    return followup
