"""API: surveys (build, edit, results), invitations, responses, follow-ups and an account's
satisfaction. Thin: the services and selectors do the work, as for the web pages."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from relatiebeheer.api.core import ERRORS, READ_ERRORS, Pagination
from relatiebeheer.api.serializers import register
from relatiebeheer.api.types import Id, In, RequiredText, Text, Version, sent_fields
from relatiebeheer.common.errors import InvalidInput
from relatiebeheer.relations import selectors as relations
from relatiebeheer.relations.models import Contact, SavedSelection
from relatiebeheer.relations.rules import require_can_change

from . import kinds, selectors
from .followups.services import followup_close
from .models import FollowUp, Survey
from .sending.services import invite as invite_contacts
from .sending.services import invite_selection
from .surveys.rules import require_survey_editor
from .surveys.services import survey_create, survey_update

router = Router(tags=["satisfaction"])

# The question kinds the API accepts: exactly the registry's (``satisfaction.kinds``).
Kind = Literal[kinds.keys()]  # type: ignore[valid-type]


class ChoiceIn(In):
    key: Text(60) | None = None
    label_nl: RequiredText(200)
    label_en: Text(200) = ""
    score: Decimal | None = Field(None, ge=0, le=100, max_digits=4, decimal_places=1)
    unhappy: bool = False


class QuestionIn(In):
    id: Id | None = Field(
        None, description="An existing question's id, to keep it (and its answers)"
    )
    kind: Kind
    text_nl: RequiredText(500)
    text_en: Text(500) = ""
    required: bool = True
    tags: list[Text(40)] = Field(
        default_factory=list,
        max_length=10,
        description='What it measures: "satisfaction", "trust", "advice_quality", …',
    )
    choices: list[ChoiceIn] = Field(default_factory=list, max_length=30)
    yes_no_unhappy: bool | None = None


class ChoiceOut(Schema):
    key: str
    label_nl: str
    label_en: str
    score: float | None = None
    unhappy: bool = False


class QuestionOut(Schema):
    id: int
    position: int
    kind: str
    text_nl: str
    text_en: str
    required: bool
    tags: list[str]
    choices: list[ChoiceOut]
    yes_no_unhappy: bool | None
    archived: bool


class SurveyOut(Schema):
    id: int
    version: int
    key: str
    name: str
    title_nl: str
    title_en: str
    intro_nl: str
    intro_en: str
    active: bool
    questions: list[QuestionOut]

    @staticmethod
    def resolve_questions(obj):
        return list(obj.questions.order_by("archived", "position", "id"))


class SurveyIn(In):
    key: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,59}$")
    name: RequiredText(200)
    title_nl: RequiredText(200)
    title_en: Text(200) = ""
    intro_nl: Text(5000) = ""
    intro_en: Text(5000) = ""
    active: bool = True
    questions: list[QuestionIn] = Field(min_length=1, max_length=100)


class SurveyPatch(In):
    version: Version
    key: str | None = Field(None, pattern=r"^[a-z0-9][a-z0-9_-]{0,59}$")
    name: RequiredText(200) | None = None
    title_nl: RequiredText(200) | None = None
    title_en: Text(200) | None = None
    intro_nl: Text(5000) | None = None
    intro_en: Text(5000) | None = None
    active: bool | None = None
    questions: list[QuestionIn] | None = Field(
        None,
        max_length=100,
        description="The whole ordered list; left-out answered questions are archived",
    )


register(Survey, SurveyOut)


def _question_specs(questions: list[QuestionIn]) -> list[dict[str, Any]]:
    specs = []
    for q in questions:
        spec = q.model_dump(exclude_none=False)
        if spec.get("id") is None:
            spec.pop("id")
        spec["choices"] = [
            {
                **c,
                "key": c.get("key") or str(n),
                "score": None if c["score"] is None else float(c["score"]),
            }
            for n, c in enumerate(spec.get("choices") or [], start=1)
        ]
        specs.append(spec)
    return specs


@router.get("/surveys", response={200: list[SurveyOut], **READ_ERRORS}, summary="List surveys")
@paginate(Pagination)
def list_surveys(request: HttpRequest):
    return selectors.survey_list(actor=request.auth).prefetch_related("questions")


@router.post("/surveys", response={201: SurveyOut, **ERRORS}, summary="Build a survey")
def create_survey(request: HttpRequest, payload: SurveyIn):
    data = payload.model_dump(exclude={"questions"})
    survey = survey_create(
        actor=request.auth, data=data, questions=_question_specs(payload.questions)
    )
    return Status(201, survey)


@router.get(
    "/surveys/{survey_id}", response={200: SurveyOut, **READ_ERRORS}, summary="Read a survey"
)
def get_survey(request: HttpRequest, survey_id: Id):
    return selectors.survey_get(actor=request.auth, pk=survey_id)


@router.patch(
    "/surveys/{survey_id}", response={200: SurveyOut, **ERRORS}, summary="Change a survey"
)
def update_survey(request: HttpRequest, survey_id: Id, payload: SurveyPatch):
    survey = selectors.survey_get(actor=request.auth, pk=survey_id)
    require_survey_editor(request.auth)
    data = sent_fields(payload, exclude={"version", "questions"})
    questions = _question_specs(payload.questions) if payload.questions is not None else None
    return survey_update(
        actor=request.auth, survey=survey, version=payload.version, data=data, questions=questions
    )


class QuestionResultOut(Schema):
    question_id: int
    kind: str
    count: int
    distribution: list[dict]
    mean: Decimal | None
    mean_score: Decimal | None
    headline: Decimal | None
    headline_name: str | None
    per_month: list[dict]


class ResultsOut(Schema):
    survey_id: int
    since: date
    until: date
    invited: int
    completed: int
    response_rate: Decimal | None
    satisfaction: Decimal | None
    satisfaction_weighted_by_revenue: Decimal | None
    revenue_at_risk: Decimal
    accounts_at_risk: int
    questions: list[QuestionResultOut]
    satisfaction_per_month: list[dict]
    accounts: list[dict]
    account_managers: list[dict]


class ResultsQuery(Schema):
    since: date | None = None
    until: date | None = None


@router.get(
    "/surveys/{survey_id}/results",
    response={200: ResultsOut, **READ_ERRORS},
    summary="A survey's results over the accounts you may see (definitions: README)",
)
def survey_results(request: HttpRequest, survey_id: Id, filters: Query[ResultsQuery]):
    survey = selectors.survey_get(actor=request.auth, pk=survey_id)
    r = selectors.survey_results(
        actor=request.auth,
        survey=survey,
        since=filters.since,
        until=filters.until,
        top_accounts=500,
    )

    return {
        "survey_id": survey.pk,
        "since": r.since,
        "until": r.until,
        "invited": r.invited,
        "completed": r.completed,
        "response_rate": r.response_rate,
        "satisfaction": r.unweighted_satisfaction,
        "satisfaction_weighted_by_revenue": r.weighted_satisfaction,
        "revenue_at_risk": r.revenue_at_risk,
        "accounts_at_risk": r.accounts_at_risk,
        "questions": [
            {
                "question_id": q.question.pk,
                "kind": q.question.kind,
                "count": q.summary.count,
                "distribution": [
                    {"value": v, "label": label, "count": n} for v, label, n in q.labels
                ],
                "mean": q.summary.mean,
                "mean_score": q.summary.mean_score,
                "headline": q.summary.headline,
                "headline_name": q.summary.headline_name,
                "per_month": [
                    {
                        "month": t["month"].isoformat(),
                        "count": t["count"],
                        "headline": None if t["headline"] is None else str(t["headline"]),
                    }
                    for t in q.trend
                ],
            }
            for q in r.questions
        ],
        "satisfaction_per_month": [
            {
                "month": p["month"].isoformat(),
                "count": p["count"],
                "score": None if p["score"] is None else str(p["score"]),
            }
            for p in r.satisfaction_trend
        ],
        "accounts": [
            {
                "account_id": a["account_id"],
                "name": a["name"],
                "score": str(a["score"]),
                "answers": a["answers"],
                "revenue_12m": str(a["revenue"]),
                "at_risk": a["unhappy"],
            }
            for a in r.accounts
        ],
        "account_managers": [
            {
                "manager_id": m["manager_id"],
                "name": m["name"],
                "score": None if m["score"] is None else str(m["score"]),
                "accounts": m["accounts"],
                "answers": m["answers"],
            }
            for m in r.managers
        ],
    }


# --- invitations and responses ---------------------------------------------------------------


class InviteIn(In):
    survey_id: Id
    contact_ids: list[Id] = Field(default_factory=list, max_length=1000)
    selection_id: Id | None = Field(None, description="One of your saved account selections")


class InviteOut(Schema):
    invited: int
    invitation_ids: list[int]
    skipped_no_email: list[int]
    skipped_no_consent: list[int]
    skipped_throttled: list[int]


@router.post(
    "/invitations",
    response={200: InviteOut, **ERRORS},
    summary="Invite contacts (or a saved selection's contacts) to a survey",
    description="Only contacts with an email address and consent for surveys; throttled.",
)
def invite(request: HttpRequest, payload: InviteIn):
    require_can_change(request.auth)
    survey = Survey.objects.filter(pk=payload.survey_id).first()
    if survey is None:
        raise InvalidInput({"survey_id": [_("Unknown survey.")]})
    if payload.selection_id is not None:
        selection = SavedSelection.objects.filter(
            pk=payload.selection_id, owner=request.auth
        ).first()
        if selection is None:
            raise InvalidInput({"selection_id": [_("Unknown selection.")]})
        return invite_selection(
            actor=request.auth, survey=survey, selection=selection, source="api"
        ).as_dict()
    if not payload.contact_ids:
        raise InvalidInput({"contact_ids": [_("Name contacts or a selection.")]})
    contacts = list(
        Contact.objects.visible_to(request.auth)
        .filter(pk__in=payload.contact_ids)
        .select_related("account")
    )
    missing = set(payload.contact_ids) - {c.pk for c in contacts}
    if missing:
        raise InvalidInput(
            {"contact_ids": [_("Unknown contact: %(ids)s") % {"ids": sorted(missing)}]}
        )
    return invite_contacts(
        actor=request.auth, survey=survey, contacts=contacts, source="api"
    ).as_dict()


class InvitationOut(Schema):
    id: int
    survey_id: int
    account_id: int
    contact_id: int | None
    source: str
    language: str
    created_at: datetime
    reminder_at: datetime | None
    completed_at: datetime | None


class InvitationQuery(Schema):
    survey: Id | None = None
    account: Id | None = None


@router.get(
    "/invitations", response={200: list[InvitationOut], **READ_ERRORS}, summary="List invitations"
)
@paginate(Pagination)
def list_invitations(request: HttpRequest, filters: Query[InvitationQuery]):
    return selectors.invitation_list(
        actor=request.auth, survey_id=filters.survey, account_id=filters.account
    )


class AnswerOut(Schema):
    question_id: int
    kind: str
    value: Any
    score: Decimal | None
    unhappy: bool


class ResponseOut(Schema):
    id: int
    survey_id: int
    account_id: int
    contact_id: int | None
    submitted_at: datetime
    language: str
    unhappy: bool
    answers: list[AnswerOut]

    @staticmethod
    def resolve_answers(obj):
        return [
            {
                "question_id": a.question_id,
                "kind": a.kind,
                "value": a.value,
                "score": a.score,
                "unhappy": a.unhappy,
            }
            for a in obj.answers.all()
        ]


class ResponseQuery(Schema):
    survey: Id | None = None
    account: Id | None = None
    since: date | None = None
    until: date | None = None


@router.get(
    "/responses", response={200: list[ResponseOut], **READ_ERRORS}, summary="List responses"
)
@paginate(Pagination)
def list_responses(request: HttpRequest, filters: Query[ResponseQuery]):
    return selectors.response_list(
        actor=request.auth,
        survey_id=filters.survey,
        account_id=filters.account,
        since=filters.since,
        until=filters.until,
    ).prefetch_related("answers")


# --- follow-ups -----------------------------------------------------------------------------


class FollowUpOut(Schema):
    id: int
    account_id: int
    response_id: int
    task_id: int | None
    assignee_id: int | None
    reason: str
    due_date: date
    created_at: datetime
    overdue: bool
    outcome: str
    outcome_notes: str
    closed_at: datetime | None

    @staticmethod
    def resolve_overdue(obj):
        return obj.is_overdue


class FollowUpQuery(Schema):
    open: bool = True
    assignee: Id | None = None


@router.get(
    "/followups",
    response={200: list[FollowUpOut], **READ_ERRORS},
    summary="Follow-ups of unhappy answers (open ones by default)",
)
@paginate(Pagination)
def list_followups(request: HttpRequest, filters: Query[FollowUpQuery]):
    return selectors.followup_list(
        actor=request.auth, open_only=filters.open, assignee_id=filters.assignee
    )


class FollowUpCloseIn(In):
    outcome: Literal["resolved", "improved", "not_resolved", "no_contact"]
    notes: Text(5000) = ""
    send_check_back: bool = False


@router.post(
    "/followups/{followup_id}/close",
    response={200: FollowUpOut, **ERRORS},
    summary="Record a follow-up's outcome (closes it and its task; optionally a check-back survey)",
)
def close_followup(request: HttpRequest, followup_id: Id, payload: FollowUpCloseIn):
    followup = selectors.followup_get(actor=request.auth, pk=followup_id)
    return followup_close(
        actor=request.auth,
        followup=followup,
        outcome=payload.outcome,
        notes=payload.notes,
        send_check_back=payload.send_check_back,
    )


register(FollowUp, FollowUpOut)


# --- an account's satisfaction ---------------------------------------------------------------


class ReadingOut(Schema):
    date: date
    score: Decimal
    source: str
    ref: str


class SourceOut(Schema):
    source: str
    readings: int
    mean: Decimal
    share: Decimal


class AccountSatisfactionOut(Schema):
    account_id: int
    score: Decimal | None
    sources: list[SourceOut]
    trust: Decimal | None
    readings: list[ReadingOut]


class AccountSatisfactionQuery(Schema):
    since: date | None = Field(
        None, description="Start of the period (default: the last 12 months, as everywhere)"
    )


@router.get(
    "/accounts/{account_id}/satisfaction",
    response={200: AccountSatisfactionOut, **READ_ERRORS},
    summary="An account's satisfaction: survey answers and contact-moment readings combined",
    description="The same figure as the account page, portfolio, plan and loyalty drivers: "
    "the last 12 months, each source averaged on its own and the sources with equal weight.",
)
def account_satisfaction(
    request: HttpRequest, account_id: Id, filters: Query[AccountSatisfactionQuery]
):
    account = relations.account_get(actor=request.auth, pk=account_id)
    satisfaction = selectors.account_satisfaction([account.pk], since=filters.since)[account.pk]
    return {
        "account_id": account.pk,
        "score": satisfaction.score,
        "sources": [
            {"source": p.source, "readings": p.readings, "mean": p.mean, "share": p.share}
            for p in satisfaction.combined.parts
        ],
        "trust": satisfaction.trust.score,
        "readings": satisfaction.readings,
    }
