"""Admin for support: orders and cost entries are saved through the sales services
(audit, version, the account lock for credit notes, the hook). Order lines are shown
read-only here; they are changed with the order in the app or the API, where the
order's totals are kept equal to its lines."""

from django.contrib import admin

from relatiebeheer.common.admin import ReadOnlyInline, ServiceAdmin

from . import services
from .models import CostEntry, Order, OrderLine


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = ["product", "category", "quantity", "revenue", "cost"]
    readonly_fields = fields


@admin.register(Order)
class OrderAdmin(ServiceAdmin):
    list_display = ["__str__", "account", "date", "status", "revenue", "cost_of_goods"]
    list_filter = ["status"]
    raw_id_fields = ["account", "credit_of"]
    date_hierarchy = "date"
    inlines = [OrderLineInline]

    def get_readonly_fields(self, request, obj=None):
        # An order stays with its account; a credit note with the order it corrects.
        return ["account", "credit_of"] if obj is not None else []

    def service_create(self, actor, data):
        data = dict(data)
        account = data.pop("account")
        return services.order_create(actor=actor, account=account, data=data)

    def service_update(self, actor, obj, version, data):
        return services.order_update(actor=actor, order=obj, version=version, data=data)

    def service_delete(self, actor, obj, version):
        services.order_delete(actor=actor, order=obj, version=version)


@admin.register(CostEntry)
class CostEntryAdmin(ServiceAdmin):
    list_display = ["account", "date", "category", "amount"]
    list_filter = ["category"]
    raw_id_fields = ["account"]

    def get_readonly_fields(self, request, obj=None):
        return ["account"] if obj is not None else []

    def service_create(self, actor, data):
        data = dict(data)
        account = data.pop("account")
        return services.cost_entry_create(actor=actor, account=account, data=data)

    def service_update(self, actor, obj, version, data):
        return services.cost_entry_update(actor=actor, entry=obj, version=version, data=data)

    def service_delete(self, actor, obj, version):
        services.cost_entry_delete(actor=actor, entry=obj, version=version)
