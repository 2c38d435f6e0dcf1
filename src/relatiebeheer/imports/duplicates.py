"""Accounts that look alike (read only: merging them is ``relations.services.account_merge``).

The rule for "looks alike" (set-based, one pass over the visible accounts; about a
second for 100,000 accounts):

1. **same KvK number** — two accounts with the same 8 digits (branches of one company
   share it too: the list says which rule matched, the user decides);
2. **same name and city** after normalising: lower case, accents, punctuation and
   spaces ignored, legal forms (B.V., N.V., V.O.F., Holding …) left out —
   "De Bijenkorf B.V." in "Amsterdam" and "de bijenkorf" in "AMSTERDAM";
3. **nearly the same name in the same city** — names sorted per city, each compared
   with its neighbour: one typo apart (edit distance 1, names of six characters or
   more), e.g. "Bijenkorf" and "Bijenkrof" is two, "Bijenkorf"/"Bijenkorff" one.

Merging keeps one account and moves everything the other holds; it is an account rule,
so it lives with the accounts (``relations.services.account_merge``, its preview
``relations.selectors.merge_preview``).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
from django.utils.translation import gettext as _

from relatiebeheer.relations.models import Account
from relatiebeheer.relations.rules import search_key

LEGAL_FORMS = r"\b(b ?v|n ?v|v ?o ?f|c ?v|holding|groep|group|bv|nv|vof|ltd|gmbh|inc)\b"


def reason_label(code: str) -> str:
    return {
        "kvk": _("same KvK number"),
        "name_city": _("same name and city"),
        "similar_name": _("nearly the same name in the same city"),
    }.get(code, code)


@dataclass(frozen=True)
class Pair:
    a: int
    b: int
    reason: str


def name_key(expr: pl.Expr) -> pl.Expr:
    return (
        search_key(expr)
        .str.replace_all(r"[.]", " ")
        .str.replace_all(LEGAL_FORMS, " ")
        .str.replace_all(r"[^\w]", "")
    )


def _distance_at_most_one(a: str, b: str) -> bool:
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diff = [i for i in range(la) if a[i] != b[i]]
        return len(diff) == 1
    if la > lb:
        a, b = b, a
    for i in range(len(a)):
        if a[i] != b[i]:
            return a[i:] == b[i + 1 :]
    return True


def duplicate_pairs(
    *, actor, account_ids: list[int] | None = None, limit: int = 500
) -> tuple[list[Pair], bool]:
    """Look-alike pairs among the accounts ``actor`` sees (or among pairs touching
    ``account_ids``); at most ``limit`` pairs, and whether there were more."""
    rows = list(
        Account.objects.visible_to(actor)
        .filter(archived=False)
        .values_list("id", "name", "city", "kvk_number")
    )
    if not rows:
        return [], False
    frame = pl.DataFrame(
        rows,
        schema={"id": pl.Int64, "name": pl.String, "city": pl.String, "kvk": pl.String},
        orient="row",
    ).with_columns(nk=name_key(pl.col("name")), ck=search_key(pl.col("city")))
    found: dict[tuple[int, int], str] = {}

    def add_groups(key_cols: list[str], reason: str, source: pl.DataFrame) -> None:
        groups = (
            source.group_by(key_cols).agg(pl.col("id").sort()).filter(pl.col("id").list.len() > 1)
        )
        for ids in groups["id"].to_list():
            ids = ids[:50]  # a huge group (a chain's branches) is listed by its first members
            for i, first in enumerate(ids):
                for second in ids[i + 1 :]:
                    found.setdefault((first, second), reason)

    add_groups(["kvk"], "kvk", frame.filter(pl.col("kvk") != ""))
    add_groups(["nk", "ck"], "name_city", frame.filter(pl.col("nk") != ""))
    ordered = frame.filter(pl.col("nk").str.len_chars() >= 6).sort(["ck", "nk"])
    neighbours = ordered.with_columns(
        prev_id=pl.col("id").shift(1), prev_nk=pl.col("nk").shift(1), prev_ck=pl.col("ck").shift(1)
    ).filter((pl.col("prev_ck") == pl.col("ck")) & (pl.col("prev_nk") != pl.col("nk")))
    for first, second, a, b in neighbours.select(["prev_id", "id", "prev_nk", "nk"]).iter_rows():
        if _distance_at_most_one(a, b):
            found.setdefault((min(first, second), max(first, second)), "similar_name")
    pairs = [Pair(a, b, reason) for (a, b), reason in sorted(found.items())]
    if account_ids is not None:
        wanted = set(account_ids)
        pairs = [p for p in pairs if p.a in wanted or p.b in wanted]
    return pairs[:limit], len(pairs) > limit


def similar_to(*, actor, account: Account) -> list[tuple[Account, str]]:
    pairs, _more = duplicate_pairs(actor=actor, account_ids=[account.pk], limit=50)
    ids = {(p.b if p.a == account.pk else p.a): p.reason for p in pairs}
    accounts = Account.objects.visible_to(actor).filter(pk__in=ids).order_by("name")
    return [(a, ids[a.pk]) for a in accounts]
