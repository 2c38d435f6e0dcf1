"""The account manager's day in a real browser: find de Bijenkorf, log a call, read it back,
in Dutch and in English; a colleague does not find it."""

import pytest
from playwright.sync_api import expect

from relatiebeheer.relations.models import Interaction
from tests.factories import PASSWORD, AccountFactory, ContactFactory, UserFactory

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def story():
    daan = UserFactory(username="daan", first_name="Daan", last_name="Jansen")
    eva = UserFactory(username="eva", first_name="Eva", last_name="Bakker")
    bijenkorf = AccountFactory(
        name="de Bijenkorf",
        city="Amsterdam",
        manager=daan,
        status="key_account",
        search_text="de bijenkorf amsterdam 33012345",
        kvk_number="33012345",
    )
    ContactFactory(
        account=bijenkorf, first_name="Femke", last_name="de Wit", role="Inkoper dameskleding"
    )
    for i in range(3):
        AccountFactory(name=f"Modehuis {i}", manager=daan)
    AccountFactory(name="Boutique Eva", manager=eva)
    return daan, eva, bijenkorf


def test_log_a_phone_call_with_a_reading_and_see_it_on_the_timeline(page, story, screenshot):
    daan, _eva, bijenkorf = story
    log_in(page, "daan", PASSWORD)

    # Find de Bijenkorf by search.
    page.click("text=Accounts")
    page.fill("#id_q", "bijenk")
    expect(page.locator("#account-table tbody tr")).to_have_count(1)
    expect(page.locator("#account-table tbody tr")).to_contain_text("de Bijenkorf")
    page.click("#account-table >> text=de Bijenkorf")
    page.wait_for_url(f"**/accounts/{bijenkorf.pk}/")

    # Log a phone call with the reading "goed".
    page.check("input[name=channel][value=phone]", force=True)
    page.fill("#id_subject", "Levertijd winterjassen nagevraagd")
    page.locator("label", has_text="goed").filter(has_not_text="zeer").click()
    page.click("#log-interaction button[type=submit]")
    page.wait_for_selector("[data-testid=timeline] >> text=Levertijd winterjassen nagevraagd")
    item = page.locator(".timeline-item", has_text="Levertijd winterjassen nagevraagd")
    assert "goed" in item.inner_text()
    interaction = Interaction.objects.get(subject="Levertijd winterjassen nagevraagd")
    assert (
        interaction.satisfaction == 3
        and interaction.channel == "phone"
        and interaction.user == daan
    )
    screenshot(page, "account-nl")

    # Switch to English: the same page, in English.
    page.click("button[name=language][value=en]")
    page.wait_for_selector("text=Log a contact moment")
    assert "TIMELINE" in page.inner_text("main").upper()
    assert "good" in page.locator(".timeline-item", has_text="Levertijd winterjassen").inner_text()
    screenshot(page, "account-en")


def test_a_colleague_does_not_find_de_bijenkorf(page, story):
    _daan, _eva, bijenkorf = story
    log_in(page, "eva", PASSWORD)
    page.goto("/accounts/?q=bijenkorf")
    assert (
        page.locator("#account-table tbody tr")
        .first.inner_text()
        .strip()
        .startswith(("Geen", "No"))
    )
    response = page.goto(f"/accounts/{bijenkorf.pk}/")
    assert response.status == 404


def test_lockout_after_five_failed_logins(page, story):
    for _ in range(5):
        page.goto("/login/")
        page.fill("#id_username", "daan")
        page.fill("#id_password", "wrong-password")
        page.click("button[type=submit]")
    page.goto("/login/")
    page.fill("#id_username", "daan")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    assert page.locator("[role=alert]").inner_text().startswith(("Te veel", "Too many"))
