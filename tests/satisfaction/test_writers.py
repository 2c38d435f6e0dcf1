"""Every writer of the satisfaction and outbox services is declared and keeps its
contract: audit row, version check, locks, and the "accounts changed" hook; the admin
saves the settings through the service; no module of the domain holds several concerns."""

import importlib
import inspect
import itertools
import pkgutil
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

import relatiebeheer.satisfaction as satisfaction_app
from relatiebeheer import hooks
from relatiebeheer.audit.models import AuditEntry
from relatiebeheer.common.writers import writer_spec
from relatiebeheer.satisfaction.answering.form import form_questions
from relatiebeheer.satisfaction.answering.services import response_submit
from relatiebeheer.satisfaction.answering.tokens import hash_token
from relatiebeheer.satisfaction.defaults import default_survey
from relatiebeheer.satisfaction.models import (
    AnswerToken,
    Invitation,
    SatisfactionSettings,
)
from relatiebeheer.satisfaction.sending.services import invite

from ..concurrency import run_concurrently
from ..factories import AccountFactory
from .conftest import consenting_contact


def _services_modules():
    names = ["relatiebeheer.outbox.services"]
    for info in pkgutil.walk_packages(satisfaction_app.__path__, "relatiebeheer.satisfaction."):
        if info.name.rsplit(".", 1)[-1] == "services":
            names.append(info.name)
    return [importlib.import_module(name) for name in names]


def test_every_public_function_of_the_services_is_a_declared_writer():
    modules = _services_modules()
    assert {m.__name__ for m in modules} >= {
        "relatiebeheer.satisfaction.surveys.services",
        "relatiebeheer.satisfaction.sending.services",
        "relatiebeheer.satisfaction.answering.services",
        "relatiebeheer.satisfaction.followups.services",
        "relatiebeheer.outbox.services",
    }
    undeclared = [
        f"{module.__name__}.{name}"
        for module in modules
        for name, function in inspect.getmembers(module, inspect.isfunction)
        if function.__module__ == module.__name__
        and not name.startswith("_")
        and writer_spec(function) is None
    ]
    assert undeclared == []


def test_no_module_of_the_domain_over_1000_lines():
    for root in (Path(satisfaction_app.__file__).parent, Path(hooks.__file__).parent / "outbox"):
        for path in root.rglob("*.py"):
            if "migrations" not in path.parts:
                assert len(path.read_text().splitlines()) <= 1000, path


def _token_for(contact, raw):
    invitation = Invitation.objects.create(
        survey=default_survey(), account=contact.account, contact=contact, source="manual"
    )
    now = timezone.now()
    return AnswerToken.objects.create(
        invitation=invitation,
        kind="invitation",
        token_hash=hash_token(raw),
        issued_at=now,
        expires_at=now + timedelta(days=30),
    )


@pytest.mark.django_db
def test_an_answer_is_audited_and_tells_the_hook_after_the_commit(
    owner, django_capture_on_commit_callbacks
):
    contact = consenting_contact(AccountFactory(manager=owner), email="h@x.example")
    token = _token_for(contact, "hook")
    heard: list[list[int]] = []
    hooks.on_accounts_changed(heard.append)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = response_submit(
                token=token,
                data={f"q{q.pk}": "4" for q in form_questions(default_survey())},
            )
    finally:
        hooks._listeners.remove(heard.append)
    assert heard == [[contact.account_id]]
    entry = AuditEntry.objects.get(action="response.submit")
    assert (entry.object_id, entry.account_id) == (str(response.pk), contact.account_id)


@pytest.mark.django_db(transaction=True)
def test_simultaneous_invitations_to_one_account_invite_once(owner):
    """The throttle per account counts the account's invitations under a lock on the
    account: of five managers inviting five contacts of one account at once, one does."""
    account = AccountFactory(manager=owner)
    contacts = [consenting_contact(account, email=f"p{n}@x.example") for n in range(5)]
    survey = default_survey()
    picks = itertools.count()
    lock = threading.Lock()

    def send():
        with lock:
            contact = contacts[next(picks)]
        return len(invite(actor=owner, survey=survey, contacts=[contact], source="manual").invited)

    results = run_concurrently(send, num_threads=5)
    assert sorted(results) == [0, 0, 0, 0, 1], results
    assert Invitation.objects.filter(account=account).count() == 1


@pytest.mark.django_db
def test_the_admin_saves_the_settings_through_the_service(client, admin_user):
    config = SatisfactionSettings.load()
    client.force_login(admin_user)
    url = f"/admin/satisfaction/satisfactionsettings/{config.pk}/change/"
    form = client.get(url)
    assert form.status_code == 200 and 'name="seen_version"' in form.content.decode()
    data = {
        name: getattr(config, name)
        for name in (
            "throttle_contact_days",
            "throttle_account_days",
            "auto_send_days",
            "reminder_days",
            "token_expiry_days",
            "four_point_unhappy_at_most",
            "csat_unhappy_at_most",
            "nps_unhappy_at_most",
            "grade_unhappy_below",
            "unhappy_account_below",
            "followup_due_working_days",
            "rate_limit_per_token",
            "rate_limit_failures_per_address",
        )
    }
    data.update(auto_send="on", auto_send_kinds=["service"], seen_version=config.version)
    saved = client.post(url, {**data, "reminder_days": 5})
    assert saved.status_code == 302, saved.content.decode()[:2000]
    config.refresh_from_db()
    assert (config.reminder_days, config.version) == (5, 2)
    entry = AuditEntry.objects.get(action="satisfaction.settings")
    assert entry.actor == admin_user and entry.fields == ["reminder_days"]
    # A form opened before that save (version 1) is refused: nothing changes.
    stale = client.post(url, {**data, "reminder_days": 9, "seen_version": 1})
    assert stale.status_code == 200 and 'class="errornote"' in stale.content.decode()
    config.refresh_from_db()
    assert (config.reminder_days, config.version) == (5, 2)
