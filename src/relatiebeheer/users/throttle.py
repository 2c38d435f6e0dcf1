"""Slow down an address that fails to log in for many usernames — never lock it.

django-axes locks a *username + address* pair after 5 failures (``AXES_LOCKOUT_PARAMETERS``),
so a stranger cannot lock anybody out from elsewhere. What that leaves open is a spray:
one address trying many usernames, a few passwords each. This throttle counts the failed
logins of an address, whatever the username, and after ``LOGIN_ADDRESS_FREE_FAILURES``
of them makes the address wait before its next attempt: 1 s, then 2, 4, 8 … up to
``LOGIN_ADDRESS_MAX_DELAY`` seconds per failure. It never locks: an office behind one
address whose colleague's attempts were sprayed over waits at most the cap, then logs
in. After ``LOGIN_ADDRESS_FORGET_MINUTES`` without a failure the address starts afresh;
a successful login does not clear it (an attacker with one account of their own could
otherwise reset the count between rounds).

Waiting is answered, not slept: a login attempt during the wait gets HTTP 429 with
``Retry-After`` and the password is not checked (sleeping in the request would let a
spray tie up every server thread). Every attempt is counted as a failure when it is let
through, under a lock on the address's row, and a successful login takes its own count
back — so simultaneous attempts cannot slip through one open slot together. The counters live in the database, shared by every
process and app server. The clock is injectable, so tests measure the delay without
sleeping.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from relatiebeheer.common.sqlite_lock import serialized_writes

from .models import LoginThrottle


def client_address(request) -> str:
    """The client's address (the last proxy hop when behind our own TLS proxy); also
    what django-axes uses (``AXES_CLIENT_IP_CALLABLE``), so both count the same address."""
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()[:64]
    return (request.META.get("REMOTE_ADDR") or "")[:64]


def throttle_key(address: str) -> str:
    """What the throttle counts by: the address, or for IPv6 its /64 network — one
    connection usually holds a whole /64, so counting single IPv6 addresses would let a
    spray step to a fresh address for every attempt."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


@dataclass
class AddressThrottle:
    """The per-address delay (an IPv6 address counts as its /64, see :func:`throttle_key`).
    ``clock`` returns the current aware datetime."""

    free_failures: int = field(default_factory=lambda: _setting("LOGIN_ADDRESS_FREE_FAILURES", 10))
    max_delay: int = field(default_factory=lambda: _setting("LOGIN_ADDRESS_MAX_DELAY", 60))
    forget_minutes: int = field(
        default_factory=lambda: _setting("LOGIN_ADDRESS_FORGET_MINUTES", 30)
    )
    clock: Callable[[], datetime] = timezone.now

    def delay_after(self, failures: int) -> int:
        """Seconds an address waits after its ``failures``-th failure: none for the first
        ``free_failures``, then 1, 2, 4 … capped at ``max_delay``."""
        over = failures - self.free_failures - 1
        if over < 0:
            return 0
        return min(self.max_delay, 2 ** min(over, 30))

    def _current(self, row: LoginThrottle | None, now: datetime) -> int:
        if row is None or now - row.last_failure_at > timedelta(minutes=self.forget_minutes):
            return 0
        return row.failures

    def wait(self, address: str) -> int:
        """Whole seconds ``address`` must still wait before its next attempt (0: go)."""
        if not address:
            return 0
        now = self.clock()
        row = LoginThrottle.objects.filter(address=throttle_key(address)).first()
        failures = self._current(row, now)
        if not failures or row is None:
            return 0
        ready = row.last_failure_at + timedelta(seconds=self.delay_after(failures))
        return max(0, math.ceil((ready - now).total_seconds()))

    def attempt(self, address: str) -> int:
        """Claim a login attempt for ``address``: the whole seconds it must still wait
        (then nothing is counted), or 0 — and the attempt is counted as a failure until
        :meth:`succeeded` takes it back. Check and count happen under the address's row
        lock, so a burst of simultaneous attempts cannot all pass one open slot."""
        if not address:
            return 0
        return self._count(throttle_key(address), check=True)

    def failed(self, address: str) -> int:
        """Count one failed login of ``address`` without checking; returns the delay it
        now waits."""
        if not address:
            return 0
        self._count(throttle_key(address), check=False)
        row = LoginThrottle.objects.get(address=throttle_key(address))
        return self.delay_after(row.failures)

    def succeeded(self, address: str) -> None:
        """Take back the attempt a successful login claimed (it was no failure). The
        address's earlier failures stay counted."""
        if not address:
            return
        with serialized_writes(), transaction.atomic():
            row = (
                LoginThrottle.objects.select_for_update()
                .filter(address=throttle_key(address))
                .first()
            )
            if row is not None and row.failures > 0:
                row.failures -= 1
                row.save(update_fields=["failures"])

    def _count(self, key: str, *, check: bool) -> int:
        now = self.clock()
        with serialized_writes(), transaction.atomic():
            LoginThrottle.objects.get_or_create(
                address=key, defaults={"failures": 0, "last_failure_at": now}
            )
            row = LoginThrottle.objects.select_for_update().get(address=key)
            failures = self._current(row, now)
            if check and failures:
                ready = row.last_failure_at + timedelta(seconds=self.delay_after(failures))
                if ready > now:
                    return math.ceil((ready - now).total_seconds())
            row.failures = failures + 1
            row.last_failure_at = now
            row.save(update_fields=["failures", "last_failure_at"])
        return 0

    def forget_stale(self) -> int:
        """Remove the rows of addresses that have been quiet long enough to start afresh."""
        cutoff = self.clock() - timedelta(minutes=self.forget_minutes)
        return LoginThrottle.objects.filter(last_failure_at__lt=cutoff).delete()[0]
