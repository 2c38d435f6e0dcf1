"""Look-alike accounts and merging them (audited, conflict-safe)."""

from decimal import Decimal

import pytest

from relatiebeheer.audit.models import AuditEntry
from relatiebeheer.common.errors import NotFound, VersionConflict
from relatiebeheer.imports.duplicates import duplicate_pairs
from relatiebeheer.relations.models import Account, AccountShare, Contact, Interaction, Task
from relatiebeheer.relations.services import account_merge
from relatiebeheer.sales.models import CostEntry, Order

from ..factories import (
    AccountFactory,
    ContactFactory,
    CostEntryFactory,
    InteractionFactory,
    OrderFactory,
    TaskFactory,
)

pytestmark = pytest.mark.django_db


def test_look_alikes_by_kvk_name_and_city_and_a_typo(sales_manager):
    a = AccountFactory(name="De Bijenkorf B.V.", city="Amsterdam", kvk_number="12345678")
    b = AccountFactory(name="de bijenkorf", city="AMSTERDAM")
    c = AccountFactory(name="Bijenkorf", city="Den Haag", kvk_number="12345678")
    d = AccountFactory(name="Hollandia Bakkerij", city="Gouda")
    e = AccountFactory(name="Hollandia Bakkerrij", city="Gouda")
    AccountFactory(name="Hollandia Bakkerij", city="Zwolle")
    pairs, more = duplicate_pairs(actor=sales_manager)
    found = {(p.a, p.b): p.reason for p in pairs}
    assert found[(a.pk, b.pk)] == "name_city"
    assert found[(a.pk, c.pk)] == "kvk"
    assert found[(d.pk, e.pk)] == "similar_name"
    assert len(found) == 3 and not more


def test_account_managers_see_look_alikes_among_their_own_accounts_only(owner, other_manager):
    AccountFactory(name="Zelfde", city="Ede", manager=owner)
    AccountFactory(name="Zelfde", city="Ede", manager=other_manager)
    assert duplicate_pairs(actor=owner) == ([], False)


def test_merge_moves_everything_and_deletes_the_other(owner, sales_manager, other_manager):
    keep = AccountFactory(name="De Bijenkorf", manager=owner, kvk_number="")
    other = AccountFactory(
        name="Bijenkorf BV", manager=owner, kvk_number="12345678", external_id="K9"
    )
    contact = ContactFactory(account=other)
    contact.consents.create(purpose="surveys", granted=True, source="import")
    InteractionFactory(account=other)
    TaskFactory(account=other)
    OrderFactory(account=other, revenue=Decimal("100.00"))
    CostEntryFactory(account=other)
    AccountShare.objects.create(account=other, user=other_manager)
    branch = AccountFactory(name="Filiaal", manager=owner, parent=other)
    merged = account_merge(actor=owner, keep=keep, keep_version=1, other=other, other_version=1)
    assert not Account.objects.filter(pk=other.pk).exists()
    assert merged.kvk_number == "12345678" and merged.external_id == "K9" and merged.version == 2
    for model in (Contact, Interaction, Task, Order, CostEntry):
        assert model.objects.filter(account=keep).count() == 1, model
    assert Contact.objects.get(account=keep).consents.count() == 1
    assert AccountShare.objects.filter(account=keep, user=other_manager).exists()
    branch.refresh_from_db()
    assert branch.parent_id == keep.pk
    entry = AuditEntry.objects.get(action="account.merge")
    assert entry.extra["merged_account_id"] == other.pk and entry.extra["moved"]["sales.order"] == 1
    assert AuditEntry.objects.filter(action="account.merged_into", object_id=str(other.pk)).exists()


def test_merge_checks_both_versions(owner):
    keep = AccountFactory(manager=owner)
    other = AccountFactory(manager=owner)
    Account.objects.filter(pk=other.pk).update(version=2)
    with pytest.raises(VersionConflict):
        account_merge(actor=owner, keep=keep, keep_version=1, other=other, other_version=1)
    with pytest.raises(VersionConflict):
        account_merge(actor=owner, keep=keep, keep_version=5, other=other, other_version=2)
    assert Account.objects.filter(pk=other.pk).exists()


def test_merge_needs_both_accounts_writable(owner, other_manager):
    keep = AccountFactory(manager=owner)
    theirs = AccountFactory(manager=other_manager)
    with pytest.raises(NotFound):
        account_merge(actor=owner, keep=keep, keep_version=1, other=theirs, other_version=1)


def test_merge_through_the_api_and_the_web(api_as, web_as, owner):
    keep = AccountFactory(name="A", manager=owner)
    other = AccountFactory(name="A", manager=owner)
    OrderFactory(account=other)
    response = api_as(owner).post(
        f"accounts/{keep.pk}/merge", {"version": 1, "other_id": other.pk, "other_version": 1}
    )
    assert response.status_code == 200, response.json_body
    assert response.json_body["version"] == 2
    third = AccountFactory(name="A", manager=owner)
    client = web_as(owner)
    page = client.get(f"/imports/duplicates/{keep.pk}/merge/?with={third.pk}")
    assert page.status_code == 200 and b"merge-compare" in page.content
    response = client.post(
        f"/imports/duplicates/{keep.pk}/merge/",
        {"other_id": third.pk, "version": 2, "other_version": 1},
    )
    assert response.status_code == 302
    assert not Account.objects.filter(pk=third.pk).exists()
    stale = client.post(
        f"/imports/duplicates/{keep.pk}/merge/",
        {"other_id": AccountFactory(manager=owner).pk, "version": 1, "other_version": 1},
    )
    assert stale.status_code == 302 and "with=" in stale["Location"]


def test_merge_moves_rows_whose_relation_to_the_account_is_hidden(owner):
    """Relations declared with ``related_name="+"`` are not in ``_meta.related_objects``;
    their rows must move with the merge too, not go with the deleted account."""
    from relatiebeheer.loyalty.models import Rapport
    from relatiebeheer.relations.models import SearchToken

    keep = AccountFactory(name="Zilt", city="Delft", manager=owner)
    other = AccountFactory(name="Zilt B.V.", city="Delft", manager=owner)
    contact = ContactFactory(account=other)
    rapport = Rapport.objects.create(contact=contact, account=other, rapport=True)
    account_merge(
        actor=owner, keep=keep, keep_version=keep.version, other=other, other_version=other.version
    )
    rapport.refresh_from_db()
    assert rapport.account_id == keep.pk
    assert not SearchToken.objects.filter(account_id=other.pk).exists()
