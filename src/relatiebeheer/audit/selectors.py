"""Reading the audit log: administrators and sales managers, with filters.

The page, ``GET /api/v1/audit`` and ``relatiebeheer audit`` all read through
:func:`audit_entry_list`, so they refuse the same users and filter alike. Nobody changes
the log (it is append-only, see ``models.py``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from relatiebeheer.common.errors import InvalidInput, PermissionRefused
from relatiebeheer.users.access import can_read_audit_log
from relatiebeheer.users.models import User

from .models import AuditEntry


@dataclass(frozen=True)
class AuditFilters:
    """``user``: a username — entries by that user or about them (their failed logins,
    changes to their account); ``account``: an account id; ``action``: an action name, or
    a prefix ending in a dot (``auth.``); ``date_from``/``date_to``: days in the local
    time zone, both included."""

    user: str | None = None
    account: int | None = None
    action: str | None = None
    date_from: date | None = None
    date_to: date | None = None

    def as_dict(self) -> dict[str, str]:
        return {k: str(v) for k, v in asdict(self).items() if v not in (None, "")}


def audit_require_reader(*, actor) -> None:
    """Refuse (403) anyone but administrators and sales managers."""
    if not can_read_audit_log(actor):
        raise PermissionRefused(_("Only administrators and sales managers can read the audit log."))


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def audit_entry_list(*, actor, filters: AuditFilters) -> QuerySet[AuditEntry]:
    """Audit entries matching ``filters``, newest first. Refuses other users (403) and
    names each bad filter in the user's language (422) rather than returning nothing."""
    audit_require_reader(actor=actor)
    errors: dict[str, list[str]] = {}
    qs = AuditEntry.objects.select_related("actor")
    if filters.user:
        user = User.objects.filter(username=filters.user).first()
        if user is None:
            errors["user"] = [_("There is no user with this username.")]
        else:
            qs = qs.filter(Q(actor=user) | Q(object_type="user", object_id=str(user.pk)))
    if filters.account is not None:
        qs = qs.filter(account_id=filters.account)
    if filters.action:
        action = filters.action.strip()
        qs = (
            qs.filter(action__startswith=action)
            if action.endswith(".")
            else qs.filter(action=action)
        )
    if filters.date_from and filters.date_to and filters.date_to < filters.date_from:
        errors["date_to"] = [_("The end date lies before the start date.")]
    if errors:
        raise InvalidInput(errors)
    if filters.date_from:
        qs = qs.filter(at__gte=_start_of(filters.date_from))
    if filters.date_to:
        qs = qs.filter(at__lt=_start_of(filters.date_to + timedelta(days=1)))
    return qs.order_by("-at", "-id")


def audit_columns():
    """The columns of the CSV export (and the command's CSV output)."""
    import json

    from relatiebeheer.exports import Column

    return [
        Column(_("When"), lambda e: e.at, "datetime"),
        Column(_("Who"), lambda e: e.actor.username if e.actor_id else ""),
        Column(_("Via"), lambda e: e.channel),
        Column(_("Action"), lambda e: e.action),
        Column(_("Record type"), lambda e: e.object_type),
        Column(_("Record id"), lambda e: e.object_id),
        Column(_("Account id"), lambda e: e.account_id, "int"),
        Column(_("Fields"), lambda e: ", ".join(e.fields or [])),
        Column(_("Details"), lambda e: json.dumps(e.extra, sort_keys=True) if e.extra else ""),
    ]
