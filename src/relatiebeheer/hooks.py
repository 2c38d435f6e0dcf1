"""The "accounts changed" hook.

Services that change what an account is worth (orders, costs, imports, merges) call
:func:`accounts_changed` with the affected account ids. Listeners (metric refresh,
loyalty evaluation …) register with :func:`on_accounts_changed` in their app's
``ready()`` and run after the surrounding transaction commits, so they never see
uncommitted data and a rolled-back change triggers nothing.
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


def accounts_changed(account_ids: Iterable[int]) -> None:
    ids = sorted({int(pk) for pk in account_ids})
    if not ids:
        return

    def notify() -> None:
        for listener in list(_listeners):
            listener(ids)

    transaction.on_commit(notify)
