"""A worker killed (SIGKILL) in the middle of sending: no mail goes out twice.

The real command runs in a subprocess against the test database and a real SMTP server
that stalls on the third recipient; the test kills the worker there. After the dead
worker's heartbeat has aged, the next worker marks its task lost, the half-sent mail
becomes "delivery unknown" (not resent), and the mails not yet claimed go out once.
"""

import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from relatiebeheer.ops.models import WorkerHeartbeat
from relatiebeheer.outbox.models import OutboxMessage, Status
from relatiebeheer.satisfaction.defaults import default_survey
from relatiebeheer.satisfaction.sending.services import invite

from ..factories import AccountFactory
from ..processes import database_url
from .conftest import consenting_contact

RELATIEBEHEER = str(Path(sys.executable).parent / "relatiebeheer")


def _worker_env(smtp) -> dict:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url(),
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp.port),
        LOG_LEVEL="ERROR",
    )
    env.pop("EMAIL_BACKEND", None)
    return env


def _run_worker(env, timeout=120):
    return subprocess.run(
        [RELATIEBEHEER, "worker", "--batch", "--interval", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_while_sending_sends_no_mail_twice(owner, smtp):
    contacts = [
        consenting_contact(AccountFactory(manager=owner), email=f"klant{n}@example.nl")
        for n in range(5)
    ]
    invite(actor=owner, survey=default_survey(), contacts=contacts, source="manual")
    assert OutboxMessage.objects.filter(status=Status.QUEUED).count() == 5
    held = contacts[2].email
    smtp.hold_for = held
    env = _worker_env(smtp)

    worker = subprocess.Popen(
        [RELATIEBEHEER, "worker", "--batch", "--interval", "0"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert smtp.holding.wait(90), "the worker never reached the mail server"
        os.kill(worker.pid, signal.SIGKILL)
    finally:
        worker.wait(timeout=30)
    smtp.release.set()

    states = dict(OutboxMessage.objects.values_list("to", "status"))
    assert states[held] == Status.SENDING
    assert sorted(states.values()).count(Status.SENT) == 2

    # Time passes: the dead worker's heartbeat is older than the timeout.
    WorkerHeartbeat.objects.update(last_seen=timezone.now() - timedelta(minutes=10))
    done = _run_worker(env)
    assert done.returncode == 0, done.stderr[-3000:]

    states = dict(OutboxMessage.objects.values_list("to", "status"))
    assert states[held] == Status.DELIVERY_UNKNOWN
    assert [c.email for c in contacts if states[c.email] == Status.SENT] == [
        c.email for c in contacts if c.email != held
    ]
    # Every contact got exactly one mail (the held one reached the server once).
    for contact in contacts:
        assert len(smtp.to(contact.email)) == 1, contact.email

    # Another worker run sends nothing more: the flagged mail waits for a person.
    WorkerHeartbeat.objects.update(last_seen=timezone.now() - timedelta(minutes=10))
    assert _run_worker(env).returncode == 0
    assert len(smtp.messages) == 5
    assert OutboxMessage.objects.get(to=held).status == Status.DELIVERY_UNKNOWN
