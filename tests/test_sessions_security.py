"""Sessions: idle timeout, absolute lifetime, log out everywhere; security headers."""

import time

import pytest
from django.test import Client

from relatiebeheer.users.middleware import LOGIN_TIME_KEY

pytestmark = pytest.mark.django_db


def test_log_out_everywhere_ends_every_session(owner, password):
    phone, laptop = Client(), Client()
    phone.force_login(owner)
    laptop.force_login(owner)
    assert phone.get("/").status_code == 200
    response = laptop.post("/logout/everywhere/")
    assert response.status_code == 302
    assert phone.get("/").status_code == 302  # sent to the login page
    assert laptop.get("/").status_code == 302


def test_absolute_lifetime_ends_a_busy_session(owner, password, settings):
    client = Client()
    client.force_login(owner)
    assert client.get("/").status_code == 200
    session = client.session
    session[LOGIN_TIME_KEY] = time.time() - settings.SESSION_MAX_HOURS * 3600 - 1
    session.save()
    assert client.get("/").status_code == 302


def test_idle_timeout_is_the_cookie_age(settings):
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    assert settings.SESSION_COOKIE_AGE == settings.SESSION_IDLE_MINUTES * 60


def test_pages_carry_a_strict_content_security_policy(web_as, owner):
    response = web_as(owner).get("/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-eval" not in policy
    assert "'unsafe-inline'" not in policy.split("style-src-attr")[0]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_templates_have_no_inline_scripts_or_handlers():
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "src" / "relatiebeheer"
    offenders = []
    for template in root.glob("**/templates/**/*.html"):
        text = template.read_text(encoding="utf-8")
        if re.search(r"\son[a-z]+\s*=", text) or re.search(
            r"<script(?![^>]*\bsrc=)(?![^>]*application/json)", text
        ):
            offenders.append(str(template.relative_to(root)))
    assert not offenders
