from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "relatiebeheer.audit"
    label = "audit"
    verbose_name = _("Audit log")

    def ready(self) -> None:
        from relatiebeheer.users.access import can_read_audit_log
        from relatiebeheer.web.nav import NavItem, register_nav

        from . import (
            signals,  # noqa: F401  (login / failed-login receivers)
            tasks,  # noqa: F401  (the daily removal of old login records)
        )

        register_nav(
            NavItem(
                "audit",
                _("Audit log"),
                "audit:audit_log",
                order=95,
                secondary=True,
                visible=can_read_audit_log,
            )
        )
