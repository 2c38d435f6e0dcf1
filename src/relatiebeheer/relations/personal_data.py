"""Personal-data registry: accounts, contacts and what is noted about them."""

from relatiebeheer.privacy.registry import not_personal, personal

personal(
    "relations.Contact",
    "first_name",
    "last_name",
    "role",
    "email",
    "phone",
    "external_id",
    why="the contact's own data: reset by the erasure's last step",
    contact="pk",
)
personal(
    "relations.Contact",
    "notes",
    why="notes on a contact may name a colleague at the same account",
    contact="pk",
    account="account",
)
not_personal("relations.Contact", "language", why="a language code")
not_personal(
    "relations.Account",
    "name",
    "kvk_number",
    "vat_number",
    "industry",
    "street",
    "postal_code",
    "city",
    "country",
    "website",
    "status",
    "external_id",
    "search_text",
    why="the company's data (name, registration, business address), kept with its fiscal records",
)
personal("relations.Account", "notes", why="free text about the account", account="pk")
not_personal("relations.SearchToken", "token", why="a word of an account's name or city")
not_personal("relations.BuyingGroup", "name", why="a buying group's name")
not_personal("relations.Interest", "name", why="a topic")
not_personal(
    "relations.ConsentRecord",
    "purpose",
    "text_version",
    "source",
    why="what was consented to, the text's version and the channel",
)
not_personal("relations.Interaction", "channel", "kind", "direction", why="choices of a fixed list")
personal(
    "relations.Interaction",
    "subject",
    "notes",
    why="a contact moment's subject and notes name the people spoken to",
    contact="contacts",
    account="account",
)
personal(
    "relations.Task",
    "title",
    "description",
    why="a task ('Call Ms Li back') names the person",
    account="account",
)
not_personal("relations.SavedSelection", "name", why="a user's label for a selection")
personal(
    "relations.SavedSelection",
    "filters",
    why="a saved search may hold a name, address or phone number typed by a user",
    anywhere=True,
)
