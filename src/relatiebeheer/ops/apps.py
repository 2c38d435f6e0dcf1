from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpsConfig(AppConfig):
    name = "relatiebeheer.ops"
    label = "ops"
    verbose_name = _("Operations")

    def ready(self) -> None:
        from relatiebeheer.common import writers

        from .figure_checks import register_schedule

        register_schedule()
        writers.install_guard()
        from django.db.backends.signals import connection_created

        from relatiebeheer.common.files import private_sqlite

        connection_created.connect(private_sqlite, weak=False, dispatch_uid="files.private")
