from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SatisfactionConfig(AppConfig):
    name = "relatiebeheer.satisfaction"
    label = "satisfaction"
    verbose_name = _("Satisfaction")

    def ready(self) -> None:
        from relatiebeheer.common.writers import writes_freely
        from relatiebeheer.demo.extensions import register_demo
        from relatiebeheer.hooks import on_accounts_removed
        from relatiebeheer.ops.figure_checks import register_figure_check
        from relatiebeheer.outbox.rendering import register_renderer
        from relatiebeheer.reports.registry import (
            PlanSection,
            PortfolioColumn,
            register_plan_section,
            register_portfolio_column,
        )
        from relatiebeheer.web.nav import NavItem, register_nav
        from relatiebeheer.web.panels import (
            DashboardCard,
            Panel,
            register_dashboard_card,
            register_panel,
        )

        from . import counts, demo, panels, selectors, tasks  # noqa: F401 - tasks registers the jobs
        from .answering.tokens import ANSWER_RENDERER, render_answer_link
        from .models import RateCounter

        register_renderer(ANSWER_RENDERER, render_answer_link)
        # Requests per address and link on the public answer pages: bookkeeping of the
        # rate limit, no customer data, written on every request (also refused ones).
        writes_freely(RateCounter._meta.db_table, "rate-limit counters of the answer pages")
        # The monthly answer counts: kept when accounts go, checked and repaired daily.
        on_accounts_removed(counts.remove_accounts)
        register_figure_check(
            "satisfaction.answer_counts",
            _("Monthly survey answer counts"),
            counts.check_answer_counts,
            order=50,
        )
        register_nav(NavItem("satisfaction", _("Satisfaction"), "satisfaction:surveys", order=30))
        register_panel(
            Panel(
                "satisfaction",
                "satisfaction/panel.html",
                panels.satisfaction_panel,
                order=20,
                column="side",
            )
        )
        register_dashboard_card(
            DashboardCard("followups", "satisfaction/dashboard_card.html", panels.followups_card)
        )
        # The account's satisfaction in the portfolio and the account plan, read through
        # the one selector (``selectors.account_satisfaction``) like the account page.
        register_portfolio_column(
            PortfolioColumn(
                "satisfaction",
                _("Satisfaction (0–100)"),
                selectors.satisfaction_scores,
                "decimal",
                60,
            )
        )
        register_plan_section(
            PlanSection(
                "satisfaction", "satisfaction/plan_section.html", panels.plan_section, order=40
            )
        )
        register_demo("satisfaction", demo.extend, order=50)
