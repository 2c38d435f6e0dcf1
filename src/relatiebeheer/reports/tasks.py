from django_tasks import task


@task()
def refresh_dashboard() -> int:
    from .stats import refresh_dashboard_figures

    return refresh_dashboard_figures()
