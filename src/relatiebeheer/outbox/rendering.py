"""What a stored message becomes at send time: placeholders filled, unsubscribe link added.

Some parts of a mail must never be stored (a raw single-use answer token, for one):
the stored text holds a placeholder ``%%name%%`` and a *renderer* registered under the
message's ``renderer`` name returns the values when the worker sends it, inside the
transaction that claims the message. Every mail to a contact also gets
``%%unsubscribe_url%%``: a signed one-click link that withdraws consent for the
message's purpose (appended as a footer when the text does not place it itself).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parseaddr

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext as _

Renderer = Callable[[object], dict[str, str]]
_renderers: dict[str, Renderer] = {}
UNSUBSCRIBE_SALT = "relatiebeheer.outbox.unsubscribe"


def register_renderer(name: str, renderer: Renderer) -> None:
    """``renderer(message) -> {placeholder: value}``; runs in the claiming transaction."""
    _renderers[name] = renderer


def public_url(path: str) -> str:
    """An absolute link for mails: ``PUBLIC_URL`` (the address users reach the app at)."""
    base = (getattr(settings, "PUBLIC_URL", "") or "http://127.0.0.1:8000").rstrip("/")
    return base + path


def unsubscribe_token(contact_id: int, purpose: str) -> str:
    return signing.Signer(salt=UNSUBSCRIBE_SALT).sign_object({"c": contact_id, "p": purpose})


def read_unsubscribe_token(token: str) -> tuple[int, str] | None:
    try:
        data = signing.Signer(salt=UNSUBSCRIBE_SALT).unsign_object(token)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("c"), int):
        return None
    return data["c"], str(data.get("p", ""))


def unsubscribe_url(contact_id: int, purpose: str) -> str:
    return public_url(reverse("outbox:unsubscribe", args=[unsubscribe_token(contact_id, purpose)]))


@dataclass
class Rendered:
    subject: str
    text: str
    html: str
    headers: dict[str, str] = field(default_factory=dict)


def _fill(template: str, values: dict[str, str], *, html: bool) -> str:
    for name, value in values.items():
        template = template.replace(f"%%{name}%%", escape(value) if html else value)
    return template


def message_id(message) -> str:
    """A stable Message-ID: a deliberate resend carries the same one, so mail clients
    that got the first copy can recognise the second."""
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "localhost"
    digest = hashlib.sha256(message.key.encode()).hexdigest()[:16]
    return f"<outbox-{message.pk}-{digest}@{domain}>"


def render(message) -> Rendered:
    values: dict[str, str] = {}
    if message.renderer:
        values.update(_renderers[message.renderer](message))
    text, html = message.text, message.html
    headers = {"Message-ID": message_id(message)}
    if message.purpose != "internal" and message.contact_id:
        url = unsubscribe_url(message.contact_id, message.purpose)
        values["unsubscribe_url"] = url
        headers["List-Unsubscribe"] = f"<{url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        with translation.override(message.language or "nl"):
            footer = _("Don't want these emails any more? Unsubscribe with one click:")
        if "%%unsubscribe_url%%" not in text:
            text = f"{text.rstrip()}\n\n--\n{footer} %%unsubscribe_url%%\n"
        if html and "%%unsubscribe_url%%" not in html:
            block = (
                '<p style="font-size:12px;color:#666;margin-top:32px">'
                f'{escape(footer)} <a href="%%unsubscribe_url%%">%%unsubscribe_url%%</a></p>'
            )
            html = html.replace("</body>", block + "</body>") if "</body>" in html else html + block
    else:
        headers["Auto-Submitted"] = "auto-generated"
    return Rendered(
        subject=_fill(message.subject, values, html=False),
        text=_fill(text, values, html=False),
        html=_fill(html, values, html=True) if html else "",
        headers=headers,
    )
