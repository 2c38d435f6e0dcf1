"""The loyalty pages as their users see them: the owner works, a sales manager configures."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from relatiebeheer.loyalty import models as m
from relatiebeheer.loyalty.programme.bulk import evaluate_programme
from tests.factories import ContactFactory

from .conftest import order

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def setup(owner, account, gold_card):
    today = timezone.localdate()
    buyer = ContactFactory(account=account, first_name="Marieke", last_name="de Boer")
    buyer.interests.create(name="tennis")
    order(account, date(today.year, 1, 2), "11999.99")
    gold_card.points_enabled = True
    gold_card.save()
    m.Reward.objects.create(programme=gold_card, name="Tas", points=100)
    evaluate_programme(gold_card, as_of=today)
    return {"account": account, "buyer": buyer, "programme": gold_card, "today": today}


def test_every_loyalty_page_renders_for_the_owner(web_as, owner, setup):
    client = web_as(owner)
    a = setup["account"].pk
    for url in (
        "/loyalty/",
        "/loyalty/tiers/",
        "/loyalty/falling/",
        f"/loyalty/accounts/{a}/",
        f"/loyalty/accounts/{a}/drivers/",
        f"/loyalty/accounts/{a}/programme/",
        f"/loyalty/accounts/{a}/binding/",
        f"/loyalty/accounts/{a}/wishes/",
        f"/loyalty/accounts/{a}/competitors/",
        "/loyalty/events/",
        "/loyalty/events/new/",
        "/loyalty/campaigns/",
        "/loyalty/campaigns/new/",
        "/loyalty/programmes/",
        f"/accounts/{a}/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url


def test_account_page_says_one_cent_more_reaches_gold(web_as, owner, setup):
    content = web_as(owner).get(f"/accounts/{setup['account'].pk}/").content.decode()
    assert "€ 0,01" in content
    assert "Gold" in content


def test_owner_logs_a_social_activity_and_the_gap_closes(web_as, owner, setup):
    client = web_as(owner)
    a = setup["account"]
    page = client.get(f"/loyalty/accounts/{a.pk}/").content.decode()
    assert "Nog geen sociale binding." in page
    response = client.post(
        f"/loyalty/accounts/{a.pk}/binding/",
        {
            "kind": "incentive",
            "title": "Kaartjes tennisfinale",
            "status": "done",
            "done_on": setup["today"].isoformat(),
            "contact": setup["buyer"].pk,
            "interest_name": "tennis",
            "cost": "120.00",
        },
    )
    assert response.status_code == 302
    activity = m.BindingActivity.objects.get(title="Kaartjes tennisfinale")
    assert activity.level == "social" and activity.interaction is not None
    assert a.costs.filter(category="gift_event", amount=D("120.00")).exists()
    page = client.get(f"/loyalty/accounts/{a.pk}/").content.decode()
    assert "Kaartjes tennisfinale" in page or "1" in page


def test_bad_binding_input_shows_errors_and_saves_nothing(web_as, owner, setup):
    response = web_as(owner).post(
        f"/loyalty/accounts/{setup['account'].pk}/binding/",
        {"kind": "edi", "level": "social", "title": "EDI", "status": "done"},
    )
    assert response.status_code == 422
    assert not m.BindingActivity.objects.exists()


def test_rapport_trust_and_competitor_notes(web_as, owner, setup):
    client = web_as(owner)
    a = setup["account"]
    assert (
        client.post(
            f"/loyalty/contacts/{setup['buyer'].pk}/rapport/", {"rapport": "yes"}
        ).status_code
        == 302
    )
    assert m.Rapport.objects.get().rapport is True
    assert client.post(f"/loyalty/accounts/{a.pk}/trust/", {"trust": "4"}).status_code == 302
    response = client.post(
        f"/loyalty/accounts/{a.pk}/competitors/",
        {
            "competitor": "Modehuis X",
            "price": "2",
            "quality": "4",
            "service": "5",
            "noted_on": "2026-01-01",
        },
    )
    assert response.status_code == 302
    page = client.get(f"/loyalty/accounts/{a.pk}/drivers/").content.decode()
    assert "Modehuis X" in page


def test_redeem_issue_block_and_replace_a_card(web_as, owner, setup):
    client = web_as(owner)
    a, programme = setup["account"], setup["programme"]
    response = client.post(f"/loyalty/accounts/{a.pk}/cards/", {"programme": programme.pk})
    card = m.Card.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/loyalty/cards/{card.pk}/"
    page = client.get(f"/loyalty/cards/{card.pk}/").content.decode()
    assert "<svg" in page and card.number in page
    client.post(f"/loyalty/cards/{card.pk}/block/", {"reason": "kwijt"})
    card.refresh_from_db()
    assert card.status == "blocked"
    client.post(f"/loyalty/cards/{card.pk}/replace/", {})
    card.refresh_from_db()
    new = m.Card.objects.get(replaces=card)
    assert card.status == "replaced" and new.status == "active" and new.number != card.number
    reward = m.Reward.objects.get()
    client.post(
        f"/loyalty/accounts/{a.pk}/redeem/",
        {"programme": programme.pk, "reward": reward.pk, "key": "k1"},
    )
    assert m.LedgerEntry.objects.filter(kind="redeem", points=-100).count() == 1


def test_event_invite_and_rsvp(web_as, owner, setup):
    client = web_as(owner)
    response = client.post(
        "/loyalty/events/new/",
        {
            "name": "Tennisfinale",
            "starts_at": "2030-06-01T14:00",
            "interest_name": "tennis",
            "shared": "on",
        },
    )
    event = m.Event.objects.get()
    assert response.status_code == 302
    page = client.get(f"/loyalty/events/{event.pk}/").content.decode()
    assert "Marieke" in page  # suggested: she is interested in tennis
    client.post(
        f"/loyalty/events/{event.pk}/invite/", {"contacts": [setup["buyer"].pk], "mail": "on"}
    )
    invitation = m.Invitation.objects.get()
    assert invitation.activity.level == "social" and invitation.activity.status == "planned"
    client.post(f"/loyalty/invitations/{invitation.pk}/rsvp/", {"status": "accepted", "version": 1})
    invitation.refresh_from_db()
    assert invitation.status == "accepted"


def test_campaign_wizard_for_one_account(web_as, owner, setup):
    client = web_as(owner)
    a = setup["account"]
    today = setup["today"]
    response = client.post(
        f"/loyalty/campaigns/new/?account={a.pk}",
        {
            "name": "Loyaliteitscampagne",
            "goal": "+10 % orderwaarde",
            "goal_metric": "revenue",
            "goal_lift": "10",
            "starts_on": (today - timedelta(days=60)).isoformat(),
            "ends_on": (today + timedelta(days=30)).isoformat(),
        },
    )
    campaign = m.Campaign.objects.get()
    assert response.status_code == 302 and campaign.account == a
    response = client.post(
        f"/loyalty/campaigns/{campaign.pk}/edit/?step=incentive",
        {
            "step": "incentive",
            "version": campaign.version,
            "incentive": "bonus_discount",
            "incentive_rate": "2",
            "benefits": "2 % extra korting",
            "budget": "500",
            "fixed_cost": "0",
        },
    )
    assert response.status_code == 302
    assert client.get(f"/loyalty/campaigns/{campaign.pk}/edit/?step=review").status_code == 200
    campaign.refresh_from_db()
    client.post(f"/loyalty/campaigns/{campaign.pk}/launch/", {"version": campaign.version})
    campaign.refresh_from_db()
    assert campaign.status == "launched"
    page = client.get(f"/loyalty/campaigns/{campaign.pk}/").content.decode()
    assert 'data-testid="weaker-evidence"' in page


def test_an_account_manager_cannot_configure_but_a_sales_manager_can(
    web_as, owner, sales_manager, gold_card
):
    response = web_as(owner).get("/loyalty/programmes/edit/")
    assert response.status_code == 302
    client = web_as(sales_manager)
    assert client.get("/loyalty/programmes/edit/").status_code == 200
    assert client.get(f"/loyalty/programmes/tier/edit/?programme={gold_card.pk}").status_code == 200
    response = client.post(
        f"/loyalty/programmes/tier/edit/?programme={gold_card.pk}",
        {
            "programme": gold_card.pk,
            "name": "Platinum",
            "rank": 2,
            "threshold": "50000",
            "benefit_kinds": ["parking"],
        },
    )
    assert response.status_code == 302
    assert gold_card.tiers.get(name="Platinum").benefits.get().kind == "parking"
    version = gold_card.version
    gold_card.refresh_from_db()
    assert gold_card.version == version + 1  # the stored statuses are stale now
    response = client.post(
        f"/loyalty/programmes/tier/edit/?programme={gold_card.pk}",
        {"programme": gold_card.pk, "name": "Zilver", "rank": 0, "threshold": "60000"},
    )
    assert response.status_code == 200  # a lower rank needs a lower threshold
    assert not gold_card.tiers.filter(name="Zilver").exists()
    assert client.get("/loyalty/settings/edit/").status_code == 200


def test_campaign_wizard_by_segment_with_a_control_group(web_as, sales_manager, owner):
    from relatiebeheer.relations.models import Account
    from relatiebeheer.value.models import AccountMetrics

    today = timezone.localdate()
    accounts = Account.objects.bulk_create(
        [Account(name=f"Klant {i}", manager=owner, status="customer") for i in range(10)]
    )
    AccountMetrics.objects.bulk_create(
        [AccountMetrics(account=a, as_of=today, segment="at_risk") for a in accounts]
    )
    client = web_as(sales_manager)
    client.post(
        "/loyalty/campaigns/new/",
        {
            "name": "Terugwinnen", "goal": "+10 %", "goal_metric": "orders", "goal_lift": "10",
            "starts_on": today.isoformat(), "ends_on": (today + timedelta(days=60)).isoformat(),
        },
    )  # fmt: skip
    campaign = m.Campaign.objects.get()
    response = client.post(
        f"/loyalty/campaigns/{campaign.pk}/edit/?step=target",
        {
            "step": "target", "version": campaign.version, "selection": "segment",
            "segments": ["at_risk"], "value_field": "value_this_year", "control_fraction": "0.3",
        },
    )  # fmt: skip
    assert response.status_code == 302
    campaign.refresh_from_db()
    client.post(
        f"/loyalty/campaigns/{campaign.pk}/edit/?step=incentive",
        {
            "step": "incentive", "version": campaign.version, "incentive": "savings_gift",
            "incentive_rate": "0", "gift": "Shopper", "gift_value": "12.50",
            "benefits": "Een shopper bij elke order", "budget": "250", "fixed_cost": "0",
        },
    )  # fmt: skip
    review = client.get(f"/loyalty/campaigns/{campaign.pk}/edit/?step=review").content.decode()
    assert "10 geselecteerd: 7 in de doelgroep, 3" in review
    campaign.refresh_from_db()
    client.post(f"/loyalty/campaigns/{campaign.pk}/launch/", {"version": campaign.version})
    assert campaign.members.filter(group="control").count() == 3


def test_a_sales_manager_removes_a_bracket(web_as, sales_manager, gold_card):
    bracket = gold_card.brackets.first()
    response = web_as(sales_manager).post(
        "/loyalty/programmes/delete/", {"kind": "bracket", "id": bracket.pk}
    )
    assert response.status_code == 302
    assert not m.BonusBracket.objects.filter(pk=bracket.pk).exists()


def test_removing_a_binding_activity_checks_the_version_on_its_edit_page(web_as, owner, setup):
    client = web_as(owner)
    activity = m.BindingActivity.objects.create(
        account=setup["account"],
        kind="incentive",
        level="social",
        title="Lunch",
        status="planned",
        planned_on=setup["today"],
    )
    page = client.get(f"/loyalty/binding/{activity.pk}/edit/").content.decode()
    assert f'action="/loyalty/binding/{activity.pk}/delete/"' in page and "Verwijderen" in page
    m.BindingActivity.objects.filter(pk=activity.pk).update(version=2)  # a colleague saved

    response = client.post(f"/loyalty/binding/{activity.pk}/delete/", {"version": 1}, follow=True)
    assert "Iemand anders heeft deze bindingsactiviteit gewijzigd" in response.content.decode()
    assert m.BindingActivity.objects.filter(pk=activity.pk).exists()

    response = client.post(f"/loyalty/binding/{activity.pk}/delete/", {"version": 2})
    assert response.status_code == 302
    assert not m.BindingActivity.objects.filter(pk=activity.pk).exists()
