from relatiebeheer.common.writers import door

from .context import channel


class AuditChannelMiddleware:
    """Marks changes made during a request as coming from the web, the API or the admin
    (for the audit log, and as a door whose writes must go through writers)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        name = (
            "api" if path.startswith("/api/") else "admin" if path.startswith("/admin/") else "web"
        )
        with channel(name), door(name):
            return self.get_response(request)
