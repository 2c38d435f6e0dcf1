"""The pure calculation core of Relatiebeheer.

Nothing in this package imports Django (a ruff banned-api rule enforces it), so the
formulas can be used as a plain Python library and tested on their own.
"""
