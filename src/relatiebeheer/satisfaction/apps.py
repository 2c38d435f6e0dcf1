from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SatisfactionConfig(AppConfig):
    name = "relatiebeheer.satisfaction"
    label = "satisfaction"
    verbose_name = _("Satisfaction")

    def ready(self) -> None:
        from relatiebeheer.demo.extensions import register_demo
        from relatiebeheer.outbox.rendering import register_renderer
        from relatiebeheer.web.nav import NavItem, register_nav
        from relatiebeheer.web.panels import (
            DashboardCard,
            Panel,
            register_dashboard_card,
            register_panel,
        )

        from . import demo, panels, services, tasks  # noqa: F401 - tasks registers the jobs

        register_renderer(services.ANSWER_RENDERER, services.render_answer_link)
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
        register_demo("satisfaction", demo.extend, order=50)
