"""Domain errors raised by services and turned into one error shape by web and API."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """A refusal the user can understand. ``status`` is the HTTP status it maps to."""

    status = 400
    code = "domain_error"
    title = _("The request cannot be carried out.")

    def __init__(self, detail: Any = None, *, code: str | None = None) -> None:
        super().__init__(str(detail or self.title))
        self.detail = detail or self.title
        if code:
            self.code = code


class NotFound(DomainError):
    """Missing, or not visible to this user: the two are deliberately indistinguishable."""

    status = 404
    code = "not_found"
    title = _("Not found.")


class PermissionRefused(DomainError):
    status = 403
    code = "permission_denied"
    title = _("You are not allowed to do this.")


class VersionConflict(DomainError):
    """Someone else saved the record first; ``current`` is the record as it is now."""

    status = 409
    code = "version_conflict"
    title = _("Someone else changed this record after you opened it.")

    def __init__(self, current: Any, detail: Any = None) -> None:
        super().__init__(detail)
        self.current = current


class Conflict(DomainError):
    status = 409
    code = "conflict"
    title = _("This conflicts with the current state.")


class TooLarge(DomainError):
    """The request body is larger than this door takes (HTTP 413)."""

    status = 413
    code = "too_large"
    title = _("The request is too large.")


class InvalidInput(DomainError):
    """Field errors: ``errors`` maps a field name (or ``__all__``) to messages."""

    status = 422
    code = "invalid"
    title = _("Some fields are not valid.")

    def __init__(self, errors: dict[str, list[str]], detail: Any = None) -> None:
        super().__init__(detail)
        self.errors = errors

    @classmethod
    def from_django(cls, exc) -> InvalidInput:
        if hasattr(exc, "error_dict"):
            errors = {
                field: [str(m) for e in errs for m in e.messages]
                for field, errs in exc.error_dict.items()
            }
        else:
            errors = {"__all__": [str(m) for m in exc.messages]}
        return cls(errors)
