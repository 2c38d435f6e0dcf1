"""The value card on the account page."""

from .selectors import value_card


def value_panel(request, account) -> dict:
    return {"card": value_card(account)}
