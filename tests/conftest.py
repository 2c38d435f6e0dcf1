"""Shared fixtures: every suite has an owner, a second account manager and a read-only user."""

import json
import os
import shutil

import pytest

# Django is imported inside the fixtures, so the pure-core tests (tests/core) also run
# without it: ``pytest tests/core -p no:django``.


def pytest_report_header(config):
    db = os.environ.get("DATABASE_URL") or "SQLite (var/)"
    browser = shutil.which("chromium") or "none: browser tests will be skipped"
    return [f"database: {db.split('@')[-1]}", f"chromium: {browser}"]


def _user(username, role, **extra):
    from .factories import UserFactory

    return UserFactory(username=username, role=role, **extra)


@pytest.fixture(autouse=True)
def _fresh_process_caches():
    """Per-process caches (satisfaction settings, survey questions) start empty in every
    test, as the database does."""
    yield
    try:
        from relatiebeheer.satisfaction.answering.form import _question_cache
        from relatiebeheer.satisfaction.answering.tokens import _survey_cache
        from relatiebeheer.satisfaction.models import _settings_cache
    except Exception:  # pragma: no cover - the pure-core run without Django
        return
    for cache in (_settings_cache, _question_cache, _survey_cache):
        cache.clear()


@pytest.fixture
def owner(db):
    """Account manager who owns the ``account`` fixture."""
    return _user("daan", "account_manager")


@pytest.fixture
def other_manager(db):
    """A second account manager, who must not see the owner's portfolio."""
    return _user("eva", "account_manager")


@pytest.fixture
def reader(db):
    return _user("lezer", "read_only")


@pytest.fixture
def sales_manager(db):
    return _user("sanne", "sales_manager")


@pytest.fixture
def admin_user(db):
    return _user("beheer", "admin", is_staff=True, is_superuser=True)


@pytest.fixture
def account(owner):
    from .factories import AccountFactory

    return AccountFactory(name="de Bijenkorf", city="Amsterdam", manager=owner)


class ApiClient:
    """A JSON client authenticating with a personal API token."""

    def __init__(self, user=None, language="en"):
        from django.test import Client

        from relatiebeheer.users.models import ApiToken

        self.client = Client()
        self.headers = {"HTTP_ACCEPT_LANGUAGE": language}
        if user is not None:
            _token, raw = ApiToken.issue(user=user, name="tests")
            self.headers["HTTP_AUTHORIZATION"] = f"Bearer {raw}"

    def _send(self, method, path, data=None, **params):
        url = path if path.startswith("/") else f"/api/v1/{path}"
        kwargs = dict(self.headers)
        if data is not None:
            kwargs["data"] = json.dumps(data, default=str)
            kwargs["content_type"] = "application/json"
        if params:
            kwargs["QUERY_STRING"] = "&".join(f"{k}={v}" for k, v in params.items())
        response = getattr(self.client, method)(url, **kwargs)
        is_json = "json" in response.get("Content-Type", "")
        response.json_body = json.loads(response.content) if response.content and is_json else None
        return response

    def get(self, path, **params):
        return self._send("get", path, **params)

    def post(self, path, data):
        return self._send("post", path, data)

    def patch(self, path, data):
        return self._send("patch", path, data)

    def delete(self, path, **params):
        return self._send("delete", path, **params)


@pytest.fixture
def api_as():
    return ApiClient


@pytest.fixture
def web_as(client):
    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture
def password():
    from .factories import PASSWORD

    return PASSWORD


def pytest_configure(config):
    try:
        from django.conf import settings
    except ImportError:  # pragma: no cover - the pure-core run without Django
        return
    if not settings.configured:
        return
    # Tests serve static files from the apps (no collectstatic, no manifest).
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
    # A writer that skips its audit row, version check, lock or hook fails the test.
    settings.STRICT_WRITERS = True
    # Requests and commands that write customer data outside a writer fail the test.
    settings.STRICT_DOORS = True


@pytest.fixture
def run_value_refresh():
    """Do what the worker does within seconds of a change: its poll queues the refresh
    of the marked accounts, which then runs. Returns how many refreshes ran."""

    def run() -> int:
        from django_tasks_db.models import DBTaskResult

        from relatiebeheer.ops import scheduler
        from relatiebeheer.value.tasks import refresh_account_metrics

        scheduler.poll()
        queued = DBTaskResult.objects.ready().filter(task_path__endswith="refresh_account_metrics")
        ran = 0
        for result in queued.order_by("enqueued_at", "id"):
            refresh_account_metrics.call(**result.args_kwargs["kwargs"])
            result.delete()
            ran += 1
        return ran

    return run
