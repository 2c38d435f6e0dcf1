"""Personal-data registry: orders and costs belong to the account (fiscal retention);
only their free text may name a person."""

from relatiebeheer.privacy.registry import not_personal, personal

not_personal("sales.Order", "number", "external_id", "status", why="the order's number and state")
personal("sales.Order", "notes", why="an order's notes may name who ordered", account="account")
not_personal("sales.OrderLine", "product", "category", why="what was sold")
not_personal("sales.CostEntry", "category", "external_id", why="a cost category and id")
personal(
    "sales.CostEntry",
    "description",
    why="a cost's description may name a person (a visit, a gift)",
    account="account",
)
