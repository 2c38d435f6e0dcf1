"""Reading what is held about one contact (AVG / GDPR articles 15 and 20): the
relations to a contact, the export, and the values an erasure must leave nowhere.

The export is a read, audited: whoever may see the contact may export it.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import ForeignObjectRel
from django.utils import timezone

from relatiebeheer.audit.services import audit_log
from relatiebeheer.relations.models import Contact
from relatiebeheer.users.models import User

from .policies import policy_for

ERASED = "[verwijderd]"


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _row(obj: models.Model) -> dict:
    return {f.attname: _plain(getattr(obj, f.attname)) for f in obj._meta.concrete_fields}


def contact_relations() -> list[ForeignObjectRel]:
    """Every relation from another model to Contact (foreign keys and many-to-many).

    Hidden ones (``related_name="+"``, e.g. a loyalty card's holder) too:
    ``_meta.related_objects`` leaves them out, and an erasure would leave them linked.
    The through tables of many-to-many fields are reached through their field."""
    return [
        rel
        for rel in Contact._meta.get_fields(include_hidden=True)
        if isinstance(rel, ForeignObjectRel) and not _through_table(rel.related_model)
    ]


def _through_table(model: Any) -> bool:
    return bool(model._meta.auto_created)


def _related_rows(contact: Contact, relation: ForeignObjectRel) -> list[models.Model]:
    model: Any = relation.related_model
    return list(model._base_manager.filter(**{relation.field.name: contact}))


def contact_export(*, actor: User, contact: Contact) -> dict:
    """Everything held about ``contact``, machine-readable (JSON-ready).

    Whoever may see the contact may export it (the export is audited); the caller has
    already fetched the contact through the visibility rules.
    """
    related: dict[str, list[dict]] = {}
    data = {
        "contact": {**_row(contact), "interests": [i.name for i in contact.interests.all()]},
        "account": {"id": contact.account_id, "name": contact.account.name},
        "exported_at": timezone.now().isoformat(),
        "related": related,
    }
    for relation in contact_relations():
        model: Any = relation.related_model
        label = model._meta.label
        policy = policy_for(label, relation.field.name)
        if policy is not None and not policy.export:
            continue
        rows = _related_rows(contact, relation)
        related[f"{label}.{relation.field.name}"] = [_row(obj) for obj in rows]
    audit_log(actor=actor, action="privacy.export", obj=contact, account_id=contact.account_id)
    return data


def contact_export_json(*, actor: User, contact: Contact) -> str:
    return json.dumps(
        contact_export(actor=actor, contact=contact), indent=2, ensure_ascii=False, default=str
    )


def erased_values(contact: Contact) -> list[str]:
    """The strings that identify the contact and must not survive an erasure."""
    values = [
        contact.full_name,
        contact.first_name,
        contact.last_name,
        contact.email,
        contact.phone,
    ]
    # Single words under four letters (e.g. "de", "Jan") are too common to scrub safely.
    return sorted({v for v in values if v and len(v) >= 4 and v != ERASED}, key=len, reverse=True)
