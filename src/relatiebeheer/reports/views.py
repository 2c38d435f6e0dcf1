"""Account plan (page and PDF), portfolio report (page, PDF, CSV, XLSX), management dashboard."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.text import slugify
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from relatiebeheer.audit.services import audit_log
from relatiebeheer.core import svg_charts
from relatiebeheer.core.money import format_money_whole
from relatiebeheer.exports import export_response
from relatiebeheer.relations import selectors

from . import dashboard as dashboard_figures
from .pdf import render_pdf
from .plan import account_plan
from .portfolio import export_columns, managers_for, portfolio
from .registry import dashboard_widgets, portfolio_columns


def _lang() -> str:
    return (get_language() or "nl")[:2]


def _pdf_response(content: bytes, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
    return response


@login_required
def account_plan_page(request, pk: int):
    account = selectors.account_get(actor=request.user, pk=pk)
    return render(
        request, "reports/plan.html", {"plan": account_plan(actor=request.user, account=account)}
    )


@login_required
def account_plan_pdf(request, pk: int):
    account = selectors.account_get(actor=request.user, pk=pk)
    plan = account_plan(actor=request.user, account=account)
    content = render_pdf("reports/plan_pdf.html", {"plan": plan, "LANGUAGE_CODE": _lang()})
    audit_log(actor=request.user, action="export.account_plan", obj=account)
    return _pdf_response(content, f"{_('account-plan')}-{slugify(account.name)}")


def _portfolio_context(request):
    managers = list(managers_for(request.user))
    wanted = request.GET.get("manager")
    manager = next((m for m in managers if str(m.pk) == wanted), None) or (
        request.user if request.user in managers else (managers[0] if managers else None)
    )
    if manager is None:
        raise Http404
    return {
        "managers": managers,
        "manager": manager,
        "rows": portfolio(actor=request.user, manager=manager),
        "columns": portfolio_columns(),
        "generated_at": timezone.now(),
    }


@login_required
def portfolio_page(request):
    return render(request, "reports/portfolio.html", _portfolio_context(request))


@login_required
def portfolio_download(request, fmt: str):
    context = _portfolio_context(request)
    audit_log(
        actor=request.user,
        action="export.portfolio",
        extra={"format": fmt, "manager_id": context["manager"].pk},
    )
    name = f"{_('portfolio')}-{slugify(context['manager'].get_username())}"
    if fmt == "pdf":
        content = render_pdf("reports/portfolio_pdf.html", {**context, "LANGUAGE_CODE": _lang()})
        return _pdf_response(content, name)
    if fmt in {"csv", "xlsx"}:
        return export_response(
            export_columns(), iter(context["rows"]), fmt=fmt, lang=_lang(), filename=name
        )
    raise Http404


@login_required
def dashboard(request):
    data = dashboard_figures.figures(request.user)
    lang = _lang()
    months = data["months"]
    labels = [m.period.strftime("%m-%y") for m in months]
    money = lambda v: format_money_whole(v, lang=lang)  # noqa: E731
    charts = {
        "trend": svg_charts.line_chart(
            labels,
            [
                (_("Revenue"), [float(m.revenue) for m in months]),
                (_("Profit"), [float(m.profit) for m in months]),
            ],
            title=_("Revenue and profit per month"),
            low=0,
            format_value=money,
        ),
        "retention": svg_charts.bar_chart(
            [str(y.period.year) for y in data["years"]],
            [float(y.retention * 100) if y.retention is not None else 0 for y in data["years"]],
            title=_("Retention per year (%)"),
            format_value=lambda v: f"{v:.0f}%",
            height=180,
        ),
        "bands": svg_charts.horizontal_bars(
            [
                _("negative"),
                "€ 0 – 1.000",
                "€ 1.000 – 5.000",
                "€ 5.000 – 20.000",
                _("€ 20.000 or more"),
            ],
            [float(b or 0) for b in data["bands"]],
            title=_("Distribution of customer value this year"),
        ),
    }
    widgets = []
    for widget in dashboard_widgets():
        loaded = widget.load(request.user)
        if loaded is not None:
            widgets.append((widget, loaded))
    context = {**data, "charts": {k: mark_safe(v) for k, v in charts.items()}, "widgets": widgets}  # noqa: S308
    return render(request, "reports/dashboard.html", context)
