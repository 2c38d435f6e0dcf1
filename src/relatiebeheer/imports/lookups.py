"""Lookups the import resolves cell values with: choice labels (Dutch and English) to
stored values, yes/no words, user names, and keys shared by several records."""

from __future__ import annotations

import hashlib
from typing import Any

import polars as pl
from django.utils import translation

from relatiebeheer.relations.models import Account, Interaction
from relatiebeheer.sales.models import CostEntry, Order
from relatiebeheer.users.models import User

# --- choice tables: lower-cased labels (nl and en) and values → stored value ----------------


def _choices(pairs) -> dict[str, str]:
    table: dict[str, str] = {}
    for value, label in pairs:
        table[str(value).lower()] = str(value)
        for lang in ("nl", "en"):
            with translation.override(lang):
                table[str(label).lower()] = str(value)
    return table


def choice_table(name: str) -> dict[str, str]:
    from relatiebeheer.relations.models import Satisfaction

    if name == "account_status":
        return _choices(Account.Status.choices)
    if name == "order_status":
        return _choices(Order.Status.choices)
    if name == "cost_category":
        return _choices(CostEntry.Category.choices)
    if name == "channel":
        return _choices(Interaction.Channel.choices)
    if name == "interaction_kind":
        return _choices(Interaction.Kind.choices)
    if name == "direction":
        return _choices(Interaction.Direction.choices)
    if name == "satisfaction":
        table = _choices(Satisfaction.choices)
        table.update({"zeer goed": "4", "goed": "3", "matig": "2", "slecht": "1"})
        return table
    if name == "language":
        return {
            "nl": "nl",
            "en": "en",
            "nederlands": "nl",
            "dutch": "nl",
            "engels": "en",
            "english": "en",
        }
    if name == "country":
        table = {
            "nederland": "NL",
            "netherlands": "NL",
            "the netherlands": "NL",
            "holland": "NL",
            "belgie": "BE",
            "belgië": "BE",
            "belgium": "BE",
            "duitsland": "DE",
            "germany": "DE",
            "frankrijk": "FR",
            "france": "FR",
            "luxemburg": "LU",
            "luxembourg": "LU",
            "verenigd koninkrijk": "GB",
            "united kingdom": "GB",
            "spanje": "ES",
            "spain": "ES",
            "italie": "IT",
            "italië": "IT",
            "italy": "IT",
            "oostenrijk": "AT",
            "austria": "AT",
            "denemarken": "DK",
            "denmark": "DK",
            "zweden": "SE",
            "sweden": "SE",
            "polen": "PL",
            "poland": "PL",
        }
        return table
    raise KeyError(name)


BOOLS = {
    "1": "1",
    "ja": "1",
    "j": "1",
    "yes": "1",
    "y": "1",
    "true": "1",
    "waar": "1",
    "x": "1",
    "0": "0",
    "nee": "0",
    "n": "0",
    "no": "0",
    "false": "0",
    "onwaar": "0",
}


def user_lookup() -> dict[str, Any]:
    """user name or full name (lower case) → id; -1 when a full name is shared."""
    table: dict[str, Any] = {}
    for pk, username, first, last in User.objects.filter(is_active=True).values_list(
        "id", "username", "first_name", "last_name"
    ):
        table[username.lower()] = pk
        full = f"{first} {last}".strip().lower()
        if full and full != username.lower():
            table[full] = -1 if full in table and table[full] != pk else pk
    return table


def unique_lookup(frame: pl.DataFrame, key: str) -> pl.DataFrame:
    """key → account id, or -1 where several accounts share the key."""
    return (
        frame.group_by(key)
        .agg(pl.col("id").first(), pl.len().alias("n"))
        .select(
            pl.col(key).alias("key"),
            pl.when(pl.col("n") > 1).then(-1).otherwise(pl.col("id")).alias("account"),
        )
    )


def content_id(frame: pl.DataFrame, cols: list[str], prefix: str) -> pl.Series:
    """A stable external id from a row's content (for rows that bring none)."""
    parts = frame.select(
        pl.concat_str([pl.col(c).cast(pl.String).fill_null("") for c in cols], separator="\x1f")
    )
    return pl.Series(
        [
            prefix + hashlib.sha1(v.encode(), usedforsecurity=False).hexdigest()[:24]
            for v in parts.to_series().to_list()
        ],
        dtype=pl.String,
    )
