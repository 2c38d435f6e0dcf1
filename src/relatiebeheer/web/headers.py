"""Response headers every answer carries: ``Permissions-Policy`` always, and
``Cache-Control: no-store`` on everything a signed-in user (session or API token) gets.

Pages, API answers, exports and PDFs of a signed-in user hold customer data: no browser,
proxy or shared computer may keep a copy (the back button after logging out shows
nothing). The check is made on the way out, after the view: an API token is only known
to be valid once the API has authenticated it. An anonymous request without a session
cookie costs no session lookup.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.functional import empty

DEFAULT_PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), camera=(), display-capture=(), geolocation=(), "
    "gyroscope=(), magnetometer=(), microphone=(), midi=(), payment=(), usb=(), "
    "xr-spatial-tracking=()"
)


def _signed_in(request) -> bool:
    user = getattr(request, "user", None)
    if user is None:
        return False
    if getattr(user, "_wrapped", None) is empty and (
        settings.SESSION_COOKIE_NAME not in request.COOKIES
    ):
        return False  # a lazy user never looked at, and no session to find one in
    return bool(getattr(user, "is_authenticated", False))


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = getattr(settings, "PERMISSIONS_POLICY", DEFAULT_PERMISSIONS_POLICY)

    def __call__(self, request):
        response = self.get_response(request)
        if self.policy:
            response.headers.setdefault("Permissions-Policy", self.policy)
        if _signed_in(request):
            response["Cache-Control"] = "no-store"
            if "Expires" in response:
                del response["Expires"]
        return response
