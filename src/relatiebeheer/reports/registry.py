"""What other apps add to the reports: account-plan sections, portfolio columns and
management-dashboard widgets. Apps register in ``AppConfig.ready()``.

* A plan section is a template plus ``load(account, actor) -> dict | None``; ``None``
  leaves the section out (e.g. no loyalty programme configured). Sections render in
  the web page and in the PDF alike, so they use server-side SVG charts only.
* A portfolio column is a header plus ``load(account_ids, actor) -> {account_id: value}``
  (one query for all accounts, through the selector of its figure) and a kind for the
  exporter.
* A dashboard widget is a template plus ``load(actor) -> dict`` that must be fast
  (read precomputed figures).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PlanSection:
    key: str
    template: str
    load: Callable[[Any, Any], dict | None]
    order: int = 100


@dataclass(frozen=True)
class PortfolioColumn:
    key: str
    header: Any
    load: Callable[[list[int], Any], dict[int, Any]]
    kind: str = "text"  # as relatiebeheer.exports.Column.kind
    order: int = 100


@dataclass(frozen=True)
class DashboardWidget:
    key: str
    template: str
    load: Callable[[Any], dict | None]
    order: int = 100
    width: int = 6  # Bootstrap columns on a large screen


_sections: dict[str, PlanSection] = {}
_columns: dict[str, PortfolioColumn] = {}
_widgets: dict[str, DashboardWidget] = {}


def register_plan_section(section: PlanSection) -> None:
    _sections[section.key] = section


def register_portfolio_column(column: PortfolioColumn) -> None:
    _columns[column.key] = column


def register_dashboard_widget(widget: DashboardWidget) -> None:
    _widgets[widget.key] = widget


def plan_sections() -> list[PlanSection]:
    return sorted(_sections.values(), key=lambda s: (s.order, s.key))


def portfolio_columns() -> list[PortfolioColumn]:
    return sorted(_columns.values(), key=lambda c: (c.order, c.key))


def dashboard_widgets() -> list[DashboardWidget]:
    return sorted(_widgets.values(), key=lambda w: (w.order, w.key))
