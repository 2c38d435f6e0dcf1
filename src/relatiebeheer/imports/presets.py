"""Shipped column mappings for the exports of common Dutch bookkeeping packages.

A preset maps fields to *candidate* header names; the first candidate present in the
file is used. Headers are compared normalised (case, accents, punctuation and spaces
ignored), so ``KvK-nummer``, ``Kvk nummer`` and ``KVKNUMMER`` are the same header.

Sources and certainty (see the README section "Presets"): the packages do not publish
one fixed CSV layout — users choose columns in their export screens — so each preset
lists the names used in the package's public documentation of its import/export and
API fields:

* Exact Online — the field names of the Exact (Globe/Online) relation import/export
  ("Relatiecode", "Debiteurcode", "Naam", "BezoekAdres1", "BezoekPostcode",
  "BezoekPlaats", "BezoekLand", "E-Mail", "Website", "Telefoon") and of the REST
  ``crm/Accounts`` resource (``Code``, ``Name``, ``ChamberOfCommerce``, ``VATNumber``,
  ``AddressLine1``, ``Postcode``, ``City``, ``Country``, ``Email``, ``Phone``).
* AFAS Profit — the ``KnOrganisation`` connector fields (``BcCo`` number, ``Nm`` name,
  ``CcNr`` KvK number, ``FiNr`` VAT/fiscal number) and the Dutch column titles of a
  Profit list export ("Nummer", "Naam", "KvK-nummer", "Btw-nummer", "Woonplaats").
* SnelStart — the fields of a relation in the SnelStart API ("relatiecode", "naam",
  "telefoon", "email", "kvkNummer", "btwNummer", "websiteUrl") and the Dutch titles
  of its relation overview export ("Relatiecode", "Naam", "Plaats").
* Twinfield — the customer (dimension type DEB) fields ``code``, ``name``,
  ``website`` and the address fields (``postcode``, ``city``, ``country``,
  ``telephone``, ``email``; ``field4`` holds the VAT number and ``field5`` the KvK
  number), as in Twinfield's customer export.

Uncertain names are harmless: a candidate that is absent from the file is skipped and
the user sees and can change the resulting mapping before anything is imported.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from .fields import normalise_header


@dataclass(frozen=True)
class Preset:
    key: str
    label: object
    kind: str
    candidates: dict[str, tuple[str, ...]]
    options: dict | None = None

    def mapping_for(self, headers: list[str]) -> dict[str, str]:
        by_norm = {}
        for header in headers:
            by_norm.setdefault(normalise_header(header), header)
        mapping = {}
        used = set()
        for field, names in self.candidates.items():
            for name in names:
                header = by_norm.get(normalise_header(name))
                if header is not None and header not in used:
                    mapping[field] = header
                    used.add(header)
                    break
        return mapping

    def score(self, headers: list[str]) -> int:
        return len(self.mapping_for(headers))


_ACCOUNT_REF_EXACT = ("Debiteurcode", "Relatiecode", "Code klant", "Account code", "AccountCode")

SHIPPED: tuple[Preset, ...] = (
    Preset(
        "exact_online_accounts",
        _("Exact Online — relations"),
        "accounts",
        {
            "external_id": ("Debiteurcode", "Relatiecode", "Code", "Debiteurnummer"),
            "name": ("Naam", "Name", "Relatienaam"),
            "kvk_number": ("KvK-nummer", "ChamberOfCommerce", "Kamer van Koophandel"),
            "vat_number": ("Btw-nummer", "VATNumber", "BTW nummer"),
            "street": ("BezoekAdres1", "AddressLine1", "Adresregel 1", "Adres"),
            "postal_code": ("BezoekPostcode", "Postcode"),
            "city": ("BezoekPlaats", "City", "Plaats"),
            "country": ("BezoekLand", "Country", "Land"),
            "website": ("Website",),
        },
    ),
    Preset(
        "exact_online_invoices",
        _("Exact Online — sales invoices"),
        "orders",
        {
            "external_id": ("Factuurnummer", "InvoiceNumber", "Boekstuknummer"),
            "number": ("Factuurnummer", "InvoiceNumber", "Uw ref.", "YourRef"),
            "account_external_id": _ACCOUNT_REF_EXACT,
            "account_name": ("Naam", "Debiteurnaam", "InvoiceToName"),
            "date": ("Factuurdatum", "InvoiceDate", "Datum", "Boekdatum"),
            "revenue": ("Bedrag excl. btw", "AmountFCExclVat", "Bedrag excl btw", "Bedrag"),
            "vat_rate": ("Btw-percentage", "VATPercentage"),
        },
    ),
    Preset(
        "afas_accounts",
        _("AFAS Profit — organisations / debtors"),
        "accounts",
        {
            "external_id": ("BcCo", "Nummer", "Debiteur", "DebtorId", "Nummer debiteur"),
            "name": ("Nm", "Naam", "DebtorName", "Naam debiteur"),
            "kvk_number": ("CcNr", "KvK-nummer", "Nummer Kamer van Koophandel"),
            "vat_number": ("FiNr", "Btw-nummer", "Btw-identificatienummer", "Fiscaal nummer"),
            "street": ("Ad", "Straat", "Adres"),
            "postal_code": ("ZpCd", "Postcode"),
            "city": ("Rs", "Woonplaats", "Plaats"),
            "country": ("CoId", "Land"),
            "website": ("HoPa", "Homepage", "Website"),
        },
    ),
    Preset(
        "afas_invoices",
        _("AFAS Profit — sales invoices"),
        "orders",
        {
            "external_id": ("Factuurnummer", "InId", "Nummer"),
            "number": ("Factuurnummer", "InId"),
            "account_external_id": ("Debiteur", "DbId", "Verkooprelatie", "Nummer debiteur"),
            "date": ("Factuurdatum", "InDa", "Datum"),
            "revenue": ("Bedrag excl. btw", "Factuurbedrag excl. btw", "AmEx", "Bedrag"),
        },
    ),
    Preset(
        "snelstart_accounts",
        _("SnelStart — relations"),
        "accounts",
        {
            "external_id": ("Relatiecode", "relatiecode"),
            "name": ("Naam", "naam"),
            "kvk_number": ("KvK-nummer", "kvkNummer"),
            "vat_number": ("Btw-nummer", "btwNummer", "BTW-nummer"),
            "street": ("Straat", "Adres", "straat"),
            "postal_code": ("Postcode", "postcode"),
            "city": ("Plaats", "plaats"),
            "country": ("Land", "land"),
            "website": ("Website", "websiteUrl"),
        },
    ),
    Preset(
        "snelstart_invoices",
        _("SnelStart — sales invoices"),
        "orders",
        {
            "external_id": ("Factuurnummer", "factuurnummer"),
            "number": ("Factuurnummer", "factuurnummer"),
            "account_external_id": ("Relatiecode", "relatiecode"),
            "account_name": ("Relatie", "Naam"),
            "date": ("Factuurdatum", "factuurDatum", "Datum"),
            "revenue": ("Bedrag excl. btw", "Factuurbedrag excl. btw", "Bedrag"),
        },
    ),
    Preset(
        "twinfield_accounts",
        _("Twinfield — customers"),
        "accounts",
        {
            "external_id": ("Code", "code", "Debiteurnummer", "DebtorNumber"),
            "name": ("Naam", "Name", "name"),
            "kvk_number": ("field5", "KvK-nummer", "Chamber of commerce number"),
            "vat_number": ("field4", "Btw-nummer", "VAT number"),
            "street": ("field2", "Adres", "Address"),
            "postal_code": ("postcode", "Postcode"),
            "city": ("city", "Plaats", "City"),
            "country": ("country", "Land", "Country"),
            "website": ("website", "Website"),
        },
    ),
    Preset(
        "twinfield_invoices",
        _("Twinfield — sales invoices"),
        "orders",
        {
            "external_id": ("Factuurnummer", "invoicenumber", "Invoice number"),
            "number": ("Factuurnummer", "invoicenumber", "Invoice number"),
            "account_external_id": ("Debiteur", "customer", "Customer", "Debiteurnummer"),
            "date": ("Factuurdatum", "invoicedate", "Invoice date"),
            "revenue": ("Bedrag excl. btw", "valueexcl", "Value excl. VAT"),
        },
    ),
)


def own_export_preset(kind: str) -> Preset | None:
    from django.utils import translation

    from relatiebeheer.exports_registry import columns_for_kind

    candidates: dict[str, list[str]] = {}
    for lang in ("nl", "en"):
        with translation.override(lang):
            columns = columns_for_kind(kind)
            if columns is None:
                return None
            for column in columns:
                field = getattr(column, "field", "")
                if field:
                    candidates.setdefault(field, []).append(str(column.header))
    return Preset(
        f"relatiebeheer_{kind}",
        _("Relatiebeheer export"),
        kind,
        {field: tuple(names) for field, names in candidates.items()},
    )


def shipped(key: str) -> Preset | None:
    if key.startswith("relatiebeheer_"):
        return own_export_preset(key.removeprefix("relatiebeheer_"))
    return next((p for p in SHIPPED if p.key == key), None)


def best_preset(kind: str, headers: list[str]) -> Preset | None:
    """The shipped preset that recognises the file, if one does clearly.

    Our own export is recognised when every one of its headers is present (in one
    language); a package preset when it names at least three columns of the file,
    more than the generic header detection does.
    """
    own = own_export_preset(kind)
    normalised = {normalise_header(h) for h in headers}
    if own is not None:
        for lang_index in range(2):
            names = {
                normalise_header(names[lang_index])
                for names in own.candidates.values()
                if len(names) > lang_index
            }
            if names and names <= normalised:
                return own
    best, best_score = None, 2
    for preset in SHIPPED:
        if preset.kind != kind:
            continue
        score = preset.score(headers)
        if score > best_score:
            best, best_score = preset, score
    return best
