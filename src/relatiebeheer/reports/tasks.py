from django_tasks import task

from relatiebeheer.ops.retries import retry_policy


@task()
def refresh_dashboard() -> int:
    from .stats import refresh_dashboard_figures

    return refresh_dashboard_figures()


retry_policy(refresh_dashboard, idempotent=True, why="recomputes the dashboard figures")
