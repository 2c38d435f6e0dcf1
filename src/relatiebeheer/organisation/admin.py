from django.contrib import admin

from .models import OrganisationSettings


@admin.register(OrganisationSettings)
class OrganisationSettingsAdmin(admin.ModelAdmin):
    list_display = ["name", "hourly_cost", "default_vat_rate"]

    def has_add_permission(self, request):
        return not OrganisationSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False
