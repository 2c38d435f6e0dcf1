"""Columns of exported relation lists (used by the web export and the command line)."""

from django.utils.translation import gettext_lazy as _

from relatiebeheer.exports import Column


def account_columns() -> list[Column]:
    return [
        Column(_("Number"), lambda a: a.pk, "int"),
        Column(_("Name"), lambda a: a.name),
        Column(_("Status"), lambda a: a.get_status_display()),
        Column(_("Account manager"), lambda a: str(a.manager) if a.manager else ""),
        Column(_("KvK number"), lambda a: a.kvk_number),
        Column(_("VAT number"), lambda a: a.vat_number),
        Column(_("Industry"), lambda a: a.industry),
        Column(_("Street and number"), lambda a: a.street),
        Column(_("Postal code"), lambda a: a.postal_code),
        Column(_("City"), lambda a: a.city),
        Column(_("Country"), lambda a: a.country),
        Column(_("Website"), lambda a: a.website),
        Column(_("Customer since"), lambda a: a.customer_since, "date"),
        Column(_("Margin (%)"), lambda a: a.margin, "decimal"),
        Column(_("External id"), lambda a: a.external_id),
    ]
