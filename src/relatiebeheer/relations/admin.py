"""Admin for support. Changes to customer data go through the relation services (see
``common/admin.py``), so the admin writes the same audit rows, checks the same version
and fires the same hook as the web app and the API."""

from django.contrib import admin
from django.db import models

from relatiebeheer.common.admin import ReadOnlyAdmin, ServiceAdmin

from . import groups, services
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
class AccountAdmin(ServiceAdmin):
    list_display = ["name", "city", "status", "manager", "kvk_number", "archived"]
    list_filter = ["status", "archived", "manager"]
    search_fields = ["search_text"]
    raw_id_fields = ["parent"]
    exclude = ["search_text"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def service_create(self, actor, data):
        return services.account_create(actor=actor, data=data)

    def service_update(self, actor, obj, version, data):
        return services.account_update(actor=actor, account=obj, version=version, data=data)

    def service_delete(self, actor, obj, version):
        services.account_delete(actor=actor, account=obj, version=version)


@admin.register(Contact)
class ContactAdmin(ServiceAdmin):
    list_display = ["__str__", "account", "role", "email", "language"]
    search_fields = ["last_name", "first_name", "email"]
    raw_id_fields = ["account"]
    filter_horizontal = ["interests"]
    service_m2m = ("interests",)

    @staticmethod
    def _split(data):
        data = dict(data)
        interests = data.pop("interests", None)
        return data, None if interests is None else [i.name for i in interests]

    def service_create(self, actor, data):
        data, interests = self._split(data)
        account = data.pop("account")
        return services.contact_create(
            actor=actor, account=account, data=data, interests=interests or ()
        )

    def service_update(self, actor, obj, version, data):
        data, interests = self._split(data)
        return services.contact_update(
            actor=actor, contact=obj, version=version, data=data, interests=interests
        )

    def service_delete(self, actor, obj, version):
        services.contact_delete(actor=actor, contact=obj, version=version)


@admin.register(Interaction)
class InteractionAdmin(ServiceAdmin):
    list_display = ["subject", "account", "occurred_at", "channel", "kind", "satisfaction", "user"]
    list_filter = ["channel", "kind", "satisfaction"]
    raw_id_fields = ["account", "contacts"]
    date_hierarchy = "occurred_at"
    service_m2m = ("contacts",)

    def service_create(self, actor, data):
        data = dict(data)
        account = data.pop("account")
        contacts = data.pop("contacts", None) or ()
        return services.interaction_log(actor=actor, account=account, data=data, contacts=contacts)

    def service_update(self, actor, obj, version, data):
        data = dict(data)
        contacts = data.pop("contacts", None)
        if "account" in data:
            data.pop("account")  # a contact moment stays with its account
        return services.interaction_update(
            actor=actor, interaction=obj, version=version, data=data, contacts=contacts
        )

    def service_delete(self, actor, obj, version):
        services.interaction_delete(actor=actor, interaction=obj, version=version)

    def get_readonly_fields(self, request, obj=None):
        return ["account"] if obj is not None else []


@admin.register(Task)
class TaskAdmin(ServiceAdmin):
    list_display = ["title", "account", "assignee", "due_date", "done"]
    list_filter = ["done", "assignee"]
    raw_id_fields = ["account", "source_interaction"]
    exclude = ["created_by", "done_at"]

    def get_readonly_fields(self, request, obj=None):
        return ["account", "source_interaction"] if obj is not None else []

    def service_create(self, actor, data):
        data = dict(data)
        account = data.pop("account")
        source = data.pop("source_interaction", None)
        return services.task_create(
            actor=actor, account=account, data=data, source_interaction=source
        )

    def service_update(self, actor, obj, version, data):
        return services.task_update(actor=actor, task=obj, version=version, data=data)

    def service_delete(self, actor, obj, version):
        services.task_delete(actor=actor, task=obj, version=version)


@admin.register(AccountShare)
class AccountShareAdmin(ServiceAdmin):
    """Sharing an account with a colleague: added and removed, never edited."""

    list_display = ["account", "user"]
    raw_id_fields = ["account"]

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def service_create(self, actor, data):
        return services.account_share(actor=actor, account=data["account"], user=data["user"])

    def service_delete(self, actor, obj, version):
        services.account_unshare(actor=actor, account=obj.account, user=obj.user)


@admin.register(BuyingGroup)
class BuyingGroupAdmin(ServiceAdmin):
    list_display = ["name"]
    search_fields = ["name"]

    def service_create(self, actor, data):
        return groups.buying_group_create(actor=actor, name=data["name"])

    def service_update(self, actor, obj, version, data):
        if "name" not in data:
            return obj
        return groups.buying_group_rename(actor=actor, group=obj, name=data["name"])

    def service_delete(self, actor, obj, version):
        groups.buying_group_delete(actor=actor, group=obj)


@admin.register(Interest, SavedSelection)
class MadeInTheAppAdmin(ReadOnlyAdmin):
    """Interests come with contacts (contact forms, imports) and saved selections from
    the account list; the admin shows them."""
