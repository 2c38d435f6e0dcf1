"""The registry of personal data: per model, which text and JSON fields hold personal
data, and how the rows that concern one contact are found.

Every app registers its own models in a ``personal_data.py`` module (found at start-up,
like ``admin.py``); third-party models are registered in ``privacy/personal_data.py``.
A test (``tests/privacy/test_registry.py``) fails when a model has a ``CharField``,
``TextField`` or ``JSONField`` that is not classified here — personal or not, with a
reason — so a new feature cannot keep personal data that the export misses or an
erasure leaves behind. The export (``selectors.contact_export``) and the erasure
(``services.contact_erase``) read the same entries.

Where a personal field is looked at for one contact (``Personal``):

* ``contact`` — the ORM path from the model to the contact (``"contact"``,
  ``"response__contact"``; ``"pk"`` for the contact itself): rows *linked to the person*;
* ``account`` — the path to the account (``"account"``; ``"pk"`` for the account
  itself): rows of the person's account;
* ``anywhere`` — rows anywhere in the table that name the person by a distinctive value
  (full name, e-mail address, phone number), e.g. task arguments or the admin's log;
* ``link_keys`` — JSON keys that hold a contact id (``{"contact_id": 42}``): a document
  with the contact's id under such a key is linked to the person;
* ``subject`` — ``"contact"`` (default) or ``"user"``: data about the firm's own users
  (names, login attempts) is personal too, but no concern of a contact's export or
  erasure.

What is matched, and where (``matching.py`` carries it out):

1. In rows linked to the person: the full name, e-mail address, phone number, the first
   name and each surname word (particles such as "van", "de" excepted).
2. In rows of the person's account and in rows that name the person by a distinctive
   value: the full name, e-mail address, phone number and each surname word.
3. In other rows (``anywhere``): the full name, e-mail address and phone number.

Names match as whole words (not inside another word): case-insensitively for the full
name, e-mail and phone (the phone also with other separators and the national "0"); case-sensitively for a single first name or surname word, so the
surname "Li" goes from "Bel Li terug" but "lijst", "Lisa" and "li" stay. A value of any
length matches (also two letters). JSON values are decoded and walked; each string in
them is matched the same way, never the serialised text.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.apps import apps
from django.db import models

SUBJECTS = ("contact", "user")


@dataclass(frozen=True)
class Classification:
    model: str  # "app_label.ModelName"
    field: str
    personal: bool
    why: str
    contact: str | None = None
    account: str | None = None
    anywhere: bool = False
    link_keys: tuple[str, ...] = ()
    subject: str = "contact"


_registry: dict[tuple[str, str], Classification] = {}


def _add(entry: Classification) -> None:
    if not entry.why.strip():
        raise ValueError(f"{entry.model}.{entry.field}: give a reason")
    if entry.subject not in SUBJECTS:
        raise ValueError(f"{entry.model}.{entry.field}: subject {entry.subject!r}")
    _registry[(entry.model.lower(), entry.field)] = entry


def personal(
    model: str,
    *fields: str,
    why: str,
    contact: str | None = None,
    account: str | None = None,
    anywhere: bool = False,
    link_keys: Iterable[str] = (),
    subject: str = "contact",
) -> None:
    """Register ``fields`` of ``model`` as holding personal data (see the module)."""
    if subject == "contact" and not (contact or account or anywhere):
        raise ValueError(f"{model}: say where a contact's rows are (contact/account/anywhere)")
    for name in fields:
        _add(
            Classification(
                model,
                name,
                True,
                why,
                contact=contact,
                account=account,
                anywhere=anywhere,
                link_keys=tuple(link_keys),
                subject=subject,
            )
        )


def not_personal(model: str, *fields: str, why: str) -> None:
    """Register ``fields`` of ``model`` as holding no personal data, with the reason."""
    for name in fields:
        _add(Classification(model, name, False, why))


def classification(model_label: str, field: str) -> Classification | None:
    return _registry.get((model_label.lower(), field))


def text_fields(model: type[models.Model]) -> list[models.Field]:
    """The fields a classification is required for: text and JSON, primary keys aside."""
    return [
        f
        for f in model._meta.concrete_fields
        if isinstance(f, (models.CharField, models.TextField, models.JSONField))
        and not f.primary_key
    ]


def unclassified() -> list[str]:
    """``app.Model.field`` of every text/JSON field without a classification."""
    missing = []
    for model in apps.get_models(include_auto_created=True):
        if model._meta.proxy or not model._meta.managed:
            continue
        for f in text_fields(model):
            if classification(model._meta.label, f.name) is None:
                missing.append(f"{model._meta.label}.{f.name}")
    return missing


@dataclass(frozen=True)
class ModelEntry:
    """The personal fields of one model that concern contacts, with their common scope."""

    model: type[models.Model]
    fields: tuple[str, ...]
    json_fields: frozenset[str]
    contact: str | None
    account: str | None
    anywhere: bool
    link_keys: tuple[str, ...]


def contact_models() -> list[ModelEntry]:
    """Per model, the personal fields about contacts, in a fixed order (by label).

    Fields of one model registered with different scopes are grouped by scope."""
    groups: dict[tuple, list[Classification]] = {}
    for entry in _registry.values():
        if not entry.personal or entry.subject != "contact":
            continue
        key = (entry.model.lower(), entry.contact, entry.account, entry.anywhere, entry.link_keys)
        groups.setdefault(key, []).append(entry)
    result = []
    for key in sorted(groups, key=lambda k: tuple(str(p) for p in k)):
        entries = groups[key]
        try:
            model = apps.get_model(entries[0].model)
        except LookupError:
            continue  # an app that is not installed
        json_fields = frozenset(
            e.field for e in entries if isinstance(model._meta.get_field(e.field), models.JSONField)
        )
        result.append(
            ModelEntry(
                model=model,
                fields=tuple(sorted(e.field for e in entries)),
                json_fields=json_fields,
                contact=entries[0].contact,
                account=entries[0].account,
                anywhere=entries[0].anywhere,
                link_keys=entries[0].link_keys,
            )
        )
    return result


def discover() -> None:
    """Import every installed app's ``personal_data`` module (called from ready())."""
    from django.utils.module_loading import autodiscover_modules

    autodiscover_modules("personal_data")
