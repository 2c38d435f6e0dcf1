"""Writes to users and their API tokens.

Users and tokens are not customer data: these writers are audited (without values or
secrets) but touch no account's figures (``accounts=False``). What a user may see
follows from the role; a role change applies from the user's next request.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from relatiebeheer.audit.services import audit_log
from relatiebeheer.common import writers
from relatiebeheer.common.errors import Conflict, InvalidInput, PermissionRefused
from relatiebeheer.common.writers import writer

from .access import is_admin
from .models import ApiToken, Role, User

USER_FIELDS = ("email", "first_name", "last_name", "role", "language", "is_active")


def _require_admin(actor: User) -> None:
    if not is_admin(actor):
        raise PermissionRefused(_("Only an administrator can manage users."))


@writer(accounts=False)
def user_create(
    *,
    actor: User,
    username: str,
    password: str,
    role: str,
    data: Mapping[str, Any] | None = None,
) -> User:
    """A user with a role; administrators get the admin (staff) too. The password is
    checked by the configured validators (length, common passwords)."""
    _require_admin(actor)
    if role not in Role.values:
        raise InvalidInput({"role": [_("Unknown role.")]})
    if User.objects.filter(username=username).exists():
        raise Conflict(_("A user with this name exists already."))
    data = dict(data or {})
    unknown = set(data) - set(USER_FIELDS)
    if unknown:
        raise InvalidInput({name: [_("Unknown field.")] for name in sorted(unknown)})
    user = User(username=username, role=role, **data)
    user.is_staff = user.is_superuser = role == Role.ADMIN
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise InvalidInput({"password": list(exc.messages)}) from exc
    user.set_password(password)
    with transaction.atomic():
        user.save()
        audit_log(actor=actor, action="user.create", obj=user, extra={"role": role})
    return user


@writer(accounts=False)
def user_saved_in_admin(*, actor: User, user: User, fields: list[str], created: bool) -> User:
    """Record a save made by the admin's user forms (which also set passwords and
    permissions, Django's own machinery): saved and audited in one transaction."""
    _require_admin(actor)
    with transaction.atomic():
        user.save()
        audit_log(
            actor=actor,
            action="user.create" if created else "user.update",
            obj=user,
            fields=[]
            if created
            else [f for f in fields if f not in {"password", "password1", "password2"}],
        )
    return user


@writer(accounts=False)
def user_log_out_everywhere(*, actor: User, user: User) -> None:
    """End every session of ``user``; people may do this for themselves, admins for all."""
    if actor.pk != user.pk:
        _require_admin(actor)
    with transaction.atomic():
        user.log_out_everywhere()
        audit_log(actor=actor, action="auth.logout_everywhere", obj=user)


@writer(accounts=False)
def token_create(*, actor: User, user: User, name: str) -> tuple[ApiToken, str]:
    """A personal API token for ``user`` (an admin may make one for anybody). The raw
    token is returned once; only its hash is stored."""
    if actor.pk != user.pk:
        _require_admin(actor)
    if not user.is_active:
        raise InvalidInput({"user": [_("This user is not active.")]})
    name = " ".join(str(name).split())
    if not name:
        raise InvalidInput({"name": [_("Give the token a name.")]})
    with transaction.atomic():
        token, raw = ApiToken.issue(user=user, name=name[:100])
        audit_log(actor=actor, action="token.create", obj=token, extra={"user_id": user.pk})
    return token, raw


@writer(accounts=False)
def token_revoke(*, actor: User, token: ApiToken) -> ApiToken:
    """Revoke a token (its owner or an admin); revoking a revoked token changes nothing."""
    if actor.pk != token.user_id:
        _require_admin(actor)
    with transaction.atomic():
        locked = ApiToken.objects.select_for_update().get(pk=token.pk)
        if locked.revoked_at is not None:
            writers.nothing_to_write()
            return locked
        locked.revoke()
        audit_log(actor=actor, action="token.revoke", obj=locked)
    return locked


@writer(accounts=False)
def login_unlock(*, actor: User, attempt_ids: list[int]) -> int:
    """Lift a login lockout early by removing the recorded failed attempts (django-axes'
    ``AccessAttempt`` rows) — an administrator's decision, audited without usernames or
    addresses."""
    from axes.models import AccessAttempt

    _require_admin(actor)
    with transaction.atomic():
        removed, _rows = AccessAttempt.objects.filter(pk__in=attempt_ids).delete()
        if not removed:
            writers.nothing_to_write()
            return 0
        audit_log(actor=actor, action="auth.unlock", extra={"attempts": removed})
    return removed
