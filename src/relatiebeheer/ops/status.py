"""Figures other apps add to the status page (a registry, so ``ops`` imports no app).

An app registers a figure where its data lives, e.g. the outbox its backlog and the
value app its last recompute: ``register_figure(key, label, load, kind)`` with ``load()``
returning a number (``kind="count"``) or an aware datetime or ``None`` (``kind="time"``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Figure:
    key: str
    label: Any  # a lazy translation
    load: Callable[[], Any]
    kind: str = "count"  # "count" or "time"
    order: int = 100


_figures: dict[str, Figure] = {}


def register_figure(
    key: str, label: Any, load: Callable[[], Any], *, kind: str = "count", order: int = 100
) -> None:
    if kind not in ("count", "time"):
        raise ValueError(f"kind={kind!r}: use 'count' or 'time'")
    _figures[key] = Figure(key, label, load, kind, order)


def figures() -> list[Figure]:
    return sorted(_figures.values(), key=lambda f: (f.order, f.key))
