from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UsersConfig(AppConfig):
    name = "relatiebeheer.users"
    label = "users"
    verbose_name = _("Users and access")

    def ready(self) -> None:
        from . import signals  # noqa: F401  (a successful login is no failure)
