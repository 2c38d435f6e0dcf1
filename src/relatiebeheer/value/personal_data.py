"""Personal-data registry: computed figures per account hold no personal data."""

from relatiebeheer.privacy.registry import not_personal

not_personal("value.MetricsRun", "stats", "prediction", why="figures of a computation run")
not_personal(
    "value.AccountMetrics",
    "margin_source",
    "segment",
    "pyramid_level",
    why="codes computed from the account's orders",
)
