"""Validators for Dutch and EU business identifiers, phone numbers."""

from __future__ import annotations

import re

import phonenumbers
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError

_KVK = re.compile(r"^\d{8}$")

# The words every door uses for these (the import's report reads them from here too).
MESSAGES = {
    "kvk": _("A KvK number has exactly 8 digits, e.g. 12345678."),
    "vat": _("This is not a valid EU VAT number (e.g. NL000099998B57)."),
    "phone": _("This is not a valid phone number (e.g. 020 123 4567 or +31 20 123 4567)."),
}


def validate_kvk(value: str) -> None:
    """A KvK (Chamber of Commerce) number is 8 digits; it has no check digit."""
    if value and not _KVK.match(value):
        raise DjangoValidationError(
            MESSAGES["kvk"],
            code="kvk",
            params={"value": value},
        )


def normalise_vat(value: str) -> str:
    """Compact form (``NL000099998B57``); a value stdnum cannot read is left for the validator."""
    if not value:
        return ""
    try:
        return eu_vat.compact(value)
    except ValidationError:
        return value.strip().upper()


def validate_vat(value: str) -> None:
    """VAT numbers of the Netherlands (``NL…B01``) and the other EU countries."""
    if value and not eu_vat.is_valid(value):
        raise DjangoValidationError(MESSAGES["vat"], code="vat")


def normalise_phone(value: str) -> str:
    """E.164 form (``+31201234567``); Dutch numbers may be written without +31."""
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, "NL")
    except phonenumbers.NumberParseException:
        return value
    if not phonenumbers.is_valid_number(number):
        return value
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def validate_phone(value: str) -> None:
    if not value:
        return
    try:
        number = phonenumbers.parse(value, "NL")
        valid = phonenumbers.is_valid_number(number)
    except phonenumbers.NumberParseException:
        valid = False
    if not valid:
        raise DjangoValidationError(MESSAGES["phone"], code="phone")
