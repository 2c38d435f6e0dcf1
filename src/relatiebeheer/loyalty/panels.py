"""The loyalty panel on the account page: tier, "€ X more", entitlements, points, index."""

from django.utils import timezone

from .binding import binding_matrix
from .models import DriverScore
from .selectors import account_programmes


def loyalty_panel(request, account) -> dict:
    today = timezone.localdate()
    latest = DriverScore.objects.filter(account=account).order_by("-as_of").first()
    matrix = binding_matrix(account, today=today, with_suggestions=False)
    return {
        "account": account,
        "programmes": account_programmes(account, today=today),
        "score": latest,
        "gaps": matrix.gaps,
        "levels": [(row["label"], row["total"], row["last_done"]) for row in matrix.rows],
    }
