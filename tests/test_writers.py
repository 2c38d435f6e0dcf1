"""Every writer does the four things, and a new writer cannot slip past.

The writers are discovered, not listed:

- every public function of every ``services.py`` and ``bulk.py`` module in the package
  (sub-packages included) must be declared with ``@writer`` (``common/writers.py``);
  so must every function anywhere that a declaration names;
- every API operation that changes something (POST, PUT, PATCH, DELETE in the OpenAPI
  document) is called with a valid body as a user allowed to make the change; it must
  answer with success and have run a declared writer;
- ModelAdmins: ``tests/test_admin_writers.py``; web forms: ``test_every_web_form_*``
  below.

What a writer does is checked when it runs: in the test suite ``STRICT_WRITERS`` makes a
writer that returns without its audit row, its check of the version the user saw, its
declared locks or the "accounts changed" hook raise ``WriterContractBroken``, and
``STRICT_DOORS`` makes a request or command that writes customer data outside a writer
raise — whichever test reaches them.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from typing import Any

import pytest

import relatiebeheer
from relatiebeheer.common.writers import writer_spec

WRITER_MODULE_NAMES = {"services", "bulk"}
# The two modules of primitives every writer calls; they are not writers themselves.
PRIMITIVES = {
    "relatiebeheer.audit.services": "audit_log: the audit row a writer writes",
    "relatiebeheer.common.services": "versioned update/delete and validation a writer uses",
}


def _package_modules():
    for info in pkgutil.walk_packages(relatiebeheer.__path__, "relatiebeheer."):
        if ".migrations" in info.name or ".management.commands." in info.name:
            continue
        yield info.name


def _writer_modules():
    return sorted(
        name
        for name in _package_modules()
        if name.rsplit(".", 1)[-1] in WRITER_MODULE_NAMES and name not in PRIMITIVES
    )


def _public_functions(module):
    for name, obj in vars(module).items():
        if name.startswith("_") or not callable(obj) or inspect.isclass(obj):
            continue
        if getattr(obj, "__module__", None) != module.__name__:
            continue  # imported from elsewhere
        yield name, obj


def test_the_writer_modules_are_found():
    modules = _writer_modules()
    assert "relatiebeheer.sales.services" in modules
    assert "relatiebeheer.relations.services" in modules
    assert len(modules) >= 8


@pytest.mark.parametrize("module_name", _writer_modules())
def test_every_public_function_of_a_services_or_bulk_module_is_a_declared_writer(module_name):
    module = importlib.import_module(module_name)
    undeclared = [name for name, func in _public_functions(module) if writer_spec(func) is None]
    assert not undeclared, (
        f"{module_name}: {undeclared} are public but not declared with @writer — declare "
        "them (common/writers.py), or make helpers private (_name) or move them to a "
        "rules/selectors module"
    )


def _all_writers():
    found = {}
    for name in _package_modules():
        module = importlib.import_module(name)
        for _attr, obj in vars(module).items():
            spec = writer_spec(obj)
            if spec is not None:
                found[spec.name] = (obj, spec)
    return found


def test_declarations_match_the_signatures():
    """A writer that takes the version the user saw declares it (so it is checked), and
    one that declares a version takes it."""
    wrong = []
    for name, (func, spec) in sorted(_all_writers().items()):
        params = inspect.signature(func).parameters
        takes = [
            p
            for p in params
            if p in {"version", "expected_version"}
            or (p.endswith("_version") and p != "text_version")
        ]
        if takes and spec.version is None:
            wrong.append(f"{name} takes {takes} but declares no version")
        if "actor" not in params and spec.acts is None:
            wrong.append(f"{name} has no actor and declares no acts=: who did it?")
    assert not wrong, "\n".join(wrong)


def test_every_declared_writer_is_typed_with_its_actor():
    untyped = [
        name
        for name, (func, _spec) in sorted(_all_writers().items())
        if "actor" in inspect.signature(func).parameters
        and inspect.signature(func).parameters["actor"].annotation is inspect.Parameter.empty
    ]
    assert not untyped, f"writers whose actor has no type: {untyped}"


# --- API operations ------------------------------------------------------------------------

from relatiebeheer.api.urls import api  # noqa: E402

from .world import build_world, sample_body  # noqa: E402

_SCHEMA = api.get_openapi_schema(path_prefix="/api/v1/")
API_WRITES = sorted(
    (method, path)
    for path, item in _SCHEMA["paths"].items()
    for method in item
    if method in {"post", "patch", "put", "delete"}
)
# Operations that compute an answer from the request alone and store nothing.
API_CALCULATIONS = {("post", "/api/v1/clv/simple")}
# Operations for sales managers and administrators.
API_MANAGER_ONLY = {
    "/api/v1/portfolios/transfer",
    "/api/v1/loyalty/programmes",
    "/api/v1/loyalty/settings",
    "/api/v1/surveys",
    "/api/v1/surveys/{survey_id}",
    "/api/v1/contacts/{contact_id}/erase",
    "/api/v1/outbox/messages/{message_id}/resend",
    "/api/v1/outbox/messages/{message_id}/mark-sent",
}
# Operations for administrators only.
API_ADMIN_ONLY = {"/api/v1/status/tasks/{task_result_id}/retry"}


class _Seen:
    def __init__(self):
        self.frames = []

    def __call__(self, spec, frame):
        self.frames.append((spec, frame))


def _api_body(method, path, world, owner):
    from .factories import AccountFactory

    if path == "/api/v1/accounts/{account_id}/merge":
        other = AccountFactory(name="de Bijenkorf B.V.", manager=owner)
        return {
            "version": world.account.version,
            "other_id": other.pk,
            "other_version": other.version,
        }
    if path == "/api/v1/portfolios/transfer":
        from .factories import UserFactory

        return {"from_user_id": owner.pk, "to_user_id": UserFactory(role="account_manager").pk}
    if method == "patch":
        return {"version": 1}
    return sample_body(method, path, world)


def test_every_api_write_is_covered():
    assert len(API_WRITES) >= 40


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), API_WRITES)
def test_every_api_write_operation_runs_a_declared_writer(
    request, api_as, owner, sales_manager, method, path
):
    from relatiebeheer.common import writers

    world = build_world(owner)
    user = sales_manager if path in API_MANAGER_ONLY else owner
    if path in API_ADMIN_ONLY:
        user = request.getfixturevalue("admin_user")
    ids = world.path_ids()
    if path.startswith("/api/v1/outbox/messages/{message_id}/"):
        from relatiebeheer.outbox.models import OutboxMessage, Status

        OutboxMessage.objects.filter(pk=world.message.pk).update(status=Status.DELIVERY_UNKNOWN)
    if (method, path) == ("delete", "/api/v1/accounts/{account_id}"):
        from .factories import AccountFactory

        ids["account_id"] = AccountFactory(manager=owner).pk  # one without orders to keep
    url = path
    for name, value in ids.items():
        url = url.replace("{" + name + "}", str(value))
    body = _api_body(method, path, world, owner)
    client = api_as(user)
    with writers.observe(seen := _Seen()):
        response = getattr(client, method)(url, body) if body is not None else client.delete(url)
    assert response.status_code < 300, (response.status_code, response.json_body)
    if (method, path) in API_CALCULATIONS:
        assert not seen.frames
        return
    assert seen.frames, f"{method.upper()} {path} answered {response.status_code} without a writer"
    _spec, frame = seen.frames[-1]
    assert frame.audited or frame.nothing


# --- web forms -----------------------------------------------------------------------------

from .htmlforms import flat, post_form_to  # noqa: E402
from .test_web_pages import ORGANISATION_PAGES, POST_ONLY, WEB_ROUTES  # noqa: E402
from .test_web_pages import _url as _web_url  # noqa: E402

# Routes that take a POST (a form on their page, or a button elsewhere).
WEB_POSTS = sorted(
    (name, pattern)
    for name, pattern in WEB_ROUTES
    if name in POST_ONLY or name.endswith(("_create", "_edit", "_save", "_delete")) or name in {
        "consent", "erase", "followup", "rsvp", "settings_edit", "programme_edit", "survey_send",
    }
)  # fmt: skip
# Fields a user fills in before posting (the rest is posted as the page shows it).
WEB_FILL: dict[str, dict[str, Any]] = {  # a value, or a function of the world
    "account_create": {"name": "Nieuw B.V."},
    "contact_create": {"last_name": "Jansen"},
    "interaction_create": {"subject": "Teruggebeld"},
    "task_create": {"title": "Offerte sturen"},
    "selection_save": {"name": "Mijn selectie"},
    "binding_create": {"level": "social", "kind": "attention", "title": "Lunch"},
    "wish_create": {"aspect": "delivery", "wish": "Levering op dinsdag"},
    "event_create": {"name": "Klantendag", "starts_at": "2026-10-01T14:00"},
    "campaign_create": {"name": "Najaarsactie", "goal": "+10 % omzet"},
    "followup": {"outcome": "resolved", "notes": "Gebeld, opgelost"},
    "survey_create": {
        "name": "Tevredenheid 2027",
        "key": "tevredenheid-2027",
        "title_nl": "Hoe gaat het?",
        "q-0-kind": "nps",
        "q-0-text_nl": "Zou u ons aanbevelen?",
        "q-1-kind": "open_text",
        "q-1-text_nl": "Wat kan beter?",
    },
    "note_create": {"competitor": "Concurrent B.V.", "price": "3"},
    "erase": {"confirm": "erase"},
    "invitation_create": {"contacts": lambda world: str(world.contact.pk)},
    "redeem_create": {"reward": lambda world: str(world.loyalty["programme"].rewards.get().pk)},
    "programme_edit": {
        "code": "zakelijk",
        "name": "Zakelijk",
        "starts_on": "2027-01-01",
        "point_value": "0.01",
    },
    "tier_edit": {"name": "Platina", "rank": "2", "threshold": "10000"},
    "bracket_edit": {"lower_bound": "10000", "rate": "0.02"},
    "rule_edit": {"category": "Textiel", "points_per_euro": "2"},
    "reward_edit": {"name": "Paraplu", "points": "50"},
    "idea_edit": {"interest_name": "Golf", "name": "Golfdag", "typical_cost": "150"},
}
# Files a user picks before posting.
WEB_FILES = {
    "import_create": {"file": ("contacten.csv", b"account;achternaam\nde Bijenkorf;Jansen\n")},
}
# Routes for sales managers and administrators.
WEB_MANAGER_ONLY = {
    "erase",
    "message_resend",
    "message_mark_sent",
    "settings_edit",
    "programme_edit",
    "survey_create",
    "tier_edit",
    "bracket_edit",
    "rule_edit",
    "reward_edit",
    "config_delete",
    "idea_edit",
}
# Routes for administrators only.
WEB_ADMIN_ONLY = {"task_retry"}


def _failed_message(world, user):
    from relatiebeheer.outbox.models import OutboxMessage, Status

    OutboxMessage.objects.filter(pk=world.message.pk).update(status=Status.DELIVERY_UNKNOWN)


def _duplicate_account(world, user):
    from .factories import AccountFactory

    AccountFactory(name=world.account.name, city=world.account.city, manager=world.account.manager)


def _preset(world, user):
    from relatiebeheer.imports.models import ImportPreset

    preset = ImportPreset.objects.create(
        owner=user, kind="contacts", name="Mijn indeling", mapping={}
    )
    return f"/imports/presets/{preset.pk}/delete/"


# What must exist before the page shows the form (as it would for a real user); a setup
# that makes the record the form acts on returns the form's address.
WEB_SETUP = {
    "message_resend": _failed_message,
    "message_mark_sent": _failed_message,
    "merge_edit": _duplicate_account,
    "preset_delete": _preset,
}


# Forms on a page that no link names by the form's own address.
WEB_PAGE = {
    "campaign_launch": lambda world: (
        f"/loyalty/campaigns/{world.loyalty['campaign'].pk}/edit/?step=review"
    ),
}


def _host_pages(client, world, url, name=None):
    """Pages that may hold the form posting to ``url``: its own page first, then the
    pages a user would see it on."""
    yield url
    if name in WEB_PAGE:
        yield WEB_PAGE[name](world)
    yield from (
        f"/accounts/{world.account.pk}/",
        "/tasks/",
        "/accounts/",
        f"/loyalty/accounts/{world.account.pk}/",
    )
    for name, pattern in WEB_ROUTES:
        if name not in POST_ONLY:
            yield _web_url(pattern, world, 0) if "selections" not in pattern else "/accounts/"


def _errors(response):
    import re

    text = response.content.decode(errors="replace")
    return re.findall(
        r'class="[^"]*(?:invalid-feedback|errorlist|alert-danger)[^"]*"[^>]*>(.*?)<', text
    )


def _links_to(html, url):
    """The links on a page to ``url`` with a query (``…/edit/?programme=1``), as a user
    follows them to the form."""
    import re
    from html import unescape

    for href in re.findall(r'href="([^"]+)"', html.decode(errors="replace")):
        href = unescape(href)
        if href.split("?", 1)[0] == url and "?" in href:
            yield href


def _form_for(client, world, url, name=None):
    """Where the form posts and what it holds, found the way a user finds it: on its own
    page, on a page that shows it, or behind a link to its page."""
    seen = set()
    for page_url in _host_pages(client, world, url, name):
        if page_url in seen:
            continue
        seen.add(page_url)
        page = client.get(page_url)
        if page.status_code != 200 or not page.get("Content-Type", "").startswith("text/html"):
            continue
        data = post_form_to(page.content, url, own_page=page_url == url)
        if data is not None:
            return url, data
        for link in _links_to(page.content, url):
            linked = client.get(link)
            if linked.status_code == 200:
                data = post_form_to(linked.content, url, own_page=True)
                if data is None:
                    data = post_form_to(linked.content, link, own_page=False)
                if data is not None:
                    return link, data
    raise AssertionError(f"no page shows a form that posts to {url}")


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "pattern"), WEB_POSTS)
def test_every_web_form_runs_a_declared_writer(
    request, web_as, owner, sales_manager, name, pattern
):
    from relatiebeheer.common import writers
    from relatiebeheer.relations.models import SavedSelection

    world = build_world(owner)
    user = sales_manager if name in WEB_MANAGER_ONLY | ORGANISATION_PAGES else owner
    if name in WEB_ADMIN_ONLY:
        user = request.getfixturevalue("admin_user")
    client = web_as(user)
    url = _web_url(pattern, world, SavedSelection.objects.create(owner=user, name="s").pk)
    if name in WEB_SETUP:
        url = WEB_SETUP[name](world, user) or url
    url, data = _form_for(client, world, url, name)
    for field, value in WEB_FILL.get(name, {}).items():
        data[field] = [value(world) if callable(value) else value]
    body = flat(data)
    for field, (filename, content) in WEB_FILES.get(name, {}).items():
        from django.core.files.uploadedfile import SimpleUploadedFile

        body[field] = SimpleUploadedFile(filename, content, content_type="text/csv")
    with writers.observe(seen := _Seen()):
        response = client.post(url, body)
    assert response.status_code < 400, (name, response.status_code, data, _errors(response))
    if not seen.frames:
        from django.contrib.messages import get_messages

        said = [str(m) for m in get_messages(response.wsgi_request)] + _errors(response)
        raise AssertionError(
            f"POST {url} ({name}) answered {response.status_code} without a writer: {said}"
            f" (posted {sorted(data)})"
        )
