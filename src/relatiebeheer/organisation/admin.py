"""The organisation settings, saved through ``organisation.services`` (audited, checked
against the version the administrator saw, and refreshing the figures they enter)."""

from django.contrib import admin

from relatiebeheer.common.admin import ServiceAdmin

from . import services
from .models import OrganisationSettings


@admin.register(OrganisationSettings)
class OrganisationSettingsAdmin(ServiceAdmin):
    list_display = ["name", "hourly_cost", "default_vat_rate"]

    def has_add_permission(self, request):
        return False  # the one row exists from the first migration on (load() makes it)

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        OrganisationSettings.load()  # so the one row is there to open
        return super().changelist_view(request, extra_context)

    def service_update(self, actor, obj, version, data):
        return services.organisation_settings_update(actor=actor, version=version, data=data)
