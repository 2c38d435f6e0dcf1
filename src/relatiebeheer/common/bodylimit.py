"""Request bodies over a door's limit are refused with 413, before anything reads them.

``POST /api/v1/imports`` takes files up to ``IMPORT_UPLOAD_MAX_BYTES`` (default 50 MB) as
JSON, as a multipart upload or as a streamed CSV body. A declared ``Content-Length``
over the limit is answered here, in the user's language, as RFC 9457 problem+json —
before the session's CSRF check would parse a multipart body to disk. A body without a
length (chunked) is counted while it is streamed (:class:`LimitedBody`).
"""

from __future__ import annotations

import json

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from .errors import TooLarge

PROBLEM = "application/problem+json"
IMPORT_PATHS = {"/api/v1/imports", "/api/v1/imports/"}


def import_limit() -> int:
    return int(getattr(settings, "IMPORT_UPLOAD_MAX_BYTES", 50 * 1024**2))


def too_large(limit: int) -> TooLarge:
    mb = round(limit / 1024**2, 1)
    return TooLarge(
        _("Send at most %(size)s MB; split a larger file or import it from the command line.")
        % {"size": f"{mb:g}"}
    )


def problem_413(limit: int) -> HttpResponse:
    exc = too_large(limit)
    body = {
        "type": "about:blank",
        "title": str(exc.title),
        "status": 413,
        "detail": str(exc.detail),
        "code": exc.code,
    }
    response = HttpResponse(json.dumps(body), status=413, content_type=PROBLEM)
    response["Connection"] = "close"  # the rest of the body is not read
    return response


class BodyLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if request.method == "POST" and request.path_info in IMPORT_PATHS:
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > import_limit():
                return problem_413(import_limit())
        return self.get_response(request)


class LimitedBody:
    """The request body as ``chunks()`` (what the import's file store reads), refused with
    :class:`TooLarge` as soon as more than ``limit`` bytes arrived."""

    def __init__(self, request: HttpRequest, limit: int, chunk_size: int = 1 << 16) -> None:
        self.request, self.limit, self.chunk_size = request, limit, chunk_size

    def chunks(self):
        total = 0
        while True:
            chunk = self.request.read(self.chunk_size)
            if not chunk:
                return
            total += len(chunk)
            if total > self.limit:
                raise too_large(self.limit)
            yield chunk

    def read_all(self) -> bytes:
        return b"".join(self.chunks())
