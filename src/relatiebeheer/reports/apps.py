from datetime import timedelta

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "relatiebeheer.reports"
    label = "reports"
    verbose_name = _("Reports")

    def ready(self) -> None:
        from relatiebeheer.ops import scheduler
        from relatiebeheer.web.nav import NavItem, register_nav

        from . import sections, tasks

        sections.register()
        register_nav(NavItem("reports", _("Reports"), "reports:dashboard", order=90))
        scheduler.register("reports.dashboard", timedelta(hours=1), tasks.refresh_dashboard.enqueue)
