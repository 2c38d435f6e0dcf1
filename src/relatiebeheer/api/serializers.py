"""Which output schema describes which model (used for 409 answers' ``current``)."""

from __future__ import annotations

from typing import Any

_schemas: dict[type, type] = {}


def register(model: type, schema: type) -> None:
    _schemas[model] = schema


def serialize_current(obj: Any) -> dict[str, Any] | None:
    if obj is None:
        return None
    schema = _schemas.get(type(obj))
    if schema is None:
        return {"id": obj.pk, "version": getattr(obj, "version", None)}
    return schema.from_orm(obj).model_dump(mode="json")
