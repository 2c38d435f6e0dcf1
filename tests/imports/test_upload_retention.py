"""Uploaded import files are not kept for ever: the source goes once imported, every kept
upload after IMPORT_UPLOAD_RETENTION_DAYS (a scheduled cleanup), and an erasure removes
any kept upload that names the person — after which the preview no longer shows them."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from relatiebeheer.imports import retention, services
from relatiebeheer.imports.models import ImportJob
from relatiebeheer.imports.selectors import job_preview
from relatiebeheer.privacy.services import contact_erase

from ..factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db

CONTACTS = (
    "Klantnummer;Voornaam;Achternaam;E-mail;Telefoon\n"
    "K001;Mei;Li;mei.li@example.com;020 123 4567\n"
    "K001;Anna;Jansen;anna@example.nl;020 765 4321\n"
)
OTHERS = "Klantnummer;Voornaam;Achternaam;E-mail\nK001;Piet;Bakker;piet@example.nl\n"


def upload(actor, content, kind="contacts"):
    return services.import_job_create(
        actor=actor, kind=kind, source=content.encode(), filename="contacten.csv"
    )


def test_the_upload_is_deleted_once_imported(sales_manager, web_as):
    AccountFactory(external_id="K001")
    job = upload(sales_manager, CONTACTS)
    checked = services.import_job_start(
        actor=sales_manager, job=job, commit=False, background=False
    )
    assert checked.status == ImportJob.Status.VALIDATED and Path(job.path).exists()
    done = services.import_job_start(
        actor=sales_manager, job=checked, commit=True, background=False
    )
    assert done.status == ImportJob.Status.DONE
    assert not Path(job.path).exists()
    client = web_as(sales_manager)
    assert client.get(f"/imports/{job.pk}/", HTTP_ACCEPT_LANGUAGE="en").status_code == 200
    preview = job_preview(done)
    assert preview["rows"] == [] and "removed" in preview["warnings"][0]
    for page in ("preview/", "mapping/", ""):  # the pages that show the file say it is gone
        response = client.get(f"/imports/{job.pk}/{page}", HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200, page
    assert "bestand is verwijderd" in client.get(f"/imports/{job.pk}/preview/").content.decode()


def test_kept_uploads_go_after_the_retention(sales_manager, settings):
    settings.IMPORT_UPLOAD_RETENTION_DAYS = 5
    old = upload(sales_manager, OTHERS)
    recent = upload(sales_manager, OTHERS)
    ImportJob.objects.filter(pk=old.pk).update(updated_at=timezone.now() - timedelta(days=6))
    stray = retention.imports_dir() / "left-by-a-failed-upload"
    stray.mkdir()
    (stray / "source.csv").write_text(OTHERS)
    ancient = (timezone.now() - timedelta(days=6)).timestamp()
    import os

    os.utime(stray, (ancient, ancient))

    assert retention.cleanup() == 2
    assert not Path(old.path).parent.exists() and not stray.exists()
    assert Path(recent.path).exists()
    assert ImportJob.objects.filter(pk=old.pk).exists()  # the job's record stays
    # The scheduler runs it daily.
    from relatiebeheer.ops import scheduler

    assert scheduler._jobs["imports.cleanup"].every == timedelta(days=1)


def test_an_erasure_removes_kept_uploads_that_name_the_person(sales_manager):
    account = AccountFactory(external_id="K001")
    person = ContactFactory(account=account, first_name="Mei", last_name="Li", email="x@y.nl")
    naming = upload(sales_manager, CONTACTS)  # names "Mei;Li" (not by the same address)
    services.import_job_start(actor=sales_manager, job=naming, commit=False, background=False)
    assert "Li" in str(job_preview(naming)["rows"])
    unrelated = upload(sales_manager, OTHERS)

    summary = contact_erase(actor=sales_manager, contact=person)

    assert summary["import uploads removed"] == 1
    assert not Path(naming.path).parent.exists()
    assert Path(unrelated.path).exists()
    naming.refresh_from_db()
    preview = job_preview(naming)
    assert "Mei" not in str(preview) and "mei.li" not in str(preview)
    assert "erased" in naming.message or "verwijderd" in naming.message
    # Running it again is refused with a clear message, not a 500.
    from relatiebeheer.common.errors import Conflict

    with pytest.raises(Conflict):
        services.import_job_start(actor=sales_manager, job=naming, commit=True, background=False)
