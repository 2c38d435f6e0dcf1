"""Writes to accounts, contacts, consent, contact moments and tasks, one record at a time.

Every change goes through these functions — from the web UI, the API, the command
line and the admin alike — so permissions, validation, versioning and the audit row
are the same whichever door a change comes through. The rules they apply live in
``rules.py``, shared with the bulk writers of ``bulk.py`` (imports); every public
function here is a declared writer (``common.writers``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from relatiebeheer.audit.services import audit_log
from relatiebeheer.common import writers
from relatiebeheer.common.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionRefused,
    VersionConflict,
)
from relatiebeheer.common.services import (
    apply_changes,
    full_clean_or_raise,
    versioned_delete,
    versioned_update,
)
from relatiebeheer.common.writers import writer
from relatiebeheer.hooks import accounts_changed, accounts_removed
from relatiebeheer.users.access import can_manage_portfolios
from relatiebeheer.users.models import User

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
from .rules import (
    ACCOUNT_FIELDS,
    CONTACT_FIELDS,
    INTERACTION_FIELDS,
    TASK_FIELDS,
    account_relations,
    check_assignee,
    check_contacts,
    check_manager,
    check_parent,
    check_source_interaction,
    default_manager,
    interest_names,
    merged_values,
    normalise_account,
    normalise_contact,
    refusal,
    require_account_writable,
    require_can_change,
    task_done_fields,
)
from .search import refresh_search_tokens

# --- accounts ---------------------------------------------------------------------------


@writer()
def account_create(*, actor: User, data: Mapping[str, Any]) -> Account:
    """Create an account. An account manager's new account lands in their own portfolio
    when no manager is named (``rules.default_manager``)."""
    require_can_change(actor)
    data = normalise_account(dict(data))
    if data.get("manager") is None:
        data["manager"] = default_manager(actor)
    check_manager(actor, data.get("manager"), current=None)
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
def account_update(
    *, actor: User, account: Account, version: int, data: Mapping[str, Any]
) -> Account:
    """Change an account if nobody saved it since ``version`` (else ``VersionConflict``)."""
    require_account_writable(actor, account)
    data = normalise_account(dict(data))
    if "manager" in data:
        check_manager(actor, data["manager"], current=account.manager)
    changed = apply_changes(account, data, ACCOUNT_FIELDS)
    account.refresh_search_text()
    if "parent" in changed:
        check_parent(account)
    full_clean_or_raise(account)
    with transaction.atomic():
        versioned_update(account, expected_version=version, fields=[*changed, "search_text"])
        if {"name", "city", "postal_code", "kvk_number"} & set(changed):
            refresh_search_tokens([account.pk])
        audit_log(actor=actor, action="account.update", obj=account, fields=changed)
        accounts_changed([account.pk])
    return account


@writer(version="version")
def account_delete(*, actor: User, account: Account, version: int | None = None) -> None:
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


@writer(version="keep_version", locks=("relations.account",))
@transaction.atomic
def account_merge(
    *, actor: User, keep: Account, keep_version: int, other: Account, other_version: int
) -> Account:
    """Move everything ``other`` holds into ``keep`` and delete ``other``.

    Refused unless the actor may change both accounts and both still have the versions
    the actor saw (``VersionConflict`` carries the current one); both rows are locked
    before the versions are compared. What ``keep`` takes from ``other`` is
    ``rules.merged_values``; what moves is everything that points at an account, in any
    app (``rules.account_relations``): contacts with their consent history, contact
    moments, tasks, orders and credit notes, costs, shares, branches …
    """
    require_account_writable(actor, keep)
    require_account_writable(actor, other)
    if keep.pk == other.pk:
        raise refusal("other_id", "merge_same")
    locked = {a.pk: a for a in writers.lock(Account.objects.filter(pk__in=[keep.pk, other.pk]))}
    if keep.pk not in locked or other.pk not in locked:
        raise NotFound()
    keep, other = locked[keep.pk], locked[other.pk]
    writers.version_checked()
    if other.version != other_version:
        raise VersionConflict(current=other)
    if keep.version != keep_version:
        raise VersionConflict(current=keep)
    moved: dict[str, int] = {}
    for model, fk in account_relations():
        count = _move_to(model, fk, other=other, keep=keep)
        if count:
            label = model._meta.label_lower
            moved[label] = moved.get(label, 0) + count
    values = merged_values(keep, other)
    if "external_id" in values:
        Account.objects.filter(pk=other.pk).update(external_id="")  # unique: free it first
    for name, value in values.items():
        setattr(keep, name, value)
    keep.refresh_search_text()
    Account.objects.filter(pk=keep.pk).update(
        **values,
        search_text=keep.search_text,
        version=models.F("version") + 1,
        updated_at=timezone.now(),
    )
    keep.refresh_from_db()
    refresh_search_tokens([keep.pk])  # the moved tokens were the other account's words
    audit_log(
        actor=actor,
        action="account.merge",
        obj=keep,
        fields=list(values),
        extra={"merged_account_id": other.pk, "moved": moved},
    )
    audit_log(
        actor=actor,
        action="account.merged_into",
        obj=other,
        account_id=keep.pk,
        extra={"into_account_id": keep.pk},
    )
    other_pk = other.pk
    accounts_removed([other_pk])
    Account.objects.filter(pk=other_pk).delete()
    accounts_changed([keep.pk])
    return keep


def _move_to(model: type[models.Model], fk: Any, *, other: Account, keep: Account) -> int:
    """Point ``model``'s rows of ``other`` at ``keep``; the number moved. Where the model
    allows one row per account, ``keep``'s own row wins and ``other``'s goes."""
    manager = model._base_manager
    if model is Account:  # branches
        count = manager.filter(**{fk.name: other}).exclude(pk=keep.pk).update(**{fk.name: keep})
        manager.filter(pk=keep.pk, **{fk.name: other}).update(**{fk.name: None})
        return count
    if model is AccountShare:
        already = set(AccountShare.objects.filter(account=keep).values_list("user_id", flat=True))
        AccountShare.objects.filter(account=other, user_id__in=already | {keep.manager_id}).delete()
        return AccountShare.objects.filter(account=other).update(account=keep)
    if fk.one_to_one:
        if manager.filter(**{fk.name: keep}).exists():
            manager.filter(**{fk.name: other}).delete()  # keep's own record wins (e.g. metrics)
            return 0
        return manager.filter(**{fk.name: other}).update(**{fk.name: keep})
    try:
        with transaction.atomic():
            return manager.filter(**{fk.name: other}).update(**{fk.name: keep})
    except IntegrityError:
        # A per-account unique rule (one row per account): keep's row wins.
        count = 0
        for obj in manager.filter(**{fk.name: other}):
            try:
                with transaction.atomic():
                    manager.filter(pk=obj.pk).update(**{fk.name: keep})
                    count += 1
            except IntegrityError:
                manager.filter(pk=obj.pk).delete()
        return count


@writer()
def account_share(*, actor: User, account: Account, user: User) -> AccountShare:
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
def account_unshare(*, actor: User, account: Account, user: User) -> None:
    require_account_writable(actor, account)
    with transaction.atomic():
        deleted, _rows = AccountShare.objects.filter(account=account, user=user).delete()
        if not deleted:
            writers.nothing_to_write()
            return
        audit_log(actor=actor, action="account.unshare", obj=account, extra={"user_id": user.pk})
        accounts_changed([account.pk])


@writer()
def portfolio_transfer(*, actor: User, from_user: User, to_user: User) -> int:
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
    clean = interest_names(names)
    existing = {i.name: i for i in Interest.objects.filter(name__in=clean)}
    missing = [Interest(name=n) for n in clean if n not in existing]
    if missing:
        Interest.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {i.name: i for i in Interest.objects.filter(name__in=clean)}
    contact.interests.set(existing.values())


@writer()
def contact_create(
    *, actor: User, account: Account, data: Mapping[str, Any], interests: Iterable[str] = ()
) -> Contact:
    require_account_writable(actor, account)
    data = normalise_contact(dict(data))
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
    actor: User,
    contact: Contact,
    version: int,
    data: Mapping[str, Any],
    interests: Iterable[str] | None = None,
) -> Contact:
    require_account_writable(actor, contact.account)
    if contact.erasure_pending:
        # The erasure reads the name and address until its last step; the version it
        # bumped refuses forms opened before it started.
        raise Conflict(_("An erasure of this contact is pending: it can no longer be changed."))
    data = normalise_contact(dict(data))
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
def contact_delete(*, actor: User, contact: Contact, version: int | None = None) -> None:
    require_account_writable(actor, contact.account)
    with transaction.atomic():
        audit_log(actor=actor, action="contact.delete", obj=contact)
        versioned_delete(contact, expected_version=version)
        accounts_changed([contact.account_id])


# --- consent ----------------------------------------------------------------------------


@writer()
def consent_record(
    *,
    actor: User | None,
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
            recorded_by=actor if actor is not None and actor.is_authenticated else None,
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


@writer()
def interaction_log(
    *, actor: User, account: Account, data: Mapping[str, Any], contacts: Iterable[Contact] = ()
) -> Interaction:
    """Log a contact moment (with its optional quick satisfaction reading). Its duration
    is contact time, which customer value counts: the hook fires."""
    require_account_writable(actor, account)
    data = dict(data)
    data.setdefault("user", actor)
    chosen = check_contacts(account, contacts)
    interaction = Interaction(account=account)
    changed = apply_changes(interaction, data, INTERACTION_FIELDS)
    full_clean_or_raise(interaction)
    with transaction.atomic():
        interaction.save()
        interaction.contacts.set(chosen)
        audit_log(actor=actor, action="interaction.create", obj=interaction, fields=changed)
        accounts_changed([account.pk])
    return interaction


@writer(version="version")
def interaction_update(
    *,
    actor: User,
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
            interaction.contacts.set(check_contacts(interaction.account, contacts))
            changed.append("contacts")
        audit_log(actor=actor, action="interaction.update", obj=interaction, fields=changed)
        accounts_changed([interaction.account_id])
    return interaction


@writer(version="version")
def interaction_delete(
    *, actor: User, interaction: Interaction, version: int | None = None
) -> None:
    require_account_writable(actor, interaction.account)
    with transaction.atomic():
        audit_log(actor=actor, action="interaction.delete", obj=interaction)
        versioned_delete(interaction, expected_version=version)
        accounts_changed([interaction.account_id])


# --- tasks ------------------------------------------------------------------------------


@writer()
def task_create(
    *,
    actor: User,
    account: Account,
    data: Mapping[str, Any],
    source_interaction: Interaction | None = None,
) -> Task:
    require_account_writable(actor, account)
    data = dict(data)
    data.setdefault("assignee", account.manager or actor)
    check_assignee(account, data["assignee"])
    task = Task(account=account, created_by=actor if actor.is_authenticated else None)
    if source_interaction is not None:
        check_source_interaction(account, source_interaction)
        task.source_interaction = source_interaction
    changed = task_done_fields(task, apply_changes(task, data, TASK_FIELDS))
    full_clean_or_raise(task)
    with transaction.atomic():
        task.save()
        audit_log(actor=actor, action="task.create", obj=task, fields=changed)
        accounts_changed([account.pk])
    return task


@writer(version="version")
def task_update(*, actor: User, task: Task, version: int, data: Mapping[str, Any]) -> Task:
    require_account_writable(actor, task.account)
    data = dict(data)
    if "assignee" in data:
        check_assignee(task.account, data["assignee"])
    changed = task_done_fields(task, apply_changes(task, data, TASK_FIELDS))
    full_clean_or_raise(task)
    with transaction.atomic():
        versioned_update(task, expected_version=version, fields=changed)
        audit_log(actor=actor, action="task.update", obj=task, fields=changed)
        accounts_changed([task.account_id])
    return task


@writer(version="version")
def task_delete(*, actor: User, task: Task, version: int | None = None) -> None:
    require_account_writable(actor, task.account)
    with transaction.atomic():
        audit_log(actor=actor, action="task.delete", obj=task)
        versioned_delete(task, expected_version=version)
        accounts_changed([task.account_id])
