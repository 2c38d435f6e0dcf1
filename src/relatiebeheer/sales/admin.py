from django.contrib import admin

from .models import CostEntry, Order, OrderLine


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["__str__", "account", "date", "status", "revenue", "cost_of_goods"]
    list_filter = ["status"]
    raw_id_fields = ["account", "credit_of"]
    date_hierarchy = "date"
    inlines = [OrderLineInline]


@admin.register(CostEntry)
class CostEntryAdmin(admin.ModelAdmin):
    list_display = ["account", "date", "category", "amount"]
    list_filter = ["category"]
    raw_id_fields = ["account"]
