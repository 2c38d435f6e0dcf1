"""A small world of records owned by one account manager, for permission tests."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from relatiebeheer.relations.models import ConsentRecord

from .factories import (
    AccountFactory,
    ContactFactory,
    CostEntryFactory,
    InteractionFactory,
    OrderFactory,
    TaskFactory,
)


@dataclass
class World:
    account: object
    contact: object
    interaction: object
    task: object
    order: object
    cost: object

    def path_ids(self) -> dict[str, int]:
        """Path parameter name → the id of the owner's record of that kind."""
        return {
            "account_id": self.account.pk,
            "contact_id": self.contact.pk,
            "interaction_id": self.interaction.pk,
            "task_id": self.task.pk,
            "order_id": self.order.pk,
            "cost_id": self.cost.pk,
        }


def build_world(owner) -> World:
    account = AccountFactory(name="de Bijenkorf", manager=owner)
    contact = ContactFactory(account=account)
    ConsentRecord.objects.create(
        contact=contact, purpose="surveys", granted=True, source="web_form"
    )
    interaction = InteractionFactory(account=account, user=owner)
    interaction.contacts.add(contact)
    world = World(
        account=account,
        contact=contact,
        interaction=interaction,
        task=TaskFactory(account=account, assignee=owner),
        order=OrderFactory(account=account, date=date(2026, 1, 5), revenue=Decimal("9500.00")),
        cost=CostEntryFactory(account=account),
    )
    from relatiebeheer.value.services import metrics_recompute

    metrics_recompute(with_prediction=False)
    return world


def sample_body(method: str, path: str, world: World) -> dict | None:
    """A valid request body for each write operation, pointing at the owner's records."""
    if method == "patch":
        return {"version": 1}
    bodies = {
        "/api/v1/accounts": {"name": "Nieuw", "parent_id": world.account.pk},
        "/api/v1/contacts": {"account_id": world.account.pk, "last_name": "Jansen"},
        "/api/v1/contacts/{contact_id}/consents": {"purpose": "surveys", "granted": False},
        "/api/v1/interactions": {"account_id": world.account.pk, "subject": "Belletje"},
        "/api/v1/tasks": {"account_id": world.account.pk, "title": "Bellen"},
        "/api/v1/orders": {
            "account_id": world.account.pk,
            "date": "2026-02-01",
            "revenue": "10.00",
        },
        "/api/v1/costs": {
            "account_id": world.account.pk,
            "date": "2026-02-01",
            "category": "service",
            "amount": "5.00",
        },
    }
    bodies["/api/v1/portfolios/transfer"] = {
        "from_user_id": world.account.manager_id,
        "to_user_id": world.account.manager_id,
    }
    bodies["/api/v1/clv/simple"] = {
        "order_value": "9500",
        "margin": "0.15",
        "orders": 6,
        "years": 2,
    }
    if method == "post":
        return bodies[path]
    return None
