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
