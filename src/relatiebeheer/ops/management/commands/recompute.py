"""`relatiebeheer recompute` — rebuild the metric snapshot for every account, then what
follows it (the dashboard's period figures): ``value.services.metrics_recompute``."""

from datetime import date

from relatiebeheer.ops.commands import ActorCommand
from relatiebeheer.value.services import metrics_recompute


class Command(ActorCommand):
    help = (
        "Recompute customer value, CLV, RFM, pyramid and predictions for all accounts, "
        "and the dashboard's period figures."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--as-of", type=date.fromisoformat, default=None, help="YYYY-MM-DD (default today)"
        )
        parser.add_argument("--no-prediction", action="store_true", help="Skip the BG/NBD fit.")

    def handle(self, *args, as_of, no_prediction, **options):
        run = metrics_recompute(
            actor=self.actor,
            as_of=as_of,
            with_prediction=not no_prediction,
            progress=self._progress,
            note=lambda text: self.stdout.write(f"  {text}"),
        )
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
