"""Features add their part of the demo story here (surveys, loyalty, campaigns …).

An extension is ``extend(story)`` called at the end of the demo load, inside its
transaction, after the accounts, contacts, orders and contact moments exist. It reads
``story.users`` (by username), ``story.accounts`` (by name), ``story.contacts``,
``story.today`` and ``story.rng`` (seeded: keep the demo deterministic), writes through
the services as ``story.actor_for(account)``, and may add counts to
``story.summary.counts``. Apps register theirs in ``AppConfig.ready()``.
"""

from __future__ import annotations

from collections.abc import Callable

_extensions: list[tuple[int, str, Callable]] = []


def register_demo(name: str, extend: Callable, *, order: int = 100) -> None:
    global _extensions
    _extensions = [e for e in _extensions if e[1] != name]
    _extensions.append((order, name, extend))
    _extensions.sort(key=lambda e: (e[0], e[1]))


def run_extensions(story) -> None:
    for _order, _name, extend in list(_extensions):
        extend(story)
