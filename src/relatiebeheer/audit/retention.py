"""Login records are kept for ``LOGIN_RECORD_RETENTION_DAYS`` (90) days, then removed.

Login entries of the audit log hold the client's address, and django-axes' own records
(every login and lockout attempt) hold the address and the username: personal data,
kept only as long as it serves security. A daily job removes older ones; every other
audit entry stays (it holds ids and field names only). The removal is audited with its
counts.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from relatiebeheer.common.writers import writer

from .models import AuditEntry
from .services import audit_log


def retention_days() -> int:
    return int(getattr(settings, "LOGIN_RECORD_RETENTION_DAYS", 90))


@writer(accounts=False, acts="system")
def login_records_expire() -> dict[str, int]:
    """Remove login entries and django-axes records older than the retention; returns
    the counts removed (also in the audit row)."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    from relatiebeheer.users.throttle import AddressThrottle

    cutoff = timezone.now() - timedelta(days=retention_days())
    with transaction.atomic():
        counts = {
            "audit_entries": AuditEntry.objects.expire_logins(before=cutoff),
            "access_logs": AccessLog.objects.filter(attempt_time__lt=cutoff).delete()[0],
            "failure_logs": AccessFailureLog.objects.filter(attempt_time__lt=cutoff).delete()[0],
            "attempts": AccessAttempt.objects.filter(attempt_time__lt=cutoff).delete()[0],
            "address_counts": AddressThrottle().forget_stale(),
        }
        audit_log(
            actor=None,
            action="audit.logins_expired",
            extra={"days": retention_days(), **counts},
        )
    return counts
