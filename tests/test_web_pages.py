"""Web pages: every URL tried as anonymous, as another account manager and as read-only;
the pages render for the owner; query counts do not grow with the rows shown."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from relatiebeheer.audit.models import AuditEntry
from relatiebeheer.relations.models import Account, Interaction, SavedSelection

from .factories import ContactFactory, InteractionFactory, OrderFactory, TaskFactory
from .world import build_world

pytestmark = pytest.mark.django_db

# Web routes that are not customer pages (they have their own tests or are Django's).
NOT_CUSTOMER_PAGES = {"login", "logout", "logout_everywhere", "answer", "unsubscribe"}
# The audit log: administrators and sales managers only (tests/test_audit_log.py); account
# managers and read-only users are refused (403).
AUDIT_READERS_ONLY = {"audit_log", "audit_export"}
# Pages about the organisation's surveys: every user reads them (results are scoped).
ORGANISATION_PAGES = {"survey_edit", "survey_results", "survey_export", "survey_send"}
# The status of the background work: administrators and sales managers only (a friendly 403).
OPERATIONS_PAGES = {"status", "task_retry"}


def _web_patterns():
    resolver = get_resolver()
    found = []

    def walk(patterns, prefix="", namespace=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                ns = p.namespace or namespace
                if ns in {"admin", "api"} or str(p.pattern).startswith(("admin/", "api/", "i18n/")):
                    continue
                walk(p.url_patterns, prefix + str(p.pattern), ns)
            elif isinstance(p, URLPattern) and namespace and namespace not in {"admin", "api"}:
                found.append((p.name, prefix + str(p.pattern)))

    walk(resolver.url_patterns)
    return sorted(found)


WEB_ROUTES = [r for r in _web_patterns() if r[0] not in NOT_CUSTOMER_PAGES]
# Which method each route answers to (GET pages and POST actions).
POST_ONLY = {
    "interaction_create",
    "task_create",
    "task_done",
    "selection_save",
    "selection_delete",
    "consent",
    "erase",
    "survey_send",
    "invite_create",
    "message_resend",
    "message_mark_sent",
    "import_validate",
    "import_run",
    "preset_delete",
    # loyalty
    "trust_create",
    "rapport_create",
    "redeem_create",
    "card_create",
    "card_block",
    "card_replace",
    "binding_delete",
    "invitation_create",
    "rsvp",
    "campaign_launch",
    "config_delete",
    "task_retry",
}


def _url(pattern, world, selection_pk):
    ids = {"pk": world.account.pk, "account_pk": world.account.pk, "fmt": "csv"}
    ids["task_id"] = world.failed_task.pk
    url = "/" + pattern
    if "contact" in pattern and "<int:pk>" in pattern:
        ids["pk"] = world.contact.pk
    if pattern.startswith("tasks/<int:pk>"):
        ids["pk"] = world.task.pk
    if "selections/<int:pk>" in pattern:
        ids["pk"] = selection_pk
    if pattern.startswith("satisfaction/surveys/<int:pk>"):
        ids["pk"] = world.survey.pk
    if pattern.startswith("satisfaction/followups/<int:pk>"):
        ids["pk"] = world.followup.pk
    if pattern.startswith("outbox/<int:pk>"):
        ids["pk"] = world.message.pk
    if pattern.startswith("imports/<int:pk>"):
        ids["pk"] = world.import_job.pk
    if pattern.startswith("loyalty/") and "<int:pk>" in pattern:
        kind = {"wishes": "wish", "cards": "card", "events": "event", "contacts": "contact"}
        kind.update({"invitations": "event_invitation", "campaigns": "campaign"})
        key = kind.get(pattern.split("/")[1], pattern.split("/")[1])
        ids["pk"] = world.contact.pk if key == "contact" else world.loyalty[key].pk
    for name, value in ids.items():
        url = re.sub(r"<(?:\w+:)?" + name + ">", str(value), url)
    assert "<" not in url, f"add an id for {pattern} in tests/test_web_pages.py"
    return url


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def _request(client, name, url):
    return (
        client.post(url, {"version": 1, "subject": "x", "title": "x", "name": "x"})
        if name in POST_ONLY
        else client.get(url)
    )


def test_every_web_route_has_a_case():
    names = {name for name, _ in WEB_ROUTES}
    assert {"dashboard", "accounts", "account", "account_edit", "tasks"} <= names


@pytest.mark.parametrize(("name", "pattern"), WEB_ROUTES)
def test_anonymous_is_sent_to_login(client, owner, name, pattern):
    world = build_world(owner)
    url = _url(pattern, world, SavedSelection.objects.create(owner=owner, name="s").pk)
    response = _request(client, name, url)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


@pytest.mark.parametrize(("name", "pattern"), WEB_ROUTES)
def test_another_account_manager_gets_404_for_the_owners_records(
    web_as, owner, other_manager, name, pattern
):
    world = build_world(owner)
    selection = SavedSelection.objects.create(owner=owner, name="s")
    client = web_as(other_manager)
    response = _request(client, name, _url(pattern, world, selection.pk))
    # Every answer to a signed-in user is kept by no cache (tests/test_headers_and_files.py).
    assert response["Cache-Control"] == "no-store" and response["Permissions-Policy"]
    if name in AUDIT_READERS_ONLY:
        assert response.status_code == 403, (name, response.status_code)
        assert b"de Bijenkorf" not in _body(response)
    elif name in OPERATIONS_PAGES:
        assert response.status_code == 403, (name, response.status_code)
    elif name in ORGANISATION_PAGES:
        assert response.status_code in {200, 302}, (name, response.status_code)
        assert b"de Bijenkorf" not in _body(response)
    elif re.search(r"<(?!str:fmt>)", pattern):  # a record id in the path
        assert response.status_code == 404, (name, response.status_code)
    else:
        assert response.status_code in {200, 302}
        assert b"de Bijenkorf" not in _body(response)
    world.account.refresh_from_db()
    assert world.account.version == 1
    assert Interaction.objects.filter(account=world.account).count() == 1
    assert SavedSelection.objects.filter(pk=selection.pk).exists()


@pytest.mark.parametrize(("name", "pattern"), WEB_ROUTES)
def test_read_only_user_sees_no_edit_buttons_and_cannot_post(web_as, owner, reader, name, pattern):
    world = build_world(owner)
    client = web_as(reader)
    url = _url(pattern, world, SavedSelection.objects.create(owner=reader, name="s").pk)
    if name in POST_ONLY or name.endswith(("_edit", "_create")):
        response = client.post(
            url, {"version": 1, "subject": "forged", "title": "forged", "name": "Forged"}
        )
        if name.startswith("selection"):
            assert response.status_code == 302  # a reader may keep their own selections
        else:
            assert response.status_code == 403, (name, response.status_code)
            assert AuditEntry.objects.filter(action="permission.refused", actor=reader).exists()
    elif name in AUDIT_READERS_ONLY:
        response = client.get(url)
        assert response.status_code == 403, (name, response.status_code)
        assert b"account.create" not in _body(response)
    elif name in OPERATIONS_PAGES:
        assert client.get(url).status_code == 403
    else:
        response = client.get(url)
        assert response.status_code == 200
        assert response["Cache-Control"] == "no-store"
        body = _body(response)
        assert b'href="/accounts/new/"' not in body
        assert b"/edit/" not in body
        assert b"log-interaction" not in body
    assert not Interaction.objects.filter(subject="forged").exists()
    world.account.refresh_from_db()
    assert world.account.version == 1


def test_owner_sees_the_360_page(web_as, owner):
    world = build_world(owner)
    OrderFactory(
        account=world.account,
        date=timezone.localdate() - timedelta(days=3),
        revenue=Decimal("9500.00"),
    )
    response = web_as(owner).get(f"/accounts/{world.account.pk}/")
    assert response.status_code == 200
    content = response.content.decode()
    assert "de Bijenkorf" in content
    assert world.contact.last_name in content
    assert world.interaction.subject in content
    assert "€ 9.500,00" in content  # Dutch by default


def test_owner_logs_a_contact_moment_with_a_reading(web_as, owner):
    world = build_world(owner)
    response = web_as(owner).post(
        f"/accounts/{world.account.pk}/interactions/",
        {
            "channel": "phone",
            "kind": "question",
            "subject": "Vraag over levering",
            "satisfaction": "3",
            "duration_minutes": "10",
        },
    )
    assert response.status_code == 302
    interaction = Interaction.objects.get(subject="Vraag over levering")
    assert (
        interaction.satisfaction == 3
        and interaction.user == owner
        and interaction.channel == "phone"
    )
    assert AuditEntry.objects.filter(action="interaction.create", channel="web").exists()


def test_invalid_contact_moment_shows_the_errors_and_saves_nothing(web_as, owner):
    world = build_world(owner)
    response = web_as(owner).post(
        f"/accounts/{world.account.pk}/interactions/",
        {"channel": "phone", "kind": "question", "subject": ""},
    )
    assert response.status_code == 422
    assert Interaction.objects.filter(account=world.account).count() == 1


def test_editing_with_a_stale_version_shows_both_versions(web_as, owner):
    world = build_world(owner)
    Account.objects.filter(pk=world.account.pk).update(version=2, city="Utrecht")
    response = web_as(owner).post(
        f"/accounts/{world.account.pk}/edit/",
        {
            "name": "de Bijenkorf",
            "status": "customer",
            "country": "NL",
            "city": "Den Haag",
            "version": 1,
            "manager": owner.pk,
        },
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert "Utrecht" in content and "Den Haag" in content
    world.account.refresh_from_db()
    assert world.account.city == "Utrecht"


def test_saved_selection_round_trip(web_as, owner):
    build_world(owner)
    client = web_as(owner)
    response = client.post(
        "/accounts/selections/", {"name": "Amsterdam", "q": "bijenkorf", "status": "customer"}
    )
    assert response.status_code == 302
    selection = SavedSelection.objects.get(owner=owner, name="Amsterdam")
    assert selection.filters == {"q": "bijenkorf", "status": "customer"}


def test_account_export_escapes_formulas(web_as, owner):
    world = build_world(owner)
    Account.objects.filter(pk=world.account.pk).update(notes="", industry='=HYPERLINK("x")')
    response = web_as(owner).get("/accounts/export.csv")
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "'=HYPERLINK" in body
    assert AuditEntry.objects.filter(action="export.accounts").exists()


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_account_page_query_count_does_not_grow(web_as, owner):
    world = build_world(owner)
    client = web_as(owner)
    url = f"/accounts/{world.account.pk}/"
    client.get(url)
    one = _queries(client, url)
    for n in range(49):
        contact = ContactFactory(account=world.account)
        contact.interests.create(name=f"hobby{n}")
        InteractionFactory(account=world.account, user=owner).contacts.add(contact)
        OrderFactory(account=world.account)
        TaskFactory(account=world.account)
    fifty = _queries(client, url)
    assert fifty == one


def test_account_list_query_count_does_not_grow(web_as, owner):
    from .factories import AccountFactory

    AccountFactory(manager=owner)
    client = web_as(owner)
    client.get("/accounts/")
    one = _queries(client, "/accounts/")
    for _ in range(49):
        AccountFactory(manager=owner)
    assert _queries(client, "/accounts/") == one


def test_menu_lists_the_feature_pages(web_as, owner):
    response = web_as(owner).get("/")
    assert b'href="/value/"' in response.content
