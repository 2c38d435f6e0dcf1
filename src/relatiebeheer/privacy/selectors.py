"""Reading what is held about one contact (AVG / GDPR articles 15 and 20): the
relations to a contact, the export, and the rows of the personal-data registry
(``registry.py``) that concern the person — the same rows an erasure scrubs.

The export is a read, audited: whoever may see the contact may export it.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import ForeignObjectRel, Q
from django.utils import timezone

from relatiebeheer.audit.services import audit_log
from relatiebeheer.relations.models import Contact
from relatiebeheer.users.models import User

from . import registry
from .matching import ANYWHERE, ERASED, LINKED, NAMED, Matcher, has_key_value, matcher_for
from .policies import policy_for

__all__ = ["ERASED", "contact_export", "contact_relations", "personal_rows"]


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
    data["personal_data"] = personal_data(contact)
    audit_log(actor=actor, action="privacy.export", obj=contact, account_id=contact.account_id)
    return data


def contact_export_json(*, actor: User, contact: Contact) -> str:
    return json.dumps(
        contact_export(actor=actor, contact=contact), indent=2, ensure_ascii=False, default=str
    )


def contact_matcher(contact: Contact) -> Matcher:
    """The identifying values of ``contact`` (see ``matching.py`` for the rule)."""
    return matcher_for(
        first_name=contact.first_name,
        last_name=contact.last_name,
        email=contact.email,
        phone=contact.phone,
    )


def _nonempty(entry: registry.ModelEntry) -> Q:
    q = Q()
    for name in entry.fields:
        if name not in entry.json_fields:
            q |= Q(**{f"{name}__gt": ""})
        else:
            q |= Q(**{f"{name}__isnull": False})
    return q


def personal_rows(
    contact: Contact, entry: registry.ModelEntry, matcher: Matcher | None = None
) -> dict[Any, str]:
    """The rows of ``entry.model`` that concern ``contact``: primary key → strength
    (``LINKED``: linked to the person; ``NAMED``: of the person's account and naming
    them, or naming them by a distinctive value). Reads only the rows the registry
    points at: the contact's own, the account's, and — for ``anywhere`` fields — rows
    that a database pre-filter on the distinctive values (or the contact id under a
    link key) lets through; every candidate is then matched word by word in Python."""
    matcher = matcher or contact_matcher(contact)
    manager: Any = entry.model._base_manager
    found: dict[Any, str] = {}
    if entry.contact:
        for pk in manager.filter(**{entry.contact: contact.pk}).values_list("pk", flat=True):
            found[pk] = LINKED
    if entry.account and contact.account_id is not None:
        rows = (
            manager.filter(**{entry.account: contact.account_id})
            .filter(_nonempty(entry))
            .values_list("pk", *entry.fields)
        )
        for pk, *values in rows.iterator(chunk_size=2000):
            if pk not in found and any(matcher.names_value(v, NAMED) for v in values):
                found[pk] = NAMED
    if entry.anywhere and not matcher.empty:
        prefilter = Q()
        for name in entry.fields:
            for needle in matcher.db_needles():
                prefilter |= Q(**{f"{name}__icontains": needle})
            if name in entry.json_fields:
                for key in entry.link_keys:
                    prefilter |= Q(**{f"{name}__icontains": f'"{key}": {contact.pk}'})
        for pk, *values in manager.filter(prefilter).values_list("pk", *entry.fields).iterator():
            if pk in found:
                continue
            if entry.link_keys and any(
                has_key_value(v, entry.link_keys, contact.pk) for v in values
            ):
                found[pk] = LINKED
            elif any(matcher.names_value(v, ANYWHERE) for v in values):
                found[pk] = NAMED
    return found


def personal_data(contact: Contact) -> dict[str, list[dict]]:
    """Every registered row that concerns ``contact``, whole, per model (``app.Model``)."""
    matcher = contact_matcher(contact)
    result: dict[str, list[dict]] = {}
    seen: dict[str, set] = {}
    for entry in registry.contact_models():
        label = entry.model._meta.label
        pks = set(personal_rows(contact, entry, matcher)) - seen.setdefault(label, set())
        if entry.model is Contact:
            pks.discard(contact.pk)  # the contact itself is the export's first section
        if not pks:
            continue
        seen[label] |= pks
        manager: Any = entry.model._base_manager
        rows = [_row(obj) for obj in manager.filter(pk__in=pks).order_by("pk")]
        result.setdefault(label, []).extend(rows)
    for rows in result.values():
        rows.sort(key=lambda r: str(r.get("id", "")))
    return result
