"""Reads of the satisfaction domain, scoped to the accounts the actor may see.

Every score comes from :mod:`relatiebeheer.core.survey_scores`: answers carry the
0–100 score computed there when they were given; distributions and key figures are
computed there from ``GROUP BY`` counts. The definitions are in the README (Satisfaction).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from relatiebeheer.common.errors import NotFound
from relatiebeheer.core import survey_scores as scores
from relatiebeheer.core.money import from_cents
from relatiebeheer.core.periods import last_12_months
from relatiebeheer.relations.models import Account, Interaction
from relatiebeheer.users.access import sees_all_accounts
from relatiebeheer.users.models import User

from .models import (
    Answer,
    AnswerCount,
    FollowUp,
    Invitation,
    Question,
    Response,
    SatisfactionSettings,
    Survey,
)

SATISFACTION = "satisfaction"


# --- readings for other features --------------------------------------------------------


@dataclass(frozen=True)
class ScoreReading:
    """One 0–100 reading of an account: a survey answer or a contact-moment reading.

    ``source`` is "survey" or "contact_moment"; ``ref`` says which record it came from
    ("response:12", "interaction:34").
    """

    date: date
    score: Decimal
    source: str
    ref: str


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def account_scores(
    account_ids: Iterable[int],
    *,
    tag: str | None = None,
    since: date | None = None,
    until: date | None = None,
) -> dict[int, list[ScoreReading]]:
    """Readings per account from ``since`` up to and including ``until``, oldest first
    (every requested id is a key).

    ``tag=None``: satisfaction — answers to questions tagged "satisfaction" plus the
    quick readings on contact moments (4-point scale, mapped to 0–100 by
    ``core.survey_scores``). Any other tag (e.g. "trust"): only answers to questions
    with that tag. Not scoped to a user: callers pass ids they already scoped. An
    account's satisfaction itself is read with :func:`account_satisfaction`.
    """
    ids = sorted({int(pk) for pk in account_ids})
    result: dict[int, list[ScoreReading]] = {pk: [] for pk in ids}
    if not ids:
        return result
    wanted = tag or SATISFACTION
    answers = Answer.objects.filter(
        account_id__in=ids, score__isnull=False, tags_text__contains=f",{wanted},"
    )
    if since is not None:
        answers = answers.filter(submitted_at__gte=_start_of(since))
    if until is not None:
        answers = answers.filter(submitted_at__lt=_start_of(until + timedelta(days=1)))
    for account_id, submitted, score, response_id in answers.values_list(
        "account_id", "submitted_at", "score", "response_id"
    ).order_by("submitted_at", "id"):
        result[account_id].append(
            ScoreReading(
                date=timezone.localtime(submitted).date(),
                score=Decimal(score),
                source="survey",
                ref=f"response:{response_id}",
            )
        )
    if tag is None:
        moments = Interaction.objects.filter(account_id__in=ids, satisfaction__isnull=False)
        if since is not None:
            moments = moments.filter(occurred_at__gte=_start_of(since))
        if until is not None:
            moments = moments.filter(occurred_at__lt=_start_of(until + timedelta(days=1)))
        for account_id, occurred, value, pk in moments.values_list(
            "account_id", "occurred_at", "satisfaction", "pk"
        ).order_by("occurred_at", "id"):
            score = scores.score_value(scores.FOUR_POINT, value)
            if score is None:  # pragma: no cover - a 4-point reading always has a score
                continue
            result[account_id].append(
                ScoreReading(
                    date=timezone.localtime(occurred).date(),
                    score=score,
                    source="contact_moment",
                    ref=f"interaction:{pk}",
                )
            )
        for readings in result.values():
            readings.sort(key=lambda r: (r.date, r.source, r.ref))
    return result


def combined_satisfaction(readings: Iterable[ScoreReading]) -> scores.CombinedScore:
    """Readings combined: each source averaged on its own, the sources with equal weight."""
    return scores.combine_scores(
        scores.Reading(source=r.source, score=r.score, ref=r.ref) for r in readings
    )


# --- an account's satisfaction: the one figure ------------------------------------------


@dataclass(frozen=True)
class AccountSatisfaction:
    """An account's satisfaction over a period, and what it is made of.

    ``combined`` is *the* satisfaction (0–100, ``score``): the survey answers tagged
    "satisfaction" and the contact-moment readings, each source averaged on its own and
    the two with equal weight. ``trust`` combines the answers tagged "trust" (shown
    beside it; the loyalty drivers add the manager's judgement to ``trust_readings``).
    """

    account_id: int
    since: date
    until: date
    readings: list[ScoreReading]
    combined: scores.CombinedScore
    trust_readings: list[ScoreReading]
    trust: scores.CombinedScore

    @property
    def score(self) -> Decimal | None:
        return self.combined.score


CHUNK = 2000


def satisfaction_period(as_of: date | None = None) -> tuple[date, date]:
    """The period an account's satisfaction covers: the 12 months up to ``as_of``."""
    return last_12_months(as_of or timezone.localdate())


def account_satisfaction(
    account_ids: Iterable[int], *, as_of: date | None = None, since: date | None = None
) -> dict[int, AccountSatisfaction]:
    """The satisfaction of each account (every requested id is a key).

    The one selector for the figure: the account page's panel, the API
    (``GET /api/v1/accounts/{id}/satisfaction``), the portfolio's column, the account
    plan and the loyalty drivers read it here, so they show the same number. The period
    is the 12 months up to ``as_of`` (today), unless ``since`` moves its start. Three
    queries per 2,000 accounts; not scoped to a user: callers pass ids they scoped.
    """
    until, start = satisfaction_period(as_of)[1], since or satisfaction_period(as_of)[0]
    ids = sorted({int(pk) for pk in account_ids})
    result: dict[int, AccountSatisfaction] = {}
    for offset in range(0, len(ids), CHUNK):
        chunk = ids[offset : offset + CHUNK]
        readings = account_scores(chunk, since=start, until=until)
        trust = account_scores(chunk, tag="trust", since=start, until=until)
        for pk in chunk:
            result[pk] = AccountSatisfaction(
                account_id=pk,
                since=start,
                until=until,
                readings=readings[pk],
                combined=combined_satisfaction(readings[pk]),
                trust_readings=trust[pk],
                trust=combined_satisfaction(trust[pk]),
            )
    return result


def satisfaction_scores(
    account_ids: Iterable[int], actor: User | None = None
) -> dict[int, Decimal | None]:
    """``{account_id: score}`` from :func:`account_satisfaction` (the portfolio's column;
    the portfolio passes only accounts ``actor`` sees)."""
    return {pk: s.score for pk, s in account_satisfaction(account_ids).items()}


# --- lists ------------------------------------------------------------------------------


def survey_list(*, actor: User) -> QuerySet[Survey]:
    """Surveys are the organisation's, visible to every user (their results are scoped)."""
    return Survey.objects.annotate(
        question_count=Count("questions", filter=Q(questions__archived=False), distinct=True)
    ).order_by("-active", "name", "id")


def survey_get(*, actor: User, pk: int) -> Survey:
    survey = Survey.objects.filter(pk=pk).first()
    if survey is None or not getattr(actor, "is_authenticated", False):
        raise NotFound()
    return survey


def invitation_list(
    *, actor: User, survey_id: int | None = None, account_id: int | None = None
) -> QuerySet[Invitation]:
    qs = Invitation.objects.visible_to(actor).select_related("survey", "account", "contact")
    if survey_id:
        qs = qs.filter(survey_id=survey_id)
    if account_id:
        qs = qs.filter(account_id=account_id)
    return qs.order_by("-created_at", "-id")


def response_list(
    *,
    actor: User,
    survey_id: int | None = None,
    account_id: int | None = None,
    since: date | None = None,
    until: date | None = None,
) -> QuerySet[Response]:
    qs = Response.objects.visible_to(actor).select_related("survey", "account", "contact")
    if survey_id:
        qs = qs.filter(survey_id=survey_id)
    if account_id:
        qs = qs.filter(account_id=account_id)
    if since:
        qs = qs.filter(submitted_at__gte=_start_of(since))
    if until:
        qs = qs.filter(submitted_at__lt=_start_of(until + timedelta(days=1)))
    return qs.order_by("-submitted_at", "-id")


def followup_list(
    *, actor: User, open_only: bool = True, assignee_id: int | None = None
) -> QuerySet[FollowUp]:
    qs = FollowUp.objects.visible_to(actor).select_related(
        "account", "assignee", "response__contact", "response__survey", "task"
    )
    if open_only:
        qs = qs.open()
    if assignee_id:
        qs = qs.filter(assignee_id=assignee_id)
    return qs.order_by("due_date", "id") if open_only else qs.order_by("-created_at", "-id")


def followup_get(*, actor: User, pk: int) -> FollowUp:
    followup = (
        FollowUp.objects.visible_to(actor)
        .select_related("account", "assignee", "response__contact", "response__survey", "task")
        .filter(pk=pk)
        .first()
    )
    if followup is None:
        raise NotFound()
    return followup


# --- results ----------------------------------------------------------------------------


@dataclass
class QuestionResult:
    question: Question
    summary: scores.QuestionSummary
    labels: list[tuple[Any, str, int]]  # (value, label, count) in display order
    trend: list[dict]  # per month: {"month", "count", "headline", "mean_score"}


@dataclass
class SurveyResults:
    survey: Survey
    since: date
    until: date
    invited: int
    completed: int
    response_rate: Decimal | None
    questions: list[QuestionResult]
    months: list[date]
    satisfaction_trend: list[dict]
    accounts: list[dict]
    accounts_total: int
    managers: list[dict]
    weighted_satisfaction: Decimal | None
    unweighted_satisfaction: Decimal | None
    revenue_at_risk: Decimal
    accounts_at_risk: int
    revenue_total: Decimal
    comments: list[dict] = field(default_factory=list)


def _months(since: date, until: date) -> list[date]:
    months, current = [], since.replace(day=1)
    while current <= until:
        months.append(current)
        current = (current + timedelta(days=32)).replace(day=1)
    return months


def _score_of(question: Question, value) -> Fraction | None:
    cache = question.__dict__.setdefault("_score_cache", {})
    if value not in cache:
        cache[value] = scores.score_value_exact(question.scale, value)
    return cache[value]


def _account_scores(answers: QuerySet) -> list[tuple[int, int | None, int, int, int]]:
    """``(account_id, manager_id, revenue_12m in cents, sum of scores in tenths, answers)``.

    The answers are grouped per account first (one pass over a covering index) and only
    then joined with the accounts and the metric snapshot, so the join runs once per
    account, not once per answer. Scores carry one decimal, so their sum in tenths is an
    exact integer in every database (SQLite would sum the decimals in floating point).
    """
    from django.db.models import F, IntegerField
    from django.db.models.functions import Cast, Round

    from relatiebeheer.value.models import AccountMetrics

    tenths = Cast(Round(F("score") * 10), output_field=IntegerField())
    grouped = (
        answers.filter(score__isnull=False)
        .order_by()
        .values("account_id")
        .annotate(total=Sum(tenths), n=Count("id"))
        .values("account_id", "total", "n")
    )
    inner, params = grouped.query.sql_with_params()
    q = connection.ops.quote_name
    account, metrics = q(Account._meta.db_table), q(AccountMetrics._meta.db_table)
    revenue = q(AccountMetrics._meta.get_field("revenue_12m").column)
    sql = (
        f"SELECT g.{q('account_id')}, {account}.{q('manager_id')}, "  # noqa: S608
        f"COALESCE({metrics}.{revenue}, 0), g.{q('total')}, g.{q('n')} FROM ({inner}) g "
        f"INNER JOIN {account} ON {account}.{q('id')} = g.{q('account_id')} "
        f"LEFT OUTER JOIN {metrics} ON {metrics}.{q('account_id')} = g.{q('account_id')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(a, m, int(c), int(t), int(n)) for a, m, c, t, n in cursor.fetchall()]


def survey_results(
    *,
    actor: User,
    survey: Survey,
    since: date | None = None,
    until: date | None = None,
    language: str = "nl",
    top_accounts: int = 25,
) -> SurveyResults:
    """Everything on the results page, in a fixed handful of set-based queries.

    * per question: distribution, mean, 0–100 mean and the scale's key figure, and the
      same per month (trend);
    * response rate: completed / invited, over invitations made in the period;
    * per account and per account manager: the mean 0–100 score of the answers to
      questions tagged "satisfaction" (all scored questions if none is tagged);
    * revenue-weighted satisfaction: Σ(score × revenue) / Σ revenue over the accounts
      with answers, revenue = net revenue of the last 12 months (accounts with no
      positive revenue weigh 0); revenue at risk: the summed revenue of those accounts
      whose score is below the "unhappy account" setting.
    """
    today = timezone.localdate()
    until = until or today
    since = since or (until.replace(day=1) - timedelta(days=335))
    # The period is whole months: from the month of ``since`` to the month of ``until``.
    since = since.replace(day=1)
    until = (until.replace(day=1) + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    start, end = _start_of(since), _start_of(until + timedelta(days=1))
    config = SatisfactionSettings.load()
    questions = list(survey.questions.order_by("archived", "position", "id"))
    by_id = {q.pk: q for q in questions}
    answers = Answer.objects.visible_to(actor).filter(
        survey=survey, month__gte=since, month__lte=until
    )

    # 1. counts per question, month and value: for users who see every account from the
    #    monthly counts kept with the answers, for the others from their accounts' answers.
    counts: dict[int, dict[Any, int]] = defaultdict(lambda: defaultdict(int))
    monthly: dict[tuple[int, date], dict[Any, int]] = defaultdict(lambda: defaultdict(int))
    text_counts: dict[int, int] = defaultdict(int)
    rows: Iterable[tuple[int, date, Any, int]]
    if sees_all_accounts(actor):
        rows = (
            (question_id, month, by_id[question_id].kind_spec.from_count_key(key), n)
            for question_id, month, key, n in AnswerCount.objects.filter(
                survey=survey, month__gte=since, month__lte=until
            ).values_list("question_id", "month", "value_key", "count")
            if question_id in by_id
        )
    else:
        rows = (
            (
                row["question_id"],
                row["month"],
                by_id[row["question_id"]].kind_spec.stored_value(row),
                row["n"],
            )
            for row in answers.order_by()
            .values("question_id", "month", "value_int", "value_bool", "value_choice")
            .annotate(n=Count("id"))
            if row["question_id"] in by_id
        )
    for question_id, month, value, n in rows:
        question = by_id[question_id]
        if question.kind_spec.free_text:
            text_counts[question.pk] += n
            continue
        if value is None:
            continue
        counts[question.pk][value] += n
        monthly[(question.pk, month)][value] += n

    months = _months(since, until)
    results = []
    for question in questions:
        if question.archived and question.pk not in counts and question.pk not in text_counts:
            continue
        scale = question.scale
        free_text = question.kind_spec.free_text
        if free_text:
            summary = scores.QuestionSummary(
                kind=scores.ScaleKind.OPEN_TEXT,
                count=text_counts.get(question.pk, 0),
                distribution={},
                mean=None,
                mean_score=None,
                headline=None,
                headline_name=None,
            )
        else:
            summary = scores.summarize(scale, dict(counts.get(question.pk, {})))
        labels = [
            (value, label, summary.distribution.get(value, 0))
            for value, label in question.option_labels(language)
        ]
        trend = []
        for month in months:
            month_counts = dict(monthly.get((question.pk, month), {}))
            if free_text:
                trend.append({"month": month, "count": 0, "headline": None})
                continue
            trend.append(
                {
                    "month": month,
                    "count": sum(month_counts.values()),
                    "headline": scores.headline(scale, month_counts),
                }
            )
        results.append(QuestionResult(question, summary, labels, trend))

    # 2. response rate over the invitations made in the period.
    invitations = Invitation.objects.visible_to(actor).filter(
        survey=survey, created_at__gte=start, created_at__lt=end
    )
    rate = invitations.aggregate(
        invited=Count("id"), completed=Count("id", filter=Q(completed_at__isnull=False))
    )
    invited, completed = rate["invited"], rate["completed"]

    # 3. satisfaction per month, from the counts above: the mean 0–100 score of the
    #    answers to questions tagged "satisfaction" (all scored questions if none is).
    tagged = [q for q in questions if SATISFACTION in q.tags]
    scored = tagged or [q for q in questions if not q.kind_spec.free_text]
    satisfaction_trend = []
    for month in months:
        total, n = Fraction(0), 0
        for question in scored:
            for value, count in monthly.get((question.pk, month), {}).items():
                score = _score_of(question, value)
                if score is not None:
                    total += score * count
                    n += count
        satisfaction_trend.append(
            {"month": month, "count": n, "score": scores.round_score(total / n) if n else None}
        )

    # 4. per account: one grouped pass over the answers, then accounts, managers and
    #    revenue for the accounts found (see ``_account_scores``).
    per_account = _account_scores(answers.filter(question_id__in=[q.pk for q in scored]))
    # Exact in integers: scores in tenths, revenue in cents; an account's mean is
    # tenths / n, and "below the threshold" is tenths < threshold × 10 × n.
    threshold = int(config.unhappy_account_below * 10)
    weighted: dict[int, int] = defaultdict(int)  # n → Σ tenths × cents, over accounts
    weight_total = 0
    plain_tenths = plain_n = 0
    at_risk_cents = at_risk_n = 0
    managers: dict[int | None, list[int]] = {}
    ranked = []
    for account_id, manager_id, cents, tenths, n in per_account:
        weight = cents if cents > 0 else 0
        weighted[n] += tenths * weight
        weight_total += weight
        plain_tenths += tenths
        plain_n += n
        unhappy = tenths < threshold * n
        if unhappy:
            at_risk_cents += weight
            at_risk_n += 1
        ranked.append((tenths / n, -cents, account_id, tenths, n, cents, unhappy))
        manager = managers.setdefault(manager_id, [0, 0, 0])
        manager[0] += tenths
        manager[1] += n
        manager[2] += 1
    ranked.sort()
    shown = ranked[:top_accounts]
    names = dict(Account.objects.filter(pk__in=[a[2] for a in shown]).values_list("pk", "name"))
    account_rows = [
        {
            "account_id": account_id,
            "name": names.get(account_id, ""),
            "score": scores.round_score(Fraction(tenths, n * 10)),
            "answers": n,
            "revenue": from_cents(cents),
            "unhappy": unhappy,
        }
        for _mean, _r, account_id, tenths, n, cents, unhappy in shown
    ]
    weighted_exact = sum((Fraction(total, n) for n, total in weighted.items()), Fraction(0))

    users = {
        u.pk: str(u) for u in User.objects.filter(pk__in=[m for m in managers if m is not None])
    }
    manager_rows = sorted(
        (
            {
                "manager_id": manager_id,
                "name": users.get(manager_id, "") if manager_id is not None else "",
                "score": scores.round_score(Fraction(tenths, n * 10)) if n else None,
                "answers": n,
                "accounts": count,
            }
            for manager_id, (tenths, n, count) in managers.items()
        ),
        key=lambda m: (m["score"] is None, m["score"] or 0, m["name"]),
    )

    comment_ids = [q.pk for q in questions if q.kind_spec.free_text]
    comments = list(
        answers.filter(question_id__in=comment_ids)
        .exclude(value_text="")
        .order_by("-submitted_at", "-id")
        .values("value_text", "submitted_at", "account_id", "account__name", "response_id")[:20]
    )
    return SurveyResults(
        survey=survey,
        since=since,
        until=until,
        invited=invited,
        completed=completed,
        response_rate=scores.response_rate(min(completed, invited), invited) if invited else None,
        questions=results,
        months=months,
        satisfaction_trend=satisfaction_trend,
        accounts=account_rows,
        accounts_total=len(ranked),
        managers=manager_rows,
        weighted_satisfaction=(
            scores.round_score(weighted_exact / (weight_total * 10)) if weight_total else None
        ),
        unweighted_satisfaction=(
            scores.round_score(Fraction(plain_tenths, plain_n * 10)) if plain_n else None
        ),
        revenue_at_risk=from_cents(at_risk_cents),
        accounts_at_risk=at_risk_n,
        revenue_total=from_cents(weight_total),
        comments=comments,
    )


def response_answers(response_ids: list[int]) -> dict[int, dict[int, Answer]]:
    """``{response_id: {question_id: answer}}`` in one query (for exports and lists)."""
    result: dict[int, dict[int, Answer]] = defaultdict(dict)
    for answer in Answer.objects.filter(response_id__in=response_ids).only(
        "response_id",
        "question_id",
        "kind",
        "value_int",
        "value_bool",
        "value_choice",
        "value_text",
        "score",
    ):
        result[answer.response_id][answer.question_id] = answer
    return result


# --- the account page -------------------------------------------------------------------


def account_panel(account: Account) -> dict:
    """The satisfaction panel: the account's satisfaction with its sources
    (:func:`account_satisfaction`), recent answers, open follow-ups. A fixed number of
    queries whatever the account holds."""
    satisfaction = account_satisfaction([account.pk])[account.pk]
    recent = list(
        Response.objects.filter(account=account)
        .select_related("survey", "contact")
        .order_by("-submitted_at", "-id")[:5]
    )
    open_followups = list(
        FollowUp.objects.open()
        .filter(account=account)
        .select_related("assignee")
        .order_by("due_date")[:5]
    )
    return {
        "satisfaction": satisfaction,
        "combined": satisfaction.combined,
        "readings": satisfaction.readings[-8:][::-1],
        "reading_count": len(satisfaction.readings),
        "recent": recent,
        "followups": open_followups,
        "trust": satisfaction.trust.score,
        "months": 12,
    }
