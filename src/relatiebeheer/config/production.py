"""Production settings: HTTPS behind a proxy, secure cookies, HSTS.

Use with ``DJANGO_SETTINGS_MODULE=relatiebeheer.config.production``; ``check --deploy``
reports nothing with these.
"""

import os

os.environ.setdefault("SECURE_COOKIES", "1")
os.environ.setdefault("SECURE_SSL_REDIRECT", "1")
os.environ.setdefault("SECURE_HSTS_SECONDS", "31536000")
os.environ.setdefault("BEHIND_TLS_PROXY", "1")

from .settings import *  # noqa: F403

DEBUG = False
