"""Dates written by people and spreadsheets: ``27-11-2026``, ``27/11/2026``, ``2026-11-27``.

Pure Python (no Django), the scalar reference for the vectorised column parser in
``relatiebeheer.imports.columns`` — property tests check that the two agree.

Rules
-----
* ISO order (year first, ``2026-11-27``, also with ``/`` or ``.``) is never ambiguous.
* Day and month around a four-digit year (``05-11-2026``) are ambiguous: 5 November in
  Dutch, 11 May in American English. A value whose first part is above 12 settles it
  for a whole column (:func:`detect_date_order`); without such evidence the caller must
  state the order (``"dmy"`` or ``"mdy"``), else :func:`parse_date` refuses with code
  ``ambiguous``.
* Years have four digits (``27-11-26`` is refused: which century?).
* A time may follow a date (``27-11-2026 14:30``, ``2026-11-27T14:30:00``); it is
  returned as a naive datetime, to be read in the installation's time zone by the caller.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

__all__ = [
    "DMY",
    "MDY",
    "YMD",
    "DateError",
    "DateOrderGuess",
    "detect_date_order",
    "parse_date",
    "parse_datetime",
]

DMY, MDY, YMD = "dmy", "mdy", "ymd"
ORDERS = (DMY, MDY)

_TIME = r"(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?"
_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})" + _TIME + r"$")
_DAY_MONTH = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})" + _TIME + r"$")
_SHORT_YEAR = re.compile(r"^\d{1,2}[-/.]\d{1,2}[-/.]\d{2}$")


class DateError(ValueError):
    """A written date that cannot be read unambiguously; ``code`` is a stable name."""

    def __init__(self, code: str, message: str, *, value: str = "", hint: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.value = value
        self.hint = hint


@dataclass(frozen=True)
class DateOrderGuess:
    """What a column's values say about day and month order.

    ``order`` is ``"dmy"``, ``"mdy"``, ``"ymd"`` or ``None`` (ambiguous: no value had a
    part above 12, so both readings are possible). ``mixed`` is true when some values
    can only be day-first and others only month-first: no single order reads them all.
    """

    order: str | None
    mixed: bool = False
    ambiguous_example: str = ""


def _clean(text: str) -> str:
    return str(text).strip()


def _parts(text: str) -> tuple[str, tuple[int, int, int], tuple[int, int, int] | None]:
    """(kind, (a, b, year) or (year, month, day), time) — kind is "iso" or "dm"."""
    match = _ISO.match(text)
    if match:
        y, m, d, hh, mm, ss = match.groups()
        time = (int(hh), int(mm), int(ss or 0)) if hh is not None else None
        return "iso", (int(y), int(m), int(d)), time
    match = _DAY_MONTH.match(text)
    if match:
        a, b, y, hh, mm, ss = match.groups()
        time = (int(hh), int(mm), int(ss or 0)) if hh is not None else None
        return "dm", (int(a), int(b), int(y)), time
    if _SHORT_YEAR.match(text):
        raise DateError(
            "short_year",
            f"{text!r} has a two-digit year",
            value=text,
            hint="write the year in four digits, e.g. 27-11-2026",
        )
    raise DateError(
        "invalid",
        f"not a date: {text!r}",
        value=text,
        hint="write it like 27-11-2026 or 2026-11-27",
    )


def _build(kind: str, parts: tuple[int, int, int], order: str | None, text: str) -> date:
    if kind == "iso":
        year, month, day = parts
    else:
        a, b, year = parts
        if order == YMD or order is None:
            if a > 12 and b <= 12:
                day, month = a, b
            elif b > 12 and a <= 12:
                day, month = b, a
            elif a == b:
                day = month = a
            elif a > 12 and b > 12:
                raise DateError("invalid", f"not a date: {text!r}", value=text)
            else:
                raise DateError(
                    "ambiguous",
                    f"{text!r} is ambiguous: day-month or month-day?",
                    value=text,
                    hint="state the order of day and month",
                )
        elif order == DMY:
            day, month = a, b
        else:
            month, day = a, b
    if not 1 <= year <= 9999:
        raise DateError("invalid", f"not a date: {text!r}", value=text)
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise DateError("invalid", f"not a date: {text!r}", value=text) from exc


def parse_date(text: str, *, order: str | None = None) -> date:
    """Read a date; ``order`` (``"dmy"``/``"mdy"``) settles values like ``05-11-2026``.

    A time after the date is refused here: a date column holds dates.
    """
    text = _clean(text)
    if not text:
        raise DateError("empty", "no date given", value=text)
    kind, parts, time = _parts(text)
    if time is not None:
        raise DateError("invalid", f"not a date: {text!r}", value=text)
    return _build(kind, parts, order, text)


def parse_datetime(text: str, *, order: str | None = None) -> datetime:
    """Read a date with an optional time (``27-11-2026 14:30``) as a naive datetime."""
    text = _clean(text)
    if not text:
        raise DateError("empty", "no date given", value=text)
    kind, parts, time = _parts(text)
    day = _build(kind, parts, order, text)
    hh, mm, ss = time or (0, 0, 0)
    if hh > 23 or mm > 59 or ss > 59:
        raise DateError("invalid", f"not a time: {text!r}", value=text)
    return datetime(day.year, day.month, day.day, hh, mm, ss)  # noqa: DTZ001 - naive on purpose


def detect_date_order(values: Iterable[str]) -> DateOrderGuess:
    """Decide the day/month order of a column from its values (empty ones are skipped).

    Unreadable values are ignored here; they are reported when the column is parsed.
    """
    day_first = month_first = False
    iso = False
    example = ""
    for raw in values:
        text = _clean(raw) if raw is not None else ""
        if not text:
            continue
        try:
            kind, parts, _time = _parts(text)
        except DateError:
            continue
        if kind == "iso":
            iso = True
            continue
        a, b, _year = parts
        if a > 12 >= b:
            day_first = True
        elif b > 12 >= a:
            month_first = True
        elif a != b and not example:
            example = text
    if day_first and month_first:
        return DateOrderGuess(None, mixed=True)
    if day_first:
        return DateOrderGuess(DMY)
    if month_first:
        return DateOrderGuess(MDY)
    if example:
        return DateOrderGuess(None, ambiguous_example=example)
    return DateOrderGuess(YMD if iso else None)
