"""The registry of exportable lists: every app adds its lists here, one exporter serves them.

``relatiebeheer export <list> FILE`` (ops/management/commands/export.py), the web
export page (/imports/exports/) and the API all read this registry, so a list that an
app registers is exported the same way everywhere: through ``relatiebeheer.exports``
(CSV or XLSX, formula-escaped text, the user's language), scoped to what the actor may
see, with the filters in force, and audited.

Register in your app's ``AppConfig.ready()``::

    from relatiebeheer.exports_registry import ExportList, register_export

    register_export(ExportList(
        key="survey_answers",
        label=_("Survey answers"),
        columns=answer_columns,                        # () -> list[Column]
        rows=lambda actor, params: answers_for(actor, params),  # an iterable over the DB
        filename=_("survey-answers"),
    ))

``params`` is the query string of the list page (or the command line's ``--filter
KEY=VALUE`` pairs); use ``relations.selectors.AccountFilters.from_mapping(params)`` for
the account filters so every list filters accounts the same way. A column that an
import can read back carries the import field's name (``FieldColumn(..., field=...)``);
a list with ``import_kind`` round-trips: its file imports back without changing anything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from relatiebeheer.exports import Column


@dataclass(frozen=True)
class FieldColumn(Column):
    """A column that an import reads back into ``field`` (see imports/fields.py)."""

    field: str = ""


@dataclass(frozen=True)
class ExportList:
    key: str
    label: Any
    columns: Callable[[], list[Column]]
    rows: Callable[[Any, Mapping[str, str]], Iterable[Any]]
    filename: Any = None
    import_kind: str | None = None
    order: int = 100
    # The query-string keys this list understands (shown as filters on the export page).
    filters: tuple[str, ...] = ("q", "status", "manager", "industry", "city", "buying_group")


_lists: dict[str, ExportList] = {}


def register_export(item: ExportList) -> ExportList:
    _lists[item.key] = item
    return item


def export_lists() -> list[ExportList]:
    return sorted(_lists.values(), key=lambda item: (item.order, item.key))


def get_export(key: str) -> ExportList | None:
    return _lists.get(key)


def columns_for_kind(kind: str) -> list[Column] | None:
    """The columns of the list whose file imports back as ``kind`` (for its preset)."""
    for item in _lists.values():
        if item.import_kind == kind:
            return item.columns()
    return None
