"""The lists this app registers with the export registry (accounts, contacts, orders,
costs, metrics). Each column that an import reads back names its import field, so an
exported file imports back without changing anything."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from django.db.models import Prefetch
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from relatiebeheer.exports_registry import ExportList, FieldColumn, register_export
from relatiebeheer.relations import selectors as relations
from relatiebeheer.relations.exports import account_columns
from relatiebeheer.relations.models import Contact, Interest

# The accounts list's columns (relations/exports.py) by their English header → import field.
ACCOUNT_FIELDS = {
    "Number": "id",
    "Name": "name",
    "Status": "status",
    "Account manager": "manager",
    "KvK number": "kvk_number",
    "VAT number": "vat_number",
    "Industry": "industry",
    "Street and number": "street",
    "Postal code": "postal_code",
    "City": "city",
    "Country": "country",
    "Website": "website",
    "Customer since": "customer_since",
    "Margin (%)": "margin",
    "External id": "external_id",
}


def _accounts(actor, params: Mapping[str, str]):
    return relations.account_list(
        actor=actor, filters=relations.AccountFilters.from_mapping(params)
    )


def accounts_columns() -> list:
    out = []
    for column in account_columns():
        with translation.override("en"):
            english = str(column.header)
        out.append(
            FieldColumn(
                column.header, column.value, column.kind, field=ACCOUNT_FIELDS.get(english, "")
            )
        )
    return out


def _user(user) -> str:
    return str(user) if user else ""


def contacts_columns() -> list:
    return [
        FieldColumn(_("Number"), lambda c: c.pk, "int", field="id"),
        FieldColumn(_("Account number"), lambda c: c.account_id, "int", field="account_id"),
        FieldColumn(_("Account"), lambda c: c.account.name),
        FieldColumn(_("First name"), lambda c: c.first_name, field="first_name"),
        FieldColumn(_("Last name"), lambda c: c.last_name, field="last_name"),
        FieldColumn(_("Role"), lambda c: c.role, field="role"),
        FieldColumn(_("Email"), lambda c: c.email, field="email"),
        FieldColumn(_("Phone"), lambda c: c.phone, field="phone"),
        FieldColumn(_("Preferred language"), lambda c: c.language, field="language"),
        FieldColumn(
            _("Interests"),
            lambda c: ", ".join(sorted(i.name for i in c.interests.all())),
            field="interests",
        ),
        FieldColumn(_("External id"), lambda c: c.external_id, field="external_id"),
    ]


def _account_scope(actor, params: Mapping[str, str]):
    """The accounts of the list filters; ``None`` when no filter is set (all visible)."""
    filters = relations.AccountFilters.from_mapping(params)
    if filters == relations.AccountFilters(ordering=filters.ordering):
        return None
    return relations.account_list(actor=actor, filters=filters).values("id")


def _contacts(actor, params):
    qs = Contact.objects.visible_to(actor).select_related("account")
    scope = _account_scope(actor, params)
    if scope is not None:
        qs = qs.filter(account__in=scope)
    return qs.prefetch_related(
        Prefetch("interests", queryset=Interest.objects.only("name"))
    ).order_by("account__name", "last_name", "first_name", "id")


def _date(value):
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def orders_columns() -> list:
    def credit_ref(order):
        original = order.credit_of
        if original is None:
            return ""
        return original.external_id or original.number or f"#{original.pk}"

    return [
        FieldColumn(_("Number"), lambda o: o.pk, "int", field="id"),
        FieldColumn(_("Account number"), lambda o: o.account_id, "int", field="account_id"),
        FieldColumn(_("Account"), lambda o: o.account.name),
        FieldColumn(_("Order date"), lambda o: o.date, "date", field="date"),
        FieldColumn(_("Order number"), lambda o: o.number, field="number"),
        FieldColumn(_("Status"), lambda o: o.get_status_display(), field="status"),
        FieldColumn(_("Revenue (excl. VAT)"), lambda o: o.revenue, "money", field="revenue"),
        FieldColumn(_("Cost of goods"), lambda o: o.cost_of_goods, "money", field="cost_of_goods"),
        FieldColumn(_("VAT rate (%)"), lambda o: o.vat_rate, "decimal", field="vat_rate"),
        FieldColumn(_("Corrects order"), credit_ref, field="credit_of"),
        FieldColumn(_("External id"), lambda o: o.external_id, field="external_id"),
    ]


def _orders(actor, params):
    from relatiebeheer.sales.models import Order

    qs = Order.objects.visible_to(actor).select_related("account", "credit_of")
    scope = _account_scope(actor, params)
    if scope is not None:
        qs = qs.filter(account__in=scope)
    if _date(params.get("date_from")):
        qs = qs.filter(date__gte=_date(params.get("date_from")))
    if _date(params.get("date_to")):
        qs = qs.filter(date__lte=_date(params.get("date_to")))
    return qs.order_by("date", "id")


def costs_columns() -> list:
    return [
        FieldColumn(_("Number"), lambda c: c.pk, "int", field="id"),
        FieldColumn(_("Account number"), lambda c: c.account_id, "int", field="account_id"),
        FieldColumn(_("Account"), lambda c: c.account.name),
        FieldColumn(_("Date"), lambda c: c.date, "date", field="date"),
        FieldColumn(_("Category"), lambda c: c.get_category_display(), field="category"),
        FieldColumn(_("Amount (excl. VAT)"), lambda c: c.amount, "money", field="amount"),
        FieldColumn(_("Description"), lambda c: c.description, field="description"),
        FieldColumn(_("External id"), lambda c: c.external_id, field="external_id"),
    ]


def _costs(actor, params):
    from relatiebeheer.sales.models import CostEntry

    qs = CostEntry.objects.visible_to(actor).select_related("account")
    scope = _account_scope(actor, params)
    if scope is not None:
        qs = qs.filter(account__in=scope)
    if _date(params.get("date_from")):
        qs = qs.filter(date__gte=_date(params.get("date_from")))
    if _date(params.get("date_to")):
        qs = qs.filter(date__lte=_date(params.get("date_to")))
    return qs.order_by("date", "id")


def metrics_columns() -> list:
    return [
        FieldColumn(_("Account number"), lambda m: m.account_id, "int"),
        FieldColumn(_("Account"), lambda m: m.account.name),
        FieldColumn(_("As of"), lambda m: m.as_of, "date"),
        FieldColumn(_("Orders"), lambda m: m.orders, "int"),
        FieldColumn(_("Orders (12 months)"), lambda m: m.orders_12m, "int"),
        FieldColumn(_("First order"), lambda m: m.first_order, "date"),
        FieldColumn(_("Last order"), lambda m: m.last_order, "date"),
        FieldColumn(_("Revenue (12 months)"), lambda m: m.revenue_12m, "money"),
        FieldColumn(_("Profit (12 months)"), lambda m: m.profit_12m, "money"),
        FieldColumn(_("Revenue this year"), lambda m: m.revenue_this_year, "money"),
        FieldColumn(_("Customer value this year"), lambda m: m.value_this_year, "money"),
        FieldColumn(_("Customer value last year"), lambda m: m.value_last_year, "money"),
        FieldColumn(_("Average order value"), lambda m: m.average_order_value, "money"),
        FieldColumn(_("Margin (%)"), lambda m: m.margin, "decimal"),
        FieldColumn(_("Margin used"), lambda m: m.get_margin_source_display()),
        FieldColumn(_("Profit per order (W)"), lambda m: m.profit_per_order, "money"),
        FieldColumn(_("CLV"), lambda m: m.clv, "money"),
        FieldColumn(_("CLV per year"), lambda m: m.clv_per_year, "money"),
        FieldColumn(_("RFM R"), lambda m: m.rfm_r, "int"),
        FieldColumn(_("RFM F"), lambda m: m.rfm_f, "int"),
        FieldColumn(_("RFM M"), lambda m: m.rfm_m, "int"),
        FieldColumn(_("Segment"), lambda m: m.get_segment_display()),
        FieldColumn(_("Pyramid level"), lambda m: m.get_pyramid_level_display()),
        FieldColumn(_("Predicted CLV"), lambda m: m.predicted_clv, "money"),
        FieldColumn(_("Being recalculated"), lambda m: _("yes") if m.pending else _("no")),
    ]


def _metrics(actor, params):
    """The stored figures through value's one selector (with whether a refresh waits),
    for the accounts of the account list's filters."""
    from relatiebeheer.value.selectors import metrics_for, with_pending

    listed = relations.account_list(
        actor=actor, filters=relations.AccountFilters.from_mapping(params)
    ).values("id")
    return with_pending(metrics_for(actor).filter(account__in=listed)).order_by(
        "account__name", "account_id"
    )


DATE_FILTERS = (
    "q",
    "status",
    "manager",
    "industry",
    "city",
    "buying_group",
    "date_from",
    "date_to",
)


def register() -> None:
    register_export(
        ExportList(
            "accounts", _("Accounts"), accounts_columns, _accounts, _("accounts"), "accounts", 10
        )
    )
    register_export(
        ExportList(
            "contacts", _("Contacts"), contacts_columns, _contacts, _("contacts"), "contacts", 20
        )
    )
    register_export(
        ExportList(
            "orders",
            _("Orders"),
            orders_columns,
            _orders,
            _("orders"),
            "orders",
            30,
            filters=DATE_FILTERS,
        )
    )
    register_export(
        ExportList(
            "costs",
            _("Costs"),
            costs_columns,
            _costs,
            _("costs"),
            "costs",
            40,
            filters=DATE_FILTERS,
        )
    )
    register_export(
        ExportList(
            "metrics",
            _("Customer value and CLV"),
            metrics_columns,
            _metrics,
            _("metrics"),
            None,
            50,
        )
    )
