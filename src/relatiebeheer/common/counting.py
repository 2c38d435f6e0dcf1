"""Counting long lists: capped, and for large counts kept for a minute."""

import hashlib

from django.core.cache import cache

COUNT_CAP = 10_000


# A count of this size or more is kept for a minute: counting a common search word over
# 100k accounts costs more than the page itself, and paging through the same list (or a
# script polling it) asks for it again and again. Smaller counts are cheap and exact.
COUNT_CACHE_FROM = 1_000
COUNT_CACHE_SECONDS = 60


def capped_count(queryset) -> int:
    """``queryset``'s size up to ``COUNT_CAP + 1``; large counts may be a minute old.

    The cache key is the SQL itself, which holds the caller's visibility filter, so two
    users never share a count they should not.
    """
    ids = queryset.order_by().values("pk")[: COUNT_CAP + 1]  # ids only: counted from an index
    sql, sql_params = ids.query.sql_with_params()
    key = "count:" + hashlib.sha256(repr((ids.db, sql, sql_params)).encode()).hexdigest()
    count = cache.get(key)
    if count is None:
        count = ids.count()
        if count >= COUNT_CACHE_FROM:
            cache.set(key, count, COUNT_CACHE_SECONDS)
    return count
