"""A small world of records owned by one account manager, for permission tests."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from relatiebeheer.relations.models import ConsentRecord

from .factories import (
    AccountFactory,
    ContactFactory,
    CostEntryFactory,
    InteractionFactory,
    OrderFactory,
    TaskFactory,
)


@dataclass
class World:
    account: object
    contact: object
    interaction: object
    task: object
    order: object
    cost: object
    # Satisfaction: a survey, the owner's contact invited (mail in the outbox), an
    # unhappy answer and the follow-up it opened.
    survey: object = None
    followup: object = None
    message: object = None
    # Imports: a (checked) contacts import of the owner's.
    import_job: object = None
    # Loyalty: a programme the owner's account holds a tier in (with points and a card),
    # a binding activity, a wish, a competitor note, an event with an invitation and a
    # draft campaign for the account (see _loyalty).
    loyalty: dict | None = None
    # Background work: a task that failed (the status page offers to retry it).
    failed_task: object = None

    def path_ids(self) -> dict[str, int]:
        """Path parameter name → the id of the owner's record of that kind."""
        return {
            "account_id": self.account.pk,
            "contact_id": self.contact.pk,
            "interaction_id": self.interaction.pk,
            "task_id": self.task.pk,
            "order_id": self.order.pk,
            "cost_id": self.cost.pk,
            "survey_id": self.survey.pk,
            "followup_id": self.followup.pk,
            "message_id": self.message.pk,
            "job_id": self.import_job.pk,
            "task_result_id": self.failed_task.pk if self.failed_task else 0,
            **{
                f"{name}_id": obj.pk
                for name, obj in (self.loyalty or {}).items()
                if name != "programme"
            },
        }


def build_world(owner) -> World:
    account = AccountFactory(name="de Bijenkorf", manager=owner)
    contact = ContactFactory(account=account)
    ConsentRecord.objects.create(
        contact=contact, purpose="surveys", granted=True, source="web_form"
    )
    interaction = InteractionFactory(account=account, user=owner)
    interaction.contacts.add(contact)
    world = World(
        account=account,
        contact=contact,
        interaction=interaction,
        task=TaskFactory(account=account, assignee=owner),
        order=OrderFactory(account=account, date=date(2026, 1, 5), revenue=Decimal("9500.00")),
        cost=CostEntryFactory(account=account),
    )
    from relatiebeheer.value.services import metrics_recompute

    metrics_recompute(with_prediction=False)
    _satisfaction(world, owner)
    _imports(world, owner)
    _loyalty(world, owner)
    world.failed_task = failed_task()
    return world


def failed_task():
    """A background task that failed (every attempt): the status page lists it."""
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from relatiebeheer.reports.tasks import refresh_dashboard

    result = refresh_dashboard.enqueue()
    DBTaskResult.objects.filter(pk=result.id).update(
        status="FAILED",
        started_at=timezone.now(),
        finished_at=timezone.now(),
        exception_class_path="builtins.ValueError",
        traceback="Traceback (most recent call last):\nValueError: boom",
        worker_ids=["w-test", "w-test", "w-test"],
    )
    return DBTaskResult.objects.get(pk=result.id)


def _loyalty(world: World, owner) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from relatiebeheer.loyalty import models as loyalty
    from relatiebeheer.loyalty.programme.bulk import evaluate_programme
    from relatiebeheer.loyalty.programme.services import card_issue

    account, contact = world.account, world.contact
    programme = loyalty.Programme.objects.create(
        code="wereld", name="Klantenkaart", starts_on=date(2026, 1, 1), points_enabled=True
    )
    loyalty.Tier.objects.create(programme=programme, name="Goud", rank=1, threshold=Decimal(5000))
    loyalty.Reward.objects.create(programme=programme, name="Tas", points=100)
    evaluate_programme(programme, as_of=date(2026, 2, 1))  # a tier, and 9500 points
    event = loyalty.Event.objects.create(
        name="Tennisfinale", starts_at=datetime(2026, 9, 1, 14, tzinfo=ZoneInfo("Europe/Amsterdam")),
        organiser=owner,
    )  # fmt: skip
    world.loyalty = {
        "programme": programme,
        "binding": loyalty.BindingActivity.objects.create(
            account=account,
            level="social",
            kind="attention",
            title="Lunch",
            status="planned",
            planned_on=date(2026, 6, 1),
        ),
        "wish": loyalty.Wish.objects.create(account=account, aspect="delivery", wish="Dinsdag"),
        "competitor_note": loyalty.CompetitorNote.objects.create(
            account=account, competitor="Concurrent", price=3
        ),
        "event": event,
        "event_invitation": loyalty.Invitation.objects.create(
            event=event, contact=contact, account=account
        ),
        # Through the service, so the programme's card counter knows the number is taken.
        "card": card_issue(actor=owner, account=account, programme=programme),
        "campaign": loyalty.Campaign.objects.create(
            name="Campagne",
            goal="+10 %",
            starts_on=date(2026, 3, 1),
            ends_on=date(2026, 5, 31),
            selection="account",
            account=account,
            benefits="Korting",
            created_by=owner,
        ),
    }
    loyalty.TrustJudgement.objects.create(account=account, trust=3)
    loyalty.LoyaltySettings.load()


def _imports(world: World, owner) -> None:
    from relatiebeheer.imports import services

    world.import_job = services.import_job_create(
        actor=owner,
        kind="contacts",
        source=b"Achternaam;E-mail\nJansen;jansen@example.nl\n",
        filename="contacten.csv",
        options={"account_id": world.account.pk},
    )


def _satisfaction(world: World, owner) -> None:
    from django.utils import timezone

    from relatiebeheer.satisfaction.answering.form import form_questions
    from relatiebeheer.satisfaction.answering.services import response_submit
    from relatiebeheer.satisfaction.answering.tokens import hash_token
    from relatiebeheer.satisfaction.defaults import default_survey
    from relatiebeheer.satisfaction.models import AnswerToken
    from relatiebeheer.satisfaction.sending.services import invite

    survey = default_survey()
    invitation = invite(
        actor=owner, survey=survey, contacts=[world.contact], source="manual"
    ).invited[0]
    token = invitation.tokens.get()
    now = timezone.now()
    AnswerToken.objects.filter(pk=token.pk).update(
        token_hash=hash_token("world-token"),
        issued_at=now,
        expires_at=now + timezone.timedelta(days=30),
    )
    questions = form_questions(survey)
    response = response_submit(
        token=AnswerToken.objects.get(pk=token.pk),
        data={f"q{q.pk}": "1" for q in questions if q.kind == "four_point"},
    )
    world.survey = survey
    world.followup = response.followup
    world.message = token.message


def sample_body(method: str, path: str, world: World) -> dict | None:
    """A valid request body for each write operation, pointing at the owner's records."""
    if method == "patch":
        return {"version": 1}
    bodies = {
        "/api/v1/accounts": {"name": "Nieuw", "parent_id": world.account.pk},
        "/api/v1/contacts": {"account_id": world.account.pk, "last_name": "Jansen"},
        "/api/v1/contacts/{contact_id}/consents": {"purpose": "surveys", "granted": False},
        "/api/v1/interactions": {"account_id": world.account.pk, "subject": "Belletje"},
        "/api/v1/tasks": {"account_id": world.account.pk, "title": "Bellen"},
        "/api/v1/orders": {
            "account_id": world.account.pk,
            "date": "2026-02-01",
            "revenue": "10.00",
        },
        "/api/v1/costs": {
            "account_id": world.account.pk,
            "date": "2026-02-01",
            "category": "service",
            "amount": "5.00",
        },
    }
    bodies["/api/v1/contacts/{contact_id}/erase"] = {}
    bodies["/api/v1/imports"] = {
        "kind": "contacts",
        "filename": "contacten.csv",
        "text": "Achternaam\nJansen\n",
        "account_id": world.account.pk,
        "commit": False,
    }
    bodies["/api/v1/imports/{job_id}/start"] = {"commit": False}
    bodies["/api/v1/accounts/{account_id}/merge"] = {
        "version": 1,
        "other_id": world.account.pk,
        "other_version": 1,
    }
    bodies["/api/v1/surveys"] = {
        "key": "nieuw",
        "name": "Nieuw",
        "title_nl": "Nieuw",
        "questions": [{"kind": "csat", "text_nl": "Tevreden?"}],
    }
    bodies["/api/v1/invitations"] = {
        "survey_id": world.survey.pk,
        "contact_ids": [world.contact.pk],
    }
    bodies["/api/v1/followups/{followup_id}/close"] = {"outcome": "resolved"}
    bodies["/api/v1/outbox/messages/{message_id}/resend"] = {}
    bodies["/api/v1/outbox/messages/{message_id}/mark-sent"] = {}
    bodies["/api/v1/status/tasks/{task_result_id}/retry"] = {}
    bodies["/api/v1/portfolios/transfer"] = {
        "from_user_id": world.account.manager_id,
        "to_user_id": world.account.manager_id,
    }
    bodies["/api/v1/clv/simple"] = {
        "order_value": "9500",
        "margin": "0.15",
        "orders": 6,
        "years": 2,
    }
    bodies.update(_loyalty_bodies(world))
    if method == "post":
        return bodies[path]
    return None


def _loyalty_bodies(world: World) -> dict:
    a, c, p = world.account.pk, world.contact.pk, world.loyalty["programme"].pk
    v1 = "/api/v1/loyalty"
    return {
        f"{v1}/programmes": {"code": "goud", "name": "Goud", "starts_on": "2026-01-01"},
        f"{v1}/settings": {"weight_trust": 30, "version": 1},
        f"{v1}/accounts/{{account_id}}/redemptions": {"programme_id": p, "points": 1},
        f"{v1}/binding-activities": {
            "account_id": a,
            "kind": "attention",
            "title": "Lunch",
            "status": "planned",
            "planned_on": "2026-07-01",
        },
        f"{v1}/wishes": {"account_id": a, "aspect": "delivery", "wish": "Dinsdag"},
        f"{v1}/competitor-notes": {"account_id": a, "competitor": "Concurrent", "price": 3},
        f"{v1}/trust-judgements": {"account_id": a, "trust": 3},
        f"{v1}/contacts/{{contact_id}}/rapport": {"rapport": True},
        f"{v1}/events": {
            "name": "Finale",
            "starts_at": "2026-09-01T14:00:00+02:00",
            "contact_ids": [c],
        },
        f"{v1}/events/{{event_id}}/invitations": {"contact_ids": [c]},
        f"{v1}/cards": {"account_id": a, "programme_id": p},
        f"{v1}/cards/{{card_id}}/block": {"reason": "kwijt"},
        f"{v1}/cards/{{card_id}}/replace": {},
        f"{v1}/campaigns": {
            "name": "Campagne",
            "goal": "+10 %",
            "starts_on": "2026-03-01",
            "ends_on": "2026-05-31",
            "benefits": "Korting",
            "account_id": a,
        },
        f"{v1}/campaigns/{{campaign_id}}/launch": {"version": 1},
    }
