"""The loyalty panel on the account page: tier, "€ X more", entitlements, points, index."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from relatiebeheer.relations.models import Account

from .binding.matrix import binding_matrix
from .drivers.selectors import account_loyalty_index
from .programme.selectors import account_programmes


def loyalty_panel(request: HttpRequest, account: Account) -> dict[str, Any]:
    today = timezone.localdate()
    matrix = binding_matrix(account, today=today, with_suggestions=False)
    return {
        "account": account,
        "programmes": account_programmes(account, today=today),
        "index": account_loyalty_index(account, as_of=today),
        "gaps": matrix.gaps,
        "levels": [(row["label"], row["total"], row["last_done"]) for row in matrix.rows],
    }
