"""The demo's part: a year of answers to the default survey, a relationship survey with
trust answers, and a few unhappy answers with their follow-ups (most closed, some open).

Answers are given through the real answering service (so scores, unhappy flags and
follow-up tasks are the real ones); the invitations are history, so they are written
as they would have been then, without mails. Deterministic: the story's seeded random.
"""

from __future__ import annotations

import secrets
from datetime import datetime, time, timedelta

from django.utils import timezone

from relatiebeheer.outbox.models import OutboxMessage, Status
from relatiebeheer.relations.models import Contact
from relatiebeheer.relations.selectors import contacts_with_consent

from .answering.form import form_questions
from .answering.services import response_submit
from .answering.tokens import hash_token
from .defaults import default_survey
from .followups.services import followup_close
from .models import AnswerToken, FollowUp, Invitation, Survey

# Per-account mood: the chance of each 4-point answer (4 zeer goed … 1 slecht).
MOODS = {
    "happy": (0.6, 0.37, 0.03, 0.0),
    "normal": (0.45, 0.5, 0.045, 0.005),
    "unhappy": (0.15, 0.5, 0.27, 0.08),
}
COMMENTS_NL = [
    "Snel geholpen, dank!",
    "Duidelijke uitleg over de levering.",
    "Fijn dat jullie even terugbelden.",
    "Het duurde lang voordat ik iemand te pakken kreeg.",
    "De retourafspraak was niet duidelijk.",
    "Prima contact, zoals altijd.",
]
COMMENTS_EN = [
    "Quick help, thanks!",
    "Clear explanation of the delivery.",
    "It took a long time to reach someone.",
]


def _pick(rng, weights) -> int:
    roll, total = rng.random(), 0.0
    for value, weight in zip((4, 3, 2, 1), weights, strict=True):
        total += weight
        if roll < total:
            return value
    return 1


def _moment(story, days_ago: int):
    day = story.today - timedelta(days=days_ago)
    hour = 9 + story.rng.randrange(8)
    return timezone.make_aware(datetime.combine(day, time(hour, story.rng.randrange(60))))


def _invite(survey, contact, at, source="auto") -> AnswerToken:
    invitation = Invitation.objects.create(
        survey=survey,
        account_id=contact.account_id,
        contact=contact,
        source=source,
        language=contact.language or "nl",
        created_at=at,
    )
    raw = secrets.token_urlsafe(16)
    return AnswerToken.objects.create(
        invitation=invitation,
        kind=AnswerToken.Kind.INVITATION,
        token_hash=hash_token(raw),
        issued_at=at,
        expires_at=at + timedelta(days=30),
    )


def extend(story) -> None:
    rng = story.rng
    last_message = OutboxMessage.objects.order_by("-id").values_list("id", flat=True).first() or 0
    after_service = default_survey()
    relationship = Survey.objects.filter(key="relationship").first()
    accounts = [a for a in story.accounts.values() if a.status != "prospect"]
    names = sorted(a.name for a in accounts)
    unhappy_names = set(names[3:5]) if len(names) > 5 else set()
    contacts = {
        c.pk: c
        for c in contacts_with_consent(
            Contact.objects.filter(account__in=accounts).exclude(email=""), "surveys"
        ).select_related("account")
    }
    by_account: dict[int, list[Contact]] = {}
    for contact in contacts.values():
        by_account.setdefault(contact.account_id, []).append(contact)
    questions = {s.pk: form_questions(s) for s in (after_service, relationship) if s}
    made = answered = 0
    for account in sorted(accounts, key=lambda a: a.name):
        people = sorted(by_account.get(account.pk, []), key=lambda c: c.pk)
        if not people:
            continue
        mood = MOODS[
            "unhappy"
            if account.name in unhappy_names
            else rng.choice(["happy", "normal", "normal"])
        ]
        # About one service survey every five to eight weeks over the last year.
        days = 360 - rng.randrange(20)
        while days > 2:
            contact = rng.choice(people)
            token = _invite(after_service, contact, _moment(story, days))
            made += 1
            if rng.random() < 0.72:
                base = _pick(rng, mood)  # the answers of one person hang together
                values = [min(4, base + (rng.random() < 0.25)) for _ in range(3)]
                values[2] = base
                data = {
                    f"q{q.pk}": str(v)
                    for q, v in zip(questions[after_service.pk], values, strict=False)
                }
                comments = COMMENTS_EN if contact.language == "en" else COMMENTS_NL
                if rng.random() < 0.3:
                    data[f"q{questions[after_service.pk][3].pk}"] = rng.choice(comments)
                # Recent unhappy answers stay open; older ones were followed up.
                response_submit(
                    token=token, data=data, now=_moment(story, max(days - rng.randrange(3), 1))
                )
                answered += 1
            days -= 35 + rng.randrange(25)
        if relationship is not None:
            contact = people[0]
            token = _invite(relationship, contact, _moment(story, 60 + rng.randrange(60)), "bulk")
            made += 1
            if rng.random() < 0.8:
                trust = _pick(rng, mood)
                data = {
                    f"q{questions[relationship.pk][0].pk}": str(trust),
                    f"q{questions[relationship.pk][1].pk}": str(max(trust, _pick(rng, mood))),
                    f"q{questions[relationship.pk][2].pk}": str(
                        min(10, max(1, trust * 2 + rng.randrange(3)))
                    ),
                    f"q{questions[relationship.pk][3].pk}": str(
                        min(10, max(0, trust * 2 + rng.randrange(4)))
                    ),
                }
                response_submit(token=token, data=data, now=_moment(story, 45))
                answered += 1
    # Two recent unhappy answers whose follow-ups are still open: one due in the coming
    # days, one overdue (its reminder mail went out).
    recent = [a for a in sorted(accounts, key=lambda a: a.name) if by_account.get(a.pk)]
    daan = [
        a for a in recent if a.manager_id == story.users["daan"].pk and a.name != "de Bijenkorf"
    ]
    eva = [a for a in recent if a.manager_id == story.users["eva"].pk]
    picks = ((1, (daan or recent)[len(daan or recent) // 2]), (8, (eva or recent)[0]))
    for days, account in picks:
        contact = sorted(by_account[account.pk], key=lambda c: c.pk)[0]
        token = _invite(after_service, contact, _moment(story, days + 3))
        made += 1
        values = [3, 2, 2]
        data = {
            f"q{q.pk}": str(v) for q, v in zip(questions[after_service.pk], values, strict=False)
        }
        data[f"q{questions[after_service.pk][3].pk}"] = (
            "The delivery was late and nobody called back."
            if contact.language == "en"
            else "De levering was te laat en niemand belde terug."
        )
        response_submit(token=token, data=data, now=_moment(story, days))
        answered += 1
    # The older follow-ups were closed by their managers, as they should be.
    cutoff = _moment(story, 14)
    followups = list(
        FollowUp.objects.filter(account__in=accounts)
        .select_related("account", "response__contact")
        .order_by("-created_at")
    )
    outcomes = [FollowUp.Outcome.RESOLVED, FollowUp.Outcome.RESOLVED, FollowUp.Outcome.IMPROVED]
    still_open = 0
    for followup in followups:
        if followup.created_at > cutoff:
            still_open += 1
            continue
        followup_close(
            actor=story.actor_for(followup.account),
            followup=followup,
            outcome=rng.choice(outcomes),
            notes="Gebeld en de zaak uitgesproken.",
        )
    # Historical notices were sent back then; nothing of the past goes out now.
    OutboxMessage.objects.filter(id__gt=last_message, status=Status.QUEUED).update(
        status=Status.SENT, sent_at=timezone.now()
    )
    story.summary.counts["survey invitations"] = made
    story.summary.counts["survey responses"] = answered
    story.summary.counts["follow-ups (open)"] = still_open
