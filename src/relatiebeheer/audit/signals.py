"""Logins, logouts and failed logins in the audit log, with the client's address.

A failed login keeps the username as typed when it names a user; a typed name that
matches nobody (a mistyped name, or a password typed into the wrong field) is kept only
as a keyed hash (:func:`~relatiebeheer.audit.services.keyed_hash`), so the log holds no
personal data of people who are not users, yet the same typed name is recognisable.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from .services import audit_log, keyed_hash


def _address(request) -> str:
    if request is None:
        return ""
    from relatiebeheer.users.throttle import client_address

    return client_address(request)


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    audit_log(actor=user, action="auth.login", obj=user, extra={"address": _address(request)})


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        audit_log(actor=user, action="auth.logout", obj=user)


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    typed = str((credentials or {}).get("username") or "")[:150]
    user = get_user_model()._default_manager.filter(username=typed).first() if typed else None
    extra: dict[str, object] = {"address": _address(request)}
    if user is not None:
        extra["username"] = typed
    elif typed:
        extra["username_hash"] = keyed_hash(typed)
    if request is not None and getattr(request, "axes_locked_out", False):
        extra["locked"] = True
    audit_log(actor=None, action="auth.login_failed", obj=user, extra=extra)
