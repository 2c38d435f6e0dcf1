"""Erasure that is exact: names with ``"``, ``\\``, emoji and two-letter surnames, in JSON
columns (outbox mail arguments, task arguments, survey drafts) and in free text, are
gone from a full dump of the database afterwards — while unrelated words ("Lisa",
"lijst", "li") and other people's rows stay as they were. And erasure in steps: killed
halfway, it is finished by running it again; meanwhile the contact is "erasure pending".
"""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from django.db import connection
from django_tasks import task

from relatiebeheer.common.errors import Conflict
from relatiebeheer.outbox.models import OutboxMessage
from relatiebeheer.outbox.services import mail_enqueue, mail_enqueue_rendered
from relatiebeheer.privacy import services
from relatiebeheer.privacy.matching import ERASED, matcher_for
from relatiebeheer.privacy.services import contact_erase
from relatiebeheer.relations.models import Contact, Task
from relatiebeheer.relations.services import contact_update
from relatiebeheer.satisfaction.defaults import default_survey
from relatiebeheer.satisfaction.models import Answer, FollowUp, Invitation, Response

from ..factories import AccountFactory, ContactFactory, InteractionFactory, TaskFactory

pytestmark = pytest.mark.django_db

PEOPLE = [
    pytest.param(("Mei", "Li", "mei.li@example.com", "+31611111111"), id="two-letter"),
    pytest.param(('Anne "Annie"', "de Wu", 'annie"wu@example.com', "+31622222222"), id="quote"),
    pytest.param(("Ad\\am", "Ng", "adam\\ng@example.com", "+31633333333"), id="backslash"),
    pytest.param(("Zoë 😀", "Øst 🌷", "zoe@example.com", "+31644444444"), id="emoji"),
]

UNRELATED = "Lisa van de lijst: li Lima Nguyen Ostende"


@task()
def remind(**kwargs) -> None:  # pragma: no cover - never run: its arguments are the point
    pass


def dump() -> list[str]:
    """Every cell of every table, as the database returns it (JSON as stored text)."""
    cells = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                cells.extend(str(v) for v in row if isinstance(v, (str, bytes, dict, list)))
    return cells


def forms(value: str) -> set[str]:
    """A value as it may be stored: plain, and escaped as JSON (with and without ASCII)."""
    return {value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}


def _survey_rows(contact, first, last):
    survey = default_survey()
    question = survey.questions.filter(kind="text").first() or survey.questions.first()
    invitation = Invitation.objects.create(
        survey=survey,
        account=contact.account,
        contact=contact,
        source="manual",
        draft={str(question.pk): f"{first} {last} is tevreden", "tags": [last, "Lisa"]},
    )
    response = Response.objects.create(
        survey=survey, account=contact.account, contact=contact, invitation=invitation
    )
    now = response.submitted_at
    Answer.objects.create(
        response=response,
        question=question,
        survey=survey,
        account=contact.account,
        kind=question.kind,
        submitted_at=now,
        month=date(now.year, now.month, 1),
        value_text=f"Ik ben {first} {last}; mail {contact.email}",
    )
    FollowUp.objects.create(
        response=response,
        account=contact.account,
        reason=f"{last} was ontevreden",
        due_date=date(2030, 1, 1),
        outcome_notes=f"Gebeld met mevrouw {last}",
    )
    return invitation


@pytest.fixture
def world(account):
    def make(first, last, email, phone):
        contact = ContactFactory(
            account=account, first_name=first, last_name=last, email=email, phone=phone
        )
        full = f"{first} {last}"
        mail_enqueue_rendered(
            key=f"survey:{contact.pk}",
            to=email,
            subject=f"Beste {full}",
            text=f"Hallo {first}, {UNRELATED}",
            purpose="surveys",
            contact=contact,
            renderer="survey",
            renderer_args={"contact_id": contact.pk, "greeting": f"Beste {last}", "name": last},
        )
        remind.enqueue(contact_id=contact.pk, note=f"Bel {last} terug", phone=phone)
        remind.enqueue(to=email, subject=f"Voor {full}")
        remind.enqueue(subject=f"VOOR {full.upper()}")  # another case, non-ASCII letters too
        _survey_rows(contact, first, last)
        TaskFactory(account=account, title=f"{last} terugbellen", description=UNRELATED)
        interaction = InteractionFactory(
            account=account, subject=f"Gesprek met {full}", notes=f"{last}: {UNRELATED}"
        )
        interaction.contacts.add(contact)
        # Someone else's rows, in another account: nothing may change there.
        other = AccountFactory(name="Elders", manager=account.manager)
        bystander = TaskFactory(account=other, title=f"{UNRELATED} {last}")
        bystander_mail = mail_enqueue(
            key=f"other:{contact.pk}",
            to="iemand@elders.example",
            subject=UNRELATED,
            text=UNRELATED,
            purpose="surveys",
            contact=ContactFactory(account=other, first_name="Lisa", last_name="Lima"),
        )
        return contact, bystander, bystander_mail

    return make


@pytest.mark.parametrize("person", PEOPLE)
def test_erased_values_are_gone_from_a_full_dump(sales_manager, world, person):
    first, last, email, phone = person
    contact, bystander, bystander_mail = world(first, last, email, phone)
    full = f"{first} {last}"
    before = "\n".join(dump())
    assert any(f in before for f in forms(full))  # the dump does see them

    contact_erase(actor=sales_manager, contact=contact)

    cells = dump()
    text = "\n".join(cells)
    for value in (full, email, phone):
        for form in forms(value):
            assert form.lower() not in text.lower(), (value, form)
    for form in forms(first):  # the first name alone, as a word
        assert not re.search(r"(?<!\w)" + re.escape(form) + r"(?!\w)", text), form
    # The surname alone, as a word, in any form it may be stored in.
    for form in forms(last.split()[-1]):
        leftovers = [c for c in cells if re.search(r"(?<!\w)" + re.escape(form) + r"(?!\w)", c)]
        # Only the bystander's row in another account still says it (not linked, not named).
        assert leftovers == [bystander.title] or not leftovers, leftovers
    # Unrelated words stay: in the person's own rows and in other people's.
    assert Task.objects.get(pk=bystander.pk).title == bystander.title
    assert OutboxMessage.objects.get(pk=bystander_mail.pk).text == UNRELATED
    assert Task.objects.filter(account=contact.account, description=UNRELATED).exists()
    assert UNRELATED in OutboxMessage.objects.get(key=f"survey:{contact.pk}").text
    assert ERASED in Invitation.objects.get(account=contact.account).draft["tags"]
    assert "Lisa" in Invitation.objects.get(account=contact.account).draft["tags"]


def test_the_matching_rule_for_short_surnames():
    m = matcher_for(first_name="Mei", last_name="Li", email="mei@x.example", phone="")
    assert m.scrub("Bel Li terug; Lisa, lijst, li en LI blijven", "named") == (
        f"Bel {ERASED} terug; Lisa, lijst, li en LI blijven"
    )
    assert m.scrub("Mei LI belde (mei@X.example)", "anywhere") == f"{ERASED} belde ({ERASED})"
    assert m.scrub("Mei belt in mei", "linked") == f"{ERASED} belt in mei"
    assert m.scrub("Mei belt in mei", "named") == "Mei belt in mei"
    p = matcher_for(first_name="", last_name="Jansen", email="", phone="+31612345678")
    assert (
        p.scrub(
            "Bel 06-1234 5678, +31 6 12345678, 0031612345678 of (06) 12345678; niet 0612345679",
            "anywhere",
        )
        == f"Bel {ERASED}, {ERASED}, {ERASED} of ({ERASED}; niet 0612345679"
    )
    v = matcher_for(first_name="Marieke", last_name="van der Berg", email="", phone="")
    assert v.surname_words == ["van der Berg", "Berg"]
    assert v.scrub("de Berg van der Laan", "named") == f"de {ERASED} van der Laan"


class Crash(Exception):
    pass


@pytest.mark.parametrize("crash_after", [1, 5, 12])
def test_an_erasure_killed_halfway_is_finished_by_running_it_again(
    sales_manager, world, monkeypatch, web_as, crash_after
):
    first, last, email, phone = "Mei", "Li", "mei.li@example.com", "+31611111111"
    contact, *_ = world(first, last, email, phone)
    steps: list[str] = []

    def step_done(name: str) -> None:
        steps.append(name)
        if len(steps) == crash_after:
            raise Crash(name)

    monkeypatch.setattr(services, "_step_done", step_done)
    with pytest.raises(Crash):
        contact_erase(actor=sales_manager, contact=contact)
    pending = Contact.objects.get(pk=contact.pk)
    assert pending.erasure_pending and pending.erased_at is None
    with pytest.raises(Conflict):  # nobody edits a contact while its erasure is pending
        contact_update(
            actor=sales_manager, contact=pending, version=pending.version, data={"role": "x"}
        )
    # The pages say so.
    client = web_as(sales_manager)
    for url in (f"/privacy/contacts/{contact.pk}/", f"/accounts/{contact.account_id}/"):
        page = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
        assert page.status_code == 200
        assert "Erasure pending" in page.content.decode(), url

    edit = client.post(
        f"/contacts/{contact.pk}/edit/",
        {"last_name": "Anders", "language": "nl", "version": pending.version},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert edit.status_code == 409 and "erasure" in edit.content.decode()
    assert Contact.objects.get(pk=contact.pk).last_name == "Li"
    monkeypatch.setattr(services, "_step_done", lambda name: None)
    contact_erase(actor=sales_manager, contact=pending)  # the same call again finishes it

    from relatiebeheer.audit.models import AuditEntry

    audited = list(
        AuditEntry.objects.filter(object_id=str(contact.pk), action__startswith="privacy.erase")
        .order_by("pk")
        .values_list("action", "extra")
    )
    assert audited == [
        ("privacy.erase.start", {"resumed": False}),
        ("privacy.erase.start", {"resumed": True}),
        ("privacy.erase", {}),
    ]
    done = Contact.objects.get(pk=contact.pk)
    assert done.erased_at is not None and not done.erasure_pending and done.email == ""
    text = "\n".join(dump()).lower()
    for value in (f"{first} {last}", email, phone):
        assert value.lower() not in text
    assert not OutboxMessage.objects.filter(contact_id=contact.pk).exists()


def test_the_export_holds_every_answer_task_follow_up_consent_and_mail(
    sales_manager, world, web_as, api_as
):
    from relatiebeheer.relations.models import ConsentRecord

    contact, bystander, _mail = world("Mei", "Li", "mei.li@example.com", "+31611111111")
    ConsentRecord.objects.create(contact=contact, purpose="surveys", granted=True, source="phone")
    client = web_as(sales_manager)
    base = f"/privacy/contacts/{contact.pk}"
    data = json.loads(client.get(f"{base}/export.json").content)
    held = data["personal_data"]
    answers = [a["value_text"] for a in held["satisfaction.Answer"]]
    assert answers == ["Ik ben Mei Li; mail mei.li@example.com"]
    assert [f["reason"] for f in held["satisfaction.FollowUp"]] == ["Li was ontevreden"]
    assert "Li terugbellen" in [t["title"] for t in held["relations.Task"]]
    assert bystander.pk not in [t["id"] for t in held["relations.Task"]]
    assert [m["subject"] for m in held["outbox.OutboxMessage"]] == ["Beste Mei Li"]
    assert held["satisfaction.Invitation"][0]["draft"]["tags"] == ["Li", "Lisa"]
    assert len(held["django_tasks_database.DBTaskResult"]) == 3  # every task's arguments
    assert data["related"]["relations.ConsentRecord.contact"][0]["source"] == "phone"
    # The readable page, its PDF and the API carry the same.
    page = client.get(f"{base}/export.html", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    for text in ("Ik ben Mei Li", "Li was ontevreden", "Li terugbellen", "Beste Mei Li"):
        assert text in page
    import io

    import pypdf

    pdf = client.get(f"{base}/export.pdf")
    pages = pypdf.PdfReader(io.BytesIO(pdf.content)).pages
    pdf_text = "".join(p.extract_text() for p in pages)
    for text in ("Li was ontevreden", "Li terugbellen", "Beste Mei Li"):
        assert text in pdf_text
    body = api_as(sales_manager).get(f"contacts/{contact.pk}/personal-data").json_body
    assert body["personal_data"]["satisfaction.Answer"][0]["value_text"] == answers[0]


def test_a_mail_queued_to_the_person_while_the_erasure_runs_is_caught_by_the_last_step(
    sales_manager, world, monkeypatch
):
    contact, *_ = world("Mei", "Li", "mei.li@example.com", "+31611111111")

    def step_done(name: str) -> None:
        if name.startswith("policy outbox.OutboxMessage"):  # after its scrub and unlink
            mail_enqueue(
                key="late",
                to=contact.email,
                subject="Beste Mei Li",
                text="Bel 06-1111 1111",
                purpose="surveys",
                contact=contact,
            )

    monkeypatch.setattr(services, "_step_done", step_done)
    contact_erase(actor=sales_manager, contact=contact)

    late = OutboxMessage.objects.get(key="late")
    assert late.contact_id is None
    assert (late.to, late.subject, late.text) == (ERASED, f"Beste {ERASED}", f"Bel {ERASED}")


def test_two_runs_at_once_finish_the_erasure_once(sales_manager, world, monkeypatch):
    from relatiebeheer.audit.models import AuditEntry

    contact, *_ = world("Mei", "Li", "mei.li@example.com", "+31611111111")
    nested = []

    def step_done(name: str) -> None:
        if name == "uploads" and not nested:  # the first run is almost done: a second starts
            nested.append(name)
            contact_erase(actor=sales_manager, contact=Contact.objects.get(pk=contact.pk))

    monkeypatch.setattr(services, "_step_done", step_done)
    contact_erase(actor=sales_manager, contact=contact)

    assert nested and Contact.objects.get(pk=contact.pk).erased_at is not None
    ends = AuditEntry.objects.filter(object_id=str(contact.pk), action="privacy.erase")
    assert ends.count() == 1
