from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImportsConfig(AppConfig):
    name = "relatiebeheer.imports"
    label = "imports"
    verbose_name = _("Imports")

    def ready(self) -> None:
        from relatiebeheer.web.nav import NavItem, register_nav

        from . import exports, tasks  # noqa: F401 - tasks registers the scheduled job

        exports.register()
        # Everyone who may change data imports (account managers into their own
        # accounts); read-only users see the menu item for exports and duplicates.
        register_nav(
            NavItem("imports", _("Import and export"), "imports:index", order=80, secondary=True)
        )
