"""`relatiebeheer clv simple|fit` — the CLV calculator and the predictive fit."""

from __future__ import annotations

import json
import sys
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from relatiebeheer.core import btyd
from relatiebeheer.core.clv import CLVInputError, present_value, simple_clv
from relatiebeheer.core.money import AmountError, parse_amount, parse_percentage
from relatiebeheer.core.transactions import predict_clv, read_transactions_csv
from relatiebeheer.value.render import clv_worked_lines


def _amount(text: str, name: str):
    try:
        value = parse_amount(text)
    except AmountError as exc:
        hint = f" ({exc.hint})" if exc.hint else ""
        raise CommandError(f"{name}: {exc}{hint}", returncode=2) from exc
    if value < 0:
        raise CommandError(f"{name} cannot be negative.", returncode=2)
    return value


def _percentage(text: str, name: str):
    try:
        value = parse_percentage(text)
    except AmountError as exc:
        hint = f" ({exc.hint})" if exc.hint else ""
        raise CommandError(f"{name}: {exc}{hint}", returncode=2) from exc
    if not 0 <= value <= 1:
        raise CommandError(f"{name} must be between 0 % and 100 %.", returncode=2)
    return value


def _count(text: str, name: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise CommandError(f"{name} must be a whole number.", returncode=2) from exc
    if value < 0:
        raise CommandError(f"{name} cannot be negative.", returncode=2)
    return value


class Command(BaseCommand):
    help = "CLV: the worked simple calculation (clv simple) and the BG/NBD + Gamma-Gamma fit (clv fit)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        simple = sub.add_parser("simple", help="CLV = W × A, worked out as in the lesson.")
        simple.add_argument(
            "--order-value", required=True, help="Average order value, e.g. 9500 or 9.500,00."
        )
        simple.add_argument("--margin", required=True, help="Profit margin, e.g. 15%% or 0.15.")
        simple.add_argument("--orders", required=True, help="Number of orders over the period.")
        simple.add_argument("--years", required=True, help="The period in years.")
        simple.add_argument("--discount-rate", help="Yearly rate for the present value, e.g. 3%%.")
        simple.add_argument("--json", action="store_true")
        simple.add_argument("--lang", choices=["nl", "en"], default="nl")
        fit = sub.add_parser(
            "fit", help="Fit BG/NBD and Gamma-Gamma and predict each customer's CLV."
        )
        fit.add_argument("transactions", nargs="?", help="CSV with customer_id,date,amount.")
        fit.add_argument(
            "--from-db", action="store_true", help="Use the app's own orders instead of a file."
        )
        fit.add_argument("--observation-end", help="YYYY-MM-DD (default: today with --from-db).")
        fit.add_argument("--horizon-weeks", type=int, default=52)
        fit.add_argument("--margin", default="30%")
        fit.add_argument("--discount-rate", default="10%")
        fit.add_argument("--json", action="store_true")
        fit.add_argument("--out", help="Write one row per customer to this CSV file.")

    def handle(self, *args, action, **options):
        if action == "simple":
            return self.simple(**options)
        return self.fit(**options)

    def simple(self, *, order_value, margin, orders, years, discount_rate, json: bool, lang, **_):
        value = _amount(order_value, "--order-value")
        margin_fraction = _percentage(margin, "--margin")
        count = _count(orders, "--orders")
        period = _amount(years, "--years")
        if period <= 0:
            raise CommandError("--years must be more than 0.", returncode=2)
        try:
            result = simple_clv(
                average_order_value=value, margin=margin_fraction, orders=count, years=period
            )
            rate = _percentage(discount_rate, "--discount-rate") if discount_rate else None
            pv = present_value(result.clv, years=period, rate=rate) if rate is not None else None
        except CLVInputError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        if json:
            payload = {
                "average_order_value": f"{result.average_order_value:.2f}",
                "margin": str(result.margin),
                "profit_per_order": f"{result.profit_per_order:.2f}",
                "orders": int(result.orders),
                "years": int(period) if period == period.to_integral_value() else str(period),
                "clv": f"{result.clv:.2f}",
                "discount_rate": str(rate) if rate is not None else None,
                "present_value": f"{pv.present_value:.2f}" if pv else f"{result.clv:.2f}",
                "present_value_convention": pv.convention.value if pv else "yearly",
                "steps": [
                    {"key": s.key, "formula": s.formula, "result": str(s.result)}
                    for s in result.steps
                ],
            }
            self.stdout.write(self._dumps(payload))
            return
        with translation.override(lang):
            for line in clv_worked_lines(result, pv, lang=lang):
                self.stdout.write(line)

    @staticmethod
    def _dumps(payload) -> str:
        return json.dumps(payload, indent=2, ensure_ascii=False, default=str)

    def fit(
        self,
        *,
        transactions,
        from_db,
        observation_end,
        horizon_weeks,
        margin,
        discount_rate,
        json: bool,
        out,
        **_,
    ):
        margin_fraction = _percentage(margin, "--margin")
        rate = _percentage(discount_rate, "--discount-rate")
        if from_db:
            from relatiebeheer.value.sources import order_transactions

            end = date.fromisoformat(observation_end) if observation_end else date.today()  # noqa: DTZ011
            ids, dates, amounts = order_transactions(end)
        else:
            if not transactions:
                raise CommandError("Give a transactions file or --from-db.", returncode=2)
            if not observation_end:
                raise CommandError("--observation-end is required with a file.", returncode=2)
            try:
                read = read_transactions_csv(transactions)
            except OSError as exc:
                raise CommandError(f"Cannot read {transactions}: {exc}", returncode=2) from exc
            if not read.ok:
                for error in read.errors:
                    self.stderr.write(str(error))
                raise CommandError(
                    f"{read.error_count} invalid row(s); nothing was fitted.", returncode=2
                )
            ids, dates, amounts = (
                read.transactions.customer_ids,
                read.transactions.dates,
                read.transactions.amounts,
            )
            end = observation_end
        try:
            result = predict_clv(
                ids,
                dates,
                amounts,
                observation_end=end,
                horizon_weeks=horizon_weeks,
                margin=margin_fraction,
                discount_rate=rate,
            )
        except (btyd.BTYDError, ValueError) as exc:
            raise CommandError(f"No prediction: {exc}", returncode=2) from exc
        if out:
            with open(out, "w", encoding="utf-8", newline="") as handle:
                result.write_csv(handle)
        if json:
            payload = result.to_dict(rows=False)
            payload["customers"] = result.customers
            self.stdout.write(self._dumps(payload))
        else:
            bg, gg = result.bgnbd, result.gamma_gamma
            self.stdout.write(
                f"customers: {result.customers} (repeat buyers: {result.repeat_buyers})"
            )
            self.stdout.write(
                f"BG/NBD: r={bg.r:.4f} alpha={bg.alpha:.4f} a={bg.a:.4f} b={bg.b:.4f} LL={bg.log_likelihood:.2f}"
            )
            self.stdout.write(
                f"Gamma-Gamma: p={gg.p:.4f} q={gg.q:.4f} gamma={gg.gamma:.4f} LL={gg.log_likelihood:.2f}"
            )
            self.stdout.write(
                f"total predicted CLV over {horizon_weeks} weeks: {result.total_predicted_clv}"
            )
        sys.stdout.flush()
