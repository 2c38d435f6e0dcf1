"""The account page is a frame of panels; features add their own panel here.

A panel is a template plus a function that loads its context for one account. The
loaders must run a fixed number of queries whatever the account holds (the page's
query count is tested), so they take the account and return plain data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Panel:
    key: str
    template: str
    load: Callable[[Any, Any], dict]  # (request, account) -> context
    order: int = 100
    column: str = "main"  # "main" (wide) or "side"


_panels: dict[str, Panel] = {}


def register_panel(panel: Panel) -> None:
    _panels[panel.key] = panel


def panels(column: str) -> list[Panel]:
    return sorted(
        (p for p in _panels.values() if p.column == column), key=lambda p: (p.order, p.key)
    )


@dataclass(frozen=True)
class DashboardCard:
    """A card on the dashboard: a template plus ``load(request) -> context``."""

    key: str
    template: str
    load: Callable[[Any], dict]
    order: int = 100


_cards: dict[str, DashboardCard] = {}


def register_dashboard_card(card: DashboardCard) -> None:
    _cards[card.key] = card


def dashboard_cards() -> list[DashboardCard]:
    return sorted(_cards.values(), key=lambda c: (c.order, c.key))
