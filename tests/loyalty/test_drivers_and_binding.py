"""The four loyalty drivers (what each is made of, the weighted index, the trend and the
falling list) and the binding matrix with its gaps and suggestions."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from relatiebeheer.common.errors import InvalidInput
from relatiebeheer.loyalty.binding import selectors, services
from relatiebeheer.loyalty.binding.matrix import binding_matrix
from relatiebeheer.loyalty.drivers import bulk, scoring
from relatiebeheer.loyalty.drivers import selectors as drivers
from relatiebeheer.loyalty.models import (
    BindingActivity,
    CompetitorNote,
    DriverScore,
    Event,
    IncentiveIdea,
    Invitation,
    LoyaltySettings,
    TrustJudgement,
)
from relatiebeheer.relations.models import ConsentRecord, Interaction, Interest
from tests.factories import AccountFactory, ContactFactory, InteractionFactory

pytestmark = pytest.mark.django_db
D = Decimal
TODAY = date(2026, 3, 16)


def _moment(account, day, reading):
    return InteractionFactory(
        account=account,
        satisfaction=reading,
        occurred_at=datetime.combine(day, time(12), tzinfo=timezone.get_default_timezone()),
    )


def test_each_driver_shows_what_it_is_made_of_and_the_index_is_weighed(account, monkeypatch):
    from relatiebeheer.satisfaction import selectors as satisfaction

    real = satisfaction.account_scores

    def fake(ids, *, tag=None, since=None, until=None):
        if tag == "trust":
            from relatiebeheer.satisfaction.selectors import ScoreReading

            return {pk: [ScoreReading(TODAY, D("50.0"), "survey", "response:1")] for pk in ids}
        return real(ids, tag=tag, since=since, until=until)

    monkeypatch.setattr(satisfaction, "account_scores", fake)
    TrustJudgement.objects.create(account=account, trust=4, judged_on=TODAY - timedelta(days=10))
    _moment(account, TODAY - timedelta(days=5), 4)
    _moment(account, TODAY - timedelta(days=400), 1)  # older than 12 months: not counted
    CompetitorNote.objects.create(
        account=account, competitor="X", price=1, noted_on=TODAY - timedelta(days=300)
    )
    CompetitorNote.objects.create(
        account=account, competitor="x", price=5, quality=3, noted_on=TODAY
    )
    card = scoring.scorecard(account, as_of=TODAY)
    assert card.score("trust") == D("75.0")  # survey 50 and judgement 100, equal weight
    assert {p.source for p in card.drivers["trust"].parts} == {"survey", "judgement"}
    assert card.score("satisfaction") == D("100.0")
    assert card.score("alternatives") == D("75.0")  # the latest note per competitor: 100 and 50
    assert card.score("investment") is None  # nothing done, nothing spent
    # Index: trust 30, satisfaction 30, alternatives 20 (investment drops out):
    # (75 × 30 + 100 × 30 + 75 × 20) / 80 = 84,4
    assert card.index.score == D("84.4")


def test_scorecards_are_stored_when_they_change_and_falling_accounts_are_listed(owner, account):
    TrustJudgement.objects.create(account=account, trust=4, judged_on=TODAY - timedelta(days=120))
    assert bulk.store_scorecards(as_of=TODAY - timedelta(days=100), account_ids=[account.pk]) == 1
    assert bulk.store_scorecards(as_of=TODAY - timedelta(days=100), account_ids=[account.pk]) == 0
    TrustJudgement.objects.create(account=account, trust=1, judged_on=TODAY - timedelta(days=2))
    bulk.store_scorecards(as_of=TODAY, account_ids=[account.pk])
    assert list(DriverScore.objects.filter(account=account).values_list("index", flat=True)) == [
        D("0.0"),
        D("100.0"),
    ]
    falls = drivers.falling(actor=owner, today=TODAY)
    assert [f.account for f in falls] == [account]
    assert falls[0].drop == D("100.0")
    LoyaltySettings.objects.update(falling_points=D("100.1"))
    assert drivers.falling(actor=owner, today=TODAY) == []


def test_the_matrix_shows_activities_per_level_and_the_gaps(owner, account):
    buyer = ContactFactory(account=account, first_name="Marieke")
    buyer.interests.add(Interest.objects.create(name="tennis"))
    services.binding_activity_create(
        actor=owner,
        account=account,
        data={
            "kind": "attention",
            "title": "Lunch",
            "status": "done",
            "done_on": TODAY - timedelta(days=280),
        },
    )
    services.binding_activity_create(
        actor=owner,
        account=account,
        data={
            "kind": "discount",
            "title": "Korting",
            "status": "done",
            "done_on": TODAY - timedelta(days=3),
        },
    )
    Event.objects.create(
        name="Finale", starts_at=timezone.now() + timedelta(days=400),
        interest=Interest.objects.get(name="tennis"),
    )  # fmt: skip
    from django.utils import translation

    with translation.override("nl"):
        matrix = binding_matrix(account, today=TODAY)
    rows = {row["level"]: row for row in matrix.rows}
    assert rows["financial"]["total"] == 1 and rows["social"]["total"] == 1
    gaps = {gap.level: gap.message for gap in matrix.gaps}
    assert gaps == {
        "social": "Geen sociale binding in 9 maanden.",
        "structural": "Nog geen structurele binding.",
    }
    social = [s for s in matrix.suggestions if s.level == "social"]
    assert social[0].contact_id == buyer.pk and social[0].kind == "event"


def test_an_incentive_idea_is_suggested_when_no_event_fits(owner, account):
    buyer = ContactFactory(account=account)
    wine = Interest.objects.create(name="wijn")
    buyer.interests.add(wine)
    IncentiveIdea.objects.create(name="Wijnpakket", interest=wine, typical_cost=D("60"))
    matrix = binding_matrix(account, today=TODAY)
    assert any("Wijnpakket" in s.text for s in matrix.suggestions)


def test_a_done_activity_is_logged_as_a_contact_moment_with_its_cost(owner, account):
    activity = services.binding_activity_create(
        actor=owner,
        account=account,
        data={
            "kind": "event",
            "title": "VIP-dag",
            "status": "done",
            "done_on": TODAY,
            "cost": D("350.00"),
        },
        satisfaction=4,
    )
    assert activity.level == "social"
    moment = Interaction.objects.get(pk=activity.interaction_id)
    assert (moment.kind, moment.channel, moment.satisfaction) == ("event", "event", 4)
    assert account.costs.get().category == "gift_event"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "edi", "level": "social", "title": "x", "status": "done"}, "kind"),
        ({"kind": "attention", "title": "x", "status": "planned"}, "planned_on"),
        ({"kind": "attention", "title": "", "status": "done"}, "title"),
    ],
)
def test_bad_binding_input_is_refused_and_changes_nothing(owner, account, data, field):
    with pytest.raises(InvalidInput) as refused:
        services.binding_activity_create(actor=owner, account=account, data=data)
    assert field in refused.value.errors
    assert not BindingActivity.objects.exists() and not Interaction.objects.exists()


def test_inviting_to_an_event_mails_only_with_consent_and_attending_binds(owner, account):
    yes, no = ContactFactory(account=account), ContactFactory(account=account)
    ConsentRecord.objects.create(contact=yes, purpose="events", granted=True, source="web_form")
    past = timezone.now() - timedelta(days=2)
    event = services.event_create(
        actor=owner, data={"name": "Finale", "starts_at": past, "cost_per_guest": D("180")}
    )
    made = services.invitations_create(actor=owner, event=event, contacts=[yes, no])
    assert {i.contact_id: i.mailed for i in made} == {yes.pk: True, no.pk: False}
    assert services.invitations_create(actor=owner, event=event, contacts=[yes]) == []  # once
    invitation = Invitation.objects.get(contact=yes)
    services.invitation_respond(
        actor=owner, invitation=invitation, version=invitation.version, status="attended"
    )
    invitation.activity.refresh_from_db()
    assert invitation.activity.status == "done"
    assert account.costs.get().amount == D("180.00")
    declined = Invitation.objects.get(contact=no)
    services.invitation_respond(
        actor=owner, invitation=declined, version=declined.version, status="no_show"
    )
    declined.activity.refresh_from_db()
    assert declined.activity.status == "cancelled"


def test_an_account_manager_cannot_invite_another_portfolios_contacts(
    owner, other_manager, account
):
    event = services.event_create(
        actor=other_manager, data={"name": "X", "starts_at": timezone.now(), "shared": True}
    )
    from relatiebeheer.common.errors import NotFound

    with pytest.raises(NotFound):
        services.invitations_create(
            actor=other_manager, event=event, contacts=[ContactFactory(account=account)]
        )


def test_rapport_is_judged_per_contact_and_the_latest_counts(owner, account):
    contact = ContactFactory(account=account)
    services.rapport_judge(
        actor=owner, contact=contact, rapport=False, judged_on=TODAY - timedelta(days=30)
    )
    services.rapport_judge(actor=owner, contact=contact, rapport=True, judged_on=TODAY)
    side = selectors.personal_side(account, today=TODAY)
    assert side[0]["rapport"].rapport is True


def test_index_is_none_without_any_data():
    account = AccountFactory()
    assert scoring.scorecard(account, as_of=TODAY).index.score is None
