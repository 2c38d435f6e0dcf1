"""Erasing one contact's personal data (AVG / GDPR article 17). Reading and exporting
what is held about a contact: ``selectors.py``."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.sessions.models import Session
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from relatiebeheer.audit.services import audit_log
from relatiebeheer.common.errors import Conflict, PermissionRefused
from relatiebeheer.common.writers import lock, writer
from relatiebeheer.hooks import accounts_changed
from relatiebeheer.relations.models import Contact
from relatiebeheer.relations.rules import require_account_writable
from relatiebeheer.users.access import can_manage_portfolios
from relatiebeheer.users.models import User

from . import registry
from .matching import ANYWHERE, ERASED, LINKED, Matcher
from .policies import policy_for
from .selectors import contact_matcher, contact_relations, personal_rows

STEP_BATCH = 200


def _step_done(step: str) -> None:
    """Called after every committed step of an erasure (tests raise here to simulate a
    crash halfway)."""


def _begin(actor: User, contact: Contact) -> Contact:
    """Step 1: mark the contact "erasure pending" (or find it pending: a resumed run)."""
    with transaction.atomic():
        # Locked first: two erasures (or an erasure and an edit) of one person queue here.
        locked = lock(Contact.objects.filter(pk=contact.pk))
        if not locked or locked[0].erased_at is not None:
            raise Conflict(_("This contact was erased already."))
        contact = locked[0]
        resumed = contact.erasure_started_at is not None
        if not resumed:
            contact.erasure_started_at = timezone.now()
            Contact.objects.filter(pk=contact.pk).update(
                erasure_started_at=contact.erasure_started_at, version=models.F("version") + 1
            )
        audit_log(
            actor=actor,
            action="privacy.erase.start",
            obj=contact,
            account_id=contact.account_id,
            extra={"resumed": resumed},
        )
    return contact


def _scrub_entry(
    contact: Contact, entry: registry.ModelEntry, matcher: Matcher, *, linked_only: bool = False
) -> int:
    """Scrub the registered fields of the rows of one model that concern the person:
    found by a read outside any transaction, rewritten in short transactions of at most
    ``STEP_BATCH`` rows (each row read again under its lock). ``linked_only``: only the
    rows linked to the contact (an indexed look-up; the last step's sweep)."""
    if linked_only:
        if not entry.contact:
            return 0
        base: Any = entry.model._base_manager
        pks = base.filter(**{entry.contact: contact.pk}).values_list("pk", flat=True)
        found = dict.fromkeys(pks, LINKED)
    else:
        found = personal_rows(contact, entry, matcher)
    if entry.model is Contact:
        found.pop(contact.pk, None)  # the contact itself: reset by the last step
    if not found:
        return 0
    model: Any = entry.model
    manager = model._base_manager
    versioned = any(f.name == "version" for f in model._meta.concrete_fields)
    pks = sorted(found)
    changed = 0
    for start in range(0, len(pks), STEP_BATCH):
        batch = pks[start : start + STEP_BATCH]
        with transaction.atomic():
            for obj in lock(manager.filter(pk__in=batch)):
                updates: dict[str, Any] = {}
                strength = found[obj.pk]
                for name in entry.fields:
                    value = getattr(obj, name)
                    if name in entry.json_fields:
                        cleaned = matcher.scrub_value(value, strength)
                    elif isinstance(value, str):
                        cleaned = matcher.scrub(value, strength)
                        max_length = model._meta.get_field(name).max_length
                        cleaned = cleaned[:max_length] if max_length else cleaned
                    else:
                        continue
                    if cleaned != value:
                        updates[name] = cleaned
                if updates:
                    if versioned:
                        updates["version"] = models.F("version") + 1
                    manager.filter(pk=obj.pk).update(**updates)
                    changed += 1
    return changed


def _apply_policy(contact: Contact, relation: Any) -> tuple[str, int]:
    model: Any = relation.related_model
    label = model._meta.label
    policy = policy_for(label, relation.field.name)
    if policy is None:
        raise Conflict(f"No privacy policy for {label}.{relation.field.name}")
    count = 0
    with transaction.atomic():
        qs = model._base_manager.filter(**{relation.field.name: contact.pk})
        if policy.erase == "delete":
            count = qs.count()
            qs.delete()
        elif policy.erase == "unlink" and not relation.many_to_many:
            count = qs.update(**{relation.field.name: None})
    return label, count


def _scrub_sessions(matcher: Matcher) -> int:
    removed = 0
    for session in Session.objects.iterator():
        decoded = json.dumps(session.get_decoded(), default=str, ensure_ascii=False)
        if matcher.names(decoded, ANYWHERE):
            session.delete()
            removed += 1
    return removed


def _remove_uploads(matcher: Matcher) -> int:
    """Kept import uploads (source file, refused rows) that name the person are deleted;
    the job says why. Idempotent: a removed upload is not found again."""
    from relatiebeheer.imports.models import ImportJob
    from relatiebeheer.imports.retention import remove_upload, uploads_naming

    jobs = uploads_naming(matcher)
    for job in jobs:
        remove_upload(job)
        with transaction.atomic():
            ImportJob.objects.filter(pk=job.pk).update(
                message=_(
                    "The uploaded file was removed: it named a person whose data were erased."
                )
            )
    return len(jobs)


def _finish(actor: User, contact: Contact, matcher: Matcher) -> None:
    """The last step: a sweep of the rows linked to the contact since their step (a mail
    queued meanwhile: scrubbed and unlinked like the others), then the contact's own
    data, the "erased" mark, the audit row, the hook — in one short transaction."""
    with transaction.atomic():
        locked = lock(Contact.objects.filter(pk=contact.pk))
        if locked and locked[0].erased_at is not None:  # a second run finished it first
            accounts_changed([contact.account_id])
            return
        for entry in registry.contact_models():
            _scrub_entry(contact, entry, matcher, linked_only=True)
        for relation in contact_relations():
            _apply_policy(contact, relation)
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
        audit_log(actor=actor, action="privacy.erase", obj=contact, account_id=contact.account_id)
        accounts_changed([contact.account_id])


@writer(locks=("relations.contact",))
def contact_erase(*, actor: User, contact: Contact) -> dict:
    """Anonymise ``contact`` everywhere the personal-data registry points; orders and
    amounts stay with the account.

    Only sales managers and administrators may erase. Fiscal records (orders, credit
    notes, costs) are kept for the legal seven years: they belong to the account, not
    to the person, and the contact's record says so.

    Short transactions, resumable and idempotent: the contact is marked "erasure
    pending" first; then each model's rows are scrubbed (in batches), each relation's
    policy applied, sessions and kept import uploads cleared, each step committed on
    its own; the last step resets the contact and marks it erased. An erasure that
    stopped halfway is finished by running it again (the contact's own name, address
    and phone stay until the last step, so the second run finds what the first left).
    """
    if not can_manage_portfolios(actor):
        raise PermissionRefused(
            _("Only a sales manager or an administrator can erase personal data.")
        )
    require_account_writable(actor, contact.account)
    contact = _begin(actor, contact)
    matcher = contact_matcher(contact)
    summary: dict[str, int] = {"text fields scrubbed": 0}
    for entry in registry.contact_models():
        summary["text fields scrubbed"] += _scrub_entry(contact, entry, matcher)
        _step_done(f"scrub {entry.model._meta.label}")
    for relation in contact_relations():
        label, count = _apply_policy(contact, relation)
        if count:
            summary[label] = summary.get(label, 0) + count
        _step_done(f"policy {label}.{relation.field.name}")
    summary["sessions removed"] = _scrub_sessions(matcher)
    _step_done("sessions")
    summary["import uploads removed"] = _remove_uploads(matcher)
    _step_done("uploads")
    _finish(actor, contact, matcher)
    _step_done("finish")
    return summary
