from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ValueConfig(AppConfig):
    name = "relatiebeheer.value"
    label = "value"
    verbose_name = _("Customer value")

    def ready(self) -> None:
        from relatiebeheer.hooks import on_accounts_changed
        from relatiebeheer.ops.figure_checks import register_figure_check
        from relatiebeheer.web.nav import NavItem, register_nav
        from relatiebeheer.web.panels import Panel, register_panel

        from . import checks, panels, tasks

        on_accounts_changed(tasks.mark_pending, in_transaction=True)
        on_accounts_changed(tasks.after_large_change)
        register_figure_check(
            "value.snapshot",
            _("Metric snapshot (customer value, CLV) against a fresh computation"),
            checks.snapshot_check,
            order=10,
        )
        register_panel(
            Panel("value", "value/panel.html", panels.value_panel, order=10, column="side")
        )
        register_nav(NavItem("value", _("Customer value"), "value:overview", order=40))
