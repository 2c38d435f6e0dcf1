from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OutboxConfig(AppConfig):
    name = "relatiebeheer.outbox"
    label = "outbox"
    verbose_name = _("Outbox")

    def ready(self) -> None:
        from relatiebeheer.web.nav import NavItem, register_nav

        from . import tasks  # noqa: F401 - registers the sweep and the recovery

        register_nav(NavItem("outbox", _("Outbox"), "outbox:messages", order=90, secondary=True))
