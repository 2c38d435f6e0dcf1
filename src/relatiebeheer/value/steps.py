"""What follows a whole-book recompute: steps other apps register (a registry, so value
knows nothing of them). ``value.services.metrics_recompute`` runs them, in order, after
the snapshot is written; the reports app registers the rebuild of the dashboard's
period figures, so those are current when the recompute ends rather than an hour on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class RecomputeStep:
    key: str
    label: str  # shown in the command's progress output
    run: Callable[[date], object]  # run(as_of)
    order: int = 100


_steps: dict[str, RecomputeStep] = {}


def register_recompute_step(step: RecomputeStep) -> RecomputeStep:
    _steps[step.key] = step
    return step


def recompute_steps() -> list[RecomputeStep]:
    return sorted(_steps.values(), key=lambda s: (s.order, s.key))
