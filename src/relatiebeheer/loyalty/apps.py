from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LoyaltyConfig(AppConfig):
    name = "relatiebeheer.loyalty"
    label = "loyalty"
    verbose_name = _("Loyalty")

    def ready(self) -> None:
        from relatiebeheer.demo.extensions import register_demo
        from relatiebeheer.hooks import on_accounts_changed
        from relatiebeheer.web.nav import NavItem, register_nav
        from relatiebeheer.web.panels import Panel, register_panel

        from . import demo, figures, panels, reports, tasks

        on_accounts_changed(tasks.mark_pending, in_transaction=True)
        on_accounts_changed(tasks.after_large_change)
        figures.register()
        reports.register()
        register_nav(NavItem("loyalty", _("Loyalty"), "loyalty:index", order=30))
        register_panel(
            Panel("loyalty", "loyalty/panel.html", panels.loyalty_panel, order=20, column="side")
        )
        register_demo("loyalty", demo.extend, order=60)  # after the surveys
