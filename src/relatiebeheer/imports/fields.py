"""What each kind of import can fill, and how column headers are recognised.

A *field* is a target of the mapping (``"name"``, ``"revenue"``, ``"account_ref"`` …)
with a type that decides how its cells are parsed (see ``engine.py``). Headers are
matched after normalisation (lower case, accents and punctuation gone), against the
field's Dutch and English names and the usual names in bookkeeping exports; the
presets in ``presets.py`` name the columns of specific packages exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from relatiebeheer.common.text import normalise_search

KINDS = ("accounts", "contacts", "orders", "costs", "interactions")
KIND_LABELS = {
    "accounts": _("Accounts"),
    "contacts": _("Contacts"),
    "orders": _("Orders"),
    "costs": _("Costs"),
    "interactions": _("Contact moments"),
}


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: object
    type: str  # text, money, decimal, percent, date, datetime, int, choice, bool, ref
    required: bool = False
    max_length: int = 200
    synonyms: tuple[str, ...] = ()
    places: int = 2
    minimum: int | None = None
    maximum: int | None = None
    help: object = ""
    choices: str = ""  # name of a choice table in engine.CHOICES
    group: str = "main"  # "account" for account references, "line" for order lines
    hidden: bool = field(default=False, compare=False)


def _n(*names: str) -> tuple[str, ...]:
    return tuple(normalise_search(n) for n in names)


# Our own record number: only mapped automatically when the file is one of our exports.
ID = FieldSpec(
    "id",
    _("Relatiebeheer number"),
    "int",
    synonyms=(),
    minimum=1,
    help=_("The record number in Relatiebeheer, as in our own exports."),
)
EXTERNAL_ID = FieldSpec(
    "external_id",
    _("External id"),
    "text",
    max_length=64,
    synonyms=_n("external id", "externe id", "extern id", "external_id", "externid"),
    help=_("The record's number in the system the file comes from; makes re-imports update."),
)

# How rows of contacts, orders, costs and contact moments point at their account.
ACCOUNT_REFS = (
    FieldSpec(
        "account_id",
        _("Account (Relatiebeheer number)"),
        "int",
        minimum=1,
        group="account",
        synonyms=_n("account number relatiebeheer"),
    ),
    FieldSpec(
        "account_external_id",
        _("Account (external id)"),
        "text",
        max_length=64,
        group="account",
        synonyms=_n(
            "account external id",
            "account externe id",
            "relatienummer",
            "relatiecode",
            "klantnummer",
            "klantcode",
            "debiteurnummer",
            "debiteurcode",
            "debiteur",
            "customer number",
            "customer code",
            "customer id",
            "debtor number",
            "debtor code",
            "account code",
        ),
    ),
    FieldSpec(
        "account_kvk",
        _("Account (KvK number)"),
        "text",
        max_length=20,
        group="account",
        synonyms=_n("account kvk", "kvk account", "kvk klant", "kvk debiteur"),
    ),
    FieldSpec(
        "account_name",
        _("Account (name)"),
        "text",
        max_length=200,
        group="account",
        synonyms=_n(
            "account",
            "account name",
            "accountnaam",
            "klant",
            "klantnaam",
            "relatie",
            "relatienaam",
            "debiteurnaam",
            "customer",
            "customer name",
            "debtor name",
            "company",
            "bedrijf",
            "bedrijfsnaam",
        ),
    ),
)

ACCOUNT_FIELDS = (
    ID,
    FieldSpec(
        "external_id",
        _("External id"),
        "text",
        max_length=64,
        synonyms=_n(
            "external id",
            "externe id",
            "extern id",
            "relatienummer",
            "relatiecode",
            "klantnummer",
            "klantcode",
            "debiteurnummer",
            "debiteurcode",
            "customer number",
            "customer code",
            "customer id",
            "debtor number",
            "account code",
            "code",
        ),
        help=EXTERNAL_ID.help,
    ),
    FieldSpec(
        "name",
        _("Name"),
        "text",
        required=True,
        synonyms=_n(
            "name",
            "naam",
            "bedrijfsnaam",
            "bedrijf",
            "company",
            "company name",
            "organisatie",
            "organisation",
            "organization",
            "relatienaam",
            "relatie",
            "klantnaam",
            "account name",
            "accountnaam",
            "debiteurnaam",
            "handelsnaam",
        ),
    ),
    FieldSpec(
        "kvk_number",
        _("KvK number"),
        "kvk",
        max_length=20,
        synonyms=_n(
            "kvk",
            "kvk number",
            "kvk nummer",
            "kvknummer",
            "kvk nr",
            "coc",
            "coc number",
            "chamber of commerce",
            "chamber of commerce number",
            "kamer van koophandel",
            "kamer van koophandel nummer",
        ),
    ),
    FieldSpec(
        "vat_number",
        _("VAT number"),
        "vat",
        max_length=30,
        synonyms=_n(
            "vat",
            "vat number",
            "vat id",
            "btw",
            "btw nummer",
            "btwnummer",
            "btw nr",
            "btw id",
            "btw identificatienummer",
            "omzetbelastingnummer",
        ),
    ),
    FieldSpec(
        "industry",
        _("Industry"),
        "text",
        max_length=100,
        synonyms=_n("industry", "branche", "sector", "bedrijfstak"),
    ),
    FieldSpec(
        "street",
        _("Street and number"),
        "text",
        synonyms=_n(
            "street",
            "straat",
            "adres",
            "address",
            "street and number",
            "straat en huisnummer",
            "straat huisnummer",
            "adresregel 1",
            "address line 1",
            "address 1",
            "bezoekadres",
        ),
    ),
    FieldSpec(
        "postal_code",
        _("Postal code"),
        "text",
        max_length=10,
        synonyms=_n("postal code", "postcode", "zip", "zip code", "postalcode"),
    ),
    FieldSpec(
        "city",
        _("City"),
        "text",
        max_length=100,
        synonyms=_n(
            "city", "plaats", "woonplaats", "stad", "vestigingsplaats", "town", "plaatsnaam"
        ),
    ),
    FieldSpec(
        "country",
        _("Country"),
        "choice",
        choices="country",
        synonyms=_n("country", "land", "landcode", "country code"),
    ),
    FieldSpec(
        "website",
        _("Website"),
        "url",
        synonyms=_n("website", "url", "web", "internet", "homepage", "webadres", "internetadres"),
    ),
    FieldSpec(
        "status",
        _("Status"),
        "choice",
        choices="account_status",
        synonyms=_n("status", "relatiestatus", "soort relatie"),
    ),
    FieldSpec(
        "manager",
        _("Account manager"),
        "user",
        synonyms=_n(
            "account manager",
            "accountmanager",
            "accountbeheerder",
            "vertegenwoordiger",
            "manager",
            "owner",
            "eigenaar",
            "verkoper",
        ),
    ),
    FieldSpec(
        "customer_since",
        _("Customer since"),
        "date",
        synonyms=_n("customer since", "klant sinds", "klant vanaf", "startdatum relatie"),
    ),
    FieldSpec(
        "margin",
        _("Margin (%)"),
        "percent",
        minimum=0,
        maximum=100,
        synonyms=_n("margin", "marge", "margin (%)", "marge (%)", "winstmarge", "profit margin"),
    ),
    FieldSpec(
        "notes",
        _("Notes"),
        "text",
        max_length=10_000,
        synonyms=_n("notes", "notities", "opmerkingen", "opmerking", "memo", "remarks", "notitie"),
    ),
    FieldSpec("archived", _("Archived"), "bool", synonyms=_n("archived", "gearchiveerd")),
)

CONTACT_FIELDS = (
    ID,
    EXTERNAL_ID,
    *ACCOUNT_REFS,
    FieldSpec(
        "first_name",
        _("First name"),
        "text",
        max_length=100,
        synonyms=_n("first name", "voornaam", "roepnaam", "given name", "firstname"),
    ),
    FieldSpec(
        "last_name",
        _("Last name"),
        "text",
        required=True,
        max_length=100,
        synonyms=_n(
            "last name",
            "achternaam",
            "naam",
            "name",
            "surname",
            "family name",
            "lastname",
            "contactpersoon",
            "contact person",
            "contact",
        ),
    ),
    FieldSpec(
        "role",
        _("Role"),
        "text",
        max_length=100,
        synonyms=_n("role", "rol", "functie", "job title", "function", "title"),
    ),
    FieldSpec(
        "email",
        _("Email"),
        "email",
        max_length=254,
        synonyms=_n("email", "e mail", "e mailadres", "emailadres", "email address", "mail"),
    ),
    FieldSpec(
        "phone",
        _("Phone"),
        "phone",
        max_length=30,
        synonyms=_n(
            "phone",
            "telefoon",
            "telefoonnummer",
            "tel",
            "telephone",
            "phone number",
            "mobiel",
            "mobile",
        ),
    ),
    FieldSpec(
        "language",
        _("Preferred language"),
        "choice",
        choices="language",
        synonyms=_n("language", "taal", "preferred language", "voorkeurstaal"),
    ),
    FieldSpec(
        "interests",
        _("Interests"),
        "text",
        max_length=1000,
        synonyms=_n("interests", "interesses", "hobby s", "hobbies", "interesse"),
        help=_("Separated by commas or semicolons."),
    ),
    FieldSpec(
        "notes",
        _("Notes"),
        "text",
        max_length=10_000,
        synonyms=_n("notes", "notities", "opmerkingen", "memo", "remarks"),
    ),
)

ORDER_FIELDS = (
    ID,
    FieldSpec(
        "external_id",
        _("External id"),
        "text",
        max_length=64,
        synonyms=_n(
            "external id", "externe id", "extern id", "order id", "invoice id", "factuur id"
        ),
        help=EXTERNAL_ID.help,
    ),
    *ACCOUNT_REFS,
    FieldSpec(
        "date",
        _("Order date"),
        "date",
        required=True,
        synonyms=_n(
            "date",
            "datum",
            "order date",
            "orderdatum",
            "factuurdatum",
            "invoice date",
            "boekdatum",
            "document date",
            "documentdatum",
        ),
    ),
    FieldSpec(
        "number",
        _("Order number"),
        "text",
        max_length=40,
        synonyms=_n(
            "number",
            "nummer",
            "order number",
            "ordernummer",
            "order nr",
            "factuurnummer",
            "invoice number",
            "invoice no",
            "factuur",
            "invoice",
            "boekstuknummer",
            "documentnummer",
        ),
    ),
    FieldSpec(
        "status",
        _("Status"),
        "choice",
        choices="order_status",
        synonyms=_n("status", "orderstatus", "order status"),
    ),
    FieldSpec(
        "revenue",
        _("Revenue (excl. VAT)"),
        "money",
        synonyms=_n(
            "revenue",
            "revenue excl vat",
            "revenue (excl. vat)",
            "omzet",
            "omzet excl btw",
            "omzet (excl. btw)",
            "bedrag",
            "bedrag excl btw",
            "amount",
            "amount excl vat",
            "netto bedrag",
            "net amount",
            "totaal excl btw",
            "subtotaal",
            "subtotal",
            "netto",
        ),
    ),
    FieldSpec(
        "cost_of_goods",
        _("Cost of goods"),
        "money",
        synonyms=_n(
            "cost of goods",
            "kostprijs",
            "inkoopwaarde",
            "cogs",
            "kostprijs omzet",
            "inkoopprijs",
            "cost price",
        ),
    ),
    FieldSpec(
        "vat_rate",
        _("VAT rate (%)"),
        "percent",
        minimum=0,
        maximum=100,
        synonyms=_n(
            "vat rate", "vat rate (%)", "btw", "btw %", "btw percentage", "btw tarief", "vat %"
        ),
    ),
    FieldSpec(
        "credit_of",
        _("Corrects order (external id or number)"),
        "text",
        max_length=64,
        synonyms=_n(
            "credit of",
            "credit van",
            "corrects order",
            "creditnota van",
            "credit voor",
            "corrigeert order",
            "original order",
            "originele order",
        ),
    ),
    FieldSpec(
        "notes",
        _("Notes"),
        "text",
        max_length=10_000,
        synonyms=_n("notes", "notities", "opmerkingen", "memo", "remarks"),
    ),
    # Optional order lines: one row per line, rows of one order share its key.
    FieldSpec(
        "product",
        _("Product (order line)"),
        "text",
        group="line",
        synonyms=_n("product", "artikel", "artikelomschrijving", "item", "productnaam", "article"),
    ),
    FieldSpec(
        "category",
        _("Product category (order line)"),
        "text",
        max_length=100,
        group="line",
        synonyms=_n(
            "category",
            "product category",
            "categorie",
            "productgroep",
            "artikelgroep",
            "productcategorie",
        ),
    ),
    FieldSpec(
        "quantity",
        _("Quantity (order line)"),
        "decimal",
        places=3,
        group="line",
        synonyms=_n("quantity", "aantal", "qty", "hoeveelheid"),
    ),
    FieldSpec(
        "line_revenue",
        _("Line revenue (excl. VAT)"),
        "money",
        group="line",
        synonyms=_n("line revenue", "regelbedrag", "line amount", "regelomzet", "line total"),
    ),
    FieldSpec(
        "line_cost",
        _("Line cost"),
        "money",
        group="line",
        synonyms=_n("line cost", "regelkostprijs", "regel kostprijs", "line cost price"),
    ),
)

COST_FIELDS = (
    ID,
    EXTERNAL_ID,
    *ACCOUNT_REFS,
    FieldSpec(
        "date",
        _("Date"),
        "date",
        required=True,
        synonyms=_n("date", "datum", "boekdatum", "kostendatum", "cost date"),
    ),
    FieldSpec(
        "category",
        _("Category"),
        "choice",
        required=True,
        choices="cost_category",
        synonyms=_n("category", "categorie", "soort", "kostensoort", "cost type", "type"),
    ),
    FieldSpec(
        "amount",
        _("Amount (excl. VAT)"),
        "money",
        required=True,
        synonyms=_n(
            "amount",
            "amount excl vat",
            "amount (excl. vat)",
            "bedrag",
            "bedrag excl btw",
            "bedrag (excl. btw)",
            "kosten",
            "costs",
            "cost",
        ),
    ),
    FieldSpec(
        "description",
        _("Description"),
        "text",
        synonyms=_n("description", "omschrijving", "toelichting", "oorzaak", "reason"),
    ),
)

# Contact moments have no external id: a row is the same moment when account, time and
# subject are the same.
INTERACTION_FIELDS = (
    ID,
    *ACCOUNT_REFS,
    FieldSpec(
        "occurred_at",
        _("When"),
        "datetime",
        required=True,
        synonyms=_n(
            "when", "wanneer", "date", "datum", "datum tijd", "date time", "occurred at", "tijdstip"
        ),
    ),
    FieldSpec(
        "subject",
        _("Subject"),
        "text",
        required=True,
        synonyms=_n("subject", "onderwerp", "titel", "title", "omschrijving", "description"),
    ),
    FieldSpec(
        "channel",
        _("Channel"),
        "choice",
        choices="channel",
        synonyms=_n("channel", "kanaal", "medium"),
    ),
    FieldSpec(
        "kind",
        _("Kind"),
        "choice",
        choices="interaction_kind",
        synonyms=_n("kind", "soort", "type", "soort contact", "contact type"),
    ),
    FieldSpec(
        "direction",
        _("Direction"),
        "choice",
        choices="direction",
        synonyms=_n("direction", "richting", "inkomend uitgaand"),
    ),
    FieldSpec(
        "duration_minutes",
        _("Duration (minutes)"),
        "int",
        minimum=0,
        maximum=100_000,
        synonyms=_n(
            "duration", "duur", "duration (minutes)", "duur (minuten)", "minuten", "minutes"
        ),
    ),
    FieldSpec(
        "satisfaction",
        _("Satisfaction reading"),
        "choice",
        choices="satisfaction",
        synonyms=_n("satisfaction", "tevredenheid", "satisfaction reading", "klanttevredenheid"),
    ),
    FieldSpec(
        "user",
        _("By"),
        "user",
        synonyms=_n("by", "door", "medewerker", "user", "gebruiker", "employee"),
    ),
    FieldSpec(
        "notes",
        _("Notes"),
        "text",
        max_length=10_000,
        synonyms=_n("notes", "notities", "opmerkingen", "memo", "remarks", "verslag"),
    ),
)

FIELDS: dict[str, tuple[FieldSpec, ...]] = {
    "accounts": ACCOUNT_FIELDS,
    "contacts": CONTACT_FIELDS,
    "orders": ORDER_FIELDS,
    "costs": COST_FIELDS,
    "interactions": INTERACTION_FIELDS,
}


def fields_for(kind: str) -> dict[str, FieldSpec]:
    return {f.name: f for f in FIELDS[kind]}


def normalise_header(header: str) -> str:
    return normalise_search(str(header or ""))


def detect_mapping(kind: str, headers: list[str]) -> dict[str, str]:
    """Field → header for every header that names a field (each field and header once).

    Stronger names win over the order of the columns: a column "Naam" in a contacts
    file maps to the last name only when no column is called "Achternaam".
    """
    specs = FIELDS[kind]
    candidates = []
    for col, header in enumerate(headers):
        norm = normalise_header(header)
        if not norm:
            continue
        for spec in specs:
            for rank, synonym in enumerate(spec.synonyms):
                if norm == synonym:
                    candidates.append((rank, col, spec.name))
    mapping: dict[str, str] = {}
    used: set[int] = set()
    for _rank, col, name in sorted(candidates):
        if col in used or name in mapping:
            continue
        mapping[name] = headers[col]
        used.add(col)
    return mapping
