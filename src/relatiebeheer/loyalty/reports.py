"""What loyalty adds to the reports (``reports.registry``): the loyalty index and the tier
as portfolio columns, and a loyalty section in the account plan. The index is
:func:`.drivers.selectors.loyalty_index`, the figure every page shows."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from relatiebeheer.core import svg_charts
from relatiebeheer.relations.models import Account
from relatiebeheer.reports.registry import (
    PlanSection,
    PortfolioColumn,
    register_plan_section,
    register_portfolio_column,
)
from relatiebeheer.users.models import User

from .binding.matrix import binding_matrix
from .drivers.models import DRIVERS, Driver
from .drivers.selectors import account_loyalty_index, loyalty_index
from .programme.models import TierStatus
from .programme.selectors import account_programmes

# The columns take the ids the report already scoped to its reader (``actor`` is accepted
# for registries that pass it, and needs no second scoping here).


def index_column(account_ids: list[int], actor: User | None = None) -> dict[int, Decimal | None]:
    return {pk: figure.index for pk, figure in loyalty_index(account_ids).items()}


def tier_column(account_ids: list[int], actor: User | None = None) -> dict[int, str]:
    """The highest tier each account holds (as the last evaluation found it)."""
    tiers: dict[int, str] = {}
    rows = (
        TierStatus.objects.filter(account_id__in=account_ids, programme__active=True)
        .order_by("account_id", "-tier__rank")
        .values_list("account_id", "tier__name")
    )
    for account_id, name in rows:
        tiers.setdefault(account_id, name)
    return tiers


def plan_section(account: Account, actor: User) -> dict[str, Any] | None:
    """The loyalty index and its drivers (radar), the programmes and the binding gaps."""
    today = timezone.localdate()
    figure = account_loyalty_index(account, as_of=today)
    programmes = account_programmes(account, today=today)
    if figure.scorecard is None and not programmes:
        return None
    labels = dict(Driver.choices)
    radar = svg_charts.radar_chart(
        [str(labels[d]) for d in DRIVERS],
        [float(v) if (v := figure.driver(d)) is not None else None for d in DRIVERS],
        title=_("The four loyalty drivers"),
    )
    return {
        "index": figure,
        "drivers": [(labels[d], figure.driver(d)) for d in DRIVERS],
        "radar": mark_safe(radar),  # noqa: S308 - built from numbers and escaped labels
        "programmes": programmes,
        "gaps": binding_matrix(account, today=today, with_suggestions=False).gaps,
    }


def register() -> None:
    register_portfolio_column(
        PortfolioColumn(
            "loyalty_index", gettext_lazy("Loyalty index"), index_column, "decimal", order=50
        )
    )
    register_portfolio_column(PortfolioColumn("tier", gettext_lazy("Tier"), tier_column, order=70))
    register_plan_section(
        PlanSection("loyalty", "loyalty/plan_section.html", plan_section, order=60)
    )
