"""Calendar periods used by reports (pure date arithmetic)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TypeVar

T = TypeVar("T")


def years_back(day: date, years: int) -> date:
    """The same calendar day ``years`` earlier; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def last_12_months(today: date) -> tuple[date, date]:
    """The inclusive window of the twelve months up to and including ``today``."""
    return years_back(today, 1) + timedelta(days=1), today


def year_bounds(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


def month_start(day: date) -> date:
    """The first day of ``day``'s month."""
    return day.replace(day=1)


def add_months(month: date, months: int) -> date:
    """The first day of the month ``months`` after (or, negative, before) ``month``'s."""
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_range(first: date, last: date) -> list[date]:
    """Every month from ``first``'s to ``last``'s, both included, as first days, oldest
    first; empty when ``first`` is after ``last``. Charts draw one bar or point for each
    month of this range, with 0 where nothing happened, so the time axis is never
    compressed by a month without orders."""
    months = []
    month, end = month_start(first), month_start(last)
    while month <= end:
        months.append(month)
        month = add_months(month, 1)
    return months


def last_months(today: date, count: int) -> list[date]:
    """The ``count`` months up to and including ``today``'s, oldest first."""
    return month_range(add_months(month_start(today), 1 - count), today)


def fill_months(months: list[date], values: dict[date, T], zero: T) -> list[tuple[date, T]]:
    """``(month, value)`` for every month of ``months``, ``zero`` where ``values`` has none."""
    return [(month, values.get(month, zero)) for month in months]
