"""The worked CLV calculation ("uitwerking") as text, in the lesson's style."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from relatiebeheer.core.clv import CLVResult, PresentValueResult
from relatiebeheer.core.money import format_money, format_number


def format_percent(fraction: Decimal, *, lang: str) -> str:
    """0.15 → "15 %" (nl) / "15%" (en); 0.035 → "3,5 %"; no trailing zeros."""
    value = (Decimal(fraction) * 100).normalize()
    places = max(0, -value.as_tuple().exponent)
    text = format_number(value, lang=lang, places=places)
    return f"{text} %" if lang == "nl" else f"{text}%"


def clv_worked_lines(result: CLVResult, pv: PresentValueResult | None, *, lang: str) -> list[str]:
    money = lambda amount: format_money(amount, lang=lang)  # noqa: E731
    years = int(result.years) if result.years == result.years.to_integral_value() else result.years
    period = ngettext("per %(years)s year", "per %(years)s years", years) % {"years": years}
    lines = [
        _("Worked calculation (CLV = W × A)"),
        "  W = "
        + _("average order value × margin")
        + f" = {money(result.average_order_value)} × {format_percent(result.margin, lang=lang)}"
        + f" = {money(result.profit_per_order)}",
        "  A = "
        + ngettext(
            "%(count)s order in %(years)s years",
            "%(count)s orders in %(years)s years",
            int(result.orders),
        )
        % {"count": result.orders, "years": years},
        f"  CLV = W × A = {money(result.profit_per_order)} × {result.orders} = {money(result.clv)} {period}",
    ]
    if pv is not None:
        lines.append(
            "  "
            + _(
                "Present value at %(rate)s a year (profit spread evenly over the years, "
                "discounted at the end of each year): %(pv)s"
            )
            % {"rate": format_percent(pv.rate, lang=lang), "pv": money(pv.present_value)}
        )
    lines.append(
        _("At most %(clv)s %(period)s may be spent to win or keep such a customer.")
        % {"clv": money(result.clv), "period": period}
    )
    return lines
