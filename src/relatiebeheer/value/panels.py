"""The value card on the account page."""

from .selectors import account_value


def value_panel(request, account) -> dict:
    return {"card": account_value(actor=request.user, account=account)}
