"""Turns domain errors raised in web views into friendly pages (never a 500)."""

from django.http import Http404
from django.shortcuts import render

from relatiebeheer.audit.services import audit_log
from relatiebeheer.common.errors import DomainError, NotFound, PermissionRefused


class DomainErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if request.path_info.startswith("/api/"):
            return None
        if isinstance(exception, NotFound):
            raise Http404 from exception
        if isinstance(exception, PermissionRefused):
            audit_log(
                actor=request.user, action="permission.refused", extra={"path": request.path[:200]}
            )
            return render(
                request,
                "web/error.html",
                {"title": exception.title, "detail": exception.detail},
                status=403,
            )
        if isinstance(exception, DomainError):
            return render(
                request,
                "web/error.html",
                {"title": exception.title, "detail": exception.detail},
                status=exception.status,
            )
        return None
