"""Input types shared by every API schema.

Text is refused when it holds NUL characters or unpaired surrogates (no database can
store them, so they would otherwise surface as server errors); ids and amounts are
bounded so nothing overflows a 64-bit column.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from ninja import Schema
from pydantic import AfterValidator, ConfigDict, Field, StringConstraints


def _storable(value: str) -> str:
    if "\x00" in value:
        raise ValueError("text may not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("text must be valid Unicode") from exc
    return value


def Text(max_length: int, min_length: int = 0):
    return Annotated[
        str,
        StringConstraints(max_length=max_length, min_length=min_length),
        AfterValidator(_storable),
    ]


def RequiredText(max_length: int):
    return Annotated[
        str,
        StringConstraints(strip_whitespace=True, max_length=max_length, min_length=1),
        AfterValidator(_storable),
    ]


MAX_ID = 2**53  # also the largest integer JavaScript clients read exactly
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Version = Annotated[int, Field(ge=1, le=2**31 - 1)]
Money = Annotated[
    Decimal,
    Field(
        max_digits=13, decimal_places=2, ge=Decimal("-99999999999.99"), le=Decimal("99999999999.99")
    ),
]
NonNegativeMoney = Annotated[
    Decimal, Field(max_digits=13, decimal_places=2, ge=0, le=Decimal("99999999999.99"))
]


class In(Schema):
    """Base of every request body: an unknown field is a 422, never silently ignored."""

    model_config = ConfigDict(extra="forbid")


def sent_fields(payload: Schema, *, exclude: set[str] | frozenset[str] = frozenset()) -> dict:
    """The fields the client actually sent (a PATCH changes only those)."""
    return {
        name: getattr(payload, name) for name in payload.model_fields_set if name not in exclude
    }


class DeleteQuery(Schema):
    """The query of every DELETE of a versioned record."""

    version: Version | None = Field(
        None,
        description=(
            "The version you saw. Given, the delete is refused with 409 (and the record "
            "as it is now) when someone changed it since; without it, it is deleted as is."
        ),
    )
