from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpsConfig(AppConfig):
    name = "relatiebeheer.ops"
    label = "ops"
    verbose_name = _("Operations")

    def ready(self) -> None:
        from relatiebeheer.common import writers
        from relatiebeheer.users.access import can_see_operations
        from relatiebeheer.web.nav import NavItem, register_nav

        from . import tasks  # noqa: F401 - the retry policy of its task
        from .figure_checks import register_schedule
        from .models import WorkerHeartbeat

        register_schedule()
        writers.writes_freely(
            WorkerHeartbeat._meta.db_table, "the worker's heartbeat: bookkeeping of the worker"
        )
        writers.install_guard()
        register_nav(
            NavItem(
                "status",
                _("Status"),
                "ops:status",
                order=95,
                secondary=True,
                visible=can_see_operations,
            )
        )
        from django.db.backends.signals import connection_created

        from relatiebeheer.common.files import private_sqlite

        connection_created.connect(private_sqlite, weak=False, dispatch_uid="files.private")
