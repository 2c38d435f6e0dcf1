"""The "accounts changed" hook.

Services that change what an account is worth (orders, costs, imports, merges) call
:func:`accounts_changed` with the affected account ids. Listeners (metric refresh,
loyalty evaluation …) register with :func:`on_accounts_changed` in their app's
``ready()`` and run after the surrounding transaction commits, so they never see
uncommitted data and a rolled-back change triggers nothing.

Within one transaction the ids are gathered and the listeners are called once, with
all of them: loading a thousand orders in one transaction queues one refresh, not a
thousand.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.db import transaction

Listener = Callable[[list[int]], None]
_listeners: list[Listener] = []


def on_accounts_changed(listener: Listener) -> Listener:
    if listener not in _listeners:
        _listeners.append(listener)
    return listener


class _Batch:
    def __init__(self, connection) -> None:
        self.connection = connection
        self.ids: set[int] = set()

    def flush(self) -> None:
        if getattr(self.connection, "_accounts_changed_batch", None) is self:
            self.connection._accounts_changed_batch = None
        ids = sorted(self.ids)
        for listener in list(_listeners):
            listener(ids)


def accounts_changed(account_ids: Iterable[int]) -> None:
    ids = {int(pk) for pk in account_ids}
    if not ids:
        return
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
