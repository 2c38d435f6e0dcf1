"""What the loyalty API's rooms share: the router class, lookups of the records a request
names, and the schemas more than one room answers with."""

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from ninja import Router, Schema

from relatiebeheer.api.types import Id
from relatiebeheer.common.errors import InvalidInput
from relatiebeheer.relations.models import Account, Contact
from relatiebeheer.users.models import User

from .programme.models import Programme

OPERATION_PREFIX = "relatiebeheer_loyalty_api_"


class LoyaltyRouter(Router):
    """A router whose operations keep the ids ``relatiebeheer_loyalty_api_<function>``,
    whichever room of the app holds them: clients generated from the OpenAPI document
    keep their method names."""

    def add_api_operation(
        self, path: str, methods: list[str], view_func: Callable, **kwargs: Any
    ) -> None:
        if kwargs.get("operation_id") is None:
            kwargs["operation_id"] = OPERATION_PREFIX + view_func.__name__
        super().add_api_operation(path, methods, view_func, **kwargs)


def account_or_422(actor: User, pk: int) -> Account:
    """An account the actor sees, named in a request body (else a field error)."""
    account = Account.objects.visible_to(actor).filter(pk=pk).first()
    if account is None:
        raise InvalidInput({"account_id": [_("Unknown account.")]})
    return account


def contact_or_422(
    actor: User, pk: int | None, account: Account | None = None, field: str = "contact_id"
) -> Contact | None:
    if pk is None:
        return None
    contact = Contact.objects.visible_to(actor).filter(pk=pk).first()
    if contact is None or (account is not None and contact.account_id != account.pk):
        raise InvalidInput({field: [_("Unknown contact.")]})
    return contact


def contacts_or_422(actor: User, ids: list[int], field: str = "contact_ids") -> list[Contact]:
    contacts = list(Contact.objects.visible_to(actor).filter(pk__in=ids).select_related("account"))
    if len(contacts) != len(set(ids)):
        raise InvalidInput({field: [_("Unknown contact.")]})
    return contacts


def programme_or_422(pk: int, field: str = "programme_id") -> Programme:
    programme = Programme.objects.filter(pk=pk).first()
    if programme is None:
        raise InvalidInput({field: [_("Unknown programme.")]})
    return programme


class LoyaltyAccountQuery(Schema):
    account: Id | None = None


class BenefitOut(Schema):
    kind: str
    description: str
    label: str


class GapOut(Schema):
    level: str
    last_done: dt.date | None
    months: int | None
    message: str


class ScoreOut(Schema):
    as_of: dt.date
    trust: Decimal | None
    satisfaction: Decimal | None
    alternatives: Decimal | None
    investment: Decimal | None
    index: Decimal | None


def gaps_out(gaps: list[Any]) -> list[dict[str, Any]]:
    return [
        {"level": g.level, "last_done": g.last_done, "months": g.months, "message": g.message}
        for g in gaps
    ]
