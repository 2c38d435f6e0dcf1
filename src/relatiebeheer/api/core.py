"""The NinjaAPI: authentication, pagination and the one error shape (RFC 9457)."""

import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.pagination import LimitOffsetPagination
from ninja.security import HttpBearer, django_auth

from relatiebeheer.common.counting import COUNT_CAP, capped_count
from relatiebeheer.common.errors import DomainError, InvalidInput, TooLarge, VersionConflict
from relatiebeheer.users.models import ApiToken

logger = logging.getLogger(__name__)
PROBLEM = "application/problem+json"


class Problem(Schema):
    """RFC 9457 problem details, with field errors for 422 and the current record for 409."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    code: str | None = None
    errors: list[dict[str, Any]] | None = None
    current: dict[str, Any] | None = None


class TokenAuth(HttpBearer):
    """Personal API tokens: ``Authorization: Bearer rb_…``."""

    openapi_description = "A personal API token (made in the web app or the admin)."

    def authenticate(self, request: HttpRequest, token: str):
        user = ApiToken.authenticate(token)
        if user is not None:
            request.user = user
        return user


class Pagination(LimitOffsetPagination):
    """``limit`` (1–500, default 50) and ``offset``; the answer carries ``count``.

    Counting stops at 10 000 (``count_capped`` is then true): an exact count of a large
    filtered list costs a full scan on every page, and nobody pages that far. Counts of
    1 000 or more may be up to a minute old (see ``capped_count``).
    """

    class Input(Schema):
        limit: int = Field(50, ge=1, le=500)
        offset: int = Field(0, ge=0, le=10_000_000)

    class Output(Schema):
        items: list[Any]
        count: int
        count_capped: bool = False

    def paginate_queryset(self, queryset, pagination, request, **params):
        offset, limit = pagination.offset, min(pagination.limit, 500)
        count = capped_count(queryset)
        return {
            "items": queryset[offset : offset + limit],
            "count": min(count, COUNT_CAP),
            "count_capped": count > COUNT_CAP,
        }


_documented: list[type[Schema]] = []


def document_schema(model: type[Schema]) -> type[Schema]:
    """Put ``model`` in the document's components: for an operation that reads its body
    itself (to stream it) and refers to the schema in ``openapi_extra``."""
    _documented.append(model)
    return model


class RelatiebeheerAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        """Error responses are documented as ``application/problem+json``, as sent."""
        from ninja.openapi.schema import REF_TEMPLATE
        from ninja.schema import NinjaGenerateJsonSchema

        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in _documented:
            definition = model.model_json_schema(
                ref_template=REF_TEMPLATE, schema_generator=NinjaGenerateJsonSchema
            )
            components.update(definition.pop("$defs", {}))
            components[model.__name__] = definition
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                for status, response in operation.get("responses", {}).items():
                    if str(status).startswith(("4", "5")) and "content" in response:
                        response["content"] = {PROBLEM: next(iter(response["content"].values()))}
        return schema


api = RelatiebeheerAPI(
    title="Relatiebeheer API",
    version="1",
    description=(
        "Accounts, contacts, contact moments, tasks, orders and costs. Authenticate with "
        "the browser session or a personal token (`Authorization: Bearer …`). Errors are "
        "RFC 9457 problem details in the language of `Accept-Language` (nl or en). "
        "Amounts are strings with two decimals, in euros excluding VAT."
    ),
    auth=[TokenAuth(), django_auth],  # the session auth checks CSRF on writes
    urls_namespace="api",
    docs_url="/docs",
)

ERRORS = {400: Problem, 401: Problem, 403: Problem, 404: Problem, 409: Problem, 422: Problem}
READ_ERRORS = {401: Problem, 404: Problem, 422: Problem}


def problem(request: HttpRequest, status: int, title: str, **extra: Any) -> HttpResponse:
    body = {"type": "about:blank", "title": str(title), "status": status}
    body.update({k: v for k, v in extra.items() if v is not None})
    response = api.create_response(request, body, status=status)
    response["Content-Type"] = PROBLEM
    return response


@api.exception_handler(VersionConflict)
def _version_conflict(request, exc: VersionConflict):
    from relatiebeheer.api.serializers import serialize_current

    return problem(
        request,
        409,
        exc.title,
        detail=str(exc.detail),
        code=exc.code,
        current=serialize_current(exc.current),
    )


@api.exception_handler(InvalidInput)
def _invalid(request, exc: InvalidInput):
    errors = [
        {"field": field, "message": str(m)}
        for field, messages in exc.errors.items()
        for m in messages
    ]
    return problem(request, 422, exc.title, detail=str(exc.detail), code=exc.code, errors=errors)


@api.exception_handler(DomainError)
def _domain(request, exc: DomainError):
    if exc.status == 403:
        from relatiebeheer.audit.services import audit_log

        audit_log(
            actor=request.user, action="permission.refused", extra={"path": request.path[:200]}
        )
    return problem(request, exc.status, exc.title, detail=str(exc.detail), code=exc.code)


@api.exception_handler(ValidationError)
def _validation(request, exc: ValidationError):
    errors = []
    for error in exc.errors:
        loc = [
            str(part)
            for part in error.get("loc", ())
            if part not in ("body", "payload", "query", "path")
        ]
        errors.append(
            {
                "field": ".".join(loc) or "__all__",
                "message": str(error.get("msg", "")),
                "type": error.get("type"),
            }
        )
    return problem(request, 422, _("Some fields are not valid."), code="invalid", errors=errors)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    response = problem(request, 401, _("Log in or send a valid API token."), code="unauthenticated")
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(Http404)
def _not_found(request, exc):
    return problem(request, 404, _("Not found."), code="not_found")


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    if exc.status_code == 400:
        return problem(
            request, 400, _("The request body is not valid JSON."), code="malformed_body"
        )
    return problem(request, exc.status_code, str(exc), code="http_error")


@api.exception_handler(RequestDataTooBig)
def _too_big(request, exc):
    """A JSON body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (every operation but the import's,
    which streams its body): 413, never a 500."""
    from django.conf import settings

    detail = _("Send at most %(size)s MB in one request.") % {
        "size": f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE / 1024**2:g}"
    }
    return problem(request, 413, TooLarge.title, detail=detail, code=TooLarge.code)


@api.exception_handler(Exception)
def _unexpected(request, exc):
    logger.exception("unexpected error in the API", exc_info=exc)
    return problem(
        request,
        500,
        _("Something went wrong on our side. It has been logged."),
        code="server_error",
    )
