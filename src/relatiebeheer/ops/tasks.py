"""Background work of the operations app: the daily check of kept figures."""

from django_tasks import task

from .retries import retry_policy


@task()
def check_figures_task() -> int:
    """Run every figure check with repair; return the number of differences found."""
    from .figure_checks import check_figures

    return sum(result.differences for result in check_figures(repair=True))


retry_policy(
    check_figures_task,
    idempotent=True,
    why="compares the kept figures with a fresh computation and repairs them; "
    "a second run finds nothing more to repair",
)
