"""The monthly answer counts stay true: deleting or merging accounts keeps them right in
the same transaction, and the figure check (``check-figures``, daily in the worker)
reports and repairs any count that drifted."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from relatiebeheer.core import survey_scores as scores
from relatiebeheer.ops.figure_checks import check_figures
from relatiebeheer.satisfaction.answering.form import form_questions
from relatiebeheer.satisfaction.answering.services import response_submit
from relatiebeheer.satisfaction.answering.tokens import hash_token
from relatiebeheer.satisfaction.counts import check_answer_counts
from relatiebeheer.satisfaction.models import AnswerCount, AnswerToken, Invitation
from relatiebeheer.satisfaction.selectors import survey_results
from relatiebeheer.satisfaction.surveys.services import survey_create

from ..factories import AccountFactory
from .conftest import consenting_contact

pytestmark = pytest.mark.django_db
CHECK = "satisfaction.answer_counts"


@pytest.fixture
def survey(sales_manager):
    return survey_create(
        actor=sales_manager,
        data={"key": "kort", "name": "Kort", "title_nl": "Kort"},
        questions=[
            {"kind": "nps", "text_nl": "Aanbevelen?", "tags": ["satisfaction"]},
            {"kind": "csat", "text_nl": "Tevreden?", "required": False},
        ],
    )


def _answer(survey, account, nps: int, csat: int) -> None:
    contact = consenting_contact(account, email=f"c{account.pk}-{nps}-{csat}@x.example")
    invitation = Invitation.objects.create(
        survey=survey, account=account, contact=contact, source="manual"
    )
    now = timezone.now()
    token = AnswerToken.objects.create(
        invitation=invitation,
        kind="invitation",
        token_hash=hash_token(f"t{invitation.pk}"),
        issued_at=now,
        expires_at=now + timedelta(days=30),
    )
    nps_q, csat_q = form_questions(survey)
    response_submit(token=token, data={f"q{nps_q.pk}": str(nps), f"q{csat_q.pk}": str(csat)})


def _headlines(actor, survey) -> dict[str, Decimal | None]:
    results = survey_results(actor=actor, survey=survey)
    return {r.question.kind: r.summary.headline for r in results.questions}


def test_after_an_account_delete_sales_and_account_manager_see_the_same_nps(
    api_as, survey, sales_manager, owner
):
    kept = AccountFactory(manager=owner, name="Blijft")
    gone = AccountFactory(manager=owner, name="Weg")
    for nps, csat in ((10, 5), (9, 4), (7, 2)):
        _answer(survey, kept, nps, csat)
    for nps, csat in ((0, 1), (2, 1)):
        _answer(survey, gone, nps, csat)
    assert _headlines(sales_manager, survey) == _headlines(owner, survey)

    deleted = api_as(owner).delete(f"accounts/{gone.pk}")
    assert deleted.status_code == 204, deleted.json_body

    expected = {"nps": scores.nps([10, 9, 7]), "csat": scores.csat_percent([5, 4, 2])}
    assert _headlines(owner, survey) == expected  # live: the owner's answers
    assert _headlines(sales_manager, survey) == expected  # the kept monthly counts
    assert check_answer_counts(repair=False).differences == 0


def test_a_merge_keeps_the_counts(api_as, survey, sales_manager, owner):
    keep = AccountFactory(manager=owner, name="Hoofdkantoor")
    other = AccountFactory(manager=owner, name="Dubbel")
    _answer(survey, keep, 9, 5)
    _answer(survey, other, 3, 2)
    merged = api_as(owner).post(
        f"accounts/{keep.pk}/merge",
        {"version": keep.version, "other_id": other.pk, "other_version": other.version},
    )
    assert merged.status_code == 200, merged.json_body
    expected = {"nps": scores.nps([9, 3]), "csat": scores.csat_percent([5, 2])}
    assert _headlines(sales_manager, survey) == _headlines(owner, survey) == expected
    assert check_answer_counts(repair=False).differences == 0


def test_the_privacy_erasure_keeps_the_counts(survey, sales_manager, owner):
    from relatiebeheer.privacy.services import contact_erase

    account = AccountFactory(manager=owner)
    _answer(survey, account, 8, 4)
    contact = account.contacts.get()
    contact_erase(actor=sales_manager, contact=contact)
    assert _headlines(sales_manager, survey) == _headlines(owner, survey)
    assert check_answer_counts(repair=False).differences == 0


def _break_the_counts(survey) -> None:
    """Three ways a count drifts: too high, missing, and one counting nothing."""
    nps_q, csat_q = form_questions(survey)
    AnswerCount.objects.filter(question=nps_q, value_key="10").update(count=4)
    AnswerCount.objects.filter(question=csat_q, value_key="5").delete()
    AnswerCount.objects.create(
        survey=survey,
        question=csat_q,
        month=timezone.localdate().replace(day=1),
        value_key="3",
        count=2,
    )


def test_the_figure_check_reports_and_repairs_a_broken_count(survey, sales_manager, owner):
    account = AccountFactory(manager=owner)
    _answer(survey, account, 10, 5)
    _answer(survey, account, 6, 4)
    right = _headlines(owner, survey)
    kept = sorted(AnswerCount.objects.values_list("question_id", "month", "value_key", "count"))
    _break_the_counts(survey)
    assert _headlines(sales_manager, survey) != right

    out = StringIO()
    with pytest.raises(SystemExit) as exit_code:
        call_command("check-figures", "--only", CHECK, "--no-repair", stdout=out)
    assert exit_code.value.code == 1
    assert "3 differed" in out.getvalue() and "kept 4, answers 1" in out.getvalue()
    assert _headlines(sales_manager, survey) != right  # reported, not repaired

    (result,) = check_figures(repair=True, only=[CHECK])
    assert (result.differences, result.repaired) == (3, 3)
    assert (
        sorted(AnswerCount.objects.values_list("question_id", "month", "value_key", "count"))
        == kept
    )
    assert _headlines(sales_manager, survey) == right
    (again,) = check_figures(repair=True, only=[CHECK])
    assert (again.differences, again.repaired) == (0, 0)


def test_the_daily_worker_job_repairs_the_counts(survey, sales_manager, owner):
    from relatiebeheer.ops import scheduler
    from relatiebeheer.ops.tasks import check_figures_task

    assert "figures.check" in scheduler._jobs  # the worker runs the checks daily
    account = AccountFactory(manager=owner)
    _answer(survey, account, 10, 5)
    _break_the_counts(survey)
    assert check_figures_task.call() >= 3
    assert check_answer_counts(repair=False).differences == 0
    assert _headlines(sales_manager, survey) == _headlines(owner, survey)
