"""Building surveys (questions of the registered kinds) and the satisfaction settings."""
