"""Customer-value pages: value management and the CLV calculator."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from relatiebeheer.core.clv import present_value, simple_clv

from . import selectors
from .forms import CalculatorForm
from .models import MetricsRun


@login_required
def value_overview(request):
    actor = request.user
    pareto = selectors.pareto(actor)
    context = {
        "totals": selectors.value_overview(actor),
        "ranking": list(
            selectors.ranking(actor, order=request.GET.get("order", "-value_this_year"))
        ),
        "order": request.GET.get("order", "-value_this_year"),
        "pareto": pareto,
        "pyramid": selectors.pyramid(actor),
        "rfm": selectors.rfm_grid(actor),
        "retention": selectors.retention(actor),
        "at_risk": list(selectors.high_value_at_risk(actor)),
        "budgets": selectors.acquisition_budgets(actor),
        "run": MetricsRun.objects.order_by("-computed_at", "-id").first(),
        "chart": {"pareto": pareto["curve"]},
    }
    return render(request, "value/overview.html", context)


@login_required
def clv_calculator(request):
    form = CalculatorForm(request.GET or None)
    result = pv = None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        result = simple_clv(
            average_order_value=data["order_value"],
            margin=data["margin"] / 100,
            orders=data["orders"],
            years=data["years"],
        )
        if data.get("discount_rate") is not None and result.clv > 0:
            pv = present_value(result.clv, years=data["years"], rate=data["discount_rate"] / 100)
    return render(request, "value/calculator.html", {"form": form, "result": result, "pv": pv})
