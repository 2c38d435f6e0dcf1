"""API: a contact's data export and erasure."""

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from relatiebeheer.api.core import ERRORS, READ_ERRORS
from relatiebeheer.api.types import Id
from relatiebeheer.relations import selectors

from . import selectors as privacy_selectors
from . import services

router = Router(tags=["privacy"])


class ExportOut(Schema):
    contact: dict[str, Any]
    account: dict[str, Any]
    exported_at: str
    related: dict[str, list[dict[str, Any]]]
    personal_data: dict[str, list[dict[str, Any]]]


class EraseOut(Schema):
    erased: bool
    summary: dict[str, int]


@router.get(
    "/contacts/{contact_id}/personal-data",
    response={200: ExportOut, **READ_ERRORS},
    summary="Everything held about a contact",
)
def export_contact(request: HttpRequest, contact_id: Id):
    contact = selectors.contact_get(actor=request.auth, pk=contact_id)
    return privacy_selectors.contact_export(actor=request.auth, contact=contact)


@router.post(
    "/contacts/{contact_id}/erase",
    response={200: EraseOut, **ERRORS},
    summary="Erase a contact's personal data",
)
def erase_contact(request: HttpRequest, contact_id: Id):
    contact = selectors.contact_get(actor=request.auth, pk=contact_id)
    return {"erased": True, "summary": services.contact_erase(actor=request.auth, contact=contact)}
