"""Who may configure loyalty: programmes, tiers, bonus brackets, earn rules, rewards, the
index weights and thresholds, and incentive ideas — sales managers and administrators."""

from __future__ import annotations

from django.utils.translation import gettext as _

from relatiebeheer.common.errors import PermissionRefused
from relatiebeheer.relations.rules import require_can_change
from relatiebeheer.users.access import can_manage_portfolios
from relatiebeheer.users.models import User


def can_configure(actor: User) -> bool:
    """Sales managers and administrators configure programmes and the loyalty settings."""
    return can_manage_portfolios(actor)


def require_can_configure(actor: User) -> None:
    require_can_change(actor)
    if not can_configure(actor):
        raise PermissionRefused(
            _("Only a sales manager or an administrator configures the loyalty programme.")
        )
