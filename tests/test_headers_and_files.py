"""Headers and file modes: ``Cache-Control: no-store`` on everything a signed-in user gets
(pages, API answers, exports, PDFs), a ``Permissions-Policy`` on every response, and the
files the application writes (the SQLite database, import uploads, backups) readable by
the server's user only (0600, folders 0700). Every discovered web route and API operation
is checked for the headers in tests/test_web_pages.py and tests/test_api_access.py."""

import os
import stat
from pathlib import Path

import pytest
from django.db import connection

from relatiebeheer.imports import services as imports
from relatiebeheer.imports.jobs import imports_dir, rejected_path

from .factories import AccountFactory

pytestmark = pytest.mark.django_db


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


# --- headers --------------------------------------------------------------------------------


def test_pages_exports_and_pdfs_of_a_signed_in_user_are_never_stored(web_as, owner, monkeypatch):
    from relatiebeheer.reports import views as report_views

    monkeypatch.setattr(report_views, "render_pdf", lambda *args, **kwargs: b"%PDF-1.7\n")
    account = AccountFactory(name="de Bijenkorf", manager=owner)
    client = web_as(owner)
    for url in (
        "/",
        "/accounts/",
        f"/accounts/{account.pk}/",
        "/imports/exports/download.csv?list=accounts",
        "/imports/exports/download.xlsx?list=accounts",
        f"/reports/accounts/{account.pk}/plan.pdf",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        _body(response)
        assert response["Cache-Control"] == "no-store", url
        assert "Expires" not in response
        assert "camera=()" in response["Permissions-Policy"], url


def test_api_answers_to_a_token_are_never_stored(api_as, owner):
    AccountFactory(manager=owner)
    response = api_as(owner).get("accounts")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert "geolocation=()" in response["Permissions-Policy"]


def test_anonymous_answers_carry_the_permissions_policy(client, db):
    login = client.get("/login/")
    assert login.status_code == 200
    assert "microphone=()" in login["Permissions-Policy"]
    static = client.get("/static/web/app.css")
    assert static.status_code == 200
    assert "microphone=()" in static["Permissions-Policy"]
    refused = client.get("/api/v1/accounts")
    assert refused.status_code == 401 and "Permissions-Policy" in refused


def test_after_logging_out_the_pages_are_not_stored_either(web_as, owner):
    client = web_as(owner)
    assert client.get("/accounts/")["Cache-Control"] == "no-store"
    client.logout()
    assert client.get("/accounts/").status_code == 302


# --- file modes ------------------------------------------------------------------------------


def test_the_sqlite_database_is_readable_by_its_owner_only(db):
    if connection.vendor != "sqlite":
        pytest.skip("the PostgreSQL server keeps its own files")
    connection.ensure_connection()
    name = Path(connection.settings_dict["NAME"])
    assert _mode(name) == 0o600
    for suffix in ("-wal", "-shm"):
        if Path(f"{name}{suffix}").exists():
            assert _mode(f"{name}{suffix}") == 0o600


def test_an_existing_world_readable_database_is_made_private_on_connect(tmp_path):
    from relatiebeheer.common.files import private_sqlite

    database = tmp_path / "old.sqlite3"
    database.write_bytes(b"")
    database.chmod(0o644)

    class Sqlite:
        vendor = "sqlite"
        settings_dict = {"NAME": str(database)}

    private_sqlite(None, Sqlite())
    assert _mode(database) == 0o600


def test_import_uploads_and_rejected_rows_are_private(sales_manager, run_import_text):
    AccountFactory(external_id="K001")
    job = run_import_text(
        sales_manager, "orders", "Order id;Klantnummer;Datum;Omzet\nA1;K404;x;y\n"
    )
    source = Path(job.path)
    assert _mode(source) == 0o600
    assert _mode(source.parent) == 0o700
    assert _mode(imports_dir()) == 0o700
    assert rejected_path(job).exists()
    assert _mode(rejected_path(job)) == 0o600


def test_an_upload_from_a_path_is_private_too(sales_manager, tmp_path):
    original = tmp_path / "orders.csv"
    original.write_text("Order id;Klantnummer;Datum;Omzet\nA1;K001;27-11-2026;10,00\n")
    original.chmod(0o644)
    job = imports.import_job_create(
        actor=sales_manager, kind="orders", source=original, filename="orders.csv"
    )
    assert _mode(job.path) == 0o600


@pytest.mark.django_db(transaction=True)
def test_a_backup_is_private(tmp_path, admin_user):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite backups; PostgreSQL uses pg_dump (README)")
    from relatiebeheer.ops.backup import backup, default_target

    target = backup(tmp_path / "copy.sqlite3")
    assert _mode(target) == 0o600
    assert _mode(default_target().parent) == 0o700


@pytest.fixture
def run_import_text():
    def run(actor, kind, text):
        job = imports.import_job_create(
            actor=actor, kind=kind, source=text.encode(), filename="file.csv"
        )
        return imports.import_job_start(actor=actor, job=job, commit=True, background=False)

    return run
