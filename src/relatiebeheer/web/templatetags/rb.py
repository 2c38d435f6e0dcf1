"""Template filters: money and numbers in the reader's language, labels, badges."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template
from django.utils import timezone
from django.utils.translation import get_language

from relatiebeheer.core.money import format_money, format_money_whole, format_number

register = template.Library()


def _lang() -> str:
    return (get_language() or "nl")[:2]


@register.filter
def money(value):
    """``9500`` → ``€ 9.500,00`` (nl) / ``€9,500.00`` (en); empty stays empty."""
    if value is None or value == "":
        return ""
    try:
        return format_money(Decimal(value), lang=_lang())
    except (InvalidOperation, TypeError, ValueError):
        return ""


@register.filter
def absolute(value):
    """The amount without its sign, for sentences that say the sign in words ("a loss of")."""
    if value is None or value == "":
        return value
    return abs(Decimal(value))


@register.filter
def money_short(value):
    """Whole euros, for tight spaces: ``€ 9.500``."""
    if value is None or value == "":
        return ""
    return format_money_whole(Decimal(value), lang=_lang())


@register.filter
def number(value, places=0):
    if value is None or value == "":
        return ""
    return format_number(Decimal(value), lang=_lang(), places=int(places))


@register.filter
def percent(value, places="auto"):
    """A fraction as a percentage: ``0.153`` → ``15,3 %`` (nl) / ``15.3%`` (en).

    ``places`` fixes the decimals; by default up to one, without a trailing zero
    (``0.15`` → ``15 %``, ``0.035`` → ``3,5 %``).
    """
    if value is None or value == "":
        return "–"
    number = Decimal(str(value)) * 100
    if places == "auto":
        number = number.quantize(Decimal("0.1"))
        places = 0 if number == number.to_integral_value() else 1
    text = format_number(number, lang=_lang(), places=int(places))
    return f"{text} %" if _lang() == "nl" else f"{text}%"


STATUS_CLASSES = {
    "prospect": "text-bg-light border",
    "customer": "text-bg-primary",
    "key_account": "text-bg-warning",
}
SATISFACTION_CLASSES = {
    4: "text-bg-success",
    3: "text-bg-info",
    2: "text-bg-warning",
    1: "text-bg-danger",
}


@register.filter
def status_class(status):
    return STATUS_CLASSES.get(status, "text-bg-secondary")


@register.filter
def satisfaction_class(value):
    return SATISFACTION_CLASSES.get(value, "text-bg-secondary")


@register.filter
def overdue(task):
    return bool(not task.done and task.due_date and task.due_date < timezone.localdate())


@register.simple_tag(takes_context=True)
def query_with(context, **changes):
    """The current query string with some parameters changed (for sort and page links)."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = value
    return params.urlencode()


@register.filter
def urlencode_dict(data):
    from urllib.parse import urlencode

    return urlencode({k: v for k, v in (data or {}).items() if v not in (None, "")})


@register.inclusion_tag("web/_sort_header.html", takes_context=True)
def sort_header(context, key, label):
    """A column header that sorts by ``key``; clicking again reverses the order."""
    current = context["filters"].ordering
    params = context["request"].GET.copy()
    params.pop("page", None)
    params["ordering"] = f"-{key}" if current == key else key
    direction = "ascending" if current == key else "descending" if current == f"-{key}" else "none"
    return {"label": label, "query": params.urlencode(), "direction": direction}


@register.filter
def get_item(mapping, key):
    return (mapping or {}).get(key)
