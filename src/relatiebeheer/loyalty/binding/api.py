"""API of binding: the binding matrix, binding activities, wishes, rapport judgements,
events and invitations."""

import datetime as dt
from decimal import Decimal
from typing import Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Schema, Status
from ninja.pagination import paginate

from relatiebeheer.api.core import ERRORS, READ_ERRORS, Pagination
from relatiebeheer.api.serializers import register
from relatiebeheer.api.types import (
    DeleteQuery,
    Id,
    In,
    NonNegativeMoney,
    RequiredText,
    Text,
    Version,
    sent_fields,
)
from relatiebeheer.common.errors import InvalidInput
from relatiebeheer.loyalty.api_common import (
    GapOut,
    LoyaltyAccountQuery,
    LoyaltyRouter,
    account_or_422,
    contact_or_422,
    contacts_or_422,
    gaps_out,
)
from relatiebeheer.relations import selectors as relations
from relatiebeheer.relations.models import Interaction
from relatiebeheer.relations.rules import require_account_writable

from . import selectors, services
from .matrix import binding_matrix as matrix_of
from .models import ActivityKind, BindingActivity, Event, Invitation, Level, Wish

router = LoyaltyRouter()

# Enumerations of the schema, from the models' choices.
LevelName = Literal[tuple(Level.values)]  # type: ignore[valid-type]
KindName = Literal[tuple(ActivityKind.values)]  # type: ignore[valid-type]
ActivityStatus = Literal[tuple(BindingActivity.Status.values)]  # type: ignore[valid-type]
ChannelName = Literal[tuple(Interaction.Channel.values)]  # type: ignore[valid-type]
AspectName = Literal[tuple(Wish.Aspect.values)]  # type: ignore[valid-type]
WishStatus = Literal[tuple(Wish.Status.values)]  # type: ignore[valid-type]
AnswerName = Literal[tuple(Invitation.Status.values)]  # type: ignore[valid-type]


class MatrixRowOut(Schema):
    level: str
    label: str
    counts: list[int]
    total: int
    last_done: dt.date | None


class SuggestionOut(Schema):
    level: str
    text: str
    contact_id: int | None
    event_id: int | None
    kind: str


class MatrixOut(Schema):
    months: list[dt.date]
    rows: list[MatrixRowOut]
    gaps: list[GapOut]
    suggestions: list[SuggestionOut]


@router.get(
    "/loyalty/accounts/{account_id}/binding-matrix",
    response={200: MatrixOut, **READ_ERRORS},
    summary="Binding activities per level over 12 months, gaps and suggestions",
)
def binding_matrix(request: HttpRequest, account_id: Id):
    account = relations.account_get(actor=request.auth, pk=account_id)
    matrix = matrix_of(account)
    return {
        "months": matrix.months,
        "rows": [
            {
                "level": r["level"],
                "label": str(r["label"]),
                "counts": r["counts"],
                "total": r["total"],
                "last_done": r["last_done"],
            }
            for r in matrix.rows
        ],
        "gaps": gaps_out(matrix.gaps),
        "suggestions": [s.__dict__ for s in matrix.suggestions],
    }


# --------------------------------------------------------------------------- binding activities


class BindingFields(In):
    level: LevelName | None = None
    title: Text(200, 1) | None = None
    notes: Text(10_000) = ""
    status: ActivityStatus | None = None
    planned_on: dt.date | None = None
    done_on: dt.date | None = None
    contact_id: Id | None = None
    interest: Text(60) | None = None
    cost: NonNegativeMoney | None = None


class BindingIn(BindingFields):
    account_id: Id
    kind: KindName
    title: RequiredText(200)
    status: ActivityStatus = BindingActivity.Status.DONE.value
    channel: ChannelName | None = None


class BindingPatch(BindingFields):
    version: Version
    kind: KindName | None = None


class BindingOut(Schema):
    id: int
    account_id: int
    level: str
    kind: str
    title: str
    notes: str
    status: str
    planned_on: dt.date | None
    done_on: dt.date | None
    contact_id: int | None
    interest: str | None
    interaction_id: int | None
    event_id: int | None
    cost: Decimal | None
    version: int

    @staticmethod
    def resolve_interest(obj):
        return obj.interest.name if obj.interest_id else None


register(BindingActivity, BindingOut)


class BindingQuery(Schema):
    account: Id | None = None
    level: LevelName | None = None


def _binding_data(actor, payload, account) -> dict:
    """The fields sent, with the contact looked up (``interest`` stays a name)."""
    data = sent_fields(payload, exclude={"account_id", "version", "contact_id", "channel"})
    if "contact_id" in payload.model_fields_set:
        data["contact"] = contact_or_422(actor, payload.contact_id, account)
    return data


@router.get(
    "/loyalty/binding-activities",
    response={200: list[BindingOut], **READ_ERRORS},
    summary="List binding activities",
)
@paginate(Pagination)
def list_binding(request: HttpRequest, filters: Query[BindingQuery]):
    return selectors.binding_list(
        actor=request.auth, account_id=filters.account, level=filters.level
    )


@router.post(
    "/loyalty/binding-activities",
    response={201: BindingOut, **ERRORS},
    summary="Log a binding activity (done: also a contact moment) or plan one",
)
def create_binding(request: HttpRequest, payload: BindingIn):
    account = account_or_422(request.auth, payload.account_id)
    data = _binding_data(request.auth, payload, account)
    activity = services.binding_activity_create(
        actor=request.auth, account=account, data=data, channel=payload.channel
    )
    return Status(201, activity)


@router.get(
    "/loyalty/binding-activities/{binding_id}",
    response={200: BindingOut, **READ_ERRORS},
    summary="Read a binding activity",
)
def get_binding(request: HttpRequest, binding_id: Id):
    return selectors.binding_get(actor=request.auth, pk=binding_id)


@router.patch(
    "/loyalty/binding-activities/{binding_id}",
    response={200: BindingOut, **ERRORS},
    summary="Change a binding activity (e.g. mark a planned one done)",
)
def update_binding(request: HttpRequest, binding_id: Id, payload: BindingPatch):
    activity = selectors.binding_get(actor=request.auth, pk=binding_id)
    data = _binding_data(request.auth, payload, activity.account)
    for key in ("level", "kind", "title", "status"):
        if key in data and data[key] is None:
            raise InvalidInput({key: [_("This field cannot be empty.")]})
    return services.binding_activity_update(
        actor=request.auth, activity=activity, version=payload.version, data=data
    )


@router.delete(
    "/loyalty/binding-activities/{binding_id}",
    response={204: None, **ERRORS},
    summary="Delete a binding activity",
)
def delete_binding(request: HttpRequest, binding_id: Id, query: Query[DeleteQuery]):
    services.binding_activity_delete(
        actor=request.auth,
        activity=selectors.binding_get(actor=request.auth, pk=binding_id),
        version=query.version,
    )
    return Status(204, None)


# --------------------------------------------------------------------------- wishes


class WishIn(In):
    account_id: Id
    aspect: AspectName
    wish: RequiredText(300)
    how_we_meet: Text(10_000) = ""
    status: WishStatus = Wish.Status.NOT_MET.value
    level: LevelName = Level.STRUCTURAL.value


class WishPatch(In):
    version: Version
    aspect: AspectName | None = None
    wish: Text(300, 1) | None = None
    how_we_meet: Text(10_000) | None = None
    status: WishStatus | None = None
    level: LevelName | None = None


class WishOut(Schema):
    id: int
    account_id: int
    aspect: str
    wish: str
    how_we_meet: str
    status: str
    level: str
    version: int


register(Wish, WishOut)


@router.get(
    "/loyalty/wishes",
    response={200: list[WishOut], **READ_ERRORS},
    summary="The register of wishes and buying behaviour",
)
@paginate(Pagination)
def list_wishes(request: HttpRequest, filters: Query[LoyaltyAccountQuery]):
    return selectors.wish_list(actor=request.auth, account_id=filters.account)


@router.post("/loyalty/wishes", response={201: WishOut, **ERRORS}, summary="Record a wish")
def create_wish(request: HttpRequest, payload: WishIn):
    account = account_or_422(request.auth, payload.account_id)
    wish = services.wish_create(
        actor=request.auth, account=account, data=payload.model_dump(exclude={"account_id"})
    )
    return Status(201, wish)


@router.get(
    "/loyalty/wishes/{wish_id}", response={200: WishOut, **READ_ERRORS}, summary="Read a wish"
)
def get_wish(request: HttpRequest, wish_id: Id):
    return selectors.wish_get(actor=request.auth, pk=wish_id)


@router.patch(
    "/loyalty/wishes/{wish_id}", response={200: WishOut, **ERRORS}, summary="Change a wish"
)
def update_wish(request: HttpRequest, wish_id: Id, payload: WishPatch):
    wish = selectors.wish_get(actor=request.auth, pk=wish_id)
    data = {k: v for k, v in sent_fields(payload, exclude={"version"}).items() if v is not None}
    return services.wish_update(actor=request.auth, wish=wish, version=payload.version, data=data)


@router.delete("/loyalty/wishes/{wish_id}", response={204: None, **ERRORS}, summary="Delete a wish")
def delete_wish(request: HttpRequest, wish_id: Id, query: Query[DeleteQuery]):
    services.wish_delete(
        actor=request.auth,
        wish=selectors.wish_get(actor=request.auth, pk=wish_id),
        version=query.version,
    )
    return Status(204, None)


# --------------------------------------------------------------------------- rapport


class RapportIn(In):
    rapport: bool = Field(description="Is there rapport (a personal click) with this contact?")
    note: Text(300) = ""


class RapportOut(Schema):
    id: int
    contact_id: int
    rapport: bool
    note: str
    judged_on: dt.date


@router.get(
    "/loyalty/contacts/{contact_id}/rapport",
    response={200: list[RapportOut], **READ_ERRORS},
    summary="The judgements of the personal relationship with a contact, newest first",
)
def list_rapport(request: HttpRequest, contact_id: Id):
    contact = relations.contact_get(actor=request.auth, pk=contact_id)
    return selectors.rapport_list(actor=request.auth, contact=contact)


@router.post(
    "/loyalty/contacts/{contact_id}/rapport",
    response={201: RapportOut, **ERRORS},
    summary="Judge whether there is rapport with a contact",
)
def create_rapport(request: HttpRequest, contact_id: Id, payload: RapportIn):
    contact = relations.contact_get(actor=request.auth, pk=contact_id)
    return Status(
        201,
        services.rapport_judge(
            actor=request.auth, contact=contact, rapport=payload.rapport, note=payload.note
        ),
    )


# The first version of these operations named the judgement after the Dutch word for it,
# ``/klik`` with a ``klik`` field. Those paths keep working, with the fields they had, but
# are no longer part of the documented API.
LEGACY_PATH = "/loyalty/contacts/{contact_id}/klik"
LEGACY_FIELD = "klik"


class _LegacyRapportIn(In):
    rapport: bool = Field(alias=LEGACY_FIELD)
    note: Text(300) = ""


class _LegacyRapportOut(RapportOut):
    rapport: bool = Field(serialization_alias=LEGACY_FIELD)


@router.get(
    LEGACY_PATH,
    response={200: list[_LegacyRapportOut], **READ_ERRORS},
    include_in_schema=False,
    by_alias=True,
)
def list_rapport_v1(request: HttpRequest, contact_id: Id):
    return list_rapport(request, contact_id)


@router.post(
    LEGACY_PATH,
    response={201: _LegacyRapportOut, **ERRORS},
    include_in_schema=False,
    by_alias=True,
)
def create_rapport_v1(request: HttpRequest, contact_id: Id, payload: _LegacyRapportIn):
    contact = relations.contact_get(actor=request.auth, pk=contact_id)
    return Status(
        201,
        services.rapport_judge(
            actor=request.auth, contact=contact, rapport=payload.rapport, note=payload.note
        ),
    )


# --------------------------------------------------------------------------- events


class EventFields(In):
    location: Text(200) = ""
    description: Text(10_000) = ""
    interest: Text(60) | None = None
    capacity: int | None = Field(None, ge=1, le=100_000)
    cost_per_guest: NonNegativeMoney | None = None
    shared: bool = False


class EventIn(EventFields):
    name: RequiredText(200)
    starts_at: dt.datetime
    contact_ids: list[Id] = Field(default_factory=list, max_length=500)
    mail: bool = True


class EventPatch(EventFields):
    version: Version
    name: Text(200, 1) | None = None
    starts_at: dt.datetime | None = None
    location: Text(200) | None = None
    description: Text(10_000) | None = None
    shared: bool | None = None


class EventInvitationOut(Schema):
    id: int
    event_id: int
    contact_id: int
    account_id: int
    status: str
    responded_at: dt.datetime | None
    mailed: bool
    version: int


register(Invitation, EventInvitationOut)


class EventOut(Schema):
    id: int
    name: str
    starts_at: dt.datetime
    location: str
    description: str
    interest: str | None
    capacity: int | None
    cost_per_guest: Decimal | None
    shared: bool
    organiser_id: int | None
    version: int

    @staticmethod
    def resolve_interest(obj):
        return obj.interest.name if obj.interest_id else None


class EventDetailOut(EventOut):
    invitations: list[EventInvitationOut]

    @staticmethod
    def resolve_invitations(obj):
        return obj.visible_invitations


register(Event, EventOut)


@router.get("/loyalty/events", response={200: list[EventOut], **READ_ERRORS}, summary="List events")
@paginate(Pagination)
def list_events(request: HttpRequest):
    return selectors.event_list(actor=request.auth)


@router.post(
    "/loyalty/events",
    response={201: EventDetailOut, **ERRORS},
    summary="Create an event and invite contacts (mailed where consent allows)",
)
def create_event(request: HttpRequest, payload: EventIn):
    contacts = contacts_or_422(request.auth, payload.contact_ids)
    data = payload.model_dump(exclude={"contact_ids", "mail"})
    event = services.event_create(
        actor=request.auth, data=data, invitees=contacts, mail=payload.mail
    )
    return Status(201, _event_detail(request, event.pk))


def _event_detail(request, pk) -> Event:
    event = selectors.event_get(actor=request.auth, pk=pk)
    event.visible_invitations = list(selectors.invitations_for(actor=request.auth, event=event))
    return event


@router.get(
    "/loyalty/events/{event_id}",
    response={200: EventDetailOut, **READ_ERRORS},
    summary="An event and the invitations the user may see",
)
def get_event(request: HttpRequest, event_id: Id):
    return _event_detail(request, event_id)


@router.patch(
    "/loyalty/events/{event_id}", response={200: EventOut, **ERRORS}, summary="Change an event"
)
def update_event(request: HttpRequest, event_id: Id, payload: EventPatch):
    event = selectors.event_get(actor=request.auth, pk=event_id)
    data = sent_fields(payload, exclude={"version"})
    for key in ("name", "starts_at", "location", "description", "shared"):
        if key in data and data[key] is None:
            raise InvalidInput({key: [_("This field cannot be empty.")]})
    return services.event_update(
        actor=request.auth, event=event, version=payload.version, data=data
    )


class EventInviteIn(In):
    contact_ids: list[Id] = Field(min_length=1, max_length=500)
    mail: bool = True


@router.post(
    "/loyalty/events/{event_id}/invitations",
    response={201: list[EventInvitationOut], **ERRORS},
    summary="Invite contacts to an event",
)
def invite(request: HttpRequest, event_id: Id, payload: EventInviteIn):
    event = selectors.event_get(actor=request.auth, pk=event_id)
    contacts = contacts_or_422(request.auth, payload.contact_ids)
    made = services.invitations_create(
        actor=request.auth, event=event, contacts=contacts, mail=payload.mail
    )
    return Status(201, made)


class RsvpIn(In):
    version: Version
    status: AnswerName | None = None


@router.patch(
    "/loyalty/invitations/{event_invitation_id}",
    response={200: EventInvitationOut, **ERRORS},
    summary="Record the answer (RSVP) or the attendance",
)
def respond(request: HttpRequest, event_invitation_id: Id, payload: RsvpIn):
    invitation = selectors.invitation_get(actor=request.auth, pk=event_invitation_id)
    require_account_writable(request.auth, invitation.account)
    return services.invitation_respond(
        actor=request.auth, invitation=invitation, version=payload.version, status=payload.status
    )
