"""The account plan's own sections: the account in brief, its value and CLV, next actions."""

from __future__ import annotations

from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from relatiebeheer.core import svg_charts
from relatiebeheer.core.money import format_money_whole
from relatiebeheer.sales import selectors as sales
from relatiebeheer.value.selectors import account_value, metrics_for

from .registry import PlanSection, PortfolioColumn, register_plan_section, register_portfolio_column


def _lang() -> str:
    return (get_language() or "nl")[:2]


def brief(account, actor) -> dict:
    return {
        "contacts": list(
            account.contacts.prefetch_related("interests").order_by("last_name", "first_name")
        ),
        "branches": list(account.branches.visible_to(actor).only("id", "name", "city")),
    }


def value(account, actor) -> dict:
    today = timezone.localdate()
    months = sales.revenue_by_month(actor=actor, account_ids=[account.pk], today=today)
    lang = _lang()
    chart = svg_charts.bar_chart(
        [month.strftime("%m-%y") for month, _total in months],
        [float(total) for _month, total in months],
        title=_("Revenue per month"),
        format_value=lambda v: format_money_whole(v, lang=lang),
    )
    card = account_value(actor=actor, account=account)
    return {"card": card, "revenue_chart": mark_safe(chart)}  # noqa: S308 - built from numbers and escaped labels


def next_actions(account, actor) -> dict:
    return {
        "tasks": list(
            account.tasks.filter(done=False).select_related("assignee").order_by("due_date", "id")
        )
    }


def register() -> None:
    register_plan_section(PlanSection("brief", "reports/sections/brief.html", brief, order=10))
    register_plan_section(PlanSection("value", "reports/sections/value.html", value, order=20))
    register_plan_section(
        PlanSection("next_actions", "reports/sections/next_actions.html", next_actions, order=900)
    )

    def metric(field):
        def load(account_ids, actor):
            return dict(
                metrics_for(actor)
                .filter(account_id__in=account_ids)
                .order_by()
                .values_list("account_id", field)
            )

        return load

    from django.utils.translation import gettext_lazy as lazy

    register_portfolio_column(
        PortfolioColumn(
            "value_this_year",
            lazy("Customer value this year"),
            metric("value_this_year"),
            "money",
            10,
        )
    )
    register_portfolio_column(
        PortfolioColumn(
            "revenue_12m", lazy("Revenue, last 12 months"), metric("revenue_12m"), "money", 20
        )
    )
    register_portfolio_column(PortfolioColumn("clv", lazy("CLV"), metric("clv"), "money", 30))
    register_portfolio_column(
        PortfolioColumn(
            "predicted_clv", lazy("Predicted CLV"), metric("predicted_clv"), "money", 40
        )
    )
