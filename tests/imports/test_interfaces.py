"""The same import through the command line, the API and the web wizard."""

import base64
import io

import pytest
from django.core.management import CommandError, call_command

from relatiebeheer.imports.models import ImportJob, ImportPreset
from relatiebeheer.relations.models import Account
from relatiebeheer.sales.models import Order

from ..factories import AccountFactory

pytestmark = pytest.mark.django_db

ORDERS = "Order id;Klantnummer;Datum;Omzet\nA1;K001;27-11-2026;1.234,56\nA2;K001;28-11-2026;10,00\n"


def test_cli_import_dry_run_partial_and_exit_code_2(tmp_path, sales_manager):
    AccountFactory(external_id="K001")
    good = tmp_path / "orders.csv"
    good.write_text(ORDERS, encoding="utf-8")
    out = io.StringIO()
    call_command(
        "import",
        "orders",
        str(good),
        "--dry-run",
        as_user=sales_manager.username,
        stdout=out,
        stderr=io.StringIO(),
    )
    assert "2 would be created" in out.getvalue() and not Order.objects.exists()
    bad = tmp_path / "bad.csv"
    bad.write_text(ORDERS + "A3;K404;29-11-2026;1,00\n", encoding="utf-8")
    out = io.StringIO()
    with pytest.raises(CommandError) as info:
        call_command(
            "import",
            "orders",
            str(bad),
            as_user=sales_manager.username,
            stdout=out,
            stderr=io.StringIO(),
        )
    assert info.value.returncode == 2
    assert "4\tKlantnummer\tK404\t" in out.getvalue() and not Order.objects.exists()
    rejected = tmp_path / "rejected.csv"
    with pytest.raises(CommandError):
        call_command(
            "import",
            "orders",
            str(bad),
            "--partial",
            "--rejected",
            str(rejected),
            as_user=sales_manager.username,
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )
    assert Order.objects.count() == 2 and "K404" in rejected.read_text(encoding="utf-8-sig")


def test_cli_mapping_on_the_command_line_and_as_a_preset(tmp_path, sales_manager):
    path = tmp_path / "odd.csv"
    path.write_text("Wie;Waar\nSlager Sam;Urk\n", encoding="utf-8")
    out = io.StringIO()
    call_command(
        "import",
        "accounts",
        str(path),
        "--mapping",
        "name=Wie;city=Waar",
        "--save-preset",
        "Vreemd",
        as_user=sales_manager.username,
        stdout=out,
        stderr=io.StringIO(),
    )
    assert Account.objects.get(name="Slager Sam").city == "Urk"
    preset = ImportPreset.objects.get(name="Vreemd")
    path.write_text("Wie;Waar\nBakker Bas;Urk\n", encoding="utf-8")
    call_command(
        "import",
        "accounts",
        str(path),
        "--mapping",
        str(preset.pk),
        as_user=sales_manager.username,
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    assert Account.objects.filter(name="Bakker Bas", city="Urk").exists()


def test_cli_refuses_read_only_users(tmp_path, reader):
    path = tmp_path / "a.csv"
    path.write_text("Naam\nX\n", encoding="utf-8")
    with pytest.raises(CommandError) as info:
        call_command("import", "accounts", str(path), as_user=reader.username, stdout=io.StringIO())
    assert info.value.returncode == 2


def test_export_registry_command_with_filters(sales_manager):
    AccountFactory(name="Kaas BV", city="Gouda", status="customer")
    AccountFactory(name="Melk BV", city="Edam", status="prospect")
    out = io.StringIO()
    call_command(
        "export",
        "accounts",
        "-",
        "--filter",
        "city=Gouda",
        as_user=sales_manager.username,
        stdout=out,
    )
    assert "Kaas BV" in out.getvalue() and "Melk BV" not in out.getvalue()
    with pytest.raises(CommandError):
        call_command("export", "nothing", "-", as_user=sales_manager.username, stdout=io.StringIO())


def test_api_starts_a_job_and_reports(api_as, owner):
    AccountFactory(external_id="K001", manager=owner)
    client = api_as(owner)
    response = client.post(
        "imports",
        {"kind": "orders", "filename": "o.csv", "text": ORDERS + "A3;K404;29-11-2026;x\n"},
    )
    assert response.status_code == 202, response.json_body
    job = response.json_body
    assert job["status"] == "invalid" and job["rows_invalid"] == 1
    status = client.get(f"imports/{job['id']}")
    assert status.json_body["percent"] == 100
    report = client.get(f"imports/{job['id']}/report").json_body
    reasons = {item["column"]: item["reason"] for item in report["items"]}
    assert reasons["Klantnummer"] == "Unknown account." and "Omzet" in reasons
    again = client.post(
        f"imports/{job['id']}/start", {"commit": True, "options": {"partial": True}}
    )
    assert again.status_code == 202 and again.json_body["status"] == "done"
    assert Order.objects.count() == 2
    data = base64.b64encode(ORDERS.replace("A1", "B1").replace("A2", "B2").encode()).decode()
    response = client.post(
        "imports", {"kind": "orders", "content_base64": data, "options": {"dry_run": True}}
    )
    assert response.json_body["status"] == "validated" and response.json_body["created"] == 2
    assert Order.objects.count() == 2


def test_api_report_reads_in_the_users_language(api_as, owner):
    response = api_as(owner, language="nl").post(
        "imports", {"kind": "accounts", "text": "Naam;KvK\nX;123\n"}
    )
    report = (
        api_as(owner, language="nl").get(f"imports/{response.json_body['id']}/report").json_body
    )
    assert report["items"][0]["reason"].startswith("Een KvK-nummer")


def test_web_wizard_upload_map_preview_check_import(web_as, owner):
    from django.core.files.uploadedfile import SimpleUploadedFile

    AccountFactory(external_id="K001", manager=owner)
    client = web_as(owner)
    response = client.post(
        "/imports/new/", {"kind": "orders", "file": SimpleUploadedFile("o.csv", ORDERS.encode())}
    )
    assert response.status_code == 302
    job = ImportJob.objects.get()
    mapping = client.get(f"/imports/{job.pk}/mapping/")
    assert mapping.status_code == 200 and b"preview" in mapping.content
    form = {f"map_{f}": h for f, h in job.mapping.items()} | {
        "notation": "nl",
        "preset_name": "Mijn orders",
    }
    assert client.post(f"/imports/{job.pk}/mapping/", form).status_code == 302
    preview = client.get(f"/imports/{job.pk}/preview/")
    assert b"1.234,56" in preview.content and b"27-11-2026" in preview.content
    assert client.post(f"/imports/{job.pk}/check/").status_code == 302
    job.refresh_from_db()
    assert job.status == "validated" and job.created == 2 and not Order.objects.exists()
    progress = client.get(f"/imports/{job.pk}/progress/", HTTP_HX_REQUEST="true")
    assert progress.status_code == 200 and progress["HX-Refresh"] == "true"
    assert client.post(f"/imports/{job.pk}/run/").status_code == 302
    assert Order.objects.count() == 2
    detail = client.get(f"/imports/{job.pk}/")
    assert detail.status_code == 200 and b"summary" in detail.content
    assert ImportPreset.objects.filter(owner=owner, name="Mijn orders").exists()


def test_web_upload_of_a_broken_file_says_so(web_as, owner):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = web_as(owner).post(
        "/imports/new/",
        {"kind": "orders", "file": SimpleUploadedFile("o.xlsx", b"PK\x03\x04garbage")},
    )
    assert response.status_code == 422 and not ImportJob.objects.exists()


def test_web_export_of_every_list(web_as, owner):
    AccountFactory(name="Kaas BV", manager=owner)
    client = web_as(owner)
    assert client.get("/imports/exports/").status_code == 200
    for key in ("accounts", "contacts", "orders", "costs", "metrics"):
        for fmt in ("csv", "xlsx"):
            response = client.get(f"/imports/exports/download.{fmt}?list={key}")
            assert response.status_code == 200, (key, fmt)


def test_large_files_go_to_the_background_worker(sales_manager, django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    from relatiebeheer.imports import services
    from relatiebeheer.imports.tasks import run_import

    AccountFactory(external_id="K001")
    job = services.import_job_create(
        actor=sales_manager, kind="orders", source=ORDERS.encode(), filename="o.csv"
    )
    with django_capture_on_commit_callbacks(execute=True):
        job = services.import_job_start(actor=sales_manager, job=job, commit=True, background=True)
    assert job.status == ImportJob.Status.QUEUED and not Order.objects.exists()
    task = DBTaskResult.objects.get()
    assert task.args_kwargs["kwargs"] == {"job_id": job.pk, "commit": True}
    assert run_import.call(job_id=job.pk, commit=True) == "done"
    assert Order.objects.count() == 2


def test_a_job_declared_interrupted_is_not_run_by_its_late_task(
    sales_manager, django_capture_on_commit_callbacks
):
    """The worker was down past ``STALE_AFTER``: ``mark_stale_jobs`` tells the user that
    nothing was imported. The task still queued for the job must not import it after all."""
    from datetime import timedelta

    from django.utils import timezone

    from relatiebeheer.imports import services
    from relatiebeheer.imports.models import STALE_AFTER
    from relatiebeheer.imports.tasks import run_import

    AccountFactory(external_id="K001")
    job = services.import_job_create(
        actor=sales_manager, kind="orders", source=ORDERS.encode(), filename="o.csv"
    )
    with django_capture_on_commit_callbacks(execute=True):
        job = services.import_job_start(actor=sales_manager, job=job, commit=True, background=True)
    long_ago = timezone.now() - STALE_AFTER - timedelta(minutes=1)
    ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=long_ago)
    assert services.mark_stale_jobs() == 1
    told = ImportJob.objects.get(pk=job.pk).message  # "nothing was imported, start it again"
    assert run_import.call(job_id=job.pk, commit=True) == "failed"
    assert not Order.objects.exists()
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and job.message == told


def test_the_report_download_neutralises_formulas_from_the_file(api_as, web_as, owner):
    """The report echoes values from the uploaded file; opened in a spreadsheet, a value
    like "=HYPERLINK(…)" must stay text."""
    AccountFactory(external_id="K001", manager=owner)
    job = (
        api_as(owner)
        .post(
            "imports",
            {
                "kind": "orders",
                "filename": "o.csv",
                "text": ORDERS + 'A3;=HYPERLINK("x");29-11-2026;1\n',
            },
        )
        .json_body
    )
    response = web_as(owner).get(f"/imports/{job['id']}/report.csv")
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = body.decode("utf-8-sig")
    assert "'=HYPERLINK" in text and ";=HYPERLINK" not in text
