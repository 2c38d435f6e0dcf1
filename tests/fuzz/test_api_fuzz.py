"""Generated requests against every API operation (schemathesis on the OpenAPI document).

As the owner: no server error, status codes and content types as documented, bodies as
the schema says. As another account manager whose path parameters are the owner's
record ids: only "not found" (or a validation error for a malformed request) — never the
owner's data. RELATIEBEHEER_FUZZ_EXAMPLES sets the number of cases per operation
(50 in `make test`, 1,000 in `make fuzz`); it runs on the SQLite CI run only.

The owner's records are made once per module and removed afterwards; every test runs in
a transaction that is rolled back, so the generated writes never leak between tests.
"""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from relatiebeheer.api.urls import api
from relatiebeheer.config.wsgi import application

EXAMPLES = int(os.environ.get("RELATIEBEHEER_FUZZ_EXAMPLES", "50"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Managers-only operations answer 403 to an account manager whatever the ids (so does
# the status of the background work: administrators and sales managers only).
MANAGER_ONLY = {"/api/v1/portfolios/transfer", "/api/v1/status/tasks/{task_result_id}/retry"}
# Organisation-wide definitions, not customer data: every user may read a survey, only
# managers change one (403), and its results count only the caller's own accounts.
SHARED_DEFINITIONS = {"survey_id"}
# A method the operation does not have is refused before any record is looked up.
NOT_ALLOWED = 405

schema = schemathesis.openapi.from_dict(api.get_openapi_schema(path_prefix="/api/v1/"))
schema.app = application

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="fuzzing runs in the SQLite CI run (the operations are the same)",
    ),
]


@pytest.fixture(scope="module", autouse=True)
def keep_the_test_connection_open():
    """Django closes the connection after each request; the test client prevents that, and
    so must we, since schemathesis calls the WSGI app directly inside a test transaction."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(scope="module")
def fuzz_world(django_db_setup, django_db_blocker):
    from django.core.management import call_command

    from relatiebeheer.users.models import ApiToken

    from ..factories import UserFactory
    from ..world import build_world

    with django_db_blocker.unblock():
        owner = UserFactory(username="fuzz-owner")
        other = UserFactory(username="fuzz-other")
        world = build_world(owner)
        _, owner_token = ApiToken.issue(user=owner, name="fuzz")
        _, other_token = ApiToken.issue(user=other, name="fuzz")
    yield world, owner_token, other_token
    with django_db_blocker.unblock():
        call_command("flush", "--noinput", verbosity=0)


SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
    database=None,
)


@pytest.mark.django_db
@schema.parametrize()
@SETTINGS
def test_owner_gets_no_server_errors_and_documented_answers(case, fuzz_world):
    _world, owner_token, _other = fuzz_world
    response = case.call(headers={"Authorization": f"Bearer {owner_token}"})
    case.validate_response(response, checks=CHECKS)


@pytest.mark.django_db
@schema.parametrize()
@SETTINGS
def test_another_manager_with_the_owners_ids_gets_only_not_found(case, fuzz_world):
    world, _owner, other_token = fuzz_world
    ids = world.path_ids()
    seeded = bool(case.path_parameters) and all(name in ids for name in case.path_parameters)
    if seeded:
        for name in case.path_parameters:
            case.path_parameters[name] = ids[name]
    response = case.call(headers={"Authorization": f"Bearer {other_token}"})
    case.validate_response(response, checks=CHECKS)
    if not seeded or case.path in MANAGER_ONLY or response.status_code == NOT_ALLOWED:
        return
    answer = (case.method, case.formatted_path, response.status_code)
    if SHARED_DEFINITIONS & set(case.path_parameters):
        assert response.status_code in {200, 400, 403, 404, 422}, answer
        if case.path.endswith("/results") and response.status_code == 200:
            assert response.json()["invited"] == 0, "the owner's invitations leaked"
        return
    assert response.status_code in {400, 404, 422}, answer
