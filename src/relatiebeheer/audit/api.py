"""API: the audit log, read-only, for administrators and sales managers."""

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from relatiebeheer.api.core import READ_ERRORS, Pagination, Problem
from relatiebeheer.api.types import Id, Text

from . import selectors
from .models import AuditEntry

router = Router(tags=["audit"])


class AuditEntryOut(Schema):
    id: int
    at: datetime
    actor: str | None = Field(
        None,
        description="The username of who acted (none: the system, a customer by link, or a failed login).",
    )
    channel: str
    action: str
    object_type: str
    object_id: str
    account_id: int | None
    fields: list[str]
    extra: dict[str, Any]

    @staticmethod
    def resolve_actor(obj: AuditEntry) -> str | None:
        return obj.actor.username if obj.actor_id and obj.actor is not None else None


class AuditQuery(Schema):
    user: Text(150) | None = Field(  # type: ignore[valid-type]
        None,
        description="A username: entries by that user or about them (e.g. their failed logins).",
    )
    account: Id | None = None
    action: Text(60) | None = Field(  # type: ignore[valid-type]
        None, description="An action name (account.update), or a prefix ending in a dot (auth.)."
    )
    date_from: date | None = Field(None, description="First day, in Europe/Amsterdam.")
    date_to: date | None = Field(None, description="Last day (included).")


@router.get(
    "/audit",
    response={200: list[AuditEntryOut], 403: Problem, **READ_ERRORS},
    summary="The audit log, newest first (administrators and sales managers)",
)
@paginate(Pagination)
def list_audit_entries(request: HttpRequest, filters: Query[AuditQuery]):
    return selectors.audit_entry_list(
        actor=request.auth,
        filters=selectors.AuditFilters(
            user=filters.user or None,
            account=filters.account,
            action=filters.action or None,
            date_from=filters.date_from,
            date_to=filters.date_to,
        ),
    )
