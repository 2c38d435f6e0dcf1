"""Login throttling that strangers cannot abuse, and the audit of logins.

* django-axes locks a username + address pair after 5 failures; the right password
  works at once from an address that did not fail — administrators included;
* an address that fails for many usernames is slowed down (a delay that grows per
  failure, capped), never locked; while it waits no password is checked;
* failed and successful logins are audited with the address and the username as typed;
  a typed name that matches no user is kept only as a keyed hash.
"""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from relatiebeheer.audit.models import AuditEntry
from relatiebeheer.audit.services import keyed_hash
from relatiebeheer.users.models import LoginThrottle
from relatiebeheer.users.throttle import AddressThrottle

pytestmark = pytest.mark.django_db

A, B = "203.0.113.7", "198.51.100.20"


def _log_in(address, username, password, path="/login/"):
    return Client(REMOTE_ADDR=address).post(path, {"username": username, "password": password})


def _ok(response):
    return response.status_code == 302


@pytest.fixture(params=["account_manager", "admin"])
def somebody(request, owner, admin_user):
    return owner if request.param == "account_manager" else admin_user


def test_five_failures_lock_the_pair_and_the_user_logs_in_from_elsewhere_at_once(
    somebody, password
):
    with time_machine.travel(timezone.now(), tick=False):
        # given: four wrong passwords from address A are plain failures
        for _ in range(4):
            assert _log_in(A, somebody.username, "wrong-password").status_code == 200
        # when: the fifth fails too, the pair (username, A) is locked
        assert _log_in(A, somebody.username, "wrong-password").status_code == 429
        # then: from A even the right password is refused …
        assert _log_in(A, somebody.username, password).status_code == 429
        # … but the real user logs in from address B at once
        assert _ok(_log_in(B, somebody.username, password))


def test_an_administrator_is_not_locked_out_of_the_admin_login_by_a_stranger(admin_user, password):
    with time_machine.travel(timezone.now(), tick=False):
        for _ in range(6):
            _log_in(A, admin_user.username, "wrong-password", path="/admin/login/")
        assert not _ok(_log_in(A, admin_user.username, password, path="/admin/login/"))
        assert _ok(_log_in(B, admin_user.username, password, path="/admin/login/"))


def test_a_locked_pair_does_not_lock_the_address_for_other_users(owner, other_manager, password):
    with time_machine.travel(timezone.now(), tick=False):
        for _ in range(5):
            _log_in(A, owner.username, "wrong-password")
        assert _ok(_log_in(A, other_manager.username, password))


def test_a_spray_of_100_usernames_from_one_address_is_slowed_not_locked(owner, password):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        delays, refused_while_waiting = [], 0
        for i in range(100):
            response = _log_in(A, f"guess{i:03d}", "Welkom01!")
            while response.status_code == 429:
                # the address waits; meanwhile even the real user's password is not checked
                refused_while_waiting += 1
                wait = int(response["Retry-After"])
                assert _log_in(A, owner.username, password).status_code == 429
                clock.shift(timedelta(seconds=wait))
                response = _log_in(A, f"guess{i:03d}", "Welkom01!")
            assert response.status_code == 200  # a plain failure, never a lock
            delays.append(AddressThrottle().wait(A))
        # then: ten free failures, then a delay that grows per failure up to the cap
        assert delays[:10] == [0] * 10
        assert delays[10:17] == [1, 2, 4, 8, 16, 32, 60]
        assert set(delays[17:]) == {60}
        assert refused_while_waiting == 89
        elapsed = (timezone.now() - start).total_seconds()
        assert elapsed >= 84 * 60  # seconds' work for a script; now more than 80 minutes
        # and: the real user logs in from another address at once …
        assert _ok(_log_in(B, owner.username, password))
        # … and from the sprayed address itself once the last delay has passed
        clock.shift(timedelta(seconds=60))
        assert _ok(_log_in(A, owner.username, password))
        # a successful login does not clear the address: the next attempt still waits
        assert AddressThrottle().wait(A) == 60
        assert _log_in(A, "guess-again", "Welkom01!").status_code == 429
        clock.shift(timedelta(seconds=60))
        assert _log_in(A, "guess-again", "Welkom01!").status_code == 200
    # only real attempts were audited (100 + 1 failures), no row for a refused wait
    assert AuditEntry.objects.filter(action="auth.login_failed").count() == 101


def test_the_throttle_grows_caps_and_forgets_with_an_injected_clock():
    now = [datetime(2026, 12, 8, 9, 0, tzinfo=UTC)]
    throttle = AddressThrottle(
        free_failures=3, max_delay=10, forget_minutes=30, clock=lambda: now[0]
    )
    # the first three failures cost nothing; then 1, 2, 4, 8 seconds, capped at 10
    assert [throttle.failed(A) for _ in range(9)] == [0, 0, 0, 1, 2, 4, 8, 10, 10]
    assert throttle.wait(A) == 10 and throttle.wait(B) == 0
    now[0] += timedelta(seconds=4)
    assert throttle.wait(A) == 6
    now[0] += timedelta(seconds=6)
    assert throttle.wait(A) == 0
    # after 30 quiet minutes the address starts afresh
    now[0] += timedelta(minutes=31)
    assert throttle.failed(A) == 0
    assert LoginThrottle.objects.get(address=A).failures == 1
    now[0] += timedelta(minutes=31)
    assert throttle.forget_stale() == 1 and not LoginThrottle.objects.exists()


def test_logins_are_audited_with_address_and_typed_username(owner, password):
    with time_machine.travel(timezone.now(), tick=False):
        _log_in(A, owner.username, "wrong-password")
        _log_in(A, "piet.jansen@example.nl", "wrong-password")
        _log_in(B, owner.username, password)
    known, unknown = AuditEntry.objects.filter(action="auth.login_failed").order_by("id")
    # a name that matches a user: kept as typed, with the user and the address
    assert known.extra == {"address": A, "username": owner.username}
    assert known.object_type == "user" and known.object_id == str(owner.pk)
    # a name that matches nobody: only its keyed hash
    assert unknown.extra == {"address": A, "username_hash": keyed_hash("piet.jansen@example.nl")}
    assert unknown.object_id == ""
    for row in AuditEntry.objects.values():
        assert "piet" not in str(row)
    # a success names the user and the address
    success = AuditEntry.objects.get(action="auth.login")
    assert success.actor == owner and success.extra == {"address": B}


def test_the_keyed_hash_depends_on_the_secret_key(settings):
    first = keyed_hash("piet")
    assert first == keyed_hash("piet") and first != keyed_hash("Piet")
    settings.SECRET_KEY = "another-secret-key-" + "x" * 40
    assert keyed_hash("piet") != first


def test_ipv6_addresses_of_one_network_count_together():
    now = [datetime(2026, 12, 8, 9, 0, tzinfo=UTC)]
    throttle = AddressThrottle(free_failures=2, max_delay=10, clock=lambda: now[0])
    # a spray stepping through addresses of one /64 is counted as one address
    for i in range(4):
        throttle.failed(f"2001:db8:1:2::{i + 1:x}")
    assert throttle.wait("2001:db8:1:2:ffff::9") == 2
    assert throttle.wait("2001:db8:1:3::1") == 0  # another network
    assert throttle.wait("::ffff:203.0.113.7") == 0 and throttle.failed("::ffff:203.0.113.7") == 0
    assert LoginThrottle.objects.filter(address="203.0.113.7").exists()


def test_behind_our_tls_proxy_the_last_forwarded_hop_is_the_address(settings, owner, password):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

    def via_proxy(client_ip, pw):
        return Client(REMOTE_ADDR="10.0.0.1").post(
            "/login/",
            {"username": owner.username, "password": pw},
            HTTP_X_FORWARDED_FOR=f"1.1.1.1, {client_ip}",
        )

    with time_machine.travel(timezone.now(), tick=False):
        for _ in range(5):
            via_proxy(A, "wrong-password")
        assert via_proxy(A, password).status_code == 429
        # the proxy's own address is not what is locked: another client gets in
        assert _ok(via_proxy(B, password))
    assert AuditEntry.objects.filter(action="auth.login", extra={"address": B}).exists()


def test_login_records_are_removed_after_90_days_and_nothing_else(owner, password):
    from axes.models import AccessAttempt, AccessLog

    from relatiebeheer.audit.retention import login_records_expire
    from relatiebeheer.ops import scheduler

    old = timezone.now() - timedelta(days=91)
    with time_machine.travel(old, tick=False):
        _log_in(A, "onbekend", "x")
        _log_in(A, owner.username, password)
        audit_log_entry = AuditEntry.objects.create(actor=owner, channel="web", action="x.y")
    with time_machine.travel(old + timedelta(days=2), tick=False):
        _log_in(B, owner.username, "wrong-password")  # 89 days old: stays
    assert AccessLog.objects.count() == 1  # django-axes' record of the old login
    counts = login_records_expire()
    assert counts["audit_entries"] == 2 and counts["access_logs"] == 1
    assert not AccessLog.objects.exists()
    # the recent failure and every other entry stay; the removal is audited with counts
    assert set(AuditEntry.objects.values_list("action", flat=True)) == {
        "auth.login_failed",
        "x.y",
        "audit.logins_expired",
    }
    assert AuditEntry.objects.get(action="auth.login_failed").extra["address"] == B
    assert AuditEntry.objects.filter(pk=audit_log_entry.pk).exists()
    assert AuditEntry.objects.get(action="audit.logins_expired").extra["days"] == 90
    assert AccessAttempt.objects.get().ip_address == B
    # and the worker runs it every day
    assert scheduler._jobs["audit.expire_logins"].every == timedelta(days=1)


@pytest.mark.django_db(transaction=True)
def test_simultaneous_attempts_cannot_share_one_open_slot():
    from .concurrency import run_concurrently

    fixed = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
    throttle = AddressThrottle(free_failures=3, max_delay=60, clock=lambda: fixed)
    for _ in range(3):
        throttle.failed(A)  # the free failures are used up; one more attempt may go now
    results = run_concurrently(lambda: throttle.attempt(A), num_threads=6)
    assert sorted(results) == [0, 1, 1, 1, 1, 1]  # one goes, the others wait a second
    assert LoginThrottle.objects.get(address=A).failures == 4


def test_a_successful_login_takes_back_only_its_own_attempt(owner, password):
    with time_machine.travel(timezone.now(), tick=False):
        for i in range(3):
            _log_in(A, f"guess{i}", "x")
        assert _ok(_log_in(A, owner.username, password))
        assert LoginThrottle.objects.get(address=A).failures == 3
