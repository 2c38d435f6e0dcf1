"""API: the account plan as PDF, and the portfolio report as JSON."""

from decimal import Decimal

from django.http import HttpRequest, HttpResponse
from django.utils.text import slugify
from django.utils.translation import get_language
from ninja import Field, Query, Router, Schema

from relatiebeheer.api.core import READ_ERRORS
from relatiebeheer.api.types import Id
from relatiebeheer.audit.services import audit_log
from relatiebeheer.common.errors import NotFound
from relatiebeheer.relations import selectors

from .pdf import render_pdf
from .plan import account_plan
from .portfolio import managers_for, portfolio
from .registry import portfolio_columns

router = Router(tags=["reports"])

PDF = {
    "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
    "description": "PDF",
}


@router.get(
    "/accounts/{account_id}/plan.pdf",
    response={200: None, **READ_ERRORS},
    openapi_extra={"responses": {200: PDF}},
    summary="The account plan as PDF (in the language of Accept-Language)",
)
def account_plan_pdf(request: HttpRequest, account_id: Id):
    account = selectors.account_get(actor=request.auth, pk=account_id)
    content = render_pdf(
        "reports/plan_pdf.html",
        {
            "plan": account_plan(actor=request.auth, account=account),
            "LANGUAGE_CODE": get_language(),
        },
    )
    audit_log(actor=request.auth, action="export.account_plan", obj=account)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="account-plan-{slugify(account.name)}.pdf"'
    )
    return response


class PortfolioQuery(Schema):
    manager: Id | None = None


class PortfolioRowOut(Schema):
    account_id: int
    name: str
    city: str
    status: str
    figures: dict[str, Decimal | float | int | str | None]
    pending: bool = Field(
        description="The account changed since its figures were computed; they are being "
        "recalculated"
    )


@router.get(
    "/reports/portfolio",
    response={200: list[PortfolioRowOut], **READ_ERRORS},
    summary="An account manager's accounts with their figures, by value",
)
def portfolio_report(request: HttpRequest, filters: Query[PortfolioQuery]):
    managers = managers_for(request.auth)
    manager = (
        managers.filter(pk=filters.manager).first()
        if filters.manager
        else managers.filter(pk=request.auth.pk).first() or managers.first()
    )
    if manager is None:
        raise NotFound()
    keys = [c.key for c in portfolio_columns()]
    return [
        {
            "account_id": row.account.pk,
            "name": row.account.name,
            "city": row.account.city,
            "status": row.account.status,
            "figures": {key: row.values.get(key) for key in keys},
            "pending": row.pending,
        }
        for row in portfolio(actor=request.auth, manager=manager)
    ]
