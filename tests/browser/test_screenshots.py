"""Screenshots of the main pages in Dutch and English with the demo loaded (for review),
and the checks a reviewer would make on them."""

import io

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from relatiebeheer.relations.models import Account

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "relatie-demo-2026"


def test_main_pages_in_both_languages(page, screenshot):
    call_command("demo", stdout=io.StringIO())
    bijenkorf = Account.objects.get(name="de Bijenkorf")
    violations = []
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    log_in(page, "daan", PASSWORD)
    for language in ("nl", "en"):
        if language == "en":
            page.click("button[name=language][value=en]")
            page.wait_for_load_state()
        page.goto("/")
        expect(page.locator("h1")).to_contain_text("Goedendag" if language == "nl" else "Good day")
        page.wait_for_selector("canvas[data-rendered]")
        screenshot(page, f"dashboard-{language}")

        page.goto("/accounts/")
        expect(page.locator("#account-table caption")).to_contain_text("18 accounts")
        screenshot(page, f"account-list-{language}")

        page.goto(f"/accounts/{bijenkorf.pk}/")
        clv = page.locator("[data-testid=clv]")
        expect(clv).to_have_text("€ 8.550,00" if language == "nl" else "€8,550.00")
        expect(page.locator("[data-testid=revenue-12m]")).to_contain_text(
            "28.500,00" if language == "nl" else "28,500.00"
        )
        screenshot(page, f"account-{language}")

        page.goto("/value/")
        screenshot(page, f"value-{language}")

    assert not violations, violations


def test_admin_works_under_the_content_security_policy(page):
    call_command("demo", stdout=io.StringIO())
    violations = []
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    log_in(page, "beheer", PASSWORD)
    for path in [
        "/admin/",
        "/admin/relations/account/",
        "/admin/relations/account/1/change/",
        "/admin/users/user/",
    ]:
        response = page.goto(path)
        assert response.status == 200
    assert not violations, violations


def test_the_writers_pages_fit_a_phone_in_both_languages(page, screenshot):
    """At 390 px nothing scrolls sideways: the privacy page (consent history table, the
    erasure form), the loyalty programmes (heading and button) and the account page."""
    from relatiebeheer.relations.models import Contact

    call_command("demo", stdout=io.StringIO())
    bijenkorf = Account.objects.get(name="de Bijenkorf")
    contact = Contact.objects.filter(account=bijenkorf).order_by("pk").first()
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, "beheer", PASSWORD)
    too_wide = []
    for language in ("nl", "en"):
        if language == "en":  # as a phone user switches: the menu first
            page.goto("/")
            page.click(".navbar-toggler")
            page.click("button[name=language][value=en]")
            page.wait_for_load_state()
        for name, path in (
            ("privacy", f"/privacy/contacts/{contact.pk}/"),
            ("programmes", "/loyalty/programmes/"),
            ("account", f"/accounts/{bijenkorf.pk}/"),
        ):
            page.goto(path)
            page.wait_for_load_state()
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > 390:
                too_wide.append((name, language, width))
            screenshot(page, f"phone-{name}-{language}")
    assert not too_wide, too_wide


def test_the_audit_log_reads_on_a_phone(page, screenshot):
    """At 390 px the audit table scrolls inside its card; its details column keeps a
    readable width instead of wrapping letter by letter into rows a screen high."""
    call_command("demo", stdout=io.StringIO())
    call_command("check-figures", stdout=io.StringIO())  # an entry with long details
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, "beheer", PASSWORD)
    page.goto("/audit/")
    rows = page.locator("[data-testid=audit-entries] tbody tr")
    expect(rows.first).to_be_visible()
    heights = rows.evaluate_all("rows => rows.map(r => r.getBoundingClientRect().height)")
    screenshot(page, "phone-audit-nl")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert max(heights) < 300, max(heights)  # a third of the screen at most (was 826 px)
