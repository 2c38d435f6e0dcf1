"""Calendar periods used by reports (pure date arithmetic)."""

from __future__ import annotations

from datetime import date, timedelta


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
