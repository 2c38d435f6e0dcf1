"""The portfolio report: one account manager's accounts with their figures, by value."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import F
from django.utils.translation import gettext_lazy as _

from relatiebeheer.exports import Column
from relatiebeheer.relations.models import Account
from relatiebeheer.users.access import sees_all_accounts
from relatiebeheer.value.selectors import pending_accounts

from .registry import portfolio_columns


@dataclass
class PortfolioRow:
    account: Account
    values: dict
    pending: bool = False  # the figures are being recalculated (value.selectors)


def portfolio(*, actor, manager) -> list[PortfolioRow]:
    """Accounts ``manager`` manages (as far as ``actor`` may see them), highest value first.

    One query for the accounts, one for the pending refreshes and one per registered
    column, whatever their number. The figures are the stored ones every page shows
    (``value.selectors``); a row whose refresh is queued says so.
    """
    accounts = list(
        Account.objects.visible_to(actor)
        .filter(manager=manager, archived=False)
        .select_related("metrics")
        .order_by(F("metrics__value_this_year").desc(nulls_last=True), "name", "id")
    )
    ids = [a.pk for a in accounts]
    loaded = {column.key: column.load(ids, actor) for column in portfolio_columns()}
    pending = pending_accounts(ids)
    return [
        PortfolioRow(a, {key: values.get(a.pk) for key, values in loaded.items()}, a.pk in pending)
        for a in accounts
    ]


def export_columns() -> list[Column]:
    columns = [
        Column(_("Account"), lambda row: row.account.name),
        Column(_("City"), lambda row: row.account.city),
        Column(_("Status"), lambda row: row.account.get_status_display()),
    ]
    for column in portfolio_columns():
        columns.append(
            Column(column.header, lambda row, key=column.key: row.values.get(key), column.kind)
        )
    columns.append(Column(_("Being recalculated"), lambda row: row.pending))
    return columns


def managers_for(actor):
    """Whose portfolio ``actor`` may open: everyone's for managers, else their own."""
    from relatiebeheer.users.models import Role, User

    if sees_all_accounts(actor):
        return User.objects.filter(
            is_active=True, role__in=[Role.ACCOUNT_MANAGER, Role.SALES_MANAGER]
        ).order_by("first_name", "last_name")
    return User.objects.filter(pk=actor.pk)
