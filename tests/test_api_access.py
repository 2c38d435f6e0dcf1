"""Every API operation, discovered from the OpenAPI document, tried as users who must not
see or change the owner's data. A new operation without a case here fails the suite."""

import pytest

from relatiebeheer.api.urls import api

from .world import build_world, sample_body

pytestmark = pytest.mark.django_db

SCHEMA = api.get_openapi_schema(path_prefix="/api/v1/")
OPERATIONS = sorted(
    (method, path)
    for path, item in SCHEMA["paths"].items()
    for method in item
    if method in {"get", "post", "patch", "put", "delete"}
)


# Operations only sales managers and admins may use.
MANAGER_ONLY = {
    "/api/v1/portfolios/transfer",
    "/api/v1/loyalty/programmes",
    "/api/v1/loyalty/settings",
}
# The audit log: administrators and sales managers only; account managers and read-only
# users are refused (403), whoever's records it names (tests/test_audit_log.py reads it).
AUDIT_READERS_ONLY = {"/api/v1/audit"}
# Calculations on the request alone: they read and change no customer data.
CALCULATIONS = {"/api/v1/clv/simple"}
# The organisation's own definitions (surveys): every user reads them (results are
# scoped to the accounts one sees); only sales managers and admins change them.
ORGANISATION_WIDE = {
    "/api/v1/surveys",
    "/api/v1/surveys/{survey_id}",
    "/api/v1/surveys/{survey_id}/results",
}


# The status of the background work: administrators and sales managers read it, only
# administrators retry a task; everyone else gets a 403 (tests/test_status_page.py).
OPERATIONS_ONLY = {"/api/v1/status", "/api/v1/status/tasks/{task_result_id}/retry"}


def _url(path: str, ids: dict[str, int]) -> str:
    for name, value in ids.items():
        path = path.replace("{" + name + "}", str(value))
    assert "{" not in path, f"no record id for a path parameter in {path}: add it to tests/world.py"
    return path


def _call(client, method, path, world):
    body = sample_body(method, path, world)
    url = _url(path, world.path_ids())
    return getattr(client, method)(url, body) if body is not None else getattr(client, method)(url)


def test_every_operation_has_a_case():
    assert len(OPERATIONS) >= 25


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_anonymous_gets_401(api_as, owner, method, path):
    world = build_world(owner)
    response = _call(api_as(None), method, path, world)
    assert response.status_code == 401


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_another_account_manager_sees_nothing_of_the_owners(
    api_as, owner, other_manager, method, path
):
    world = build_world(owner)
    response = _call(api_as(other_manager), method, path, world)
    if path in AUDIT_READERS_ONLY:
        assert response.status_code == 403, response.json_body
        assert "de Bijenkorf" not in str(response.json_body)
    elif path in CALCULATIONS:
        assert response.status_code == 200
    elif path in OPERATIONS_ONLY:
        assert response.status_code == 403, response.json_body
    elif path in ORGANISATION_WIDE and method == "get":
        assert response.status_code == 200
        assert "de Bijenkorf" not in str(response.json_body)
    elif path in ORGANISATION_WIDE:
        assert response.status_code == 403, response.json_body
    elif "{" in path:
        assert response.status_code == 404, response.json_body
    elif method == "get" and "count" not in (response.json_body or {}):
        assert response.status_code == 200
        assert "de Bijenkorf" not in str(response.json_body)
    elif method == "get":
        assert response.status_code == 200
        assert response.json_body["count"] == 0
    elif path in MANAGER_ONLY:
        assert response.status_code == 403, response.json_body
    else:
        # Creating something on the owner's account: refused as an unknown account.
        assert response.status_code == 422, response.json_body
    # Nothing of the owner's changed.
    world.account.refresh_from_db()
    assert world.account.version == 1 and world.account.manager == owner


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_read_only_user_reads_but_never_writes(api_as, owner, reader, method, path):
    world = build_world(owner)
    response = _call(api_as(reader), method, path, world)
    # Every answer to a signed-in caller is kept by no cache (tests/test_headers_and_files.py).
    assert response["Cache-Control"] == "no-store" and response["Permissions-Policy"]
    if path in AUDIT_READERS_ONLY:
        assert response.status_code == 403, response.json_body
        assert response.json_body["code"] == "permission_denied"
    elif path in OPERATIONS_ONLY:
        assert response.status_code == 403, response.json_body
    elif method == "get" or path in CALCULATIONS:
        assert response.status_code == 200
    else:
        assert response.status_code == 403, response.json_body
        assert response.json_body["code"] == "permission_denied"


@pytest.mark.parametrize(
    ("method", "path"), [op for op in OPERATIONS if op[0] == "get" and op[1] not in OPERATIONS_ONLY]
)
def test_owner_reads_every_record(api_as, owner, sales_manager, method, path):
    world = build_world(owner)
    reader = sales_manager if path in AUDIT_READERS_ONLY else owner
    response = _call(api_as(reader), method, path, world)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    if "{" not in path and "count" in response.json_body:
        assert response.json_body["count"] >= 1


def test_session_writes_need_the_csrf_token(client, owner):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(owner)
    response = csrf_client.post(
        "/api/v1/accounts", data={"name": "x"}, content_type="application/json"
    )
    assert response.status_code in {401, 403}


def test_revoked_token_is_refused(api_as, owner):
    client = api_as(owner)
    owner.api_tokens.get().revoke()
    assert client.get("accounts").status_code == 401


def test_tokens_are_stored_only_as_hashes(owner):
    from relatiebeheer.users.models import ApiToken

    token, raw = ApiToken.issue(user=owner, name="script")
    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert raw not in str(stored.values())
    assert len(stored["token_hash"]) == 64
