"""Erasing one contact's personal data (AVG / GDPR article 17). Reading and exporting
what is held about a contact: ``selectors.py``."""

from __future__ import annotations

import json
from typing import Any

from django.apps import apps
from django.contrib.sessions.models import Session
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from relatiebeheer.audit.models import AuditEntry
from relatiebeheer.audit.services import audit_log
from relatiebeheer.common.errors import Conflict, PermissionRefused
from relatiebeheer.common.writers import lock, writer
from relatiebeheer.hooks import accounts_changed
from relatiebeheer.relations.models import Contact
from relatiebeheer.relations.rules import require_account_writable
from relatiebeheer.users.access import can_manage_portfolios
from relatiebeheer.users.models import User

from .policies import policy_for
from .selectors import ERASED, contact_relations, erased_values


def _scrub_text_columns(values: list[str]) -> int:
    """Replace the values in every text and JSON column of every table (set-based)."""
    changed = 0
    for model in apps.get_models(include_auto_created=True):
        if model._meta.proxy or not model._meta.managed or model in (Session, AuditEntry):
            continue  # sessions are checked whole below; the audit log holds no personal data
        text_fields = [
            f for f in model._meta.concrete_fields
            if isinstance(f, (models.CharField, models.TextField, models.JSONField)) and not f.primary_key
        ]  # fmt: skip
        if not text_fields:
            continue
        manager = model._base_manager
        for field in text_fields:
            for value in values:
                lookup = (
                    {f"{field.name}__icontains": value}
                    if not isinstance(field, models.JSONField)
                    else None
                )
                if lookup is None:
                    rows = [
                        obj
                        for obj in manager.exclude(**{f"{field.name}__isnull": True})
                        .only("pk", field.name)
                        .iterator()
                        if value.lower()
                        in json.dumps(getattr(obj, field.name), ensure_ascii=False).lower()
                    ]
                    for obj in rows:
                        cleaned = json.loads(
                            _replace(
                                json.dumps(getattr(obj, field.name), ensure_ascii=False), value
                            )
                        )
                        manager.filter(pk=obj.pk).update(**{field.name: cleaned})
                        changed += 1
                    continue
                for pk, text in manager.filter(**lookup).values_list("pk", field.name).iterator():
                    manager.filter(pk=pk).update(
                        **{field.name: _replace(text, value)[: field.max_length or None]}
                    )
                    changed += 1
    return changed


def _replace(text: str, value: str) -> str:
    import re

    return re.sub(re.escape(value), ERASED, text, flags=re.IGNORECASE)


def _scrub_sessions(values: list[str]) -> int:
    removed = 0
    for session in Session.objects.iterator():
        decoded = json.dumps(session.get_decoded(), default=str).lower()
        if any(v.lower() in decoded for v in values):
            session.delete()
            removed += 1
    return removed


@writer(locks=("relations.contact",))
def contact_erase(*, actor: User, contact: Contact) -> dict:
    """Anonymise ``contact`` everywhere; orders and amounts stay with the account.

    Only sales managers and administrators may erase. Fiscal records (orders, credit
    notes, costs) are kept for the legal seven years: they belong to the account, not
    to the person, and the contact's record says so.
    """
    if not can_manage_portfolios(actor):
        raise PermissionRefused(
            _("Only a sales manager or an administrator can erase personal data.")
        )
    require_account_writable(actor, contact.account)
    summary: dict[str, int] = {}
    with transaction.atomic():
        # Locked first: two erasures (or an erasure and an edit) of one person queue here.
        locked = lock(Contact.objects.filter(pk=contact.pk))
        if not locked or locked[0].erased_at is not None:
            raise Conflict(_("This contact was erased already."))
        contact = locked[0]
        values = erased_values(contact)
        for relation in contact_relations():
            model: Any = relation.related_model
            label = model._meta.label
            policy = policy_for(label, relation.field.name)
            if policy is None:
                raise Conflict(f"No privacy policy for {label}.{relation.field.name}")
            qs = model._base_manager.filter(**{relation.field.name: contact})
            if policy.erase == "delete":
                summary[label] = qs.count()
                qs.delete()
            elif policy.erase == "unlink" and not relation.many_to_many:
                summary[label] = qs.update(**{relation.field.name: None})
        contact.interests.clear()
        Contact.objects.filter(pk=contact.pk).update(
            first_name="",
            last_name=ERASED,
            role="",
            email="",
            phone="",
            notes=_(
                "Personal data erased on %(date)s. Orders and amounts stay with the account "
                "for the fiscal retention period of 7 years."
            )
            % {"date": timezone.localdate().isoformat()},
            external_id="",
            erased_at=timezone.now(),
            version=models.F("version") + 1,
        )
        summary["text fields scrubbed"] = _scrub_text_columns(values)
        summary["sessions removed"] = _scrub_sessions(values)
        audit_log(actor=actor, action="privacy.erase", obj=contact, account_id=contact.account_id)
        accounts_changed([contact.account_id])
    return summary
