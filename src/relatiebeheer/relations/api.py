"""API: accounts, contacts, consent, contact moments and tasks (thin: services do the work)."""

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from relatiebeheer.api.core import ERRORS, READ_ERRORS, Pagination
from relatiebeheer.api.serializers import register
from relatiebeheer.api.types import (
    DeleteQuery,
    Id,
    In,
    RequiredText,
    Text,
    Version,
    sent_fields,
)
from relatiebeheer.common.errors import InvalidInput
from relatiebeheer.users.models import User

from . import rules, selectors, services
from .models import Account, BuyingGroup, ConsentRecord, Contact, Interaction, Task

router = Router(tags=["accounts"])

AccountStatus = Literal["prospect", "customer", "key_account"]
Channel = Literal["phone", "visit", "email", "video", "chat", "event"]
Kind = Literal["question", "looked_into", "proactive", "service", "complaint", "sales", "event"]
Direction = Literal["inbound", "outbound"]
Language = Literal["nl", "en"]


def _resolve_user(pk: int | None, field: str) -> User | None:
    if pk is None:
        return None
    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is None:
        raise InvalidInput({field: [_("Unknown user.")]})
    return user


def _resolve_account(actor, pk: int | None, field: str) -> Account | None:
    if pk is None:
        return None
    account = Account.objects.visible_to(actor).filter(pk=pk).first()
    if account is None:
        raise InvalidInput({field: [_("Unknown account.")]})
    return account


def _resolve_group(pk: int | None) -> BuyingGroup | None:
    if pk is None:
        return None
    group = BuyingGroup.objects.filter(pk=pk).first()
    if group is None:
        raise InvalidInput({"buying_group_id": [_("Unknown buying group.")]})
    return group


# --- accounts ---------------------------------------------------------------------------


class AccountFields(In):
    kvk_number: Text(20) = ""
    vat_number: Text(20) = ""
    industry: Text(100) = ""
    street: Text(200) = ""
    postal_code: Text(10) = ""
    city: Text(100) = ""
    country: Text(2, 2) = "NL"
    website: Text(200) = ""
    status: AccountStatus = "prospect"
    manager_id: Id | None = None
    parent_id: Id | None = None
    buying_group_id: Id | None = None
    customer_since: date | None = None
    margin: Decimal | None = Field(
        None, ge=0, le=100, max_digits=5, decimal_places=2, description="Profit margin in %"
    )
    notes: Text(10_000) = ""
    external_id: Text(64) = ""
    archived: bool = False


class AccountIn(AccountFields):
    name: RequiredText(200)


class AccountPatch(AccountFields):
    version: Version
    name: RequiredText(200) | None = None


class AccountOut(Schema):
    id: int
    name: str
    kvk_number: str
    vat_number: str
    industry: str
    street: str
    postal_code: str
    city: str
    country: str
    website: str
    status: AccountStatus
    manager_id: int | None
    parent_id: int | None
    buying_group_id: int | None
    customer_since: date | None
    margin: Decimal | None
    notes: str
    external_id: str
    archived: bool
    version: int
    created_at: datetime
    updated_at: datetime


class AccountDetailOut(AccountOut):
    manager_name: str | None
    branch_ids: list[int]
    revenue_last_12_months: Decimal = Field(
        description="Net revenue (excl. VAT) of the last 12 months."
    )


register(Account, AccountOut)


def _account_data(actor, payload: AccountFields, fields: dict) -> dict:
    data = dict(fields)
    if "manager_id" in data:
        data["manager"] = _resolve_user(data.pop("manager_id"), "manager_id")
    if "parent_id" in data:
        data["parent"] = _resolve_account(actor, data.pop("parent_id"), "parent_id")
    if "buying_group_id" in data:
        data["buying_group"] = _resolve_group(data.pop("buying_group_id"))
    return data


def _account_detail(account: Account) -> dict:
    revenue = selectors.revenue_last_12_months([account.pk])[account.pk]
    return {
        **AccountOut.from_orm(account).model_dump(),
        "manager_name": str(account.manager) if account.manager else None,
        "branch_ids": list(account.branches.values_list("pk", flat=True)),
        "revenue_last_12_months": revenue,
    }


class AccountQuery(Schema):
    q: Text(200) = Field("", description="Search in name, city, postal code and KvK number.")
    manager: Id | None = None
    status: AccountStatus | None = None
    industry: Text(100) = ""
    city: Text(100) = ""
    buying_group: Id | None = None
    archived: bool = False
    ordering: Literal[
        "name", "-name", "city", "-city", "status", "-status", "updated", "-updated"
    ] = "name"


@router.get("/accounts", response={200: list[AccountOut], **READ_ERRORS}, summary="List accounts")
@paginate(Pagination)
def list_accounts(request: HttpRequest, filters: Query[AccountQuery]):
    # Plain rows validate several times faster than model instances.
    return (
        selectors.account_list(
            actor=request.auth, filters=selectors.AccountFilters.from_mapping(filters.model_dump())
        )
        .select_related(None)
        .values(*AccountOut.model_fields)
    )


@router.post("/accounts", response={201: AccountDetailOut, **ERRORS}, summary="Create an account")
def create_account(request: HttpRequest, payload: AccountIn):
    data = _account_data(request.auth, payload, payload.model_dump(exclude_unset=False))
    if "manager_id" not in payload.model_fields_set:
        data.pop("manager", None)
    account = services.account_create(actor=request.auth, data=data)
    return Status(201, _account_detail(account))


@router.get(
    "/accounts/{account_id}",
    response={200: AccountDetailOut, **READ_ERRORS},
    summary="Read an account",
)
def get_account(request: HttpRequest, account_id: Id):
    return _account_detail(selectors.account_get(actor=request.auth, pk=account_id))


@router.patch(
    "/accounts/{account_id}",
    response={200: AccountDetailOut, **ERRORS},
    summary="Change an account",
)
def update_account(request: HttpRequest, account_id: Id, payload: AccountPatch):
    account = selectors.account_get(actor=request.auth, pk=account_id)
    data = _account_data(request.auth, payload, sent_fields(payload, exclude={"version"}))
    account = services.account_update(
        actor=request.auth, account=account, version=payload.version, data=data
    )
    return _account_detail(account)


@router.delete(
    "/accounts/{account_id}", response={204: None, **ERRORS}, summary="Delete an account"
)
def delete_account(request: HttpRequest, account_id: Id, query: Query[DeleteQuery]):
    services.account_delete(
        actor=request.auth,
        account=selectors.account_get(actor=request.auth, pk=account_id),
        version=query.version,
    )
    return Status(204, None)


# --- contacts ---------------------------------------------------------------------------


class ContactFields(In):
    first_name: Text(100) = ""
    role: Text(100) = ""
    email: Text(254) = ""
    phone: Text(30) = ""
    language: Language = "nl"
    interests: list[Text(60)] = Field(default_factory=list, max_length=50)
    external_id: Text(64) = ""
    notes: Text(10_000) = ""


class ContactIn(ContactFields):
    account_id: Id
    last_name: RequiredText(100)


class ContactPatch(ContactFields):
    version: Version
    account_id: Id | None = None
    last_name: RequiredText(100) | None = None
    interests: list[Text(60)] | None = Field(None, max_length=50)


class ContactOut(Schema):
    id: int
    account_id: int
    first_name: str
    last_name: str
    role: str
    email: str
    phone: str
    language: str
    interests: list[str]
    external_id: str
    notes: str
    version: int

    @staticmethod
    def resolve_interests(obj: Contact) -> list[str]:
        return [interest.name for interest in obj.interests.all()]


register(Contact, ContactOut)


class ContactQuery(Schema):
    account: Id | None = None
    q: Text(100) = ""


@router.get(
    "/contacts",
    response={200: list[ContactOut], **READ_ERRORS},
    summary="List contacts",
    tags=["contacts"],
)
@paginate(Pagination)
def list_contacts(request: HttpRequest, filters: Query[ContactQuery]):
    return selectors.contact_list(actor=request.auth, account_id=filters.account, q=filters.q)


@router.post(
    "/contacts", response={201: ContactOut, **ERRORS}, summary="Create a contact", tags=["contacts"]
)
def create_contact(request: HttpRequest, payload: ContactIn):
    account = _resolve_account(request.auth, payload.account_id, "account_id")
    data = payload.model_dump(exclude={"account_id", "interests"})
    contact = services.contact_create(
        actor=request.auth, account=account, data=data, interests=payload.interests
    )
    return Status(201, contact)


@router.get(
    "/contacts/{contact_id}",
    response={200: ContactOut, **READ_ERRORS},
    summary="Read a contact",
    tags=["contacts"],
)
def get_contact(request: HttpRequest, contact_id: Id):
    return selectors.contact_get(actor=request.auth, pk=contact_id)


@router.patch(
    "/contacts/{contact_id}",
    response={200: ContactOut, **ERRORS},
    summary="Change a contact",
    tags=["contacts"],
)
def update_contact(request: HttpRequest, contact_id: Id, payload: ContactPatch):
    contact = selectors.contact_get(actor=request.auth, pk=contact_id)
    data = sent_fields(payload, exclude={"version", "interests", "account_id"})
    if payload.account_id is not None:
        data["account"] = _resolve_account(request.auth, payload.account_id, "account_id")
    return services.contact_update(
        actor=request.auth,
        contact=contact,
        version=payload.version,
        data=data,
        interests=payload.interests if "interests" in payload.model_fields_set else None,
    )


@router.delete(
    "/contacts/{contact_id}",
    response={204: None, **ERRORS},
    summary="Delete a contact",
    tags=["contacts"],
)
def delete_contact(request: HttpRequest, contact_id: Id, query: Query[DeleteQuery]):
    services.contact_delete(
        actor=request.auth,
        contact=selectors.contact_get(actor=request.auth, pk=contact_id),
        version=query.version,
    )
    return Status(204, None)


class ConsentIn(In):
    purpose: Literal["surveys", "campaigns", "events"]
    granted: bool
    source: Literal["web_form", "email", "phone", "in_person", "import", "api"] = "api"
    text_version: Text(40) = ""


class ConsentOut(Schema):
    id: int
    contact_id: int
    purpose: str
    granted: bool
    source: str
    text_version: str
    recorded_at: datetime


@router.get(
    "/contacts/{contact_id}/consents",
    response={200: list[ConsentOut], **READ_ERRORS},
    summary="Consent history of a contact",
    tags=["contacts"],
)
def list_consents(request: HttpRequest, contact_id: Id):
    contact = selectors.contact_get(actor=request.auth, pk=contact_id)
    return ConsentRecord.objects.filter(contact=contact).order_by("-recorded_at", "-id")


@router.post(
    "/contacts/{contact_id}/consents",
    response={201: ConsentOut, **ERRORS},
    summary="Record consent or its withdrawal",
    tags=["contacts"],
)
def record_consent(request: HttpRequest, contact_id: Id, payload: ConsentIn):
    contact = selectors.contact_get(actor=request.auth, pk=contact_id)
    rules.require_can_change(request.auth)
    record = services.consent_record(actor=request.auth, contact=contact, **payload.model_dump())
    return Status(201, record)


# --- contact moments --------------------------------------------------------------------


class InteractionFields(In):
    occurred_at: datetime | None = None
    duration_minutes: int = Field(0, ge=0, le=24 * 60)
    channel: Channel = "phone"
    kind: Kind = "question"
    direction: Direction = "outbound"
    notes: Text(10_000) = ""
    satisfaction: int | None = Field(
        None, ge=1, le=4, description="4 = very good, 3 = good, 2 = fair, 1 = poor"
    )
    contact_ids: list[Id] = Field(default_factory=list, max_length=50)


class InteractionIn(InteractionFields):
    account_id: Id
    subject: RequiredText(200)


class InteractionPatch(InteractionFields):
    version: Version
    subject: RequiredText(200) | None = None
    contact_ids: list[Id] | None = Field(None, max_length=50)


class InteractionOut(Schema):
    id: int
    account_id: int
    user_id: int | None
    occurred_at: datetime
    duration_minutes: int
    channel: str
    kind: str
    direction: str
    subject: str
    notes: str
    satisfaction: int | None
    contact_ids: list[int]
    version: int

    @staticmethod
    def resolve_contact_ids(obj: Interaction) -> list[int]:
        return [c.pk for c in obj.contacts.all()]


register(Interaction, InteractionOut)


def _contacts(actor, account: Account, ids: list[int]) -> list[Contact]:
    contacts = list(Contact.objects.visible_to(actor).filter(pk__in=ids, account=account))
    if len(contacts) != len(set(ids)):
        raise InvalidInput({"contact_ids": [_("Contacts must belong to this account.")]})
    return contacts


class AccountScopedQuery(Schema):
    account: Id | None = None


@router.get(
    "/interactions",
    response={200: list[InteractionOut], **READ_ERRORS},
    summary="List contact moments",
    tags=["interactions"],
)
@paginate(Pagination)
def list_interactions(request: HttpRequest, filters: Query[AccountScopedQuery]):
    return selectors.interaction_list(actor=request.auth, account_id=filters.account)


@router.post(
    "/interactions",
    response={201: InteractionOut, **ERRORS},
    summary="Log a contact moment",
    tags=["interactions"],
)
def create_interaction(request: HttpRequest, payload: InteractionIn):
    account = _resolve_account(request.auth, payload.account_id, "account_id")
    data = payload.model_dump(exclude={"account_id", "contact_ids"})
    if data["occurred_at"] is None:
        data.pop("occurred_at")
    interaction = services.interaction_log(
        actor=request.auth,
        account=account,
        data=data,
        contacts=_contacts(request.auth, account, payload.contact_ids),
    )
    return Status(201, interaction)


@router.get(
    "/interactions/{interaction_id}",
    response={200: InteractionOut, **READ_ERRORS},
    summary="Read a contact moment",
    tags=["interactions"],
)
def get_interaction(request: HttpRequest, interaction_id: Id):
    return selectors.interaction_get(actor=request.auth, pk=interaction_id)


@router.patch(
    "/interactions/{interaction_id}",
    response={200: InteractionOut, **ERRORS},
    summary="Change a contact moment",
    tags=["interactions"],
)
def update_interaction(request: HttpRequest, interaction_id: Id, payload: InteractionPatch):
    interaction = selectors.interaction_get(actor=request.auth, pk=interaction_id)
    data = sent_fields(payload, exclude={"version", "contact_ids"})
    if data.get("occurred_at", True) is None:
        raise InvalidInput({"occurred_at": [_("This field cannot be empty.")]})
    contacts = None
    if payload.contact_ids is not None:
        contacts = _contacts(request.auth, interaction.account, payload.contact_ids)
    return services.interaction_update(
        actor=request.auth,
        interaction=interaction,
        version=payload.version,
        data=data,
        contacts=contacts,
    )


@router.delete(
    "/interactions/{interaction_id}",
    response={204: None, **ERRORS},
    summary="Delete a contact moment",
    tags=["interactions"],
)
def delete_interaction(request: HttpRequest, interaction_id: Id, query: Query[DeleteQuery]):
    services.interaction_delete(
        actor=request.auth,
        interaction=selectors.interaction_get(actor=request.auth, pk=interaction_id),
        version=query.version,
    )
    return Status(204, None)


# --- tasks ------------------------------------------------------------------------------


class TaskFields(In):
    description: Text(10_000) = ""
    due_date: date | None = None
    assignee_id: Id | None = None
    done: bool = False


class TaskIn(TaskFields):
    account_id: Id
    title: RequiredText(200)
    source_interaction_id: Id | None = None


class TaskPatch(TaskFields):
    version: Version
    title: RequiredText(200) | None = None


class TaskOut(Schema):
    id: int
    account_id: int
    assignee_id: int | None
    title: str
    description: str
    due_date: date | None
    done: bool
    done_at: datetime | None
    source_interaction_id: int | None
    version: int


register(Task, TaskOut)


class TaskQuery(Schema):
    account: Id | None = None
    assignee: Id | None = None
    done: bool | None = None


@router.get(
    "/tasks", response={200: list[TaskOut], **READ_ERRORS}, summary="List tasks", tags=["tasks"]
)
@paginate(Pagination)
def list_tasks(request: HttpRequest, filters: Query[TaskQuery]):
    return selectors.task_list(
        actor=request.auth,
        account_id=filters.account,
        assignee_id=filters.assignee,
        done=filters.done,
    )


@router.post("/tasks", response={201: TaskOut, **ERRORS}, summary="Add a task", tags=["tasks"])
def create_task(request: HttpRequest, payload: TaskIn):
    account = _resolve_account(request.auth, payload.account_id, "account_id")
    data = payload.model_dump(exclude={"account_id", "source_interaction_id", "assignee_id"})
    if "assignee_id" in payload.model_fields_set:
        data["assignee"] = _resolve_user(payload.assignee_id, "assignee_id")
    source = None
    if payload.source_interaction_id is not None:
        source = (
            Interaction.objects.visible_to(request.auth)
            .filter(pk=payload.source_interaction_id)
            .first()
        )
        if source is None:
            raise InvalidInput({"source_interaction_id": [_("Unknown contact moment.")]})
    task = services.task_create(
        actor=request.auth, account=account, data=data, source_interaction=source
    )
    return Status(201, task)


@router.get(
    "/tasks/{task_id}",
    response={200: TaskOut, **READ_ERRORS},
    summary="Read a task",
    tags=["tasks"],
)
def get_task(request: HttpRequest, task_id: Id):
    return selectors.task_get(actor=request.auth, pk=task_id)


@router.patch(
    "/tasks/{task_id}", response={200: TaskOut, **ERRORS}, summary="Change a task", tags=["tasks"]
)
def update_task(request: HttpRequest, task_id: Id, payload: TaskPatch):
    task = selectors.task_get(actor=request.auth, pk=task_id)
    data = sent_fields(payload, exclude={"version", "assignee_id"})
    if "assignee_id" in payload.model_fields_set:
        data["assignee"] = _resolve_user(payload.assignee_id, "assignee_id")
    return services.task_update(actor=request.auth, task=task, version=payload.version, data=data)


@router.delete(
    "/tasks/{task_id}", response={204: None, **ERRORS}, summary="Delete a task", tags=["tasks"]
)
def delete_task(request: HttpRequest, task_id: Id, query: Query[DeleteQuery]):
    services.task_delete(
        actor=request.auth,
        task=selectors.task_get(actor=request.auth, pk=task_id),
        version=query.version,
    )
    return Status(204, None)


# --- portfolios -------------------------------------------------------------------------


class PortfolioTransferIn(In):
    from_user_id: Id
    to_user_id: Id


class PortfolioTransferOut(Schema):
    accounts_moved: int


@router.post(
    "/portfolios/transfer",
    response={200: PortfolioTransferOut, **ERRORS},
    summary="Hand a whole portfolio to another account manager",
    tags=["accounts"],
)
def transfer_portfolio(request: HttpRequest, payload: PortfolioTransferIn):
    rules.require_can_change(request.auth)
    from_user = _resolve_user(payload.from_user_id, "from_user_id")
    to_user = _resolve_user(payload.to_user_id, "to_user_id")
    moved = services.portfolio_transfer(actor=request.auth, from_user=from_user, to_user=to_user)
    return {"accounts_moved": moved}
