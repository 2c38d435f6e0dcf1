"""Relatiebeheer: relationship management for keeping business customers."""

__version__ = "0.1.0"
