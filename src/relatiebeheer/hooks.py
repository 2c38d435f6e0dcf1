"""The "accounts changed" hook.

Every writer calls :func:`accounts_changed` with the accounts it touched. Apps that keep
figures of an account (the metric snapshot, the loyalty evaluation) listen in two ways,
registered with :func:`on_accounts_changed` in their ``ready()``:

* ``in_transaction=True``: called at once, inside the writer's transaction, with the ids
  of that call. For *marks* ("this account's figures wait for a refresh"): one small
  write that commits — or rolls back — with the change itself, so no change can commit
  without its mark (not even when the process dies right after the commit) and a
  rolled-back change leaves none. The worker picks the marks up within seconds
  (``ops.scheduler.register_poll``); nothing is queued per change, so a busy door (a
  survey answer page at hundreds of submissions a second) pays one upsert, not a task.
* after the commit (the default): called once per transaction with all the ids it
  gathered, never with uncommitted data. For work that does not fit a mark: a change to
  thousands of accounts at once (an import) queues one whole-book refresh instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.db import transaction

from relatiebeheer.common import writers

Listener = Callable[[list[int]], None]
_listeners: list[Listener] = []
_marking: list[Listener] = []


def on_accounts_changed(listener: Listener, *, in_transaction: bool = False) -> Listener:
    registry = _marking if in_transaction else _listeners
    if listener not in registry:
        registry.append(listener)
    return listener


class _Batch:
    def __init__(self, connection) -> None:
        self.connection = connection
        self.ids: set[int] = set()

    def flush(self) -> None:
        if getattr(self.connection, "_accounts_changed_batch", None) is self:
            self.connection._accounts_changed_batch = None
        ids = sorted(self.ids)
        with writers.derived_writes():  # listeners refresh derived data after the commit
            for listener in list(_listeners):
                listener(ids)


def accounts_changed(account_ids: Iterable[int]) -> None:
    writers.hooked()
    ids = {int(pk) for pk in account_ids}
    if not ids:
        return
    if _marking:
        ordered = sorted(ids)
        with writers.derived_writes():  # the marks belong to the change being written
            for listener in list(_marking):
                listener(ordered)
    connection = transaction.get_connection()
    batch = getattr(connection, "_accounts_changed_batch", None)
    # A batch whose callback is no longer queued belonged to a rolled-back transaction.
    if batch is not None and any(entry[1] == batch.flush for entry in connection.run_on_commit):
        batch.ids.update(ids)
        return
    batch = _Batch(connection)
    batch.ids.update(ids)
    connection._accounts_changed_batch = batch
    transaction.on_commit(batch.flush)  # runs at once when not inside a transaction


# --- accounts about to be removed ---------------------------------------------------------

RemovalListener = Callable[[list[int]], None]
_removal_listeners: list[RemovalListener] = []


def on_accounts_removed(listener: RemovalListener) -> RemovalListener:
    """Register ``listener(account_ids)``, called inside the transaction that deletes the
    accounts (a delete, or the merge that removes the other account), before their rows
    and everything that cascades with them go. Apps that keep counts over rows of an
    account (survey answer counts …) correct them here, in the same transaction, so no
    count outlives the rows it counted."""
    if listener not in _removal_listeners:
        _removal_listeners.append(listener)
    return listener


def accounts_removed(account_ids: Iterable[int]) -> None:
    ids = sorted({int(pk) for pk in account_ids})
    if not ids:
        return
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("accounts_removed() belongs inside the deleting transaction")
    for listener in list(_removal_listeners):
        listener(ids)
