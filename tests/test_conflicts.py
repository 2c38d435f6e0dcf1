"""Conflict-safe editing through the API, discovered from the OpenAPI document.

Every operation whose body carries the record's ``version`` is sent the world's record
with a stale version: it must answer 409 with the record as it is now, and change
nothing. So is every DELETE that takes a ``version`` in its query; with the version as
it is, the record goes. A new versioned endpoint is covered without touching this file.
"""

import json

import pytest

from relatiebeheer.api.openapi import openapi_document

from .factories import AccountFactory, UserFactory
from .world import build_world

DOCUMENT = json.loads(openapi_document())
SCHEMAS = DOCUMENT["components"]["schemas"]
# Extra fields an operation needs besides the version to be a valid request.
EXTRA = {
    "/api/v1/accounts/{account_id}/merge": lambda w: {
        "other_id": w.other_account.pk,
        "other_version": 2,
    }
}


def _resolve(schema: dict) -> dict:
    while "$ref" in schema:
        schema = SCHEMAS[schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _versioned_operations():
    for path, operations in DOCUMENT["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            body = content.get("application/json", {}).get("schema")
            if body and "version" in _resolve(body).get("required", []):
                yield pytest.param(method, path, id=f"{method.upper()} {path}")


VERSIONED = list(_versioned_operations())


def test_the_discovery_finds_the_versioned_operations():
    found = {p.values[1] for p in VERSIONED}
    assert "/api/v1/accounts/{account_id}" in found
    assert "/api/v1/loyalty/programmes/{programme_id}" in found or len(found) >= 10


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), VERSIONED)
def test_a_stale_version_is_a_409_with_the_current_record_and_changes_nothing(api_as, method, path):
    manager = UserFactory(role="sales_manager")
    world = build_world(manager)
    world.other_account = AccountFactory(manager=manager, name="Bijenkorf B.V.")
    ids = {**world.path_ids(), "programme_id": world.loyalty["programme"].pk}
    url = path.removeprefix("/api/v1/").format(**ids)
    _someone_else_saves_everything()
    body = {"version": 1, **EXTRA.get(path, lambda w: {})(world)}  # the version we opened
    before = _versions(world)
    response = getattr(api_as(manager), method)(url, body)
    assert response.status_code == 409, (method, url, response.status_code, response.content)
    assert response["Content-Type"] == "application/problem+json"
    assert response.json_body["code"] == "version_conflict"
    assert response.json_body.get("current"), "the 409 carries the record as it is now"
    assert _versions(world) == before


def _someone_else_saves_everything() -> None:
    """Every versioned record moves on to its next version, as if another user saved it."""
    from django.apps import apps
    from django.db.models import F

    from relatiebeheer.common.models import VersionedModel

    for model in apps.get_models():
        if issubclass(model, VersionedModel) or _has_version(model):
            model._base_manager.update(version=F("version") + 1)


def _has_version(model) -> bool:
    return any(field.name == "version" for field in model._meta.concrete_fields)


def _versions(world) -> dict:
    """The version of every versioned record in the world, read fresh."""
    from django.apps import apps

    from relatiebeheer.common.models import VersionedModel

    return {
        model._meta.label: sorted(model._base_manager.values_list("pk", "version"))
        for model in apps.get_models()
        if issubclass(model, VersionedModel) or _has_version(model)
    }


def _versioned_deletes():
    for path, operations in DOCUMENT["paths"].items():
        parameters = operations.get("delete", {}).get("parameters", [])
        if any(p["name"] == "version" and p["in"] == "query" for p in parameters):
            yield pytest.param(path, id=f"DELETE {path}")


VERSIONED_DELETES = list(_versioned_deletes())


def test_the_discovery_finds_the_versioned_deletes():
    found = {p.values[0].removeprefix("/api/v1/") for p in VERSIONED_DELETES}
    assert {
        "accounts/{account_id}",
        "contacts/{contact_id}",
        "interactions/{interaction_id}",
        "tasks/{task_id}",
        "orders/{order_id}",
        "costs/{cost_id}",
    } <= found


@pytest.mark.django_db
@pytest.mark.parametrize("path", VERSIONED_DELETES)
def test_a_delete_with_a_stale_version_is_a_409_and_deletes_nothing(api_as, path):
    manager = UserFactory(role="sales_manager")
    world = build_world(manager)
    world.account = AccountFactory(manager=manager)  # no orders: deleting it is allowed
    url = path.removeprefix("/api/v1/").format(**world.path_ids())
    _someone_else_saves_everything()
    before = _versions(world)
    response = api_as(manager).delete(url, version=1)  # the version we opened
    assert response.status_code == 409, (url, response.status_code, response.content)
    assert response.json_body["code"] == "version_conflict"
    assert response.json_body["current"]["version"] == 2
    assert _versions(world) == before
    assert api_as(manager).get(url).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("path", VERSIONED_DELETES)
def test_a_delete_with_the_version_as_it_is_deletes_and_a_retry_is_a_404(api_as, path):
    manager = UserFactory(role="sales_manager")
    world = build_world(manager)
    world.account = AccountFactory(manager=manager)
    url = path.removeprefix("/api/v1/").format(**world.path_ids())
    api = api_as(manager)
    version = api.get(url).json_body["version"]
    assert api.delete(url, version=version).status_code == 204
    assert api.get(url).status_code == 404
    assert api.delete(url, version=version).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["0", "-1", "abc", "2147483648"])
def test_a_delete_with_a_version_that_is_no_version_is_a_422(api_as, value):
    manager = UserFactory(role="sales_manager")
    world = build_world(manager)
    response = api_as(manager).delete(f"tasks/{world.task.pk}", version=value)
    assert response.status_code == 422
    assert api_as(manager).get(f"tasks/{world.task.pk}").status_code == 200
