from datetime import timedelta

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "relatiebeheer.reports"
    label = "reports"
    verbose_name = _("Reports")

    def ready(self) -> None:
        from relatiebeheer.ops import scheduler
        from relatiebeheer.ops.figure_checks import register_figure_check
        from relatiebeheer.value.steps import RecomputeStep, register_recompute_step
        from relatiebeheer.web.nav import NavItem, register_nav

        from . import sections, stats, tasks

        sections.register()
        register_recompute_step(
            RecomputeStep(
                "reports.period_figures",
                "rebuilding the dashboard's period figures",
                lambda as_of: stats.refresh_dashboard_figures(today=as_of),
            )
        )
        register_figure_check(
            "reports.period_figures",
            _("Dashboard period figures against a fresh rebuild"),
            stats.figures_check,
            order=20,
        )
        register_nav(NavItem("reports", _("Reports"), "reports:dashboard", order=90))
        scheduler.register("reports.dashboard", timedelta(hours=1), tasks.refresh_dashboard.enqueue)
