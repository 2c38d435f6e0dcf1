"""Capped counts: exact while small, cached for a minute when large, never shared
between users who see different accounts."""

import pytest
from django.core.cache import cache

from relatiebeheer.common import counting
from relatiebeheer.relations.models import Account

from .factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def small_threshold(monkeypatch):
    cache.clear()
    monkeypatch.setattr(counting, "COUNT_CACHE_FROM", 3)
    monkeypatch.setattr(counting, "COUNT_CAP", 5)


def test_small_counts_are_exact_and_large_ones_are_kept_and_capped(owner):
    AccountFactory.create_batch(2, manager=owner)
    visible = Account.objects.visible_to(owner)
    assert counting.capped_count(visible) == 2
    AccountFactory(manager=owner)
    assert counting.capped_count(visible) == 3  # not cached below the threshold
    AccountFactory.create_batch(5, manager=owner)
    assert counting.capped_count(visible) == 3  # kept for a minute once large
    cache.clear()
    assert counting.capped_count(visible) == 6  # capped at COUNT_CAP + 1


def test_users_with_different_visibility_do_not_share_a_count(owner):
    other = UserFactory()
    AccountFactory.create_batch(4, manager=owner)
    AccountFactory(manager=other)
    assert counting.capped_count(Account.objects.visible_to(owner)) == 4
    assert counting.capped_count(Account.objects.visible_to(other)) == 1
