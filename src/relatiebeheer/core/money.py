"""Money: integer cents in storage, ``Decimal`` euros in code, one rounding rule.

Every conversion between cents and euros, every rounding of an amount and every
parse or format of an amount written by a person goes through this module, so the
rest of the code never rounds on its own. Amounts exclude VAT.

Rounding is ROUND_HALF_UP to whole cents (the rule for euro amounts), applied once at
the end of a calculation, never on intermediate results.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

__all__ = [
    "CENT",
    "ZERO",
    "AmountError",
    "NotationGuess",
    "classify_amount",
    "detect_notation",
    "format_money",
    "format_money_whole",
    "format_number",
    "from_cents",
    "parse_amount",
    "parse_percentage",
    "quantize_money",
    "to_cents",
]


class AmountError(ValueError):
    """A written amount or percentage that cannot be read unambiguously.

    ``code`` is a stable machine name (for translations and API errors); ``hint`` is
    an English suggestion that callers may translate.
    """

    def __init__(self, code: str, message: str, *, value: str = "", hint: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.value = value
        self.hint = hint


def quantize_money(amount: Decimal | int) -> Decimal:
    """Round to whole cents, half up (€ 0,005 → € 0,01). The only rounding of money."""
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def to_cents(amount: Decimal | int | str) -> int:
    """Exact conversion of a euro amount to integer cents.

    Refuses amounts with fractions of a cent: silently rounding a stored amount would
    hide an error upstream. Round first with :func:`quantize_money` when that is meant.
    """
    try:
        value = Decimal(amount)
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise AmountError("invalid", f"not an amount: {amount!r}", value=str(amount)) from exc
    if not value.is_finite():
        raise AmountError("invalid", f"not an amount: {amount!r}", value=str(amount))
    cents = value * 100
    if cents != cents.to_integral_value():
        raise AmountError(
            "fraction_of_cent", f"amount has fractions of a cent: {amount}", value=str(amount)
        )
    return int(cents)


def from_cents(cents: int) -> Decimal:
    """Integer cents to a ``Decimal`` with exactly two decimals (950000 → 9500.00)."""
    return Decimal(int(cents)).scaleb(-2)


_CURRENCY = re.compile(r"(?i)\s*(€|eur|euro)\s*")
_PLAIN = re.compile(r"^\d+(\.\d+)?$")  # 9500, 9500.50
_DUTCH = re.compile(r"^\d{1,3}(\.\d{3})*(,\d+)?$|^\d+,\d+$")  # 9.500,00  9500,5
_ENGLISH = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$")  # 9,500.00  1,234
# 9.500 or 1,234: a thousands separator or a decimal separator?
_AMBIGUOUS = re.compile(r"^\d{1,3}(\.\d{3})+$|^\d{1,3}(,\d{3})+$")


def _strip_amount(text: str) -> tuple[str, bool]:
    """Remove currency, spaces and the sign: ``'€ -1.234,56'`` → (``'1.234,56'``, True).

    A sign may lead (``-12,50``, ``€ -12,50``, ``-€ 12,50``) or trail (``12,50-``, as
    some bookkeeping exports write it); accounting brackets (``(12,50)``) are negative.
    """
    text = _CURRENCY.sub("", str(text)).strip().replace("\u00a0", "").replace(" ", "")
    negative = False
    if text.startswith("(") and text.endswith(")") and len(text) > 2:
        negative, text = True, text[1:-1]
    elif text.startswith("-"):
        negative, text = True, text[1:]
    elif text.endswith("-") and len(text) > 1:
        negative, text = True, text[:-1]
    elif text.startswith("+"):
        text = text[1:]
    return _CURRENCY.sub("", text).strip(), negative


def classify_amount(text: str) -> str:
    """Which notation a written amount is in, ignoring currency and sign.

    ``"plain"`` (no separators or a lone decimal point that no Dutch writer uses as
    a thousands separator … see below), ``"nl"``, ``"en"``, ``"ambiguous"`` (``9.500``,
    ``1,234``: thousands or decimals?), ``"empty"`` or ``"invalid"``. ``"plain"`` means
    every notation reads it the same (``9500``); ``1234.56`` is ``"en"`` because Dutch
    notation refuses it.
    """
    core, _negative = _strip_amount(text)
    if not core:
        return "empty"
    if _AMBIGUOUS.match(core):
        return "ambiguous"
    if core.isdigit():
        return "plain"
    if _DUTCH.match(core):
        return "nl"
    if _PLAIN.match(core) or _ENGLISH.match(core):
        return "en"
    return "invalid"


@dataclass(frozen=True)
class NotationGuess:
    """What a column's amounts say about their notation.

    ``notation`` is ``"nl"``, ``"en"`` or ``None``; ``mixed`` when some values can only
    be Dutch and others only English; ``ambiguous_example`` is a value that needs the
    notation stated when no other value settles it.
    """

    notation: str | None
    mixed: bool = False
    ambiguous_example: str = ""


def detect_notation(values: Iterable[str]) -> NotationGuess:
    """Decide a column's notation from its values: one Dutch-only value settles it."""
    seen_nl = seen_en = False
    example = ""
    for value in values:
        if value is None:
            continue
        kind = classify_amount(value)
        if kind == "nl":
            seen_nl = True
        elif kind == "en":
            seen_en = True
        elif kind == "ambiguous" and not example:
            example = str(value)
    if seen_nl and seen_en:
        return NotationGuess(None, mixed=True)
    if seen_nl:
        return NotationGuess("nl")
    if seen_en:
        return NotationGuess("en")
    return NotationGuess(None, ambiguous_example=example)


def parse_amount(text: str, *, notation: str | None = None) -> Decimal:
    """Read an amount written by a person, in Dutch or English notation.

    Accepted: ``9500``, ``9500.50``, ``9.500,00``, ``9500,5``, ``€ 1.234,56``,
    ``1,234.56``, ``1.234,56 €``, with an optional leading or trailing minus
    (``-12,50``, ``12,50-``) or accounting brackets (``(12,50)``). ``notation`` may be ``"nl"`` or
    ``"en"`` to settle a value like ``9.500`` (thousands in Dutch, decimals in
    English); without it such a value is refused as ambiguous, with a hint.
    """
    raw = text
    text, negative = _strip_amount(text)
    if not text:
        raise AmountError("empty", "no amount given", value=raw)

    if _AMBIGUOUS.match(text) and notation is None:
        raise AmountError(
            "ambiguous",
            f"{raw!r} is ambiguous: thousands separator or decimal point?",
            value=raw,
            hint="write it with decimals (9.500,00 or 9,500.00) or state the notation",
        )
    if notation == "en" and (_PLAIN.match(text) or _ENGLISH.match(text)):
        canonical = text.replace(",", "")
    elif notation == "nl" and _DUTCH.match(text):
        canonical = text.replace(".", "").replace(",", ".")
    elif notation is None and _PLAIN.match(text):
        canonical = text
    elif notation is None and _DUTCH.match(text):
        canonical = text.replace(".", "").replace(",", ".")
    elif notation is None and _ENGLISH.match(text):
        canonical = text.replace(",", "")
    elif notation == "nl" and _PLAIN.match(text) and "." not in text:
        canonical = text
    else:
        raise AmountError("invalid", f"not an amount: {raw!r}", value=raw)
    value = Decimal(canonical)
    return -value if negative else value


def parse_percentage(text: str | Decimal) -> Decimal:
    """Read a percentage as a fraction: ``15%`` → 0.15, ``15,5 %`` → 0.155, ``0.15`` → 0.15.

    A bare number above 1 (``15``) is refused with the hint "did you mean 15%?", since a
    margin of 1500 % is never meant. The result is not range-checked: callers decide
    what range their percentage may have.
    """
    raw = str(text).strip()
    if raw.endswith("%"):
        number = raw[:-1].strip()
        try:
            return parse_amount(number, notation="nl" if "," in number else None) / 100
        except AmountError as exc:
            raise AmountError("invalid", f"not a percentage: {raw!r}", value=raw) from exc
    try:
        value = parse_amount(raw, notation="nl" if "," in raw else None)
    except AmountError as exc:
        raise AmountError("invalid", f"not a percentage: {raw!r}", value=raw) from exc
    if abs(value) > 1:
        raise AmountError(
            "percent_without_sign",
            f"{raw!r} is not a fraction between 0 and 1",
            value=raw,
            hint=f"did you mean {raw}%?",
        )
    return value


def format_number(value: Decimal | int, *, lang: str = "nl", places: int = 2) -> str:
    """Group and separate a number the way ``lang`` writes it: nl ``9.500,00``, en ``9,500.00``."""
    quantum = Decimal(1).scaleb(-places)
    value = Decimal(value).quantize(quantum, rounding=ROUND_HALF_UP)
    text = f"{abs(value):,.{places}f}"
    if lang.startswith("nl"):
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return f"-{text}" if value < 0 else text


def format_money(amount: Decimal | int, *, lang: str = "nl") -> str:
    """Format euros for a reader: nl ``€ 9.500,00`` / ``€ -12,50``; en ``€9,500.00`` / ``-€12.50``."""
    amount = quantize_money(amount)
    number = format_number(abs(amount), lang=lang)
    if lang.startswith("nl"):
        return f"€ -{number}" if amount < 0 else f"€ {number}"
    return f"-€{number}" if amount < 0 else f"€{number}"


def format_money_whole(amount: Decimal | int | float, *, lang: str = "nl") -> str:
    """Whole euros for charts and tight spaces: nl ``€ 9.500``, en ``€9,500`` (rounded half up)."""
    amount = Decimal(str(amount)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    number = format_number(abs(amount), lang=lang, places=0)
    if lang.startswith("nl"):
        return f"€ -{number}" if amount < 0 else f"€ {number}"
    return f"-€{number}" if amount < 0 else f"€{number}"
