"""Online backup and restore of the SQLite database, while writes go on."""

import io
import sqlite3
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from relatiebeheer.relations.models import Account

from .factories import AccountFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("config.getoption('--ds', default='') == 'never'"),
]


@pytest.fixture
def sqlite_only():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite backups; PostgreSQL uses pg_dump (README)")


def test_backup_while_writing_then_restore(sqlite_only, tmp_path, admin_user):
    AccountFactory.create_batch(20, manager=admin_user)
    stop = threading.Event()
    written = []

    def writer():
        from relatiebeheer.relations.services import account_create

        while not stop.is_set():
            written.append(
                account_create(actor=admin_user, data={"name": f"Bezig {len(written)}"}).pk
            )
        connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        target = tmp_path / "backup.sqlite3"
        call_command("backup", str(target), "--as", admin_user.username, stdout=io.StringIO())
    finally:
        stop.set()
        thread.join()
    with sqlite3.connect(target) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        in_backup = db.execute("SELECT count(*) FROM relations_account").fetchone()[0]
    assert 20 <= in_backup <= Account.objects.count()

    # Change the live data, then restore: the backup's state comes back.
    Account.objects.all().delete()
    call_command("restore", str(target), "--yes", "--as", admin_user.username, stdout=io.StringIO())
    assert Account.objects.count() == in_backup


def test_a_damaged_backup_is_refused_and_nothing_changes(sqlite_only, tmp_path, admin_user):
    AccountFactory(manager=admin_user)
    bad = tmp_path / "bad.sqlite3"
    bad.write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)
    with pytest.raises(CommandError):
        call_command(
            "restore", str(bad), "--yes", "--as", admin_user.username, stdout=io.StringIO()
        )
    assert Account.objects.count() == 1


def test_backup_refuses_to_overwrite(sqlite_only, tmp_path, admin_user):
    target = tmp_path / "exists.sqlite3"
    target.write_text("keep me")
    with pytest.raises(CommandError):
        call_command("backup", str(target), "--as", admin_user.username, stdout=io.StringIO())
    assert target.read_text() == "keep me"
