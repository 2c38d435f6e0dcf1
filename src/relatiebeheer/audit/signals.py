"""Logins, logouts and failed logins in the audit log (usernames are not stored)."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from .services import audit_log


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    audit_log(actor=user, action="auth.login", obj=user)


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        audit_log(actor=user, action="auth.logout", obj=user)


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    audit_log(actor=None, action="auth.login_failed")
