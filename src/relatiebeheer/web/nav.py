"""The main menu. Apps add their own entry in ``ready()`` with :func:`register_nav`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class NavItem:
    key: str
    label: object  # a lazy translation
    url_name: str
    order: int = 100
    staff_only: bool = False
    # Used now and then (imports, the outbox): under "More", so the bar fits one line.
    secondary: bool = False
    # Only for users this says yes to (e.g. the status page: administrators, sales managers).
    allowed: Callable[[Any], bool] | None = None


_items: dict[str, NavItem] = {}


def register_nav(item: NavItem) -> None:
    _items[item.key] = item


def nav(request) -> dict:
    """Context processor: the menu entries this user sees, with the active one marked."""
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return {"nav_items": [], "nav_more": []}
    match = getattr(request, "resolver_match", None)
    current_app = match.app_name if match else ""
    items = []
    for item in sorted(_items.values(), key=lambda i: (i.order, i.key)):
        if item.staff_only and not user.is_staff:
            continue
        if item.allowed is not None and not item.allowed(user):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        items.append(
            {
                "label": item.label,
                "url": url,
                "active": current_app == item.url_name.split(":")[0],
                "secondary": item.secondary,
            }
        )
    return {
        "nav_items": [i for i in items if not i["secondary"]],
        "nav_more": [i for i in items if i["secondary"]],
    }
