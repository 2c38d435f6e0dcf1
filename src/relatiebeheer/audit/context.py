"""Through which door a change came in (web, api, cli, admin, worker)."""

from __future__ import annotations

import contextlib
from contextvars import ContextVar

_channel: ContextVar[str] = ContextVar("audit_channel", default="system")


def current_channel() -> str:
    return _channel.get()


@contextlib.contextmanager
def channel(name: str):
    token = _channel.set(name)
    try:
        yield
    finally:
        _channel.reset(token)


def set_channel(name: str) -> None:
    _channel.set(name)
