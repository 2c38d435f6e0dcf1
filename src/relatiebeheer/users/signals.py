"""A failed login counts against the client's address (the login throttle)."""

from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver


@receiver(user_login_failed)
def _count_failure(sender, credentials, request=None, **kwargs):
    if request is None:  # not a login over HTTP (a command, a test's authenticate())
        return
    from .throttle import AddressThrottle, client_address

    AddressThrottle().failed(client_address(request))
