"""Service helpers: allow-listed, versioned updates and deletes with validation."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F
from django.utils import timezone

from . import writers
from .errors import InvalidInput, VersionConflict

M = TypeVar("M", bound=models.Model)


def full_clean_or_raise(instance: models.Model, *, exclude: Iterable[str] | None = None) -> None:
    try:
        instance.full_clean(exclude=list(exclude or []))
    except ValidationError as exc:
        raise InvalidInput.from_django(exc) from exc


def apply_changes(instance: M, data: Mapping[str, Any], allowed: Iterable[str]) -> list[str]:
    """Copy the allow-listed keys of ``data`` onto ``instance``; return the names changed.

    Unknown keys are an error, not silently ignored (no mass assignment).
    """
    allowed = set(allowed)
    unknown = set(data) - allowed
    if unknown:
        raise InvalidInput({name: ["Unknown field."] for name in sorted(unknown)})
    changed = []
    for name, value in data.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed.append(name)
    return changed


def versioned_update(instance: M, *, expected_version: int, fields: list[str]) -> M:
    """Write ``fields`` of ``instance`` only if the row still has ``expected_version``.

    One conditional UPDATE: on PostgreSQL concurrent writers wait on the row lock and
    then find the version changed; on SQLite the IMMEDIATE transaction serialises them.
    Either way exactly one of several writers with the same version wins; the others
    get :class:`VersionConflict` carrying the record as it is now.
    """
    model = type(instance)
    values = {}
    for name in fields:
        field = model._meta.get_field(name)
        if not isinstance(field, models.Field):
            raise TypeError(f"{model.__name__}.{name} is not a field that can be written")
        values[field.attname] = getattr(instance, field.attname)
    if any(f.name == "updated_at" for f in model._meta.fields):
        values["updated_at"] = timezone.now()
    writers.version_checked()
    updated = model._base_manager.filter(pk=instance.pk, version=expected_version).update(
        version=F("version") + 1, **values
    )
    if not updated:
        current = model._base_manager.filter(pk=instance.pk).first()
        raise VersionConflict(current=current)
    setattr(instance, "version", expected_version + 1)  # noqa: B010 (any versioned model)
    if "updated_at" in values:
        setattr(instance, "updated_at", values["updated_at"])  # noqa: B010
    return instance


def versioned_delete(instance: models.Model, *, expected_version: int | None) -> None:
    """Delete ``instance``; given ``expected_version``, only if the row still has it.

    Call inside a transaction. The row is locked before the check (PostgreSQL; on SQLite
    the IMMEDIATE transaction already holds the write lock), so a save that lands
    between the check and the delete cannot slip through: someone who deletes what
    they saw does not silently delete what another person changed since. Without a
    version (older API clients) the delete goes ahead as before. A row already gone
    counts as deleted: a retried delete does no harm.
    """
    if expected_version is not None:
        model = type(instance)
        writers.version_checked()
        current = model._base_manager.select_for_update().filter(pk=instance.pk).first()
        if current is None:
            return
        if getattr(current, "version", None) != expected_version:
            raise VersionConflict(current=current)
    instance.delete()
