"""Who may see and change which customer data — the one place that decides.

* admin, sales manager: every account;
* read-only: sees what a sales manager sees, changes nothing;
* account manager: their own portfolio (accounts they manage) plus accounts shared
  with them, and may change those.

Every page, API endpoint, export and command reaches customer data through
``Account.objects.visible_to(user)`` (and the related querysets built on it), which
calls :func:`account_visibility_q`. Records outside a user's view are reported as
"not found", never as "forbidden", so their existence does not leak.
"""

from __future__ import annotations

from django.db.models import Q

from .models import Role, User

SEES_ALL = {Role.ADMIN, Role.SALES_MANAGER, Role.READ_ONLY}


def sees_all_accounts(user) -> bool:
    return bool(user and user.is_authenticated and (user.is_superuser or user.role in SEES_ALL))


def account_visibility_q(user, prefix: str = "") -> Q | None:
    """A filter for accounts ``user`` may see, or ``None`` for "all of them".

    ``prefix`` points from another model to its account, e.g. ``"account__"``.
    Returns a filter matching nothing for anonymous or inactive users.
    """
    if not user or not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if sees_all_accounts(user):
        return None
    from relatiebeheer.relations.models import AccountShare

    shared = AccountShare.objects.filter(user=user).values("account_id")
    account_in = f"{prefix}in" if prefix else "pk__in"  # "account__in" or "pk__in"
    return Q(**{f"{prefix}manager": user}) | Q(**{account_in: shared})


def can_change_data(user) -> bool:
    """Whether ``user`` may change customer data at all (read-only users may not)."""
    return bool(
        user
        and user.is_authenticated
        and user.is_active
        and (user.is_superuser or user.role != Role.READ_ONLY)
    )


def can_manage_portfolios(user) -> bool:
    """Assign accounts to managers and hand over portfolios: admins and sales managers."""
    return bool(
        user
        and user.is_authenticated
        and user.is_active
        and (user.is_superuser or user.role in {Role.ADMIN, Role.SALES_MANAGER})
    )


def can_read_audit_log(user) -> bool:
    """The audit log in the app (page, API, command): administrators and sales managers.
    Account managers and read-only users do not read it (it names every account and user)."""
    return bool(
        user
        and user.is_authenticated
        and user.is_active
        and (user.is_superuser or user.role in {Role.ADMIN, Role.SALES_MANAGER})
    )


def is_admin(user) -> bool:
    return bool(user and user.is_authenticated and (user.is_superuser or user.role == Role.ADMIN))


def can_see_operations(user) -> bool:
    """The status of the background work (worker, queue, failed tasks): administrators
    and sales managers read it; only administrators act on it (retry a task)."""
    return bool(
        user
        and user.is_authenticated
        and user.is_active
        and (user.is_superuser or user.role in {Role.ADMIN, Role.SALES_MANAGER})
    )


def system_user() -> User:
    """The user the command line acts as when no ``--as`` is given."""
    from django.conf import settings

    username = settings.RELATIEBEHEER["CLI_USERNAME"]
    user, created = User.objects.get_or_create(
        username=username,
        defaults={"role": Role.ADMIN, "first_name": "Command line", "is_active": True},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user
