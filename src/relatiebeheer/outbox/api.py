"""API: the outbox (list, and the deliberate actions on mails whose delivery is unknown)."""

from datetime import datetime
from typing import Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.pagination import paginate

from relatiebeheer.api.core import ERRORS, READ_ERRORS, Pagination
from relatiebeheer.api.types import Id

from . import selectors, services

router = Router(tags=["outbox"])

StatusName = Literal["queued", "sending", "sent", "delivery_unknown", "failed", "cancelled"]
PurposeName = Literal["surveys", "campaigns", "events", "internal"]


class MessageOut(Schema):
    id: int
    key: str
    purpose: str
    to: str
    subject: str
    language: str
    account_id: int | None
    contact_id: int | None
    status: str
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    last_error: str


class MessageQuery(Schema):
    status: StatusName | None = None
    purpose: PurposeName | None = None
    account: Id | None = None


@router.get(
    "/outbox/messages",
    response={200: list[MessageOut], **READ_ERRORS},
    summary="List outbox messages (status=delivery_unknown: the flagged ones)",
)
@paginate(Pagination)
def list_messages(request: HttpRequest, filters: Query[MessageQuery]):
    return selectors.message_list(
        actor=request.auth,
        status=filters.status,
        purpose=filters.purpose,
        account_id=filters.account,
    )


@router.post(
    "/outbox/messages/{message_id}/resend",
    response={200: MessageOut, **ERRORS},
    summary="Send a mail whose delivery is unknown (or that failed) again, deliberately",
)
def resend_message(request: HttpRequest, message_id: Id):
    message = selectors.message_get(actor=request.auth, pk=message_id)
    return services.message_resend(actor=request.auth, message=message)


@router.post(
    "/outbox/messages/{message_id}/mark-sent",
    response={200: MessageOut, **ERRORS},
    summary="Record that a mail whose delivery was unknown did arrive",
)
def mark_message_sent(request: HttpRequest, message_id: Id):
    message = selectors.message_get(actor=request.auth, pk=message_id)
    return services.message_mark_sent(actor=request.auth, message=message)
