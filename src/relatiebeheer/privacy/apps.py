from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    name = "relatiebeheer.privacy"
    label = "privacy"
    verbose_name = _("Privacy (GDPR)")

    def ready(self) -> None:
        from . import policies, registry

        policies.register_core_policies()
        registry.discover()
