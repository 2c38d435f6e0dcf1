"""The audit log in the app: a page with filters and a CSV export, ``GET /api/v1/audit``
and ``relatiebeheer audit`` — for administrators and sales managers, read-only for
everyone; account managers and read-only users are refused at every one of them."""

import csv
import io
import json
import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.test import Client

from relatiebeheer.audit.models import AuditEntry
from relatiebeheer.audit.services import audit_log, keyed_hash

pytestmark = pytest.mark.django_db

ADDRESS = "203.0.113.7"


@pytest.fixture
def history(api_as, account, owner, password):
    """An account update (2 November), a failed login for an unknown name and a login
    (3 November, 00:30 in Amsterdam: still 2 November in UTC)."""
    with time_machine.travel(datetime(2026, 11, 2, 10, 0, tzinfo=UTC), tick=False):
        response = api_as(owner).patch(f"accounts/{account.pk}", {"version": 1, "city": "Goes"})
        assert response.status_code == 200
    with time_machine.travel(datetime(2026, 11, 2, 23, 30, tzinfo=UTC), tick=False):
        client = Client(REMOTE_ADDR=ADDRESS)
        client.post("/login/", {"username": "onbekend", "password": "x"})
        assert (
            client.post("/login/", {"username": owner.username, "password": password}).status_code
            == 302
        )
    return account


def _rows(response):
    return list(
        csv.reader(
            io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig")), delimiter=";"
        )
    )


@pytest.fixture(params=["sales_manager", "admin_user"])
def audit_reader(request):
    return request.getfixturevalue(request.param)


def _actions(response):
    """The actions of the entries the page lists (not the help text)."""
    assert response.status_code == 200
    return re.findall(r"<td><code>([^<]*)</code></td>", response.content.decode())


def test_the_page_lists_and_filters_the_log(web_as, audit_reader, history, owner):
    client = web_as(audit_reader)  # (logging in is audited too, today: left out below)

    def listed(**filters):
        return _actions(client.get("/audit/", {"date_to": "2026-11-30", **filters}))

    assert listed() == ["auth.login", "auth.login_failed", "account.update"]
    body = client.get("/audit/").content.decode()
    assert ADDRESS in body
    # the typed name that matches nobody appears only as its keyed hash
    assert "onbekend" not in body and keyed_hash("onbekend") in body
    # by action (exact, or a prefix ending in a dot)
    assert listed(action="account.update") == ["account.update"]
    assert listed(action="auth.") == ["auth.login", "auth.login_failed"]
    # by account, by user (who acted or whom it is about), by day in Amsterdam
    assert listed(account=history.pk) == ["account.update"]
    assert listed(user=owner.username) == ["auth.login", "account.update"]
    assert listed(date_from="2026-11-03", date_to="2026-11-03") == [
        "auth.login",
        "auth.login_failed",
    ]
    assert listed(date_to="2026-11-02") == ["account.update"]
    # today's entries too (the reader's own login)
    assert _actions(client.get("/audit/", {"user": audit_reader.username})) == ["auth.login"]


def test_the_menu_shows_the_log_to_its_readers_only(web_as, sales_manager, reader, owner):
    from django.test import Client as C

    for user, shown in ((sales_manager, True), (reader, False), (owner, False)):
        c = C()
        c.force_login(user)
        assert (b'href="/audit/"' in c.get("/").content) is shown, user.role


@pytest.mark.parametrize("language", ["nl", "en"])
def test_bad_filters_get_a_message_in_the_users_language(web_as, sales_manager, history, language):
    client = web_as(sales_manager)
    client.cookies["relatiebeheer_language"] = language
    before = AuditEntry.objects.count()
    response = client.get(
        "/audit/", {"date_from": "2026-12-08", "date_to": "2026-12-01", "user": "niemand"}
    )
    assert response.status_code == 200
    body = response.content.decode()
    expected = {
        "nl": (
            "De einddatum ligt vóór de begindatum.",
            "Er is geen gebruiker met deze gebruikersnaam.",
        ),
        "en": ("The end date lies before the start date.", "There is no user with this username."),
    }[language]
    for message in expected:
        assert message in body
    assert _actions(response) == []
    assert _actions(client.get("/audit/", {"date_from": "morgen", "account": "-3"})) == []
    export = client.get("/audit/export.csv", {"date_from": "2026-12-08", "date_to": "2026-12-01"})
    assert export.status_code == 422
    assert AuditEntry.objects.count() == before  # nothing written, not even an export row


def test_the_csv_export_has_the_filters_and_is_audited(web_as, sales_manager, history):
    client = web_as(sales_manager)
    response = client.get("/audit/export.csv", {"action": "auth.", "date_to": "2026-11-30"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = _rows(response)
    actions = [row[3] for row in rows[1:]]
    assert sorted(actions) == ["auth.login", "auth.login_failed"]
    assert "onbekend" not in str(rows)
    export = AuditEntry.objects.get(action="export.audit")
    assert export.actor == sales_manager
    assert export.extra == {"filters": {"action": "auth.", "date_to": "2026-11-30"}}


def test_the_api_is_paginated_and_filtered(api_as, sales_manager, history, owner):
    client = api_as(sales_manager)
    everything = client.get("audit")
    assert everything.status_code == 200
    assert everything.json_body["count"] == 3
    first = client.get("audit", limit=1, offset=0).json_body
    second = client.get("audit", limit=1, offset=1).json_body
    assert len(first["items"]) == 1 and first["items"][0]["id"] != second["items"][0]["id"]
    assert first["items"][0]["action"] == "auth.login"  # newest first
    assert first["items"][0]["actor"] == owner.username
    assert first["items"][0]["extra"] == {"address": ADDRESS}
    updates = client.get("audit", action="account.update", account=history.pk).json_body
    assert [e["fields"] for e in updates["items"]] == [["city"]]
    on_the_3rd = client.get(
        "audit", user=owner.username, date_from="2026-11-03", date_to="2026-11-03"
    )
    assert on_the_3rd.json_body["count"] == 1


def test_the_api_names_bad_filters(api_as, sales_manager):
    response = api_as(sales_manager, language="nl").get(
        "audit", date_from="2026-12-08", date_to="2026-12-01"
    )
    assert response.status_code == 422
    assert response.json_body["errors"] == [
        {"field": "date_to", "message": "De einddatum ligt vóór de begindatum."}
    ]
    assert api_as(sales_manager).get("audit", account=0).status_code == 422
    assert api_as(sales_manager).get("audit", date_from="31-02-2026").status_code == 422


@pytest.mark.parametrize("who", ["owner", "other_manager", "reader"])
def test_account_managers_and_readers_are_refused_everywhere(request, api_as, history, who):
    user = request.getfixturevalue(who)
    before = set(AuditEntry.objects.values_list("action", flat=True))
    client = Client()
    client.force_login(user)
    for url in ("/audit/", "/audit/export.csv", "/audit/?action=auth."):
        response = client.get(url)
        assert response.status_code == 403, url
        assert b"auth.login" not in response.content
    api = api_as(user).get("audit")
    assert api.status_code == 403 and api.json_body["code"] == "permission_denied"
    assert "items" not in api.json_body
    with pytest.raises(CommandError) as refused:
        call_command("audit", "--as", user.username, stdout=io.StringIO())
    assert refused.value.returncode == 2
    # no export row was written; the refusals are audited
    assert set(AuditEntry.objects.values_list("action", flat=True)) - before == {
        "permission.refused"
    }


def test_the_log_is_read_only_at_every_door(web_as, api_as, admin_user, history):
    client = web_as(admin_user)
    count = AuditEntry.objects.count()
    assert client.post("/audit/", {"action": "x"}).status_code == 405
    assert client.post("/audit/export.csv").status_code == 405
    api = api_as(admin_user)
    for method in ("post", "patch"):
        assert getattr(api, method)("audit", {"action": "x"}).status_code == 405
    assert api.delete("audit").status_code == 405
    assert AuditEntry.objects.count() == count


def test_the_command_shows_filters_and_exports(sales_manager, history, owner, tmp_path):
    out = io.StringIO()
    call_command("audit", "--action", "auth.", "--as", sales_manager.username, stdout=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and "auth.login " in lines[0] + " " and "auth.login_failed" in lines[1]
    assert ADDRESS in lines[0]
    out = io.StringIO()
    call_command(
        "audit", "--json", "--account", str(history.pk), "--as", sales_manager.username, stdout=out
    )
    [entry] = [json.loads(line) for line in out.getvalue().splitlines()]
    assert entry["action"] == "account.update" and entry["actor"] == owner.username
    out = io.StringIO()
    call_command(
        "audit", "--to", "2026-11-03", "--limit", "1", "--as", sales_manager.username, stdout=out
    )
    assert len(out.getvalue().splitlines()) == 1
    target = tmp_path / "audit.csv"
    call_command(
        "audit",
        "--csv",
        str(target),
        "--to",
        "2026-11-30",
        "--as",
        sales_manager.username,
        stdout=io.StringIO(),
    )
    assert len(target.read_text(encoding="utf-8-sig").splitlines()) == 1 + 3
    assert AuditEntry.objects.filter(action="export.audit", actor=sales_manager).exists()


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--from", "8-12-2026"], "Not a date"),
        (
            ["--from", "2026-12-08", "--to", "2026-12-01"],
            "The end date lies before the start date.",
        ),
        (["--user", "niemand"], "There is no user with this username."),
        (["--account", "0"], "positive account id"),
        (["--limit", "0"], "positive number"),
    ],
)
def test_the_command_refuses_bad_filters_with_exit_code_2(sales_manager, args, said):
    with pytest.raises(CommandError) as info:
        call_command(
            "audit", *args, "--lang", "en", "--as", sales_manager.username, stdout=io.StringIO()
        )
    assert info.value.returncode == 2 and said in str(info.value)


def test_a_cell_that_looks_like_a_formula_is_escaped_in_the_export(web_as, admin_user):
    audit_log(actor=admin_user, action="=cmd|calc", extra={})
    rows = _rows(web_as(admin_user).get("/audit/export.csv"))
    assert ["'=cmd|calc"] == [row[3] for row in rows[1:] if "cmd" in row[3]]


def test_the_page_and_the_api_cost_the_same_queries_for_1_and_50_rows(
    web_as, api_as, sales_manager, owner, other_manager, reader
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client, api = web_as(sales_manager), api_as(sales_manager)
    users = [owner, other_manager, reader]

    def cost():
        with CaptureQueriesContext(connection) as page:
            assert client.get("/audit/", {"action": "test."}).status_code == 200
        with CaptureQueriesContext(connection) as listing:
            assert api.get("audit", action="test.").status_code == 200
        return len(page), len(listing)

    cost()  # warm up (the token's "last used" is written once a minute)
    audit_log(actor=owner, action="test.one")
    one = cost()
    for i in range(49):
        audit_log(actor=users[i % 3], action="test.many")
    assert cost() == one
