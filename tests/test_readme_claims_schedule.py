"""The worker's schedule is what the README says it is: the daily recompute, figure
check and loyalty evaluation, the hourly dashboard figures, and a look for accounts
whose figures wait for a refresh every 2 seconds (``worker --poll 2 --tick 10``)."""

from datetime import timedelta

import pytest

from relatiebeheer.ops import scheduler


@pytest.mark.parametrize(
    ("job", "every"),
    [
        ("metrics.recompute", timedelta(days=1)),
        ("figures.check", timedelta(days=1)),
        ("loyalty.evaluate", timedelta(days=1)),
        ("reports.dashboard", timedelta(hours=1)),
    ],
)
def test_the_worker_runs_the_jobs_the_readme_names_as_often_as_it_says(job, every):
    assert scheduler._jobs[job].every == every


def test_the_worker_looks_for_marked_accounts_every_2_seconds_by_default():
    from relatiebeheer.ops.management.commands.worker import Command

    parser = Command().create_parser("relatiebeheer", "worker")
    options = parser.parse_args([])
    assert (options.poll, options.tick) == (2.0, 10.0)
    assert "metrics.refresh_pending" in scheduler._polls
