"""One way in for every write: the *writer* contract, declared and checked at run time.

Every function that changes customer data — a row service, a bulk writer, whatever
the admin, API, web, imports and CLI call — is declared with :func:`writer`. A writer
does four things, and this module checks that it did them:

1. **audit** — it writes an audit row (``audit.services.audit_log``) for what it did;
2. **version** — where the user saw a version, it writes only if the row still has it
   (``common.services.versioned_update`` / ``versioned_delete`` / :func:`version_checked`);
3. **locks** — it locks the rows its rule spans before it checks the rule
   (:func:`lock`, e.g. the order that a credit note corrects), inside its transaction;
4. **hook** — it tells the "accounts changed" hook (``hooks.accounts_changed``) which
   accounts it touched; the listeners run after the commit.

``@writer(...)`` says which of these apply (configuration writers touch no account, so
they declare ``accounts=False``). When a writer returns, its declaration is compared
with what it did. In strict mode (``settings.STRICT_WRITERS``: on in the test suite and
with ``DEBUG``) a writer that skipped one raises :class:`WriterContractBroken`, so a
test of any door that reaches it fails; in production it is logged as an error and the
write stands (refusing a correct write for a missing log line would be worse).

A writer that decides there is nothing to do (an unchanged import, a share that
exists) says so with :func:`nothing_to_write`, which satisfies audit and hook.

**No door around the writers.** The web, the API, the admin and the command line mark
their requests and commands as a *door* (:func:`door`). In strict mode every
``INSERT``, ``UPDATE`` or ``DELETE`` on a table of customer data that a door runs
outside a writer raises :class:`WriterContractBroken`: a view, endpoint, admin page or
command that writes around the services fails whatever test reaches it. Tables that
hold derived data or bookkeeping (snapshots, rate counters, job progress, sessions)
are declared with :func:`writes_freely`, each with its reason. (``settings.STRICT_DOORS``
switches the raising on, like ``STRICT_WRITERS``; otherwise it is logged as an error.)

Writers may call writers: every audit row, hook call and lock counts for each writer
on the stack, so the outermost one is satisfied by what its helpers did.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

from django.conf import settings
from django.db import models, transaction

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")


class WriterContractBroken(AssertionError):
    """A writer returned without doing what its declaration promises."""


# Who acts in a writer that takes no user: the worker/a schedule, or a customer by link.
ACTORS_WITHOUT_USER = ("system", "public")


@dataclass(frozen=True)
class WriterSpec:
    """What a writer promises. ``version`` names its parameter carrying the version the
    user saw (``None``: it takes none); ``locks`` are the models (``app_label.model``)
    whose rows it locks before checking its rule. ``acts`` says who acts for a writer
    that takes no ``actor``: ``"system"`` (the worker, a schedule, a hook) or
    ``"public"`` (a customer through a link in a mail); the audit row then names no
    user."""

    name: str
    audit: bool = True
    accounts: bool = True
    version: str | None = None
    locks: tuple[str, ...] = ()
    bulk: bool = False
    acts: str | None = None


@dataclass
class _Frame:
    spec: WriterSpec
    audited: int = 0
    hooked: bool = False
    version_checked: bool = False
    locked: set[str] = field(default_factory=set)
    nothing: bool = False


_stack: ContextVar[tuple[_Frame, ...]] = ContextVar("writer_stack", default=())
_door: ContextVar[str | None] = ContextVar("writer_door", default=None)
_free: ContextVar[bool] = ContextVar("writes_free", default=False)
_observers: list[Callable[[WriterSpec, _Frame], None]] = []


def writer(
    *,
    audit: bool = True,
    accounts: bool = True,
    version: str | None = None,
    locks: tuple[str, ...] = (),
    bulk: bool = False,
    acts: str | None = None,
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Declare a function as a writer (see the module docstring)."""
    if acts not in (None, *ACTORS_WITHOUT_USER):
        raise TypeError(f"acts={acts!r}: use one of {ACTORS_WITHOUT_USER}")

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        name = f"{func.__module__}.{func.__qualname__}"
        params = inspect.signature(func).parameters
        if version is not None and version not in params:
            raise TypeError(f"{name} declares version={version!r} but has no such parameter")
        if acts is not None and "actor" in params:
            raise TypeError(f"{name} takes an actor and declares acts={acts!r}: choose one")
        spec = WriterSpec(
            name=name,
            audit=audit,
            accounts=accounts,
            version=version,
            locks=locks,
            bulk=bulk,
            acts=acts,
        )

        @functools.wraps(func)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
            frame = _Frame(spec)
            token = _stack.set((*_stack.get(), frame))
            try:
                result = func(*args, **kwargs)
            finally:
                _stack.reset(token)
            saw_version = version is not None and kwargs.get(version) is not None
            _verify(frame, saw_version=saw_version)
            return result

        wrapped.writer_spec = spec  # type: ignore[attr-defined]
        return wrapped

    return decorate


def writer_spec(func: Any) -> WriterSpec | None:
    """The declaration of a writer, or ``None`` for a function that is not one."""
    spec = getattr(func, "writer_spec", None)
    return spec if isinstance(spec, WriterSpec) else None


def _verify(frame: _Frame, *, saw_version: bool) -> None:
    spec = frame.spec
    missing = []
    if not frame.nothing:
        if spec.audit and not frame.audited:
            missing.append("an audit row")
        if spec.accounts and not frame.hooked:
            missing.append('the "accounts changed" hook')
    if saw_version and not frame.version_checked and not frame.nothing:
        missing.append("a check of the version the user saw")
    for label in spec.locks:
        if label not in frame.locked and not frame.nothing:
            missing.append(f"a lock on {label}")
    for observer in list(_observers):
        observer(spec, frame)
    if not missing:
        return
    message = f"{spec.name} returned without {', '.join(missing)}"
    if getattr(settings, "STRICT_WRITERS", False):
        raise WriterContractBroken(message)
    logger.error("writer contract: %s", message)


def _mark(**what: Any) -> None:
    for frame in _stack.get():
        if what.get("audited"):
            frame.audited += 1
        if what.get("hooked"):
            frame.hooked = True
        if what.get("version_checked"):
            frame.version_checked = True
        if what.get("locked"):
            frame.locked.add(what["locked"])
        if what.get("nothing"):
            frame.nothing = True


def audited() -> None:
    """Called by ``audit_log`` for every row it writes."""
    _mark(audited=True)


def hooked() -> None:
    """Called by ``hooks.accounts_changed`` (also with no ids: the writer touched none)."""
    _mark(hooked=True)


def version_checked() -> None:
    """The writer compared the version the user saw with the row's (under its lock)."""
    _mark(version_checked=True)


def nothing_to_write() -> None:
    """The writer looked and found nothing to change: no audit row or hook is owed."""
    _mark(nothing=True)


def lock(queryset: models.QuerySet[Any]) -> list[Any]:
    """Lock the rows of ``queryset`` until the transaction ends, and return them.

    PostgreSQL: ``SELECT … FOR UPDATE`` (ordered by primary key, so two writers that
    lock the same rows take them in the same order and cannot deadlock). SQLite: the
    ``IMMEDIATE`` transaction already holds the database's write lock, so the rows are
    read as they are. Call it inside ``transaction.atomic()``, before checking the rule.
    """
    if not transaction.get_connection(queryset.db).in_atomic_block:
        raise RuntimeError("lock() outside a transaction locks nothing")
    model = queryset.model
    _mark(locked=model._meta.label_lower)
    return list(queryset.select_for_update().order_by("pk"))


_LOCK_ONE: dict[tuple[str, str], str] = {}


def lock_one(model: type[models.Model], pk: int, *, using: str = "default") -> bool:
    """:func:`lock` of one row by its primary key, for hot paths (one call per posting):
    the statement is built once per model and database instead of compiling a queryset
    on every call. Returns whether the row exists."""
    connection = transaction.get_connection(using)
    if not connection.in_atomic_block:
        raise RuntimeError("lock_one() outside a transaction locks nothing")
    _mark(locked=model._meta.label_lower)
    key = (connection.alias, model._meta.label_lower)
    sql = _LOCK_ONE.get(key)
    if sql is None:
        q = connection.ops.quote_name
        column = q(model._meta.pk.column)
        sql = f"SELECT {column} FROM {q(model._meta.db_table)} WHERE {column} = %s"  # noqa: S608
        if connection.features.has_select_for_update:
            sql += " FOR UPDATE"
        _LOCK_ONE[key] = sql
    with connection.cursor() as cursor:
        cursor.execute(sql, [pk])
        return cursor.fetchone() is not None


def locked_by_update(model: type[models.Model]) -> None:
    """The writer took its lock with its own conditional ``UPDATE … WHERE <rule>`` (the
    row is locked and the rule checked in one statement; zero rows updated means the rule
    refused). Call it after that statement."""
    _mark(locked=model._meta.label_lower)


def in_writer() -> bool:
    return bool(_stack.get())


class observe:
    """Call ``observer(spec, frame)`` after every writer returns (tests use it to see
    which writers a request or command ran)."""

    def __init__(self, observer: Callable[[WriterSpec, _Frame], None]) -> None:
        self.observer = observer

    def __enter__(self) -> observe:
        _observers.append(self.observer)
        return self

    def __exit__(self, *exc: object) -> None:
        _observers.remove(self.observer)


# --- doors and the guard on their writes ---------------------------------------------------

# Apps whose tables hold customer data or its configuration: a door writes them only
# through writers.
GUARDED_APPS = (
    "relations",
    "sales",
    "satisfaction",
    "loyalty",
    "organisation",
    "outbox",
    "imports",
    "privacy",
    "value",
    "reports",
)
_free_tables: dict[str, str] = {}
_guarded: frozenset[str] | None = None


def writes_freely(db_table: str, why: str) -> None:
    """Declare a table that doors may write outside writers (derived data, bookkeeping)."""
    global _guarded
    _free_tables[db_table] = why
    _guarded = None


def _guarded_tables() -> frozenset[str]:
    global _guarded
    if _guarded is None:
        from django.apps import apps

        _guarded = frozenset(
            model._meta.db_table
            for model in apps.get_models(include_auto_created=True)
            if model._meta.app_label in GUARDED_APPS and model._meta.db_table not in _free_tables
        )
    return _guarded


class door:
    """Mark a request or command as coming in through ``name`` (web, api, admin, cli)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __enter__(self) -> door:
        self._token = _door.set(self.name)
        return self

    def __exit__(self, *exc: object) -> None:
        _door.reset(self._token)


class derived_writes:
    """Writes in this block are derived from committed data (the "accounts changed"
    listeners, refreshes of kept figures), not a user's change: the guard lets them pass."""

    def __enter__(self) -> derived_writes:
        self._token = _free.set(True)
        return self

    def __exit__(self, *exc: object) -> None:
        _free.reset(self._token)


_VERBS = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def _table_written(sql: str) -> str | None:
    words = sql.lstrip().split(None, 4)
    if not words or words[0].upper() not in _VERBS:
        return None
    verb = words[0].upper()
    # INSERT INTO t / UPDATE t / DELETE FROM t (optionally "OR REPLACE"/"OR IGNORE")
    rest = words[1:]
    while rest and rest[0].upper() in {
        "OR",
        "IGNORE",
        "REPLACE",
        "ROLLBACK",
        "ABORT",
        "INTO",
        "FROM",
        "ONLY",
    }:
        rest = rest[1:]
    if not rest:
        return None
    del verb
    return rest[0].strip('"`[]').split("(")[0].strip('"`')


def _guard(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
    name = _door.get()
    if name is not None and not _stack.get() and not _free.get():
        table = _table_written(sql)
        if table is not None and table in _guarded_tables():
            message = f"the {name} door wrote {table} outside a writer: {sql[:120]}"
            if getattr(settings, "STRICT_DOORS", False):
                raise WriterContractBroken(message)
            logger.error("writer contract: %s", message)
    return execute(sql, params, many, context)


def install_guard() -> None:
    """Watch every database connection's writes (called once, from an AppConfig)."""
    from django.db.backends.signals import connection_created

    def attach(sender: Any, connection: Any, **kwargs: Any) -> None:
        if _guard not in connection.execute_wrappers:
            connection.execute_wrappers.append(_guard)

    connection_created.connect(attach, weak=False, dispatch_uid="writers.guard")
    from django.db import connections

    for conn in connections.all(initialized_only=True):
        if _guard not in conn.execute_wrappers:
            conn.execute_wrappers.append(_guard)
