"""Writes to buying groups (inkoopverenigingen): configuration that sales managers and
administrators keep. A buying group's accounts qualify for loyalty tiers together, so
renaming is harmless but removing a group changes its members' figures: the hook fires
for them."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from relatiebeheer.audit.services import audit_log
from relatiebeheer.common.errors import PermissionRefused
from relatiebeheer.common.services import full_clean_or_raise
from relatiebeheer.common.writers import writer
from relatiebeheer.hooks import accounts_changed
from relatiebeheer.users.access import can_manage_portfolios
from relatiebeheer.users.models import User

from .models import Account, BuyingGroup


def _require_manager(actor: User) -> None:
    if not can_manage_portfolios(actor):
        raise PermissionRefused(_("Only a sales manager can change buying groups."))


@writer(accounts=False)
def buying_group_create(*, actor: User, name: str) -> BuyingGroup:
    """A new group has no accounts yet: no account's figures change."""
    _require_manager(actor)
    group = BuyingGroup(name=" ".join(str(name).split()))
    full_clean_or_raise(group)
    with transaction.atomic():
        group.save()
        audit_log(actor=actor, action="buying_group.create", obj=group)
    return group


@writer()
def buying_group_rename(*, actor: User, group: BuyingGroup, name: str) -> BuyingGroup:
    _require_manager(actor)
    group.name = " ".join(str(name).split())
    full_clean_or_raise(group)
    with transaction.atomic():
        group.save(update_fields=["name"])
        audit_log(actor=actor, action="buying_group.update", obj=group, fields=["name"])
        accounts_changed(Account.objects.filter(buying_group=group).values_list("pk", flat=True))
    return group


@writer()
def buying_group_delete(*, actor: User, group: BuyingGroup) -> None:
    """The members stay, without a group (they qualify on their own from now on)."""
    _require_manager(actor)
    with transaction.atomic():
        members = list(Account.objects.filter(buying_group=group).values_list("pk", flat=True))
        audit_log(
            actor=actor, action="buying_group.delete", obj=group, extra={"accounts": len(members)}
        )
        group.delete()
        accounts_changed(members)
