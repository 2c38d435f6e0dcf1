"""Five writers with the same version at the same moment: exactly one wins."""

import pytest

from relatiebeheer.common.errors import VersionConflict
from relatiebeheer.relations.models import Account
from relatiebeheer.relations.services import account_update

from .concurrency import run_concurrently
from .factories import AccountFactory, UserFactory


@pytest.mark.django_db(transaction=True)
def test_five_concurrent_updates_with_one_version_have_one_winner():
    owner = UserFactory()
    account = AccountFactory(manager=owner)
    counter = iter(range(100))

    def update():
        city = f"Stad {next(counter)}"
        fresh = Account.objects.get(pk=account.pk)
        account_update(actor=owner, account=fresh, version=1, data={"city": city})
        return city

    results = run_concurrently(update, num_threads=5)
    winners = [r for r in results if isinstance(r, str)]
    conflicts = [r for r in results if isinstance(r, VersionConflict)]
    assert len(winners) == 1, results
    assert len(conflicts) == 4, results
    account.refresh_from_db()
    assert account.version == 2
    assert account.city == winners[0]
