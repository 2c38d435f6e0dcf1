"""The status of the background work, for administrators: the page ``/status/``, the
command ``relatiebeheer status`` and ``GET /api/v1/status`` show the worker's last
heartbeat, the queue and its oldest task, failed tasks of the last 7 days (with a retry
action for administrators, audited), the outbox backlog, the last recompute and the
last loyalty evaluation. Sales managers may read it; account managers and readers get a
friendly 403. The dashboard warns administrators when no worker was seen for 2 minutes.
"""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from relatiebeheer.audit.models import AuditEntry
from relatiebeheer.ops import scheduler
from relatiebeheer.ops.models import WorkerHeartbeat

from .world import failed_task

pytestmark = pytest.mark.django_db


def _beat(ago: timedelta):
    scheduler.heartbeat("w-status", timezone.now() - ago - timedelta(hours=1))
    WorkerHeartbeat.objects.filter(worker_id="w-status").update(last_seen=timezone.now() - ago)


@pytest.fixture
def backlog():
    """A queue with one waiting task, a failed one, a mail waiting, a recompute and an
    evaluation done."""
    from relatiebeheer.loyalty.tasks import evaluate_all
    from relatiebeheer.reports.tasks import refresh_dashboard

    from .factories import AccountFactory, UserFactory

    waiting = refresh_dashboard.enqueue()
    DBTaskResult.objects.filter(pk=waiting.id).update(
        enqueued_at=timezone.now() - timedelta(minutes=42)
    )
    failed = failed_task()
    done = evaluate_all.enqueue()
    evaluated_at = timezone.now() - timedelta(hours=3)
    DBTaskResult.objects.filter(pk=done.id).update(status="SUCCESSFUL", finished_at=evaluated_at)
    from relatiebeheer.outbox.services import mail_enqueue

    mail_enqueue(
        key="status-test",
        to="beheer@example.nl",
        subject="Test",
        text="Test",
        purpose="internal",
        actor=UserFactory(username="afzender", role="admin"),
    )
    AccountFactory()
    from relatiebeheer.value.services import metrics_recompute

    metrics_recompute(with_prediction=False)
    return {"waiting": waiting, "failed": failed, "evaluated_at": evaluated_at}


def test_the_administrator_sees_the_whole_status(web_as, admin_user, backlog):
    _beat(timedelta(seconds=5))
    response = web_as(admin_user).get("/status/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="worker-silent"' not in html
    assert 'data-testid="queue-length">1<' in html
    assert "oldest queued" in html
    assert 'data-testid="failed-count">1<' in html
    assert "ValueError: boom" in html
    assert f'action="/status/tasks/{backlog["failed"].pk}/retry/"' in html
    assert 'data-testid="figure-outbox.backlog">1<' in html
    assert 'data-testid="figure-metrics.last_recompute">never<' not in html
    assert 'data-testid="figure-loyalty.last_evaluation">never<' not in html


def test_the_page_speaks_dutch(web_as, admin_user, backlog):
    client = web_as(admin_user)
    client.cookies["relatiebeheer_language"] = "nl"
    html = client.get("/status/").content.decode()
    assert "Status van het achtergrondwerk" in html
    assert "Mislukt in de laatste 7 dagen" in html
    assert "Opnieuw proberen" in html


def test_a_silent_worker_is_shown_on_the_page(web_as, admin_user):
    _beat(timedelta(minutes=5))
    html = web_as(admin_user).get("/status/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="worker-silent"' in html


def test_a_sales_manager_reads_the_status_but_cannot_retry(web_as, sales_manager, backlog):
    client = web_as(sales_manager)
    html = client.get("/status/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "ValueError: boom" in html
    assert "/retry/" not in html
    response = client.post(f"/status/tasks/{backlog['failed'].pk}/retry/")
    assert response.status_code == 403
    assert DBTaskResult.objects.get(pk=backlog["failed"].pk).status == "FAILED"


@pytest.mark.parametrize("who", ["owner", "reader"])
def test_account_managers_and_readers_get_a_friendly_403(request, web_as, who, backlog):
    user = request.getfixturevalue(who)
    client = web_as(user)
    response = client.get("/status/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403
    assert b"You are not allowed to do this." in response.content
    assert b"ValueError" not in response.content
    assert b'href="/status/"' not in client.get("/").content  # not in their menu
    assert client.post(f"/status/tasks/{backlog['failed'].pk}/retry/").status_code == 403
    assert DBTaskResult.objects.get(pk=backlog["failed"].pk).status == "FAILED"


def test_the_menu_shows_the_status_page_to_administrators(web_as, admin_user):
    assert b'href="/status/"' in web_as(admin_user).get("/").content


def test_retrying_a_failed_task_queues_it_again_once_and_is_audited(web_as, admin_user, backlog):
    client = web_as(admin_user)
    task_id = backlog["failed"].pk
    response = client.post(f"/status/tasks/{task_id}/retry/")
    assert response.status_code == 302
    row = DBTaskResult.objects.get(pk=task_id)
    assert (row.status, row.worker_ids) == ("READY", [])  # a fresh set of attempts
    entry = AuditEntry.objects.get(action="task.retry")
    assert entry.actor == admin_user and entry.extra["task_id"] == str(task_id)
    # A second click: nothing to retry any more, said plainly, nothing changed
    again = client.post(f"/status/tasks/{task_id}/retry/", HTTP_ACCEPT_LANGUAGE="en")
    assert again.status_code == 409
    assert b"has not failed" in again.content
    assert AuditEntry.objects.filter(action="task.retry").count() == 1
    assert client.post("/status/tasks/not-a-task/retry/").status_code == 404


def test_the_api_answers_administrators_and_sales_managers_only(
    api_as, admin_user, sales_manager, owner, backlog
):
    _beat(timedelta(seconds=5))
    body = api_as(admin_user).get("status").json_body
    assert body["worker_silent"] is False
    assert body["queue_length"] == 1
    assert body["oldest_waiting"] is not None
    assert body["failed_count"] == 1
    assert body["failed"][0]["reason"] == "ValueError: boom"
    assert body["failed"][0]["attempts"] == 3
    figures = {f["key"]: f["value"] for f in body["figures"]}
    assert figures["outbox.backlog"] == 1
    assert figures["metrics.last_recompute"] is not None
    assert figures["loyalty.last_evaluation"] is not None
    assert api_as(sales_manager).get("status").status_code == 200
    refused = api_as(owner).get("status")
    assert refused.status_code == 403
    assert refused.json_body["code"] == "permission_denied"
    path = f"status/tasks/{backlog['failed'].pk}/retry"
    assert api_as(sales_manager).post(path, {}).status_code == 403
    retried = api_as(admin_user).post(path, {})
    assert (retried.status_code, retried.json_body["status"]) == (200, "READY")
    assert api_as(admin_user).post(path, {}).status_code == 409
    assert api_as(admin_user).post("status/tasks/123/retry", {}).status_code == 404


def test_the_command_prints_the_status_and_fails_when_no_worker_is_seen(backlog):
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("status", stdout=out)
    assert exit_.value.code == 2  # no heartbeat: a monitor can alert
    text = out.getvalue()
    assert "Worker last seen: never" in text
    assert "Tasks waiting: 1" in text
    assert "Failed in the last 7 days: 1" in text
    assert str(backlog["failed"].pk) in text

    _beat(timedelta(seconds=5))
    out = io.StringIO()
    call_command("status", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["queue_length"] == 1 and data["worker_silent"] is False


def test_the_command_retries_a_failed_task_as_the_named_user(backlog, admin_user):
    out = io.StringIO()
    call_command("status", "--retry", str(backlog["failed"].pk), "--as", "beheer", stdout=out)
    assert DBTaskResult.objects.get(pk=backlog["failed"].pk).status == "READY"
    entry = AuditEntry.objects.get(action="task.retry")
    assert (entry.actor, entry.channel) == (admin_user, "cli")


def test_the_command_refuses_an_account_manager(owner):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("status", "--as", owner.username, stdout=io.StringIO())


@pytest.mark.parametrize(
    ("ago", "warned"),
    [(None, True), (timedelta(seconds=30), False), (timedelta(minutes=3), True)],
)
def test_the_dashboard_warns_administrators_when_the_worker_is_silent_for_2_minutes(
    web_as, admin_user, ago, warned
):
    if ago is not None:
        _beat(ago)
    html = web_as(admin_user).get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert ('data-testid="worker-warning"' in html) is warned


@pytest.mark.parametrize("who", ["owner", "sales_manager", "reader"])
def test_the_dashboard_warning_is_for_administrators_only(request, web_as, who):
    _beat(timedelta(minutes=10))
    html = web_as(request.getfixturevalue(who)).get("/").content.decode()
    assert 'data-testid="worker-warning"' not in html


def test_the_heartbeat_is_bookkeeping_written_every_few_seconds():
    from relatiebeheer.common import writers
    from relatiebeheer.ops.management.commands.worker import HEARTBEAT_EVERY

    assert HEARTBEAT_EVERY <= 5
    assert WorkerHeartbeat._meta.db_table in writers._free_tables
    scheduler.heartbeat("w-beat", timezone.now())
    first = WorkerHeartbeat.objects.get(worker_id="w-beat").last_seen
    scheduler.heartbeat("w-beat", timezone.now())
    assert WorkerHeartbeat.objects.get(worker_id="w-beat").last_seen >= first
