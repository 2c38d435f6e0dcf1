from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ValueConfig(AppConfig):
    name = "relatiebeheer.value"
    label = "value"
    verbose_name = _("Customer value")

    def ready(self) -> None:
        from relatiebeheer.hooks import on_accounts_changed
        from relatiebeheer.web.nav import NavItem, register_nav
        from relatiebeheer.web.panels import Panel, register_panel

        from . import panels, tasks

        on_accounts_changed(tasks.schedule_refresh)
        register_panel(
            Panel("value", "value/panel.html", panels.value_panel, order=10, column="side")
        )
        register_nav(NavItem("value", _("Customer value"), "value:overview", order=40))
