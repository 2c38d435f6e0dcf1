"""One handler per kind of import (see ``base.py``)."""

from __future__ import annotations

from .base import ImportAborted, KindHandler
from .relations import AccountHandler, ContactHandler, InteractionHandler
from .sales import CostHandler, OrderHandler

HANDLERS: dict[str, type[KindHandler]] = {
    "accounts": AccountHandler,
    "contacts": ContactHandler,
    "orders": OrderHandler,
    "costs": CostHandler,
    "interactions": InteractionHandler,
}

__all__ = ["HANDLERS", "ImportAborted", "KindHandler"]
