"""Personal-data registry: loyalty programmes, binding activities, campaigns, drivers."""

from relatiebeheer.privacy.registry import not_personal, personal

L = "loyalty."
personal(
    L + "BindingActivity",
    "title",
    "notes",
    why="an activity with a person (a lunch, a visit) and notes about it",
    contact="contact",
    account="account",
)
not_personal(L + "BindingActivity", "level", "kind", "status", why="choices of a fixed list")
not_personal(L + "Event", "name", "location", "description", why="an event the firm organises")
not_personal(L + "Invitation", "status", why="a choice of a fixed list")
not_personal(L + "IncentiveIdea", "name", why="an idea for an incentive")
personal(L + "Rapport", "note", why="a judgement of the rapport with the person", contact="contact")
not_personal(L + "Wish", "aspect", "status", "level", why="choices of a fixed list")
personal(
    L + "Wish",
    "wish",
    "how_we_meet",
    why="an account's wishes, in free text that may name a person",
    account="account",
)
not_personal(
    L + "Programme",
    "code",
    "name",
    "description",
    "level",
    "period",
    "bonus_mode",
    "bonus_period",
    "points_confirm_on",
    "card_scheme",
    "card_prefix",
    why="a programme as set up by the firm",
)
not_personal(L + "Tier", "name", why="a tier's name")
not_personal(L + "Benefit", "kind", "description", why="a benefit as set up by the firm")
not_personal(L + "CategoryRule", "category", why="a product category")
not_personal(L + "Reward", "name", "description", why="a reward as set up by the firm")
not_personal(L + "TierStatus", "member", why="'account:12' and the like: ids")
not_personal(L + "LedgerEntry", "kind", "key", "source", why="codes and ids")
personal(
    L + "LedgerEntry",
    "note",
    why="a note on a points booking may name a person",
    account="points_account__account",
)
not_personal(L + "Card", "number", "status", why="a card number and its state")
personal(
    L + "Card",
    "block_reason",
    why="why a card was blocked may name its holder",
    contact="contact",
    account="account",
)
not_personal(
    L + "Campaign",
    "name",
    "goal",
    "goal_metric",
    "selection",
    "segments",
    "value_field",
    "incentive",
    "gift",
    "benefits",
    "mail_subject",
    "mail_text",
    "status",
    why="a campaign as set up by the firm (the mail text is a template)",
)
not_personal(L + "CampaignMember", "group", why="test or control group")
not_personal(L + "CompetitorNote", "competitor", why="a competitor's name")
personal(L + "CompetitorNote", "notes", why="notes may name who said it", account="account")
personal(L + "TrustJudgement", "note", why="a judgement may name a person", account="account")
not_personal(L + "DriverScore", "parts", "weights", why="computed figures")
