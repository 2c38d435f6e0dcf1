"""Keeping the search tokens in step with the accounts."""

from __future__ import annotations

from collections.abc import Iterable

from .models import Account, SearchToken, search_words


def account_tokens(account: Account) -> set[str]:
    return set(search_words(account.name, account.city, account.postal_code, account.kvk_number))


def refresh_search_tokens(account_ids: Iterable[int], *, batch_size: int = 5000) -> int:
    """Rebuild the tokens of these accounts from their current fields (set-based)."""
    ids = sorted(set(account_ids))
    written = 0
    for start in range(0, len(ids), batch_size):
        chunk = ids[start : start + batch_size]
        SearchToken.objects.filter(account_id__in=chunk).delete()
        rows = Account.objects.filter(pk__in=chunk).values_list(
            "pk", "name", "city", "postal_code", "kvk_number"
        )
        tokens = [
            SearchToken(account_id=pk, token=token)
            for pk, *parts in rows
            for token in sorted(set(search_words(*parts)))
        ]
        SearchToken.objects.bulk_create(tokens, batch_size=2000)
        written += len(tokens)
    return written
