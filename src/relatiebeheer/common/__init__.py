"""Shared Django building blocks: money fields, domain errors, update helpers."""
