"""Personal-data registry: mails in the outbox."""

from relatiebeheer.privacy.registry import not_personal, personal

personal(
    "outbox.OutboxMessage",
    "to",
    "subject",
    "text",
    "html",
    "renderer_args",
    "last_error",
    why="a mail to the person: address, greeting, text; its renderer's arguments and the "
    "mail server's error may repeat the address",
    contact="contact",
    account="account",
    anywhere=True,
    link_keys=("contact_id",),
)
not_personal(
    "outbox.OutboxMessage",
    "key",
    "purpose",
    "language",
    "renderer",
    "status",
    "claimed_by",
    why="the mail's idempotency key (ids only), purpose, language, renderer and state",
)
