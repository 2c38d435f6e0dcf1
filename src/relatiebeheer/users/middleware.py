"""The absolute session lifetime (the idle timeout is the session cookie's age)."""

import time

from django.conf import settings
from django.contrib.auth import logout

LOGIN_TIME_KEY = "relatiebeheer_login_time"


class SessionLifetimeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            started = request.session.get(LOGIN_TIME_KEY)
            now = time.time()
            if started is None:
                request.session[LOGIN_TIME_KEY] = now
            elif now - started > settings.SESSION_MAX_HOURS * 3600:
                logout(request)
        return self.get_response(request)


class LoginThrottleMiddleware:
    """Answers a login attempt from an address that must still wait (see
    :mod:`relatiebeheer.users.throttle`) with 429 and ``Retry-After``, before any
    password is checked; an attempt let through is counted until it succeeds. Covers
    the login page and the admin's login."""

    def __init__(self, get_response):
        self.get_response = get_response
        self._paths: frozenset[str] | None = None

    def _login_paths(self) -> frozenset[str]:
        if self._paths is None:
            from django.urls import reverse

            self._paths = frozenset({reverse("web:login"), reverse("admin:login")})
        return self._paths

    def __call__(self, request):
        if request.method == "POST" and request.path_info in self._login_paths():
            from .throttle import AddressThrottle, client_address

            seconds = AddressThrottle().attempt(client_address(request))
            if seconds:
                return throttled_response(request, seconds)
        return self.get_response(request)


def throttled_response(request, seconds: int):
    from django.contrib.auth.forms import AuthenticationForm
    from django.shortcuts import render
    from django.utils.translation import gettext as _

    response = render(
        request,
        "web/login.html",
        {
            "form": AuthenticationForm(request),
            "locked_out": True,
            "lockout_message": _(
                "Too many failed logins from your network address. "
                "Try again in %(seconds)s seconds."
            )
            % {"seconds": seconds},
        },
        status=429,
    )
    response["Retry-After"] = str(seconds)
    return response
