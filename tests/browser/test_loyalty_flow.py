"""Loyalty in a real browser: the account page says what it takes to reach Gold, a card is
issued and shows its barcode, and a campaign's charts are drawn (no inline scripts)."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from relatiebeheer.loyalty.campaigns import services as campaigns
from relatiebeheer.loyalty.models import BonusBracket, Programme, Tier
from relatiebeheer.loyalty.programme.bulk import evaluate_programme
from relatiebeheer.sales.models import Order
from tests.factories import PASSWORD, AccountFactory, ContactFactory, UserFactory

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
D = Decimal


@pytest.fixture
def story():
    today = timezone.localdate()
    daan = UserFactory(username="daan", first_name="Daan", last_name="Jansen")
    bijenkorf = AccountFactory(name="de Bijenkorf", manager=daan, status="key_account")
    ContactFactory(account=bijenkorf, first_name="Marieke", last_name="van Leeuwen")
    gold = Programme.objects.create(
        code="gold-card", name="Gold Card", starts_on=date(today.year - 1, 1, 1), bonus_enabled=True
    )
    Tier.objects.create(programme=gold, name="Gold", rank=1, threshold=D("12000"))
    BonusBracket.objects.create(programme=gold, lower_bound=D("12000"), rate=D("0.01"))
    for days, amount in ((200, "9000.00"), (140, "9500.00"), (80, "9200.00")):
        Order.objects.create(account=bijenkorf, date=today - timedelta(days=days), status="paid",
                             revenue=D(amount), cost_of_goods=D("0.00"))  # fmt: skip
    Order.objects.create(account=bijenkorf, date=date(today.year, 1, 1), status="paid",
                         revenue=D("11999.99"), cost_of_goods=D("0.00"))  # fmt: skip
    evaluate_programme(gold, as_of=today)
    campaign = campaigns.campaign_create(
        actor=daan,
        data={
            "name": "Loyaliteitscampagne de Bijenkorf", "goal": "+10 % orderwaarde",
            "starts_on": today - timedelta(days=60), "ends_on": today + timedelta(days=30),
            "selection": "account", "account": bijenkorf, "benefits": "2 % extra korting",
        },
    )  # fmt: skip
    campaigns.campaign_launch(actor=daan, campaign=campaign, version=campaign.version)
    return daan, bijenkorf, campaign


def test_gold_card_card_and_campaign(page, story, screenshot):
    _daan, bijenkorf, campaign = story
    log_in(page, "daan", PASSWORD)
    page.goto(f"/accounts/{bijenkorf.pk}/")
    panel = page.locator("[data-testid=loyalty-panel]")
    expect(panel).to_contain_text("Gold Card")
    screenshot(page, "loyalty-account-panel")

    page.goto(f"/loyalty/accounts/{bijenkorf.pk}/programme/")
    page.click("text=Kaart uitgeven")
    page.wait_for_url("**/loyalty/cards/*/")
    expect(page.locator("[data-testid=barcode] svg")).to_be_visible()
    number = page.locator("[data-testid=card-number]").inner_text()
    assert len(number) == 13 and number.startswith("29")
    screenshot(page, "loyalty-card")

    page.goto(f"/loyalty/campaigns/{campaign.pk}/")
    expect(page.locator("[data-testid=weaker-evidence]")).to_be_visible()
    expect(page.locator("canvas[data-rendered='1']")).to_have_count(1)
    screenshot(page, "loyalty-campaign")

    page.goto(f"/loyalty/accounts/{bijenkorf.pk}/drivers/")
    expect(page.locator("canvas[data-chart=radar][data-rendered='1']")).to_have_count(1)


def test_two_managers_change_a_tier_and_the_second_sees_both_versions(
    browser, live_server, screenshot
):
    UserFactory(username="sanne", role="sales_manager")
    UserFactory(username="karin", role="sales_manager")
    gold = Programme.objects.create(code="gold", name="Gold Card", starts_on=date(2026, 1, 1))
    tier = Tier.objects.create(programme=gold, name="Gold", rank=1, threshold=D("12000"))
    url = f"/loyalty/programmes/tier/edit/?programme={gold.pk}&id={tier.pk}"

    pages = []
    for username in ("sanne", "karin"):
        context = browser.new_context(
            viewport={"width": 1366, "height": 900}, locale="nl-NL", base_url=live_server.url
        )
        page = context.new_page()
        log_in(page, username, PASSWORD)
        page.goto(url)  # both open the form before either saves
        pages.append(page)
    sanne, karin = pages

    sanne.fill("#id_threshold", "15000")
    with sanne.expect_navigation():
        sanne.click("main button[type=submit]")
    karin.fill("#id_threshold", "11000")
    with karin.expect_navigation():
        karin.click("main button[type=submit]")

    conflict = karin.locator("[role=alert].border-warning")
    expect(conflict).to_contain_text(
        re.compile("Intussen door iemand anders opgeslagen|Saved by someone else in the meantime")
    )
    expect(conflict).to_contain_text("15")
    screenshot(karin, "loyalty-tier-conflict")
    tier.refresh_from_db()
    assert tier.threshold == D("15000")
    for page in pages:
        page.context.close()


def test_a_binding_activity_is_removed_from_its_edit_page(page, story, screenshot):
    from relatiebeheer.loyalty.models import BindingActivity

    _daan, bijenkorf, _campaign = story
    activity = BindingActivity.objects.create(
        account=bijenkorf, kind="incentive", level="social", title="Lunch bij Ciel Bleu",
        status="planned", planned_on=timezone.localdate() + timedelta(days=14),
    )  # fmt: skip
    log_in(page, "daan", PASSWORD)
    page.goto(f"/loyalty/binding/{activity.pk}/edit/")
    remove = page.get_by_role("button", name="Verwijderen")
    expect(remove).to_be_visible()
    screenshot(page, "loyalty-binding-edit")
    remove.click()
    expect(page.locator("body")).to_contain_text("Bindingsactiviteit verwijderd.")
    assert not BindingActivity.objects.filter(pk=activity.pk).exists()
