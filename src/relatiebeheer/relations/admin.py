"""Admin for configuration and support. Changes to customer data go through the services,
so the admin writes the same audit rows and obeys the same rules as the web app and API."""

from django.contrib import admin
from django.db import models

from . import services
from .models import (
    Account,
    AccountShare,
    BuyingGroup,
    Contact,
    Interaction,
    Interest,
    SavedSelection,
    Task,
)


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    """Saves go through the account services (rules, search column, audit row).

    The admin form carries no version: an admin save applies to the record as it is
    at that moment (use the web app for conflict-checked editing).
    """

    list_display = ["name", "city", "status", "manager", "kvk_number", "archived"]
    list_filter = ["status", "archived", "manager"]
    search_fields = ["search_text"]
    raw_id_fields = ["parent"]
    exclude = ["search_text"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def save_model(self, request, obj, form, change):
        if change:
            current = Account.objects.get(pk=obj.pk)
            data = {name: form.cleaned_data[name] for name in form.changed_data}
            services.account_update(
                actor=request.user, account=current, version=current.version, data=data
            )
        else:
            obj.pk = services.account_create(actor=request.user, data=form.cleaned_data).pk

    def delete_model(self, request, obj):
        services.account_delete(actor=request.user, account=obj)


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["__str__", "account", "role", "email", "language"]
    search_fields = ["last_name", "first_name", "email"]
    raw_id_fields = ["account"]
    filter_horizontal = ["interests"]


@admin.register(Interaction)
class InteractionAdmin(admin.ModelAdmin):
    list_display = ["subject", "account", "occurred_at", "channel", "kind", "satisfaction", "user"]
    list_filter = ["channel", "kind", "satisfaction"]
    raw_id_fields = ["account", "contacts"]
    date_hierarchy = "occurred_at"


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ["title", "account", "assignee", "due_date", "done"]
    list_filter = ["done", "assignee"]
    raw_id_fields = ["account", "source_interaction"]


admin.site.register(BuyingGroup)
admin.site.register(Interest)
admin.site.register(SavedSelection)
admin.site.register(AccountShare)
