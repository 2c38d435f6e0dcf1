"""`relatiebeheer recompute` — rebuild the metric snapshot for every account."""

import time
from datetime import date

from relatiebeheer.ops.commands import ActorCommand
from relatiebeheer.value.compute import compute, predict
from relatiebeheer.value.services import store_snapshot


class Command(ActorCommand):
    help = "Recompute customer value, CLV, RFM, pyramid and predictions for all accounts."

    def add_arguments(self, parser):
        parser.add_argument(
            "--as-of", type=date.fromisoformat, default=None, help="YYYY-MM-DD (default today)"
        )
        parser.add_argument("--no-prediction", action="store_true", help="Skip the BG/NBD fit.")

    def handle(self, *args, as_of, no_prediction, **options):
        steps = 3 if no_prediction else 4
        started = time.perf_counter()
        self._progress(1, steps, "aggregating orders, costs and contact time")
        computed = compute(as_of)
        if computed.read_processes:
            self.stdout.write(f"  read in {computed.read_processes} child processes and this one")
        elif computed.read_connections > 1:
            self.stdout.write(f"  read on {computed.read_connections} connections at once")
        if not no_prediction:
            self._progress(2, steps, "fitting BG/NBD and Gamma-Gamma")
            predict(computed)
        self._progress(steps - 1, steps, f"writing {computed.account_ids.size} rows")
        run = store_snapshot(computed, actor=self.actor, started=started)
        self._progress(steps, steps, "done")
        self.stdout.write(
            self.style.SUCCESS(
                f"{run.accounts} accounts as of {run.as_of}: {run.seconds:.2f} s SQL and scoring, "
                f"{run.fit_seconds:.2f} s prediction fit."
            )
        )
        if not run.prediction.get("available", False) and not no_prediction:
            self.stdout.write(
                f"No prediction: {run.prediction.get('detail') or run.prediction.get('reason')}"
            )

    def _progress(self, step: int, steps: int, label: str) -> None:
        width = 30
        filled = width * step // steps
        self.stdout.write(f"[{'#' * filled}{'.' * (width - filled)}] {step}/{steps} {label}")
