"""Building an account plan: the registered sections' data for one account."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils import timezone

from relatiebeheer.organisation.models import OrganisationSettings
from relatiebeheer.relations.models import Account

from .registry import PlanSection, plan_sections


@dataclass
class AccountPlan:
    account: Account
    organisation: OrganisationSettings
    generated_at: object
    sections: list[tuple[PlanSection, dict]] = field(default_factory=list)


def account_plan(*, actor, account: Account) -> AccountPlan:
    """The plan of ``account`` as ``actor`` may see it (the account is already visible)."""
    plan = AccountPlan(
        account=account, organisation=OrganisationSettings.load(), generated_at=timezone.now()
    )
    for section in plan_sections():
        data = section.load(account, actor)
        if data is not None:
            plan.sections.append((section, data))
    return plan
