"""Writes to accounts, contacts, consent, contact moments and tasks.

Every change goes through these functions — from the web UI, the API, the command
line and the admin alike — so permissions, validation, versioning and the audit row
are the same whichever door a change comes through.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from relatiebeheer.audit.services import audit_log
from relatiebeheer.common import writers
from relatiebeheer.common.errors import Conflict, InvalidInput, NotFound, PermissionRefused
from relatiebeheer.common.services import (
    apply_changes,
    full_clean_or_raise,
    versioned_delete,
    versioned_update,
)
from relatiebeheer.common.writers import writer
from relatiebeheer.hooks import accounts_changed, accounts_removed
from relatiebeheer.users.access import can_change_data, can_manage_portfolios
from relatiebeheer.users.models import Role, User

from .models import (
    Account,
    AccountShare,
    ConsentPurpose,
    ConsentRecord,
    Contact,
    Interaction,
    Interest,
    Task,
)
from .search import refresh_search_tokens
from .validators import normalise_phone, normalise_vat

ACCOUNT_FIELDS = (
    "name",
    "kvk_number",
    "vat_number",
    "industry",
    "street",
    "postal_code",
    "city",
    "country",
    "website",
    "status",
    "manager",
    "parent",
    "buying_group",
    "customer_since",
    "margin",
    "notes",
    "external_id",
    "archived",
)
CONTACT_FIELDS = (
    "account",
    "first_name",
    "last_name",
    "role",
    "email",
    "phone",
    "language",
    "external_id",
    "notes",
)
INTERACTION_FIELDS = (
    "occurred_at",
    "duration_minutes",
    "channel",
    "kind",
    "direction",
    "subject",
    "notes",
    "satisfaction",
    "user",
)
TASK_FIELDS = ("title", "description", "due_date", "assignee", "done")


# --- permission helpers -----------------------------------------------------------------


def require_can_change(actor) -> None:
    if not can_change_data(actor):
        raise PermissionRefused(_("Your role may look but not change anything."))


def require_account_writable(actor, account: Account) -> None:
    """Refuse changes by read-only users and to accounts outside the actor's view."""
    require_can_change(actor)
    if not Account.objects.visible_to(actor).filter(pk=account.pk).exists():
        raise NotFound()


def _check_manager(actor, manager: User | None, *, current: User | None) -> None:
    """Account managers keep accounts in their own portfolio; only managers reassign."""
    if manager == current or can_manage_portfolios(actor):
        if manager is not None and manager.role not in {
            Role.ACCOUNT_MANAGER,
            Role.SALES_MANAGER,
            Role.ADMIN,
        }:
            raise InvalidInput({"manager": [_("This user cannot manage accounts.")]})
        return
    if manager != actor:
        raise InvalidInput(
            {"manager": [_("Only a sales manager can assign accounts to someone else.")]}
        )


def _normalise_account(data: dict[str, Any]) -> dict[str, Any]:
    if data.get("kvk_number"):
        data["kvk_number"] = "".join(
            ch for ch in str(data["kvk_number"]) if not ch.isspace() and ch != "."
        )
    if data.get("vat_number"):
        data["vat_number"] = normalise_vat(str(data["vat_number"]))
    for name in ("name", "city", "street", "postal_code", "industry"):
        if isinstance(data.get(name), str):
            data[name] = " ".join(data[name].split())
    if data.get("postal_code"):
        data["postal_code"] = data["postal_code"].upper()
    if data.get("country"):
        data["country"] = str(data["country"]).upper()
    for key in ACCOUNT_FIELDS:
        if (
            key in data
            and data[key] is None
            and key not in {"manager", "parent", "buying_group", "customer_since", "margin"}
        ):
            data[key] = ""
    return data


def _check_parent(actor, account: Account) -> None:
    parent = account.parent
    seen = {account.pk}
    while parent is not None:
        if parent.pk in seen:
            raise InvalidInput({"parent": [_("An account cannot be its own head office.")]})
        seen.add(parent.pk)
        parent = parent.parent


# --- accounts ---------------------------------------------------------------------------


@writer()
def account_create(*, actor, data: Mapping[str, Any]) -> Account:
    """Create an account. An account manager's new account lands in their own portfolio."""
    require_can_change(actor)
    data = _normalise_account(dict(data))
    if "manager" not in data and not can_manage_portfolios(actor):
        data["manager"] = actor
    _check_manager(actor, data.get("manager"), current=None)
    account = Account()
    changed = apply_changes(account, data, ACCOUNT_FIELDS)
    account.refresh_search_text()
    full_clean_or_raise(account)
    with transaction.atomic():
        account.save()
        refresh_search_tokens([account.pk])
        audit_log(actor=actor, action="account.create", obj=account, fields=changed)
        accounts_changed([account.pk])
    return account


@writer(version="version")
def account_update(*, actor, account: Account, version: int, data: Mapping[str, Any]) -> Account:
    """Change an account if nobody saved it since ``version`` (else ``VersionConflict``)."""
    require_account_writable(actor, account)
    data = _normalise_account(dict(data))
    if "manager" in data:
        _check_manager(actor, data["manager"], current=account.manager)
    changed = apply_changes(account, data, ACCOUNT_FIELDS)
    account.refresh_search_text()
    if "parent" in changed:
        _check_parent(actor, account)
    full_clean_or_raise(account)
    with transaction.atomic():
        versioned_update(account, expected_version=version, fields=[*changed, "search_text"])
        if {"name", "city", "postal_code", "kvk_number"} & set(changed):
            refresh_search_tokens([account.pk])
        audit_log(actor=actor, action="account.update", obj=account, fields=changed)
        accounts_changed([account.pk])
    return account


@writer(version="version")
def account_delete(*, actor, account: Account, version: int | None = None) -> None:
    """Delete an account that has no orders or costs; otherwise archive it instead.

    Given ``version``, only the account as it was then (else ``VersionConflict``).
    """
    require_account_writable(actor, account)
    if account.orders.exists() or account.costs.exists():
        raise Conflict(
            _("This account has orders or costs, which must be kept. Archive it instead.")
        )
    with transaction.atomic():
        account_id = account.pk
        audit_log(actor=actor, action="account.delete", obj=account)
        accounts_removed([account_id])
        versioned_delete(account, expected_version=version)
        accounts_changed([account_id])


@writer()
def account_share(*, actor, account: Account, user: User) -> AccountShare:
    require_account_writable(actor, account)
    with transaction.atomic():
        share, created = AccountShare.objects.get_or_create(account=account, user=user)
        if not created:
            writers.nothing_to_write()
            return share
        audit_log(actor=actor, action="account.share", obj=account, extra={"user_id": user.pk})
        accounts_changed([account.pk])  # who sees it changed: per-manager figures follow
    return share


@writer()
def account_unshare(*, actor, account: Account, user: User) -> None:
    require_account_writable(actor, account)
    with transaction.atomic():
        deleted, _rows = AccountShare.objects.filter(account=account, user=user).delete()
        if not deleted:
            writers.nothing_to_write()
            return
        audit_log(actor=actor, action="account.unshare", obj=account, extra={"user_id": user.pk})
        accounts_changed([account.pk])


@writer()
def portfolio_transfer(*, actor, from_user: User, to_user: User) -> int:
    """Hand every account managed by ``from_user`` to ``to_user`` in one action."""
    if not can_manage_portfolios(actor):
        raise PermissionRefused(_("Only a sales manager can hand over a portfolio."))
    if from_user == to_user:
        raise InvalidInput({"to_user": [_("Choose another account manager.")]})
    with transaction.atomic():
        ids = list(Account.objects.filter(manager=from_user).values_list("pk", flat=True))
        Account.objects.filter(pk__in=ids).update(manager=to_user, updated_at=timezone.now())
        audit_log(
            actor=actor,
            action="portfolio.transfer",
            obj=to_user,
            extra={"from_user_id": from_user.pk, "to_user_id": to_user.pk, "accounts": len(ids)},
        )
        accounts_changed(ids)  # the per-manager figures move with the accounts
    return len(ids)


# --- contacts ---------------------------------------------------------------------------


def _set_interests(contact: Contact, names: Iterable[str]) -> None:
    clean = sorted({" ".join(n.split()).lower() for n in names if n and n.strip()})
    existing = {i.name: i for i in Interest.objects.filter(name__in=clean)}
    missing = [Interest(name=n) for n in clean if n not in existing]
    if missing:
        Interest.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {i.name: i for i in Interest.objects.filter(name__in=clean)}
    contact.interests.set(existing.values())


def _normalise_contact(data: dict[str, Any]) -> dict[str, Any]:
    if data.get("phone"):
        data["phone"] = normalise_phone(str(data["phone"]))
    if isinstance(data.get("email"), str):
        data["email"] = data["email"].strip()
    for key in ("first_name", "last_name", "role", "email", "phone", "notes", "external_id"):
        if key in data and data[key] is None:
            data[key] = ""
    return data


@writer()
def contact_create(
    *, actor, account: Account, data: Mapping[str, Any], interests: Iterable[str] = ()
) -> Contact:
    require_account_writable(actor, account)
    data = _normalise_contact(dict(data))
    contact = Contact(account=account)
    changed = apply_changes(contact, data, CONTACT_FIELDS)
    full_clean_or_raise(contact)
    with transaction.atomic():
        contact.save()
        _set_interests(contact, interests)
        audit_log(actor=actor, action="contact.create", obj=contact, fields=changed)
        accounts_changed([account.pk])
    return contact


@writer(version="version")
def contact_update(
    *,
    actor,
    contact: Contact,
    version: int,
    data: Mapping[str, Any],
    interests: Iterable[str] | None = None,
) -> Contact:
    require_account_writable(actor, contact.account)
    data = _normalise_contact(dict(data))
    moved_from = set()
    if "account" in data and data["account"] != contact.account:
        require_account_writable(actor, data["account"])
        moved_from.add(contact.account_id)
    changed = apply_changes(contact, data, CONTACT_FIELDS)
    full_clean_or_raise(contact)
    with transaction.atomic():
        versioned_update(contact, expected_version=version, fields=changed)
        if interests is not None:
            _set_interests(contact, interests)
            changed.append("interests")
        audit_log(actor=actor, action="contact.update", obj=contact, fields=changed)
        accounts_changed({contact.account_id, *moved_from})
    return contact


@writer(version="version")
def contact_delete(*, actor, contact: Contact, version: int | None = None) -> None:
    require_account_writable(actor, contact.account)
    with transaction.atomic():
        audit_log(actor=actor, action="contact.delete", obj=contact)
        versioned_delete(contact, expected_version=version)
        accounts_changed([contact.account_id])


# --- consent ----------------------------------------------------------------------------


@writer()
def consent_record(
    *,
    actor,
    contact: Contact,
    purpose: str,
    granted: bool,
    source: str,
    text_version: str = "",
) -> ConsentRecord:
    """Append a consent statement; the latest one per purpose is what counts.

    Withdrawal is always allowed, also for users who may otherwise change nothing on
    the account (e.g. a contact using the unsubscribe link, acted on by the system).
    """
    if purpose not in ConsentPurpose.values:
        raise InvalidInput({"purpose": [_("Unknown purpose.")]})
    if granted:
        require_account_writable(actor, contact.account)
    with transaction.atomic():
        record = ConsentRecord.objects.create(
            contact=contact,
            purpose=purpose,
            granted=granted,
            source=source,
            text_version=text_version,
            recorded_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        audit_log(
            actor=actor,
            action="consent.grant" if granted else "consent.withdraw",
            obj=record,
            account_id=contact.account_id,
            extra={"contact_id": contact.pk, "purpose": purpose},
        )
        accounts_changed([contact.account_id])
    return record


# --- contact moments --------------------------------------------------------------------


def _check_contacts(account: Account, contacts: Iterable[Contact]) -> list[Contact]:
    contacts = list(contacts)
    if any(c.account_id != account.pk for c in contacts):
        raise InvalidInput({"contacts": [_("Contacts must belong to this account.")]})
    return contacts


@writer()
def interaction_log(
    *, actor, account: Account, data: Mapping[str, Any], contacts: Iterable[Contact] = ()
) -> Interaction:
    """Log a contact moment (with its optional quick satisfaction reading)."""
    require_account_writable(actor, account)
    data = dict(data)
    data.setdefault("user", actor)
    contacts = _check_contacts(account, contacts)
    interaction = Interaction(account=account)
    changed = apply_changes(interaction, data, INTERACTION_FIELDS)
    full_clean_or_raise(interaction)
    with transaction.atomic():
        interaction.save()
        interaction.contacts.set(contacts)
        audit_log(actor=actor, action="interaction.create", obj=interaction, fields=changed)
        accounts_changed([account.pk])
    return interaction


@writer(version="version")
def interaction_update(
    *,
    actor,
    interaction: Interaction,
    version: int,
    data: Mapping[str, Any],
    contacts: Iterable[Contact] | None = None,
) -> Interaction:
    require_account_writable(actor, interaction.account)
    changed = apply_changes(interaction, dict(data), INTERACTION_FIELDS)
    full_clean_or_raise(interaction)
    with transaction.atomic():
        versioned_update(interaction, expected_version=version, fields=changed)
        if contacts is not None:
            interaction.contacts.set(_check_contacts(interaction.account, contacts))
            changed.append("contacts")
        audit_log(actor=actor, action="interaction.update", obj=interaction, fields=changed)
        accounts_changed([interaction.account_id])
    return interaction


@writer(version="version")
def interaction_delete(*, actor, interaction: Interaction, version: int | None = None) -> None:
    require_account_writable(actor, interaction.account)
    with transaction.atomic():
        audit_log(actor=actor, action="interaction.delete", obj=interaction)
        versioned_delete(interaction, expected_version=version)
        accounts_changed([interaction.account_id])


# --- tasks ------------------------------------------------------------------------------


def _task_done_fields(task: Task, changed: list[str]) -> list[str]:
    if "done" in changed:
        task.done_at = timezone.now() if task.done else None
        changed.append("done_at")
    return changed


def _check_assignee(account: Account, assignee: User | None) -> None:
    if assignee is None:
        return
    if not Account.objects.visible_to(assignee).filter(pk=account.pk).exists():
        raise InvalidInput({"assignee": [_("This user cannot see the account.")]})


@writer()
def task_create(
    *,
    actor,
    account: Account,
    data: Mapping[str, Any],
    source_interaction: Interaction | None = None,
) -> Task:
    require_account_writable(actor, account)
    data = dict(data)
    data.setdefault("assignee", account.manager or actor)
    _check_assignee(account, data["assignee"])
    task = Task(account=account, created_by=actor if actor.is_authenticated else None)
    if source_interaction is not None:
        if source_interaction.account_id != account.pk:
            raise InvalidInput(
                {"source_interaction": [_("The contact moment belongs to another account.")]}
            )
        task.source_interaction = source_interaction
    changed = _task_done_fields(task, apply_changes(task, data, TASK_FIELDS))
    full_clean_or_raise(task)
    with transaction.atomic():
        task.save()
        audit_log(actor=actor, action="task.create", obj=task, fields=changed)
        accounts_changed([account.pk])
    return task


@writer(version="version")
def task_update(*, actor, task: Task, version: int, data: Mapping[str, Any]) -> Task:
    require_account_writable(actor, task.account)
    data = dict(data)
    if "assignee" in data:
        _check_assignee(task.account, data["assignee"])
    changed = _task_done_fields(task, apply_changes(task, data, TASK_FIELDS))
    full_clean_or_raise(task)
    with transaction.atomic():
        versioned_update(task, expected_version=version, fields=changed)
        audit_log(actor=actor, action="task.update", obj=task, fields=changed)
        accounts_changed([task.account_id])
    return task


@writer(version="version")
def task_delete(*, actor, task: Task, version: int | None = None) -> None:
    require_account_writable(actor, task.account)
    with transaction.atomic():
        audit_log(actor=actor, action="task.delete", obj=task)
        versioned_delete(task, expected_version=version)
        accounts_changed([task.account_id])
