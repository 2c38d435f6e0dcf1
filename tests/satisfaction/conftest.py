"""A real SMTP server (aiosmtpd on a free port), a small world of consenting contacts, and
helpers to send the outbox and to find the links in the mails."""

from __future__ import annotations

import email
import re
import socket
import threading
from email import policy

import pytest


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Mailbox:
    """What the SMTP server received; ``hold_for`` makes it stall on one recipient."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.lock = threading.Lock()
        self.hold_for: str | None = None
        self.holding = threading.Event()
        self.release = threading.Event()
        self.reject: dict[str, str] = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.reject:
            return self.reject[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append(message)
        if self.hold_for and self.hold_for in envelope.rcpt_tos:
            import asyncio

            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        with self.lock:
            return [m for m in self.messages if address in m["To"]]

    @staticmethod
    def text(message) -> str:
        return message.get_body(preferencelist=("plain",)).get_content()

    @staticmethod
    def html(message) -> str:
        return message.get_body(preferencelist=("html",)).get_content()

    @staticmethod
    def links(message) -> list[str]:
        return re.findall(r"https?://[^\s<>\"]+", Mailbox.text(message))


@pytest.fixture
def smtp():
    """``(mailbox, settings)``: aiosmtpd on 127.0.0.1 at a port picked here."""
    from aiosmtpd.controller import Controller

    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    mailbox.port = port
    mailbox.settings = {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": port,
        "EMAIL_USE_TLS": False,
        "EMAIL_USE_SSL": False,
        "EMAIL_HOST_USER": "",
        "EMAIL_HOST_PASSWORD": "",
        "EMAIL_TIMEOUT": 10,
    }
    try:
        yield mailbox
    finally:
        mailbox.release.set()
        controller.stop()


@pytest.fixture
def send_outbox(smtp, settings):
    """Send what is due through the SMTP server (what the worker's task does)."""
    from relatiebeheer.outbox.sending import send_due

    def run():
        for name, value in smtp.settings.items():
            setattr(settings, name, value)
        return send_due()

    return run


def answer_link(message) -> str:
    return next(link for link in Mailbox.links(message) if "/satisfaction/a/" in link)


def unsubscribe_link(message) -> str:
    return next(link for link in Mailbox.links(message) if "/outbox/u/" in link)


@pytest.fixture
def people(owner):
    """The owner's account with three contacts: consenting, withdrawn, and without email."""
    from relatiebeheer.relations.models import ConsentRecord

    from ..factories import AccountFactory, ContactFactory

    account = AccountFactory(name="de Bijenkorf", manager=owner)
    owner.email = "daan@example.nl"
    owner.save(update_fields=["email"])
    yes = ContactFactory(account=account, first_name="Priya", email="priya@bijenkorf.example")
    no = ContactFactory(account=account, first_name="Joost", email="joost@bijenkorf.example")
    none = ContactFactory(account=account, first_name="Mila", email="")
    ConsentRecord.objects.create(contact=yes, purpose="surveys", granted=True, source="web_form")
    ConsentRecord.objects.create(contact=no, purpose="surveys", granted=True, source="web_form")
    ConsentRecord.objects.create(contact=no, purpose="surveys", granted=False, source="phone")
    ConsentRecord.objects.create(contact=none, purpose="surveys", granted=True, source="web_form")
    return {"account": account, "yes": yes, "no": no, "none": none}


def consenting_contact(account, **extra):
    from relatiebeheer.relations.models import ConsentRecord

    from ..factories import ContactFactory

    contact = ContactFactory(account=account, **extra)
    ConsentRecord.objects.create(
        contact=contact, purpose="surveys", granted=True, source="web_form"
    )
    return contact
