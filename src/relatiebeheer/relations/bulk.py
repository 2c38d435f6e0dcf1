# ruff: noqa: S608 - set-based SQL: identifiers come from the models' _meta and the stage, values parameters
"""Bulk writers of accounts, contacts and contact moments: what an import merges.

Each writer runs in one transaction (inside the import's merge transaction), writes one
audit row for the job with its counts and fires the "accounts changed" hook once with
every account it touched. The rows come staged (``staged.Staged``) and already checked
against the rules of ``rules.py`` that refuse a row (normalisation, the manager rule),
which the import applies in their column form while it validates, so that its report
names each refused row; tasks have no bulk writer (nothing imports them).

No rule of these records spans rows, so the writers lock nothing: a user editing a
record the import changes meets a version conflict (the import raises the version of
every record it changes).
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F

from relatiebeheer.common.writers import writer
from relatiebeheer.users.models import User

from .models import Account, Contact, Interaction, Interest
from .search import refresh_search_tokens
from .staged import (
    BulkAudit,
    BulkResult,
    Staged,
    accounts_concerned,
    changed,
    fetch,
    finish,
    insert_new,
    interest_changes,
    max_id,
    merge_rows,
    new_ids,
    qn,
    start,
    table_of,
    update_changed,
)


@writer(bulk=True)
def accounts_merge(*, actor: User, staged: Staged, audit: BulkAudit) -> BulkResult:
    """Merge staged accounts (with their ``search_text``); the search tokens of every
    account the file names are rebuilt, as ``services.account_update`` rebuilds them."""
    with transaction.atomic():
        start(actor, [], lock=False)
        before = max_id(Account)
        updated = update_changed(Account, staged)
        created = insert_new(Account, staged)
        stage = qn(staged.table)
        ids = {r[0] for r in fetch(f"SELECT target_id FROM {stage} WHERE target_id IS NOT NULL")}
        ids |= set(new_ids(Account, staged, after=before).values())
        refresh_search_tokens(ids)
        return finish(actor, audit, BulkResult(created, updated, sorted(ids)))


@writer(bulk=True)
def contacts_merge(
    *, actor: User, staged: Staged, audit: BulkAudit, with_interests: bool
) -> BulkResult:
    """Merge staged contacts; ``with_interests``: the stage's ``interests`` column (the
    names, comma-joined, as ``rules.interest_names_expr`` made them) replaces each
    contact's interests. A contact whose only change is its interests still counts as
    updated and gets a new version."""
    with transaction.atomic():
        accounts = accounts_concerned(Contact, staged)
        start(actor, accounts, lock=False)
        stage = qn(staged.table)
        changes = interest_changes(staged) if with_interests else {}
        before = max_id(Contact)
        touched = (
            {
                r[0]
                for r in fetch(
                    f"SELECT s.target_id FROM {stage} s JOIN {table_of(Contact)} c "
                    f"ON c.id = s.target_id WHERE {changed(staged.update, 'c', 's')}"
                )
            }
            if staged.update
            else set()
        )
        updated = update_changed(Contact, staged)
        created = insert_new(Contact, staged)
        if with_interests:
            fresh = new_ids(Contact, staged, after=before)
            wanted = dict(fetch(f'SELECT "row", interests FROM {stage} WHERE target_id IS NULL'))
            for row, pk in fresh.items():
                names = sorted(filter(None, (wanted.get(row) or "").split(",")))
                if names:
                    changes[pk] = names
            _set_interests(changes)
            only_interests = set(changes) - touched - set(fresh.values())
            if only_interests:
                Contact.objects.filter(pk__in=only_interests).update(
                    version=F("version") + 1, updated_at=staged.now
                )
            updated += len(only_interests)
        return finish(actor, audit, BulkResult(created, updated, accounts))


def _set_interests(changes: dict[int, list[str]]) -> None:
    """Contact id → its interests now (the bulk form of ``services._set_interests``)."""
    if not changes:
        return
    all_names = sorted({n for names in changes.values() for n in names})
    Interest.objects.bulk_create([Interest(name=n) for n in all_names], ignore_conflicts=True)
    ids = dict(Interest.objects.filter(name__in=all_names).values_list("name", "id"))
    through = Contact.interests.through
    through.objects.filter(contact_id__in=list(changes)).delete()
    through.objects.bulk_create(
        [
            through(contact_id=pk, interest_id=ids[n])
            for pk, names in changes.items()
            for n in names
        ],
        batch_size=5000,
    )


@writer(bulk=True)
def interactions_merge(*, actor: User, staged: Staged, audit: BulkAudit) -> BulkResult:
    """Merge staged contact moments: changed ones updated, new ones inserted. Their
    duration is contact time, which customer value counts: the hook fires."""
    with transaction.atomic():
        return merge_rows(Interaction, actor=actor, staged=staged, audit=audit)
