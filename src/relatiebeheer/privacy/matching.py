"""Finding and replacing one contact's identifying values in text and decoded JSON.

The rule (also in ``registry.py``): the full name, e-mail address and phone number match
everywhere as whole words, case-insensitively; the surname words (particles aside) match
case-sensitively as whole words in rows of the person's account or rows that name the
person; the first name alone only in rows linked to the person. Any length counts: a
two-letter surname such as "Li" is removed from "Bel Li terug" and "Mevr. Li" while
"lijst", "Lisa" and "li" stay.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

ERASED = "[verwijderd]"

# Dutch, German, French and English name particles: never scrubbed on their own.
PARTICLES = frozenset(
    "van de der den het ter ten te in 't op aan la le du des da di del von zu dos das".split()
)

LINKED = "linked"  # a row linked to the person
NAMED = "named"  # a row of the person's account, or one that names the person
ANYWHERE = "anywhere"  # any other row


def _word(value: str, *, ignore_case: bool) -> re.Pattern[str]:
    flags = re.IGNORECASE if ignore_case else 0
    return re.compile(r"(?<!\w)" + re.escape(value) + r"(?!\w)", flags)


_SEP = r"[\s.\-/()]*"
# Country codes whose national numbers start with a trunk "0" instead (NL, BE, DE, FR, UK).
_TRUNK_ZERO = ("31", "32", "49", "33", "44")


def phone_pattern(phone: str) -> re.Pattern[str] | None:
    """A phone number however it is written: "+31612345678" also as "06-1234 5678",
    "+31 6 12345678", "0031 6 12345678" (digits with spaces, dots, dashes, slashes or
    brackets between them)."""
    digits = re.sub(r"\D", "", phone)
    if len(digits) < 6:
        return None
    forms = {digits, "00" + digits}
    if phone.strip().startswith("+"):
        for code in _TRUNK_ZERO:
            if digits.startswith(code):
                forms.add("0" + digits[len(code) :])
    alternatives = "|".join(_SEP.join(form) for form in sorted(forms, key=len, reverse=True))
    return re.compile(r"(?<![\w+])\+?(?:" + alternatives + r")(?!\d)")


@dataclass
class Matcher:
    """The patterns for one contact, per strength (``LINKED`` ⊇ ``NAMED`` ⊇ ``ANYWHERE``)."""

    distinctive: list[str]
    surname_words: list[str]
    first_name: str
    phone: str = ""
    patterns: dict[str, list[re.Pattern[str]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        strong = [_word(v, ignore_case=True) for v in self.distinctive]
        phone = phone_pattern(self.phone) if self.phone else None
        if phone is not None:
            strong.append(phone)
        surnames = [_word(v, ignore_case=False) for v in self.surname_words]
        first = [_word(self.first_name, ignore_case=False)] if self.first_name else []
        self.patterns = {
            ANYWHERE: strong,
            NAMED: strong + surnames,
            LINKED: strong + surnames + first,
        }

    @property
    def empty(self) -> bool:
        return not self.distinctive

    def names(self, text: str, strength: str = ANYWHERE) -> bool:
        return any(p.search(text) for p in self.patterns[strength])

    def scrub(self, text: str, strength: str) -> str:
        for pattern in self.patterns[strength]:
            text = pattern.sub(ERASED, text)
        return text

    def names_value(self, value: Any, strength: str = ANYWHERE) -> bool:
        return any(self.names(s, strength) for s in strings_in(value))

    def scrub_value(self, value: Any, strength: str) -> Any:
        """``value`` (decoded JSON) with every string in it scrubbed; keys stay."""
        if isinstance(value, str):
            return self.scrub(value, strength)
        if isinstance(value, list):
            return [self.scrub_value(v, strength) for v in value]
        if isinstance(value, dict):
            return {k: self.scrub_value(v, strength) for k, v in value.items()}
        return value

    def db_needles(self) -> list[str]:
        """Substrings for a database pre-filter of ``ANYWHERE`` rows (text and JSON as
        stored: plain, and escaped as ``json.dumps`` with and without ``ensure_ascii``).
        Mixed case of non-ASCII letters ("ZoË") can slip past it on SQLite."""
        import json

        needles: set[str] = set()
        for value in self.distinctive:
            # SQLite's LIKE ignores the case of ASCII letters only: "ZOË" is not "Zoë"
            # to it, so non-ASCII values are also looked for in lower and upper case.
            variants = {value} if value.isascii() else {value, value.lower(), value.upper()}
            for variant in variants:
                needles.add(variant)
                needles.add(json.dumps(variant)[1:-1])
                needles.add(json.dumps(variant, ensure_ascii=False)[1:-1])
        return sorted(needles)


def strings_in(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for v in value for s in strings_in(v)]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings_in(v)]
    return []


def has_key_value(value: Any, keys: tuple[str, ...], wanted: int) -> bool:
    """Whether decoded JSON holds ``wanted`` (a contact id) under one of ``keys``."""
    if isinstance(value, list):
        return any(has_key_value(v, keys, wanted) for v in value)
    if isinstance(value, dict):
        for k, v in value.items():
            if k in keys and (v == wanted or v == str(wanted)):
                return True
            if has_key_value(v, keys, wanted):
                return True
    return False


def matcher_for(*, first_name: str, last_name: str, email: str, phone: str) -> Matcher:
    full = f"{first_name} {last_name}".strip()
    distinctive = [v.strip() for v in (full, email, phone) if v and v.strip() and v != ERASED]
    # "van Leeuwen" → "Leeuwen"; "Li" → "Li"; a surname that is only particles stays whole.
    words = [w for w in last_name.split() if w.lower() not in PARTICLES and w != ERASED]
    if words and last_name.strip() != ERASED:
        words.append(last_name.strip())  # "Øst 🌷" as a whole first, then its words
    surname_words = sorted(set(words), key=len, reverse=True)
    return Matcher(
        distinctive=sorted(set(distinctive), key=len, reverse=True),
        surname_words=surname_words,
        first_name=first_name.strip() if first_name.strip() != full else "",
        phone=phone.strip(),
    )
