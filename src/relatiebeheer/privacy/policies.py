"""What the privacy tools do with each kind of record that points at a contact.

Every model with a foreign key or many-to-many field to ``Contact`` must have a policy
here (a test walks the model relations and fails on a relation without one), so a new
feature cannot hold personal data that an export misses or an erasure leaves behind.

``export`` says whether the rows go into the contact's data export; ``erase`` what an
erasure does with them:

* ``"delete"`` — remove the rows (personal data with no other purpose);
* ``"unlink"`` — keep the rows (they matter to the account: a survey score, an activity)
  but set the link to the contact to NULL, so they no longer identify anyone;
* ``"keep"`` — keep the rows linked to the now anonymous contact (e.g. the consent
  register, which proves what was allowed when, and contact moments of the account).

Free text anywhere that still names the contact is scrubbed afterwards, whatever the
policy (see ``services.contact_erase``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RelationPolicy:
    model: str  # "app_label.ModelName"
    field: str
    export: bool = True
    erase: str = "keep"  # keep, unlink, delete


_policies: dict[tuple[str, str], RelationPolicy] = {}


def register_relation_policy(policy: RelationPolicy) -> None:
    if policy.erase not in {"keep", "unlink", "delete"}:
        raise ValueError(f"unknown erase policy {policy.erase!r}")
    _policies[(policy.model.lower(), policy.field)] = policy


def policy_for(model_label: str, field: str) -> RelationPolicy | None:
    return _policies.get((model_label.lower(), field))


def register_core_policies() -> None:
    for policy in (
        RelationPolicy("relations.ConsentRecord", "contact", erase="keep"),
        RelationPolicy("relations.Interaction", "contacts", erase="keep"),
        RelationPolicy("outbox.OutboxMessage", "contact", erase="unlink"),
        RelationPolicy("satisfaction.Invitation", "contact", erase="unlink"),
        RelationPolicy("satisfaction.Response", "contact", erase="unlink"),
        RelationPolicy("loyalty.BindingActivity", "contact", erase="unlink"),
        RelationPolicy("loyalty.Invitation", "contact", erase="delete"),
        RelationPolicy("loyalty.Rapport", "contact", erase="delete"),
        # The card stays with the account; it no longer names its holder.
        RelationPolicy("loyalty.Card", "contact", erase="unlink"),
    ):
        register_relation_policy(policy)
