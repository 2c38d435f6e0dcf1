"""Personal-data registry: period figures hold no personal data."""

from relatiebeheer.privacy.registry import not_personal

not_personal("reports.PeriodFigures", "kind", why="a period kind")
