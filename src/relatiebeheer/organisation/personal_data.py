"""Personal-data registry: the organisation's settings."""

from relatiebeheer.privacy.registry import not_personal

not_personal("organisation.OrganisationSettings", "name", why="the firm's own name")
