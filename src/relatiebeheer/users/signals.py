"""A successful login takes back the attempt the login throttle counted for it."""

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver


@receiver(user_logged_in)
def _take_back_attempt(sender, request=None, user=None, **kwargs):
    if request is None or not request.META.get("REMOTE_ADDR"):  # force_login, a command
        return
    from .throttle import AddressThrottle, client_address

    AddressThrottle().succeeded(client_address(request))
