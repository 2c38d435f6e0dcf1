"""Closing the loop: follow-ups of unhappy answers."""
