"""What the README's "Access" and "Audit log" paragraphs say, where no other test checked
it: a shared account is seen by the colleague it is shared with; a login locks for 30
minutes after 5 failed attempts; passwords need 10 characters and may not be common;
logins and failed logins are audited; the audit log is append-only, read-only in the
admin, filterable there, and holds field names but never the values."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from relatiebeheer.audit.models import AppendOnlyError, AuditEntry
from relatiebeheer.relations.services import account_share

pytestmark = pytest.mark.django_db


def test_an_account_manager_sees_accounts_shared_with_them(
    api_as, sales_manager, account, other_manager
):
    colleague = api_as(other_manager)
    # given: the owner's account, not yet shared
    assert colleague.get(f"accounts/{account.pk}").status_code == 404
    # when: a sales manager shares it with a colleague (holiday cover)
    account_share(actor=sales_manager, account=account, user=other_manager)
    # then: the colleague finds and opens it
    assert colleague.get(f"accounts/{account.pk}").status_code == 200
    assert [a["id"] for a in colleague.get("accounts").json_body["items"]] == [account.pk]


def _log_in(client, username, password):
    return client.post("/login/", {"username": username, "password": password})


def test_a_login_locks_for_30_minutes_after_5_failed_attempts(owner, password):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(4):
            assert _log_in(Client(), owner.username, "wrong-password").status_code == 200
        # the fifth failure locks the login
        assert _log_in(Client(), owner.username, "wrong-password").status_code == 429
        # the right password no longer opens the door
        locked = _log_in(Client(), owner.username, password)
        assert locked.status_code == 429
        assert "30" in locked.content.decode()
    # (every attempt while locked starts the 30 minutes again, so none is made meanwhile)
    with time_machine.travel(start + timedelta(minutes=31), tick=False):
        assert _log_in(Client(), owner.username, password).status_code == 302


@pytest.mark.parametrize(
    ("candidate", "ok"),
    [("kort-1234", False), ("password123", False), ("relatie-demo-2026", True)],
)
def test_passwords_need_10_characters_and_may_not_be_common(owner, candidate, ok):
    if ok:
        validate_password(candidate, owner)
    else:
        with pytest.raises(ValidationError):
            validate_password(candidate, owner)


def test_logins_and_failed_logins_are_audited(owner, password):
    _log_in(Client(), owner.username, "wrong-password")
    _log_in(Client(), owner.username, password)
    assert AuditEntry.objects.filter(action="auth.login_failed", actor=None).count() == 1
    assert AuditEntry.objects.filter(action="auth.login", actor=owner).count() == 1


def test_the_audit_log_keeps_field_names_not_values_and_cannot_be_changed(
    api_as, account, admin_user, client
):
    # given: a change of an account's city through the API
    response = api_as(account.manager).patch(
        f"accounts/{account.pk}", {"version": 1, "city": "Zierikzee"}
    )
    assert response.status_code == 200
    entry = AuditEntry.objects.get(action="account.update")
    # then: the entry names the field, never the value
    assert entry.fields == ["city"] and entry.channel == "api" and entry.actor == account.manager
    for row in AuditEntry.objects.values():
        assert "Zierikzee" not in str(row)
    # and: it cannot be changed or removed, row by row or in bulk
    entry.action = "something.else"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(pk=entry.pk).update(action="x")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().delete()
    # and: administrators read and filter it in the admin, but cannot add, change or delete
    client.force_login(admin_user)
    listing = client.get("/admin/audit/auditentry/", {"channel__exact": "api"})
    assert listing.status_code == 200 and "account.update" in listing.content.decode()
    assert client.get("/admin/audit/auditentry/add/").status_code == 403
    change = client.post(f"/admin/audit/auditentry/{entry.pk}/change/", {"action": "x"})
    assert change.status_code in {403, 200}
    assert (
        client.post(f"/admin/audit/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert AuditEntry.objects.get(pk=entry.pk).action == "account.update"


def test_a_personal_token_starts_with_rb_and_only_its_sha256_is_kept(owner):
    import hashlib

    from relatiebeheer.users.models import ApiToken

    token, raw = ApiToken.issue(user=owner, name="script")
    assert raw.startswith("rb_")
    stored = ApiToken.objects.filter(pk=token.pk).values_list("token_hash", flat=True).get()
    assert stored == hashlib.sha256(raw.encode()).hexdigest()
    assert ApiToken.authenticate(raw) == owner
